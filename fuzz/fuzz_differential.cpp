// libFuzzer target: decodes an input into valid operations and runs each through every encoding.
//
// Every input is a fuzz input (fuzz/decoder.h: magic, setup bytes, 5-byte operation records); the
// reference model and every implementation that supports the setup run each operation in lock
// step (core/differential.h). A violation prints the decoded trace and a line
//   FOLIOCHECK-SIGNATURE: <kind>-<implementation>-<field>
// and aborts, so that crashes group by what broke rather than by stack. FOLIOCHECK_MUTANT=NAME
// plants a mutant from impl/mutants.def for the whole run. FOLIOCHECK_KNOWN_SIGNATURES=FILE
// names a file of signatures, one a line, that are already known: an input failing with one of
// them ends quietly (and stays out of the corpus), so a fork-mode campaign keeps looking for
// other failures instead of restarting a job on every rediscovery. ci/nightly fills the file as
// findings come in; the file is re-read when it changes.
//
// State feedback: edge coverage stops growing within seconds, while the behaviour worth keeping
// inputs for lives in the counters' values. So every state an input reaches is classified
// (core/state_class.def: abstract state class, and the operation with its result) and reported
// as libFuzzer extra counters; a new class counts as new coverage and keeps the input in the
// corpus. FOLIOCHECK_STATE_FEEDBACK=0 turns it off (the measurements in docs/fuzzing.md);
// FOLIOCHECK_STATE_MAP_OUT=FILE writes every class reached, and when, at exit.
//
// Debugging hints: `foliocheck decode CRASH > t.trace` turns a crash file into a trace;
// `foliocheck replay [--mutant=NAME] t.trace` replays it; `foliocheck reduce t.trace -o r.trace`
// shrinks it.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fuzz/decoder.h"
#include "core/differential.h"
#include "core/state_class.h"
#include "impl/registry.h"
#include "impl/mutants.h"

namespace {

using namespace foliocheck;

// libFuzzer's extra counters (its "use_counters" feature): one byte per state class, then one per
// transition class, counting an input's visits up to 3: reaching a class once, twice or more
// are three features. Set to 1 only, the classes reached after 300 s fell by a third once the
// function counters of non-inlined helpers (UBSan's pointer checks kept them out of line) stopped
// rewarding inputs that did more; counted to 255, the corpus grew too fast (docs/fuzzing.md).
// Sized to what the definition needs (23,676 today) with a little room: libFuzzer scans every
// byte after every execution. LLVMFuzzerInitialize checks the definition fits.
constexpr size_t kStateCounters = 24576;
__attribute__((section("__libfuzzer_extra_counters"))) uint8_t g_state_counters[kStateCounters];
bool g_state_feedback = true;
uint32_t g_transition_base = 0;  // where the transition classes start in g_state_counters

// FOLIOCHECK_STATE_MAP_OUT=FILE: every class any input reached (kept in the corpus or not), with
// the seconds into the run when first reached, written at exit; with or without feedback, so
// that the two compare (docs/fuzzing.md).
const char* g_state_map_out = nullptr;
std::vector<double> g_first_reached;  // per counter, seconds, or negative: never
std::chrono::steady_clock::time_point g_start;

void write_state_map_out() {
  FILE* f = std::fopen(g_state_map_out, "w");
  if (!f) return;
  for (uint32_t i = 0; i < g_first_reached.size(); i++)
    if (g_first_reached[i] >= 0)
      std::fprintf(f, "%s %u %.3f\n", i < g_transition_base ? "state" : "transition",
                   i < g_transition_base ? i : i - g_transition_base, g_first_reached[i]);
  std::fclose(f);
}

void feed_back(const Differential& diff, const Op& op) {
  const ReferenceModel& m = diff.model();
  const uint32_t state = state_class_index(classify_state(m, diff.impls()));
  const uint32_t transition = g_transition_base + classify_transition(m, op);
  if (g_state_feedback) {
    for (uint32_t i : {state, transition})
      if (g_state_counters[i] < 3) g_state_counters[i]++;
  }
  if (g_state_map_out) {
    for (uint32_t i : {state, transition})
      if (g_first_reached[i] < 0)
        g_first_reached[i] =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
  }
}

// One Differential per set of supporting implementations, kept across inputs: building the
// implementations costs heap allocations that would otherwise dominate short inputs. Looked up
// by the setup's fields first, so that the steady state allocates nothing per input (every
// allocation costs a stack trace under ASan).
class Engines {
 public:
  Differential& for_setup(const Setup& setup) {
    const uint64_t key = setup_key(setup);
    if (auto it = m_by_setup.find(key); it != m_by_setup.end()) return *it->second;
    std::vector<std::string> names = choose_implementations(setup).names;
    auto it = m_by_choice.find(names);
    if (it == m_by_choice.end()) {
      auto diff = std::make_unique<Differential>(make_implementations(names));
      it = m_by_choice.emplace(std::move(names), std::move(diff)).first;
    }
    m_by_setup.emplace(key, it->second.get());
    return *it->second;
  }
  std::vector<Op> ops;  // what this input ran so far, to print on failure

 private:
  static uint64_t setup_key(const Setup& s) {
    auto byte = [](int v) { return static_cast<uint64_t>(static_cast<uint8_t>(v)); };
    return byte(static_cast<int>(s.config.semantics)) | byte(s.config.bits) << 8 |
           byte(s.config.pmd_order) << 16 | byte(s.config.pud_order) << 24 |
           byte(s.folio.order) << 32 | byte(static_cast<int>(s.folio.type)) << 40 |
           byte(s.folio.hugetlb) << 48;
  }
  std::map<std::vector<std::string>, std::unique_ptr<Differential>> m_by_choice;
  std::unordered_map<uint64_t, Differential*> m_by_setup;
};

Engines& engines() {
  static Engines e;
  return e;
}

class KnownSignatures {
 public:
  bool contains(const std::string& signature) {
    if (!m_path) return false;
    // A stat() per input would cost more than many inputs do; look every few thousand.
    if (m_calls++ % 4096 == 0) reload();
    return m_known.count(signature) != 0;
  }
  void set_path(const char* path) { m_path = path; }

 private:
  void reload() {
    struct stat st;
    if (stat(m_path, &st) != 0) return;
    const int64_t version = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec + st.st_size;
    if (version == m_version) return;
    m_version = version;
    m_known.clear();
    std::ifstream in(m_path);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) m_known.insert(line);
  }
  const char* m_path = nullptr;
  int64_t m_version = -1;  // modification time and size of what was read
  uint64_t m_calls = 0;
  std::set<std::string> m_known;
};

// A long run (decoder.h: thousands of repetitions of one call) checks agreement at its first
// repetitions, at every power of two and at its last two, and only applies the ones between:
// checking is most of a repetition's cost, and the counters a run drives carry any disagreement
// to the next check (the thresholds the runs are for, such as a slot count wrapping past
// SHRT_MAX, stay wrong once crossed). Replaying the decoded trace checks every repetition.
constexpr uint32_t kDenseRepeats = 64;

StepOutcome run_op(Differential& diff, const Op& op) {
  if (op.repeat <= kDenseRepeats) return diff.step(op);
  Op one = op;
  one.repeat = 1;
  for (uint32_t k = 0; k < op.repeat;) {
    const bool checked = k < 2 || k + 2 >= op.repeat || ((k + 1) & k) == 0;
    if (checked) {
      StepOutcome out = diff.step(one);
      if (out.kind != StepOutcome::ok) {
        out.repetition = k;
        return out;
      }
      k++;
      continue;
    }
    // Up to the next repetition that is checked: index 2^j - 1, or the second to last.
    uint32_t next = k + 1;
    while (((next + 1) & next) != 0 && next + 2 < op.repeat) next++;
    Op stretch = op;
    stretch.repeat = next - k;
    diff.advance(stretch);
    k = next;
  }
  return {};
}

KnownSignatures& known_signatures() {
  static KnownSignatures k;
  return k;
}

[[noreturn]] void fail(const Setup& setup, const std::vector<Op>& ops, const std::string& signature,
                       const std::string& message) {
  Trace trace;
  trace.setup = setup;
  for (const Op& op : ops) {
    Statement st;
    st.operation = op;
    trace.statements.push_back(st);
  }
  const std::string mutant =
      active_mutant() == Mutant::none ? "" : " --mutant=" + std::string(getenv("FOLIOCHECK_MUTANT"));
  std::fprintf(stderr,
               "==== foliocheck: the decoded trace ====\n%s==== end of trace ====\n"
               "foliocheck: %s at operation #%zu\n"
               "reproduce: foliocheck decode CRASH_FILE > t.trace && foliocheck replay%s t.trace\n"
               "FOLIOCHECK-SIGNATURE: %s\n",
               print_trace(trace).c_str(), message.c_str(), ops.size(), mutant.c_str(),
               signature.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* name = std::getenv("FOLIOCHECK_MUTANT"); name && *name) {
    auto m = mutant_from_name(name);
    if (!m) {
      std::fprintf(stderr, "fuzz_differential: error: unknown mutant '%s' in FOLIOCHECK_MUTANT\n",
                   name);
      std::exit(2);
    }
    set_active_mutant(*m);
  }
  if (const char* path = std::getenv("FOLIOCHECK_KNOWN_SIGNATURES"); path && *path)
    known_signatures().set_path(path);
  if (const char* fb = std::getenv("FOLIOCHECK_STATE_FEEDBACK"); fb && *fb) {
    if (std::string_view(fb) != "0" && std::string_view(fb) != "1") {
      std::fprintf(stderr, "fuzz_differential: error: FOLIOCHECK_STATE_FEEDBACK must be 0 or 1, got '%s'\n", fb);
      std::exit(2);
    }
    g_state_feedback = std::string_view(fb) == "1";
  }
  g_transition_base = num_state_classes();
  if (const char* out = std::getenv("FOLIOCHECK_STATE_MAP_OUT"); out && *out) {
    g_state_map_out = out;
    g_first_reached.assign(kStateCounters, -1);
    g_start = std::chrono::steady_clock::now();
    std::atexit(write_state_map_out);
  }
  if (g_transition_base + num_transition_classes() > kStateCounters) {
    std::fprintf(stderr, "fuzz_differential: harness bug: %u state and %u transition classes do not "
                 "fit %zu extra counters\n", g_transition_base, num_transition_classes(), kStateCounters);
    std::exit(3);
  }
  engines();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto decoder = FuzzDecoder::open({data, size}, nullptr);
  // Not an input of ours (no magic, or cut inside the header): keep it out of the corpus.
  if (!decoder) return -1;
  Engines& e = engines();
  const Setup& setup = decoder->setup();
  if (!setup_in_scope(setup)) return -1;
  Differential& diff = e.for_setup(setup);
  diff.reset(setup);
  e.ops.clear();
  while (auto op = decoder->next(diff.model())) {
    e.ops.push_back(*op);
    const StepOutcome out = run_op(diff, *op);
    if (out.kind == StepOutcome::invalid)
      fail(setup, e.ops, "harness-decoder-precondition",
           "the decoder produced an invalid operation (repetition " +
               std::to_string(out.repetition + 1) + "): " + out.invalid_reason);
    if (out.kind == StepOutcome::violation) {
      const std::string signature = out.found->signature();
      if (known_signatures().contains(signature)) return -1;
      fail(setup, e.ops, signature, out.found->describe());
    }
    if (g_state_feedback || g_state_map_out) feed_back(diff, *op);
  }
  if (auto v = diff.finish()) {
    if (known_signatures().contains(v->signature())) return -1;
    fail(setup, e.ops, v->signature(), v->describe() + " (final sweep)");
  }
  // Free what this input allocated (the mms' page tables) now rather than at the next reset:
  // libFuzzer runs a costly leak check after every new input whose mallocs and frees differ.
  diff.reset(setup);
  return 0;
}
