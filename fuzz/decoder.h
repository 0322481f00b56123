// The fuzz input format: how a byte string becomes a trace whose every operation is valid.
//
// Layout (see docs/fuzzing.md):
//   bytes 0-1  magic "FC", so that a random or text file is told apart from a fuzz input
//   byte  2    semantics (bits 0-1), bits=32 (bit 2), type (bits 3-4: anon file shmem anon),
//              hugetlb (bits 5-6 both set), bit 7 unused
//   byte  3    geometry: pmd_order 2, 3, 4 or the real 9 (bits 0-2), pud_order = pmd + 1 or + 2
//              (bit 3); bits 4-7 = 0xA: semantics proposed-total-mapped instead of byte 2's
//              (1 input in 16)
//   byte  4    folio order: small, order 1, PMD-sized, PUD-sized, in between, or any
//   then 5-byte records, one operation each: [kind][mm][page][nr][flags]. A trailing partial
//   record is ignored. flags: 0xFC-0xFF (1 record in 64) a long run of kFuzzLongRepeats (the
//   trace's x=K); else bit 0 exclusive, bits 1-7 the repetition class: 1 in 7 of 8 records, or
//   2 to 15.
// Every record decodes to an operation the reference model accepts in the state the earlier ones
// left: `kind` picks among the operations that can be legal now, `mm` picks among the mms holding
// the mappings a removal or dup needs, page ranges are clamped into what is mapped, and a choice
// that still fails its precondition falls back to the next kind. So no input is wasted on invalid
// operations, and deleting or inserting a record never shifts the meaning of the records after it
// (which the operation-level mutator relies on).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "core/reference_model.h"
#include "trace/trace.h"

namespace foliocheck {

inline constexpr uint8_t kFuzzMagic[2] = {'F', 'C'};
inline constexpr size_t kFuzzHeaderSize = 5;  // magic + setup bytes
inline constexpr size_t kFuzzRecordSize = 5;  // one operation
// The long runs a record's repetition class may ask for: the thresholds a count crosses only
// after thousands of calls (GUP_PIN_COUNTING_BIAS = 1024 references of a small folio; SHRT_MAX
// mappings of one mm in a 32-bit MM slot), so that one record, found by one mutation of one byte,
// reaches them on any folio, and a few records climb the state classes towards them.
inline constexpr uint32_t kFuzzLongRepeats[] = {1020, 4096, 16384, 32768};
// What the repetitions beyond the first (`x=K`) of one input may cost, in pages checked (a
// repetition costs the pages it touches, at least one): short repetitions from one budget, long
// runs from another, large enough to carry one mm across SHRT_MAX mappings in milliseconds.
// Every repetition costs an agreement check, and without a cap long repetitions over whole large
// folios would dominate the campaign's time.
inline constexpr uint64_t kFuzzRepeatBudget = 1024;
inline constexpr uint64_t kFuzzLongRepeatBudget = 36000;

// Decodes the setup, then hands out one valid operation per record.
class FuzzDecoder {
 public:
  // Returns nullopt and sets `error` (one sentence) when `data` is not a fuzz input: shorter than
  // the header, or without the magic. REQUIRES: `data` outlives the decoder.
  static std::optional<FuzzDecoder> open(std::span<const uint8_t> data, std::string* error);

  const Setup& setup() const { return m_setup; }
  // The next operation, valid for `model` (which must have been reset to setup() and have run
  // every operation this decoder returned, in order). nullopt when the records are used up; a
  // record from which no legal operation can be made is skipped. Every repetition of the
  // returned `x=K` is valid too.
  std::optional<Op> next(const ReferenceModel& model);

 private:
  FuzzDecoder(std::span<const uint8_t> data, const Setup& setup)
      : m_data(data), m_setup(setup), m_pos(kFuzzHeaderSize) {}

  std::span<const uint8_t> m_data;
  Setup m_setup;
  size_t m_pos;             // next record
  uint64_t m_budget_left = kFuzzRepeatBudget;  // what short `x=K` may still spend, in pages checked
  uint64_t m_long_budget_left = kFuzzLongRepeatBudget;  // and the long runs
};

struct DecodeResult {
  std::optional<Trace> trace;
  std::string error;      // not a fuzz input (see FuzzDecoder::open)
  bool harness = false;   // the decoder produced an invalid operation: a foliocheck bug
};

// Decodes a whole input against a reference model of its own. The trace holds one statement per
// operation, numbered from line 1 as print_trace() would place it.
DecodeResult decode_fuzz_input(std::span<const uint8_t> data);

}  // namespace foliocheck
