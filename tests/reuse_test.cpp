// Claims that every implementation, the model and Differential forget everything on reset(): an
// object that ran one random trace answers a second exactly like a fresh one.
#include <gtest/gtest.h>

#include <random>

#include "core/differential.h"
#include "core/legality.h"
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
  };
  std::mt19937 rng(15);
  int compared = 0;
  for (int round = 0; round < 25; round++) {
    for (const foliocheck::Setup& first : setups) {
      // The second trace runs on another setup too, so that leftovers of a larger folio show.
      const foliocheck::Setup& second = setups[rng() % std::size(setups)];
      const auto names = choose_implementations(second).names;
      // The reused object serves both setups; the implementations it holds are those of `second`
      // that also support `first` (reset is only called with a setup supports() accepts).
      std::vector<std::string> both;
      for (const auto& n : names)
        if (make_implementation(n)->supports(first)) both.push_back(n);
      Differential reused(make_implementations(both)), fresh(make_implementations(both));
      const auto a = random_trace(first, rng, 30), b = random_trace(second, rng, 30);
      reused.reset(first);
      for (const Op& o : a) {
        const StepOutcome x = reused.step(o);
        ASSERT_EQ(x.kind, StepOutcome::ok) << print_op(o) << ": " << x.invalid_reason
                                           << (x.found ? x.found->describe() : "");
      }
      reused.reset(second);
      fresh.reset(second);
      ASSERT_EQ(observe_all(reused, second), observe_all(fresh, second)) << "right after reset";
      for (size_t i = 0; i < b.size(); i++) {
        const StepOutcome x = reused.step(b[i]), y = fresh.step(b[i]);
        ASSERT_EQ(x.kind, y.kind) << "op " << i;
        ASSERT_EQ(x.kind, StepOutcome::ok) << "op " << i << ": " << x.invalid_reason
                                           << (x.found ? x.found->describe() : "");
        ASSERT_EQ(observe_all(reused, second), observe_all(fresh, second)) << "after op " << i;
        compared++;
      }
      EXPECT_EQ(reused.finish().has_value(), fresh.finish().has_value());
    }
  }
  EXPECT_GT(compared, 1000);
}

}  // namespace
}  // namespace foliocheck
