// Claims that every implementation (kernel trees' too), the model and Differential forget everything on reset().
// An object that ran random traces answers another exactly like a fresh one.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>

#include "core/differential.h"
#include "core/legality.h"
#include "impl/kernel_hook.h"
#include "impl/registry.h"
#include "trace/trace.h"

namespace foliocheck {
namespace {

foliocheck::Setup setup(Semantics s, int order, FolioType t, bool hugetlb = false, int bits = 64) {
  return make_setup(s, bits, order, t, hugetlb, 2, 4);
}

// A random legal call for the model's state, or nullopt after enough misses.
std::optional<Op> random_op(const ReferenceModel& m, std::mt19937& rng) {
  const uint32_t n = m.setup().nr_pages();
  for (int tries = 0; tries < 200; tries++) {
    const auto kind = static_cast<OpKind>(rng() % kNumOpKinds);
    if (!op_enabled(kind, m)) continue;
    const uint32_t page = rng() % n;
    const uint32_t nr = 1 + rng() % (n - page);
    const uint32_t mm = 1 + rng() % 4;
    const uint32_t src = 1 + rng() % 4;
    const Op o = canonical_op(make_op(kind, mm, page, nr, rng() % 3 == 0, src));
    if (!m.precondition(o)) return o;
  }
  return std::nullopt;
}

std::vector<Op> random_trace(const foliocheck::Setup& s, std::mt19937& rng, int len) {
  ReferenceModel m;
  m.reset(s);
  std::vector<Op> ops;
  for (int i = 0; i < len; i++) {
    auto o = random_op(m, rng);
    if (!o) break;
    m.apply(*o);
    ops.push_back(*o);
  }
  return ops;
}

// Every observable an implementation models, with the warnings it logged, as one comparable list.
std::vector<int64_t> observe(const Implementation& impl, const foliocheck::Setup& s) {
  std::vector<int64_t> out;
  for (int i = 0; i < kNumObs; i++) {
    const Obs obs = static_cast<Obs>(i);
    if (!impl.models(obs)) continue;
    uint32_t count = 1;
    if (obs == Obs::page_mapcount || obs == Obs::anon_exclusive) count = s.nr_pages();
    if (obs == Obs::mm_id || obs == Obs::mm_id_mapcount) count = 2;
    if (obs == Obs::mm_mapcount) count = 6;  // mm ids 0..5 cover the traces' 1..4
    for (uint32_t k = 0; k < count; k++) out.push_back(impl.read(obs, k));
  }
  out.push_back(static_cast<int64_t>(impl.warning_log().size()));
  out.push_back(impl.check_invariants({0, s.nr_pages()}, true).has_value());
  return out;
}

std::vector<std::vector<int64_t>> observe_all(const Differential& d, const foliocheck::Setup& s) {
  std::vector<std::vector<int64_t>> out{observe(d.model(), s)};
  for (const auto& impl : d.impls()) out.push_back(observe(*impl, s));
  return out;
}

// Models nothing, so it always agrees; it records whether the last check was a full sweep, so
// that a reused Differential can be compared with a fresh one on when it sweeps.
class SweepRecorder final : public Implementation {
 public:
  std::string_view name() const override { return "sweep-recorder"; }
  bool supports(const foliocheck::Setup&) const override { return true; }
  void reset(const foliocheck::Setup&) override {}
  void apply(const Op&) override {}
  bool models(Obs) const override { return false; }
  int64_t read(Obs, uint32_t) const override { return 0; }
  std::optional<Violation> check_invariants(PageRange, bool full) const override {
    swept = swept || full;
    return std::nullopt;
  }
  std::optional<Violation> check_free() const override { return std::nullopt; }
  std::span<const std::string> warning_log() const override { return {}; }
  mutable bool swept = false;
};

// The implementations `names` plus a SweepRecorder, which comes last; sweeps every 7 operations
// so that a sweep schedule carried over from before a reset would show within one trace.
Differential differential(const std::vector<std::string>& names) {
  auto impls = make_implementations(names);
  impls.push_back(std::make_unique<SweepRecorder>());
  Differential d(std::move(impls));
  d.sweep_every = 7;
  return d;
}
SweepRecorder& recorder(const Differential& d) {
  return const_cast<SweepRecorder&>(dynamic_cast<const SweepRecorder&>(*d.impls().back()));
}

bool is_kernel(std::string_view name) {
  const auto trees = kernel_implementation_names();
  return name == kKernelAlias || std::find(trees.begin(), trees.end(), name) != trees.end();
}

TEST(Reuse, AResetObjectAnswersASecondRandomTraceLikeAFreshOne) {
  const foliocheck::Setup setups[] = {
      setup(Semantics::mm_id, 2, FolioType::anon),
      setup(Semantics::mm_id, 2, FolioType::file),
      setup(Semantics::v6_12, 2, FolioType::anon),
      setup(Semantics::no_page_mapcount, 3, FolioType::shmem),
      setup(Semantics::no_mm_id, 2, FolioType::file),
      setup(Semantics::proposed_total_mapped, 2, FolioType::anon, false, 32),
      setup(Semantics::mm_id, 2, FolioType::anon, true),
      setup(Semantics::v6_12, 0, FolioType::anon),
      setup(Semantics::mm_id, 2, FolioType::anon, false, 32),
      setup(Semantics::v6_12, 2, FolioType::file, false, 32),
  };
  std::mt19937 rng(15);
  int compared = 0, kernel_compared = 0;
  for (int round = 0; round < 25; round++) {
    for (const foliocheck::Setup& first : setups) {
      // The second trace runs on another setup too, so that leftovers of a larger folio show.
      const foliocheck::Setup& second = setups[rng() % std::size(setups)];
      // The reused object serves both setups; the implementations it holds are those of `second`
      // that also support `first` (reset is only called with a setup supports() accepts), and
      // `kernel`, which switches between the trees and their variants inside one object.
      auto names = choose_implementations(second).names;
      if (!kernel_implementation_names().empty()) names.emplace_back(kKernelAlias);
      std::vector<std::string> both;
      bool kernel = false;
      for (const auto& n : names) {
        auto impl = make_implementation(n);
        if (!impl->supports(first) || !impl->supports(second)) continue;
        both.push_back(n);
        kernel = kernel || is_kernel(n);
      }
      Differential reused = differential(both), fresh = differential(both);
      // `second`'s variant is used, then `first`'s, then `second`'s again: a kernel
      // implementation keeps one state per variant, so reuse after a switch shows too.
      const auto pre = random_trace(second, rng, 30), a = random_trace(first, rng, 30),
                 b = random_trace(second, rng, 30);
      reused.reset(second);
      for (const Op& o : pre) ASSERT_EQ(reused.step(o).kind, StepOutcome::ok);
      reused.reset(first);
      for (const Op& o : a) {
        const StepOutcome x = reused.step(o);
        ASSERT_EQ(x.kind, StepOutcome::ok) << print_op(o) << ": " << x.invalid_reason
                                           << (x.found ? x.found->describe() : "");
      }
      reused.reset(second);
      fresh.reset(second);
      ASSERT_EQ(observe_all(reused, second), observe_all(fresh, second)) << "right after reset";
      ASSERT_EQ(reused.operations(), fresh.operations()) << "right after reset";
      for (size_t i = 0; i < b.size(); i++) {
        recorder(reused).swept = recorder(fresh).swept = false;
        const StepOutcome x = reused.step(b[i]), y = fresh.step(b[i]);
        ASSERT_EQ(x.kind, y.kind) << "op " << i;
        ASSERT_EQ(x.kind, StepOutcome::ok) << "op " << i << ": " << x.invalid_reason
                                           << (x.found ? x.found->describe() : "");
        ASSERT_EQ(recorder(reused).swept, recorder(fresh).swept) << "full sweep at op " << i;
        ASSERT_EQ(reused.operations(), fresh.operations()) << "after op " << i;
        ASSERT_EQ(observe_all(reused, second), observe_all(fresh, second)) << "after op " << i;
        compared++;
        kernel_compared += kernel;
      }
      EXPECT_EQ(reused.finish().has_value(), fresh.finish().has_value());
    }
  }
  EXPECT_GT(compared, 1000);
  // With a kernel tree built in, its implementations are among those reused.
  if (!kernel_implementation_names().empty()) {
    EXPECT_GT(kernel_compared, 500);
  }
}

// Legal traces never warn, so the warning counters' reset is claimed on its own: a call every
// implementation warns about (nr_pages 0), then reset().
TEST(Reuse, AResetImplementationForgetsTheWarningsOfAnInvalidCall) {
  int checked = 0;
  for (std::string_view name : implementation_names())
    for (Semantics sem : {Semantics::v6_12, Semantics::mm_id, Semantics::no_page_mapcount,
                          Semantics::no_mm_id, Semantics::proposed_total_mapped})
      for (int bits : {64, 32}) {
        const foliocheck::Setup s = setup(sem, 2, FolioType::file, false, bits);
        auto impl = make_implementation(name);
        if (!impl->supports(s)) continue;
        SCOPED_TRACE(std::string(name) + " " + std::string(semantics_name(sem)) + "-" +
                     std::to_string(bits));
        impl->reset(s);
        impl->apply(make_op(OpKind::add_file_ptes, 1, 0, 0));
        ASSERT_GT(impl->read(Obs::warnings), 0);
        ASSERT_FALSE(impl->warning_log().empty());
        impl->reset(s);
        EXPECT_EQ(impl->read(Obs::warnings), 0);
        EXPECT_TRUE(impl->warning_log().empty());
        checked++;
      }
  EXPECT_GT(checked, 8);
}

}  // namespace
}  // namespace foliocheck
