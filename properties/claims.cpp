// The suite's claims as RapidCheck property bodies, shared by the tests and the mutant killer.
#include "properties/claims.h"

#include <rapidcheck/state.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/legality.h"
#include "trace/replay.h"
#include "impl/registry.h"
#include "trace/trace.h"
#include "properties/runner.h"

namespace foliocheck::props {
namespace {

// The test case's size (0..max_size), which bounds how long a generated sequence is, as it does
// for rc::state's command sequences.
uint32_t case_size() {
  return static_cast<uint32_t>(*rc::gen::withSize([](int size) { return rc::gen::just(size); }));
}

bool large_slots(const Setup& s) { return s.has_mm_id() && s.large() && !s.folio.hugetlb; }


// Which named states a test case reached (core/state_class.def), noted after every operation, and
// the abstract state class of every state it passed through (the suite's state map).
class Tracker {
 public:
  void note(const ReferenceModel& m, const Op& op,
            std::span<const std::unique_ptr<Implementation>> impls) {
    m_operations++;
    m_milestones.note(m, op, impls);
    m_reached.bits = m_milestones.reached();
    m_reached.ops.set(static_cast<size_t>(op.kind));
    note_state_class(m, impls, op);
  }
  const Reached& reached() const { return m_reached; }
  uint64_t operations() const { return m_operations; }

 private:
  MilestoneTracker m_milestones;
  Reached m_reached;
  uint64_t m_operations = 0;
};

// ---- the state machine --------------------------------------------------------------------------

struct PropState {
  std::shared_ptr<const Scenario> scenario;
  ReferenceModel model;
};

class Sut;
using Command = rc::state::Command<PropState, Sut>;

// The system under test: a Differential of every implementation that supports the scenario,
// a shadow reference model, and the trace so far (what a failure writes out).
class Sut {
 public:
  Sut(Claim claim, std::shared_ptr<const Scenario> sc)
      : m_claim(claim), m_sc(std::move(sc)), m_diff(make_differential(*m_sc)) {
    m_shadow.reset(m_sc->setup);
  }

  void run(const Op& op);
  void finish();
  const Tracker& tracker() const { return m_tracker; }

 private:
  [[noreturn]] void fail(const std::string& what) const;
  void step(const Op& one);
  void after_step(const Op& one);
  void check_invariants();
  void check_statistics();
  void check_maybe_mapped_shared();
  void unmap_everything();
  void check_back_to_initial();

  Claim m_claim;
  std::shared_ptr<const Scenario> m_sc;
  Differential m_diff;
  ReferenceModel m_shadow;
  std::vector<Op> m_ops;
  std::string m_where;  // the operation being checked, for messages
  uint32_t m_repetition = 0;
  Tracker m_tracker;
  // Since the folio was last completely unmapped, recounted here rather than taken from the
  // model's History, so that this claim does not lean on the code it is meant to check.
  uint32_t m_epoch_mms = 0;
  uint64_t m_epoch_mm_mappings = 0;
};

void Sut::fail(const std::string& what) const {
  std::string message = what + "\n  at " + m_where;
  if (m_repetition > 0) message += " (repetition " + std::to_string(m_repetition) + ")";
  capture_failure({{"", make_trace(m_sc->setup, m_ops)}}, message);
  RC_FAIL(message);
}

void Sut::run(const Op& op) {
  m_ops.push_back(op);
  const Op one = once(op);
  m_where = "operation #" + std::to_string(m_ops.size()) + " `" + print_op(op) + "`";
  for (uint32_t k = 0; k < op.repeat; k++) {
    m_repetition = op.repeat > 1 ? k + 1 : 0;
    step(one);
    after_step(one);
  }
}

void Sut::step(const Op& one) {
  if (auto why = m_shadow.precondition(one))
    fail("harness: the generator produced an operation the model rejects: " + *why);
  try {
    if (m_claim == Claim::agreement) {
      const StepOutcome out = m_diff.step(one);
      if (out.kind == StepOutcome::invalid)
        fail("harness: the Differential's model rejects what the generator's model accepted: " +
             out.invalid_reason);
      if (out.kind == StepOutcome::violation) fail(out.found->describe());
    } else {
      m_diff.step_unchecked(one);
    }
  } catch (const std::exception& e) {
    fail(std::string("exception from an implementation: ") + e.what());
  }
  m_shadow.apply(one);
}

void Sut::after_step(const Op& one) {
  switch (m_claim) {
    case Claim::agreement:
    case Claim::unmap_restores:
      break;
    case Claim::invariants:
      check_invariants();
      break;
    case Claim::statistics:
      check_statistics();
      break;
    case Claim::maybe_mapped_shared:
      check_maybe_mapped_shared();
      break;
  }
  m_tracker.note(m_shadow, one, m_diff.impls());
}

void Sut::check_invariants() {
  const PageRange all{0, m_sc->setup.nr_pages()};
  for (const auto& impl : m_diff.impls())
    if (auto v = impl->check_invariants(all, true)) fail(v->describe());
}

// spec 3.3, "Accounting invariant", recomputed from the mappings each mm holds.
void Sut::check_statistics() {
  const Setup& s = m_sc->setup;
  const uint32_t n = s.nr_pages();
  std::vector<uint64_t> page(n, 0);
  uint64_t total = 0, entire = 0;
  for (const auto& [id, mm] : m_shadow.mms()) {
    for (uint32_t i = 0; i < mm.pte.size(); i++) page[i] += mm.pte[i];
    total += mm.total();
    entire += mm.entire();
  }
  const int64_t pages_mapped =
      std::count_if(page.begin(), page.end(), [](uint64_t c) { return c > 0; });
  int64_t mapped = 0;
  std::string rule;
  if (s.folio.hugetlb) {
    rule = "hugetlb folios are never accounted";
  } else if (!s.large()) {
    mapped = total > 0;
    rule = "small folio: 1 while mapped";
  } else if (!s.has_page_mapcount()) {
    mapped = total > 0 ? n : 0;
    rule = "no-page-mapcount: N while anything maps the folio";
  } else {
    mapped = entire > 0 ? n : pages_mapped;
    rule = "N while entirely mapped, else the pages some PTE maps";
  }
  // The RFC (docs/proposed.md, A5) accounts a PMD-sized folio as PMD-mapped while mapped at all.
  const int64_t pmdmapped =
      !s.folio.hugetlb && s.pmd_sized() && (s.has_total_mapped() ? total > 0 : entire > 0) ? n : 0;
  const bool anon = s.anon(), shmem = s.folio.type == FolioType::shmem;
  const std::pair<Obs, int64_t> want[] = {
      {Obs::nr_anon_mapped, anon ? mapped : 0},
      {Obs::nr_file_mapped, anon ? 0 : mapped},
      {Obs::nr_anon_thps, anon ? pmdmapped : 0},
      {Obs::nr_shmem_pmdmapped, shmem ? pmdmapped : 0},
      {Obs::nr_file_pmdmapped, !anon && !shmem ? pmdmapped : 0},
  };
  auto check = [&](const Implementation& impl, bool harness) {
    for (const auto& [obs, value] : want) {
      if (!impl.models(obs)) continue;
      const int64_t have = impl.read(obs);
      if (have == value) continue;
      fail(std::string(harness ? "harness: the reference model's " : "") +
           std::string(impl.name()) + ": " + std::string(obs_info(obs).name) + " is " +
           std::to_string(have) + ", the accounting rule gives " + std::to_string(value) + " (" +
           rule + "; PMD statistics: N while a PMD-sized folio is PMD-mapped)");
    }
  };
  check(m_shadow, true);
  for (const auto& impl : m_diff.impls()) check(*impl, false);
}

// spec 5.2: I (never a false negative) always; exactness while at most two mms mapped at once in
// this epoch and, on 32-bit, no slot can have wrapped.
void Sut::check_maybe_mapped_shared() {
  const Setup& s = m_sc->setup;
  uint32_t mms = 0;
  uint64_t most = 0, total = 0;
  for (const auto& [id, mm] : m_shadow.mms()) {
    mms += mm.total() > 0;
    most = std::max(most, mm.total());
    total += mm.total();
  }
  if (total == 0) {
    m_epoch_mms = 0;
    m_epoch_mm_mappings = 0;
  } else {
    m_epoch_mms = std::max(m_epoch_mms, mms);
    m_epoch_mm_mappings = std::max(m_epoch_mm_mappings, most);
  }
  const bool exact =
      large_slots(s) && m_epoch_mms <= 2 && (s.config.bits == 64 || m_epoch_mm_mappings <= 32767);
  for (const auto& impl : m_diff.impls()) {
    if (!impl->models(Obs::maybe_mapped_shared)) continue;
    const int64_t v = impl->read(Obs::maybe_mapped_shared);
    if (mms >= 2 && v != 1)
      fail(std::string(impl->name()) + ": maybe_mapped_shared is " + std::to_string(v) + " while " +
           std::to_string(mms) + " mms map the folio");
    if (exact && v != (mms >= 2))
      fail(std::string(impl->name()) + ": maybe_mapped_shared is " + std::to_string(v) + " with " +
           std::to_string(mms) +
           " mm(s) mapping, but at most two mms mapped at once since the folio "
           "was last unmapped" +
           (s.config.bits == 32 ? " and no slot can have wrapped" : "") + ", so it must be exact");
  }
}

void Sut::unmap_everything() {
  std::vector<Op> ops;
  auto add = [&](OpKind kind, uint32_t mm, uint32_t page, uint32_t nr, uint32_t times) {
    ops.push_back(canonical_op(make_op(kind, mm, page, nr, false, 0, times)));
  };
  for (const auto& [id, mm] : m_shadow.mms()) {
    // Batched like zap_pte_range: the longest runs first, as often as the least-mapped page allows.
    std::vector<uint32_t> left(mm.pte.begin(), mm.pte.end());
    for (uint32_t lo = 0; lo < left.size();) {
      if (left[lo] == 0) {
        lo++;
        continue;
      }
      uint32_t hi = lo, least = UINT32_MAX;
      while (hi < left.size() && left[hi] > 0) least = std::min(least, left[hi++]);
      add(OpKind::remove_ptes, id, lo, hi - lo, least);
      for (uint32_t i = lo; i < hi; i++) left[i] -= least;
    }
    if (mm.pmd) add(OpKind::remove_pmd, id, 0, 1, mm.pmd);
    if (mm.pud) add(OpKind::remove_pud, id, 0, 1, mm.pud);
    if (mm.hugetlb) add(OpKind::hugetlb_remove, id, 0, 1, mm.hugetlb);
  }
  if (m_shadow.pins()) add(OpKind::gup_unpin, 0, 0, 1, m_shadow.pins());
  for (const Op& op : ops) run(op);
}

void Sut::check_back_to_initial() {
  m_where = "the end, after unmapping every mapping and unpinning";
  m_repetition = 0;
  const Setup& s = m_sc->setup;
  if (m_shadow.total_mappings() != 0 || m_shadow.pins() != 0)
    fail("harness: mappings or pins are left after unmapping everything");
  for (const auto& impl : m_diff.impls()) {
    if (auto v = impl->check_free()) fail("free-path check: " + v->describe());
    auto fresh = make_implementation(impl->name());
    fresh->reset(s);
    for (int i = 0; i < kNumObs; i++) {
      const Obs obs = static_cast<Obs>(i);
      // PG_partially_mapped is sticky until the folio is split, and PageAnonExclusive is a page
      // flag that outlives its mappings: neither is a counter with an initial value to return to.
      if (obs == Obs::partially_mapped || obs == Obs::anon_exclusive) continue;
      if (!impl->models(obs) || !fresh->models(obs)) continue;
      for (uint32_t index : obs_indexes(obs, m_sc->setup, m_sc->mms)) {
        const int64_t have = impl->read(obs, index), initial = fresh->read(obs, index);
        if (have != initial)
          fail(std::string(impl->name()) + ": " + obs_field(obs, index) + " is " +
               std::to_string(have) + " after unmapping every mapping, " + std::to_string(initial) +
               " on a freshly prepared folio");
      }
    }
  }
}

void Sut::finish() {
  m_where = "the end of the sequence";
  m_repetition = 0;
  switch (m_claim) {
    case Claim::agreement:
      if (auto v = m_diff.finish()) fail(v->describe() + " (final sweep)");
      break;
    case Claim::invariants:
      if (m_shadow.total_mappings() == 0 && m_shadow.pins() == 0)
        for (const auto& impl : m_diff.impls())
          if (auto v = impl->check_free()) fail("free-path check: " + v->describe());
      break;
    case Claim::unmap_restores:
      unmap_everything();
      check_back_to_initial();
      break;
    case Claim::statistics:
    case Claim::maybe_mapped_shared:
      break;
  }
}

// One operation of the trace alphabet: valid when the model accepts it (every repetition), so that
// RapidCheck's shrinking, which re-checks every command it keeps, only ever yields valid traces.
class OpCommand final : public Command {
 public:
  explicit OpCommand(const Op& op) : m_op(op) {}
  void checkPreconditions(const PropState& s) const override {
    const bool valid = !invalid_reason(s.model, m_op);
    RC_PRE(valid);
  }
  void apply(PropState& s) const override { apply_op(s.model, m_op); }
  void run(const PropState&, Sut& sut) const override { sut.run(m_op); }
  void show(std::ostream& os) const override { os << print_op(m_op); }

 private:
  Op m_op;
};

rc::Gen<std::shared_ptr<const Command>> gen_command(const PropState& s) {
  GenContext ctx{std::make_shared<const ReferenceModel>(s.model), s.scenario, {}};
  return rc::gen::map(gen_op(std::move(ctx)), [](const Op& op) {
    return std::shared_ptr<const Command>(std::make_shared<const OpCommand>(op));
  });
}

// ---- order independence -------------------------------------------------------------------------

// Exact observables that are functions of the current mappings. partially_mapped and ret are exact
// but record history (the removal that flagged the folio, the last call's answer).
bool state_function(Obs obs) {
  return obs_info(obs).agreement == kExact && obs != Obs::partially_mapped && obs != Obs::ret;
}

struct OrderRun {
  Differential diff;
  ReferenceModel model;
  std::vector<Op> ops;
};

}  // namespace

void state_machine_claim(Claim claim, const ScenarioOptions& options) {
  auto sc = std::make_shared<const Scenario>(*gen_scenario(options));
  PropState s0{sc, {}};
  s0.model.reset(sc->setup);
  const auto commands = *rc::state::gen::commands(s0, &gen_command);
  Sut sut(claim, sc);
  rc::state::runAll(commands, s0, sut);
  sut.finish();
  report_case(sut.tracker().reached(), sut.tracker().operations());
}

void order_independence_claim(const ScenarioOptions& options) {
  ScenarioOptions o = options;
  o.allow_bulk = false;
  o.min_mms = std::max<uint32_t>(2, o.min_mms);
  o.max_mms = std::max(o.min_mms, o.max_mms);
  auto sc = std::make_shared<const Scenario>(*gen_scenario(o));

  // Each mm's own history, valid on its own; operations of different mms commute (OpFilter).
  std::vector<std::vector<Op>> lists;
  for (uint32_t id : sc->mms) {
    ReferenceModel solo;
    solo.reset(sc->setup);
    std::vector<Op> list;
    const uint32_t len = 1 + pick(case_size() / 2 + 1);
    for (uint32_t i = 0; i < len; i++) {
      auto op = gen_valid_op(solo, sc, OpFilter{true, id});
      if (!op) break;
      apply_op(solo, *op);
      list.push_back(*op);
    }
    lists.push_back(std::move(list));
  }
  std::vector<Op> one_by_one, interleaved;
  for (const auto& list : lists) one_by_one.insert(one_by_one.end(), list.begin(), list.end());
  std::vector<size_t> next(lists.size(), 0);
  while (interleaved.size() < one_by_one.size()) {
    std::vector<size_t> open;
    for (size_t i = 0; i < lists.size(); i++)
      if (next[i] < lists[i].size()) open.push_back(i);
    const size_t i = open[pick(static_cast<uint32_t>(open.size()))];
    interleaved.push_back(lists[i][next[i]++]);
  }

  auto fail = [&](const std::string& what) {
    capture_failure(
        {{"", make_trace(sc->setup, one_by_one)}, {"other-order", make_trace(sc->setup, interleaved)}},
        what);
    RC_FAIL(what);
  };
  Tracker tracker;
  auto run = [&](const std::vector<Op>& ops, bool note) {
    OrderRun r{make_differential(*sc), {}, ops};
    r.model.reset(sc->setup);
    for (size_t i = 0; i < ops.size(); i++) {
      if (auto why = invalid_reason(r.model, ops[i]))
        fail("harness: operation #" + std::to_string(i + 1) + " `" + print_op(ops[i]) +
             "` of one mm became invalid when interleaved with another mm's: " + *why);
      apply_op(r.model, ops[i]);
      try {
        r.diff.step_unchecked(ops[i]);
      } catch (const std::exception& e) {
        fail(std::string("exception from an implementation: ") + e.what());
      }
      if (note) tracker.note(r.model, ops[i], r.diff.impls());
    }
    return r;
  };
  const OrderRun a = run(one_by_one, true);
  const OrderRun b = run(interleaved, false);

  std::vector<std::pair<const Implementation*, const Implementation*>> pairs{{&a.model, &b.model}};
  for (size_t i = 0; i < a.diff.impls().size(); i++)
    pairs.emplace_back(a.diff.impls()[i].get(), b.diff.impls()[i].get());
  for (const auto& [x, y] : pairs) {
    for (int i = 0; i < kNumObs; i++) {
      const Obs obs = static_cast<Obs>(i);
      if (!state_function(obs) || !x->models(obs)) continue;
      for (uint32_t index : obs_indexes(obs, sc->setup, sc->mms)) {
        const int64_t vx = x->read(obs, index), vy = y->read(obs, index);
        if (vx != vy)
          fail(std::string(x->name()) + ": " + obs_field(obs, index) + " is " + std::to_string(vx) +
               " after mapping mm by mm, " + std::to_string(vy) +
               " after the same operations interleaved (trace .other-order)");
      }
    }
  }
  report_case(tracker.reached(), tracker.operations());
}

void round_trip_claim(const ScenarioOptions& options) {
  ScenarioOptions o = options;
  o.allow_bulk = false;
  auto sc = std::make_shared<const Scenario>(*gen_scenario(o));
  Trace t;
  t.setup = sc->setup;
  ReferenceModel m;
  m.reset(sc->setup);
  Tracker tracker;
  std::vector<Obs> expectable;
  for (int i = 0; i < kNumObs; i++) {
    const Obs obs = static_cast<Obs>(i);
    if (obs_info(obs).agreement == kExact && m.models(obs)) expectable.push_back(obs);
  }
  const uint32_t len = 1 + pick(case_size() + 1);
  for (uint32_t i = 0; i < len; i++) {
    auto op = gen_valid_op(m, sc, {});
    if (!op) break;
    apply_op(m, *op);
    tracker.note(m, *op, {});
    Statement st;
    st.kind = Statement::op;
    st.operation = *op;
    t.statements.push_back(st);
    if (!chance(1, 3)) continue;
    Statement e;
    e.kind = Statement::expect;
    for (uint32_t k = 1 + pick(4); k > 0; k--) {
      const Obs obs = expectable[pick(static_cast<uint32_t>(expectable.size()))];
      const auto idx = obs_indexes(obs, sc->setup, sc->mms);
      const uint32_t index = idx[pick(static_cast<uint32_t>(idx.size()))];
      const Expectation x{obs, index, m.read(obs, index), 0};
      // An expect names each observable once.
      if (std::find(e.expects.begin(), e.expects.end(), x) == e.expects.end())
        e.expects.push_back(x);
    }
    t.statements.push_back(e);
  }

  auto fail = [&](const std::string& what) {
    capture_failure({{"", t}}, what);
    RC_FAIL(what);
  };
  const std::string text = print_trace(t);
  const ParseResult parsed = parse_trace(text, "<generated>");
  if (parsed.error)
    fail("the printed trace does not parse: " + parsed.error->describe() + "\n" + text);
  if (!(*parsed.trace == t)) fail("parse(print(t)) != t for\n" + text);
  if (print_trace(*parsed.trace) != text) fail("print(parse(print(t))) != print(t) for\n" + text);

  const ReplayReport r0 = replay_trace(t, {});
  const ReplayReport r1 = replay_trace(*parsed.trace, {});
  const ReplayReport r2 = replay_trace(*parsed.trace, {});
  for (const ReplayReport* r : {&r0, &r1, &r2})
    if (r->result == ReplayReport::invalid || r->result == ReplayReport::error)
      fail("replay of a generated trace: " + std::string(replay_result_name(r->result)) + ": " +
           r->message);
  auto same_violation = [](const ReplayReport& x, const ReplayReport& y) {
    if (x.found.has_value() != y.found.has_value()) return false;
    if (!x.found) return true;
    return x.found->signature() == y.found->signature() && x.found->field == y.found->field &&
           x.found->expected == y.found->expected && x.found->actual == y.found->actual;
  };
  auto same = [&](const ReplayReport& x, const ReplayReport& y) {
    return x.result == y.result && x.ops == y.ops && x.expects == y.expects &&
           x.op_index == y.op_index && x.failed_expect == y.failed_expect && x.impls == y.impls &&
           x.final_obs == y.final_obs && same_violation(x, y);
  };
  if (!same(r1, r2) || r1.line != r2.line || r1.message != r2.message)
    fail("replaying the same trace twice gave different observations:\n" + text);
  if (!same(r0, r1))
    fail("replaying a trace and its printed-and-parsed copy gave different observations:\n" + text);
  report_case(tracker.reached(), tracker.operations());
}

}  // namespace foliocheck::props
