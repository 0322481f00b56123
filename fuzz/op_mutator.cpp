// Operation-level mutations for fuzz_differential: insert, delete, duplicate or tweak one record.
//
// A fuzz input is a 5-byte header and 5-byte operation records (fuzz/decoder.h), and the decoder
// reads every record relative to the state before it, so editing whole records keeps the other
// operations meaningful where byte-level insertions and deletions shift every later record.
// Some mutations still go to libFuzzer's own byte mutator (comparison operands, dictionary
// entries, bit flips), with the magic restored afterwards. docs/fuzzing.md has the measurement
// that kept this mutator.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>

#include "fuzz/decoder.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

using foliocheck::kFuzzHeaderSize;
using foliocheck::kFuzzMagic;
using foliocheck::kFuzzRecordSize;
constexpr size_t H = kFuzzHeaderSize, R = kFuzzRecordSize;

using Rng = std::minstd_rand;

size_t below(Rng& rng, size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }

uint8_t random_byte(Rng& rng) { return static_cast<uint8_t>(below(rng, 256)); }

// A new value for one byte: random, nudged by one, or an extreme (0xFF is "to the end" for nr).
uint8_t tweak_byte(Rng& rng, uint8_t b) {
  switch (below(rng, 4)) {
    case 0: return random_byte(rng);
    case 1: return static_cast<uint8_t>(b + 1);
    case 2: return static_cast<uint8_t>(b - 1);
    default: return below(rng, 2) ? 0 : 0xFF;
  }
}

size_t make_header(uint8_t* data, size_t max_size, Rng& rng) {
  if (max_size < H) return 0;
  std::memcpy(data, kFuzzMagic, sizeof kFuzzMagic);
  for (size_t i = sizeof kFuzzMagic; i < H; i++) data[i] = random_byte(rng);
  return H;
}

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  Rng rng(seed);
  if (size < H || std::memcmp(data, kFuzzMagic, sizeof kFuzzMagic) != 0)
    size = make_header(data, max_size, rng);
  if (size < H) return size;
  size_t records = (size - H) / R;
  size = H + records * R;
  const size_t room = max_size >= H ? (max_size - H) / R : 0;
  uint8_t* rec = data + H;

  switch (below(rng, 16)) {
    case 0:
    case 1: {
      // libFuzzer's own mutations, which also know the comparison operands it saw.
      size_t n = LLVMFuzzerMutate(data, size, max_size);
      if (n < H) return make_header(data, max_size, rng);
      std::memcpy(data, kFuzzMagic, sizeof kFuzzMagic);
      return n;
    }
    case 2: {  // the setup
      const size_t i = sizeof kFuzzMagic + below(rng, H - sizeof kFuzzMagic);
      data[i] = tweak_byte(rng, data[i]);
      return size;
    }
    case 3:
    case 4:
    case 5:
      if (records > 0) {  // delete one operation, sometimes a run of them
        const size_t at = below(rng, records);
        const size_t n = below(rng, 4) ? 1 : 1 + below(rng, std::min<size_t>(records - at, 8));
        std::memmove(rec + at * R, rec + (at + n) * R, (records - at - n) * R);
        return size - n * R;
      }
      [[fallthrough]];
    case 6:
    case 7:
    case 8:
      if (records < room) {  // insert a random operation
        const size_t at = below(rng, records + 1);
        std::memmove(rec + (at + 1) * R, rec + at * R, (records - at) * R);
        for (size_t i = 0; i < R; i++) rec[at * R + i] = random_byte(rng);
        // Most operations run once; keep the repetition class low unless asked otherwise.
        if (below(rng, 4)) rec[at * R + 4] &= 0x01;
        return size + R;
      }
      [[fallthrough]];
    case 9:
    case 10:
      if (records > 0 && records < room) {  // duplicate one operation somewhere
        const size_t from = below(rng, records);
        const size_t at = below(rng, records + 1);
        uint8_t copy[R];
        std::memcpy(copy, rec + from * R, R);
        std::memmove(rec + (at + 1) * R, rec + at * R, (records - at) * R);
        std::memcpy(rec + at * R, copy, R);
        return size + R;
      }
      [[fallthrough]];
    default:
      if (records > 0) {  // tweak one field of one operation
        const size_t at = below(rng, records);
        const size_t field = below(rng, R);
        rec[at * R + field] = tweak_byte(rng, rec[at * R + field]);
        return size;
      }
      if (records < room) {
        for (size_t i = 0; i < R; i++) rec[i] = random_byte(rng);
        return size + R;
      }
      return size;
  }
}

// Splices whole records: the first input's setup and a prefix of its operations, then a suffix
// of the second input's operations.
extern "C" size_t LLVMFuzzerCustomCrossOver(const uint8_t* data1, size_t size1, const uint8_t* data2,
                                            size_t size2, uint8_t* out, size_t max_out_size,
                                            unsigned int seed) {
  Rng rng(seed);
  if (size1 < H || max_out_size < H) return 0;
  const size_t r1 = (size1 - H) / R;
  const size_t r2 = size2 >= H ? (size2 - H) / R : 0;
  const size_t room = (max_out_size - H) / R;
  const size_t keep1 = below(rng, r1 + 1);
  const size_t from2 = below(rng, r2 + 1);
  const size_t take2 = std::min(r2 - from2, room - std::min(room, keep1));
  std::memcpy(out, data1, H + std::min(keep1, room) * R);
  std::memcpy(out, kFuzzMagic, sizeof kFuzzMagic);
  const size_t at = H + std::min(keep1, room) * R;
  if (take2) std::memcpy(out + at, data2 + H + from2 * R, take2 * R);
  return at + take2 * R;
}
