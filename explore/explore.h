// Bounded exhaustive search: every valid operation sequence up to a depth, breadth first.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/implementation.h"
#include "impl/mutants.h"
#include "core/reference_model.h"
#include "core/state_class.h"
#include "trace/trace.h"

namespace foliocheck {

struct ExploreOptions {
  Setup setup;
  uint32_t mms = 2;  // mm ids 1..mms take part, unless mm_ids names them
  // The mm ids taking part, when not 1..mms: e.g. MM_ID_MAX and MM_ID_MAX - 1, whose high bits a
  // mistake in an id mask would lose. The search treats mms as interchangeable either way.
  std::vector<uint32_t> mm_ids;
  uint32_t depth = 4;              // longest operation sequence searched
  std::vector<std::string> impls;  // empty: every implementation that supports the setup
  // Adds `x=K` whole-folio PTE operations that carry one mm's mappings across SHRT_MAX, so that the
  // 32-bit slot overflow path (spec 5, A1) is within reach of a few operations.
  bool overflow = false;
  // Folios of at most this many pages get every (page, nr) range; larger ones a representative set
  // (first, middle and last page, halves, whole folio), or the search would be dominated by ranges.
  uint32_t all_ranges_up_to = 8;
  uint64_t max_states = 0;  // stop once this many distinct states are known (0: no limit)
  double max_seconds = 0;   // stop after this long (0: no limit)
  // Classify every state reached and every transition checked into ExploreResult::map, so that
  // explore's reach compares with the fuzzer's and the property suite's (core/state_class.h).
  bool state_map = false;
  // Key every implementation by its reads and check every transition, as explore did before it
  // keyed states by Implementation::state_words() (those searches skip the checks of transitions
  // into known states): the same states at every depth, slower. For side-by-side measurements and
  // the test that the two agree.
  bool check_every_transition = false;
};

struct ExploreProgress {
  uint32_t depth = 0;  // level being expanded (its states are at depth - 1)
  uint64_t states = 0;
  uint64_t transitions = 0;
  uint64_t level_done = 0;  // states of the current level expanded so far
  uint64_t level_size = 0;
  double seconds = 0;
};

struct ExploreResult {
  // bounded: every sequence up to the depth checked; closed: no new state appeared before the
  // depth, so the whole reachable state space is checked; limit: max_states or max_seconds stopped
  // it.
  enum Outcome : uint8_t { running, bounded, closed, violation, limit } outcome = running;
  uint64_t states = 0;       // distinct canonical states reached, the initial one included
  uint64_t transitions = 0;  // operations applied and checked (each is one execution of a trace)
  uint64_t applied = 0;      // operations applied in all, replays to reach parents included
  uint32_t depth = 0;        // every sequence up to this length has been checked
  // States first reached at each depth whose level was searched to the end (the initial state is
  // depth 0).
  std::vector<uint64_t> level_states;
  double seconds = 0;
  std::vector<std::string> impls;  // what ran beside the model
  std::optional<Violation> found;
  std::vector<Op> trace;  // a shortest violating sequence, when found
  std::optional<StateMap> map;  // with ExploreOptions::state_map
  double states_per_second() const {
    return seconds > 0 ? static_cast<double>(states) / seconds : 0;
  }
  // The violating sequence as a trace file, with the setup.
  Trace as_trace(const Setup& setup) const;
};
std::string_view explore_outcome_name(ExploreResult::Outcome o);

// The search, resumable one level at a time so that a caller can run several setups side by side
// and stop at the first depth where any of them finds a violation (a shortest one overall).
class Explorer {
 public:
  explicit Explorer(ExploreOptions options);
  ~Explorer();
  Explorer(const Explorer&) = delete;
  Explorer& operator=(const Explorer&) = delete;

  // Why the options cannot be searched (bad setup, unknown or unsupporting implementation).
  const std::optional<std::string>& error() const { return m_error; }
  // Checks every sequence one operation longer than before. False once there is nothing more to do:
  // a violation, the depth reached, no new state left, or a limit hit.
  bool expand_level(const std::function<void(const ExploreProgress&)>& progress = nullptr);
  // Runs expand_level until it returns false.
  const ExploreResult& run(const std::function<void(const ExploreProgress&)>& progress = nullptr);
  const ExploreResult& result() const { return m_result; }
  const ExploreOptions& options() const { return m_options; }
  // Moves the time limit (counted over every expand_level so far), for callers sharing one budget
  // among several searches.
  void set_max_seconds(double seconds) { m_options.max_seconds = seconds; }

 private:
  struct State;
  ExploreOptions m_options;
  std::optional<std::string> m_error;
  ExploreResult m_result;
  std::unique_ptr<State> m_state;
};

// The identity of a state for deduplication: a 128-bit hash of the model's state (mappings, pins,
// PageAnonExclusive, history) and each implementation's Implementation::state_words() (or, for one
// without them, every observable it reads), with every mm named alike and what tells the mms apart
// in per-mm rows whose hashes are summed, so that states that differ only by the names of the mms
// are one state.
struct StateKey {
  uint64_t a = 0, b = 0;
  bool operator==(const StateKey&) const = default;
};
StateKey explore_state_key(const ReferenceModel& model,
                           std::span<const std::unique_ptr<Implementation>> impls, uint32_t mms);

// Keys states one after another as explore keys siblings: what consecutive states share (each
// mm's row and its hash) is kept from one key to the next, and a key never depends on the states
// keyed before it. `ids`: the mm ids of the search. `by_reads`: key every implementation by its
// reads, as ExploreOptions::check_every_transition does. `fixed_sizes`: take the fixed-size
// paths for small folios (the same keys, cheaper); off only to test them.
class StateKeyer {
 public:
  explicit StateKeyer(std::vector<uint32_t> ids, bool by_reads = false, bool fixed_sizes = true);
  ~StateKeyer();
  StateKeyer(const StateKeyer&) = delete;
  StateKeyer& operator=(const StateKeyer&) = delete;

  StateKey key(const ReferenceModel& model, std::span<const std::unique_ptr<Implementation>> impls);
  // Of the last key: the mms (bit i: ids[i]) whose part is not that of an mm no operation touched.
  uint32_t touched() const { return m_touched; }
  // Of the last key: it came from state words alone, so equal keys are equal states.
  bool complete() const;
  // Of the last key: it took a fixed-size path.
  bool fixed_size() const;

 private:
  struct Builder;
  std::unique_ptr<Builder> m_builder;
  std::vector<uint32_t> m_ids;
  uint32_t m_touched = 0;
};

// The mm ids a search uses: options.mm_ids, or 1..options.mms.
std::vector<uint32_t> explore_mm_ids(const ExploreOptions& options);

// The operations the search tries in every state before filtering by precondition: every kind,
// every mm (and src), the ranges described at ExploreOptions::all_ranges_up_to, and exclusive both
// ways.
std::vector<Op> explore_alphabet(const ExploreOptions& options);

// Hunting one mutant: explore on scaled geometry (pmd_order=2, pud_order=3) over a few folio shapes
// for each encoding the mutant affects (the 64-bit one of each variant when listed, else the 32-bit
// one, with the slot-overflow alphabet). The first encoding's setups are advanced one depth at a
// time together; then the other encodings' setups up to one less than the kill found, so that the
// kill reported is a shortest one over every setup searched (unless the budget ran out).
struct MutantSearch {
  bool killed = false;
  double seconds = 0;
  uint64_t transitions = 0;  // operations applied and checked, over every setup
  uint64_t states = 0;
  uint32_t depth = 0;  // deepest level searched in every setup
  size_t setups = 0;
  bool limited = false;          // the budget ran out before max_depth
  bool shortest_proven = false;  // every setup was searched to one less than the kill's length
  ExploreOptions where;          // the setup of the kill
  std::string encoding;
  std::vector<Op> trace;
  std::optional<Violation> found;
  // Violations whose trace fails without the mutant as well: findings about the encodings or the
  // model, never counted as kills. Each is the setup and the violation, one line; the search goes
  // on in the other setups.
  std::vector<std::string> unmutated_failures;
};
MutantSearch explore_mutant(const MutantInfo& mutant, uint32_t max_depth, double budget_seconds);
// The setups explore_mutant searches for one mutant, in the order it searches them.
std::vector<ExploreOptions> mutant_setups(const MutantInfo& mutant, uint32_t max_depth);

}  // namespace foliocheck
