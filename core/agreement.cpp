// The single definition of agreement between the reference model and an implementation.
#include "core/agreement.h"

#include <algorithm>
#include <array>
#include <bit>

namespace foliocheck {
namespace {

std::string indexed(Obs obs, uint32_t index) {
  return std::string(obs_info(obs).name) + "[" + std::to_string(index) + "]";
}

// Takes views so that a check that passes builds no string.
Violation make(ViolationKind kind, const Implementation& impl, std::string_view field,
               int64_t expected, int64_t actual, std::string_view detail) {
  return Violation{kind, std::string(impl.name()), std::string(field), expected, actual,
                   std::string(detail)};
}

// spec 5.2: the shared bit and the slots are approximate, but not arbitrary.
// `modelled`: impl.models_mask().
std::optional<Violation> check_slot_contracts(const ReferenceModel& model,
                                              const Implementation& impl, uint64_t modelled) {
  const auto models = [&](Obs obs) { return (modelled >> static_cast<int>(obs) & 1) != 0; };
  // Without CONFIG_MM_ID maybe_mapped_shared is an exact function of the counters (always true
  // for large folios), compared above like any exact observable.
  // Small and hugetlb folios answer mapcount > 1, also exact.
  const Setup& setup = model.setup();
  if (!setup.has_mm_id() || !setup.large() || setup.folio.hugetlb) return std::nullopt;
  const uint32_t mms = model.nr_mms_mapping();
  const bool exact = model.slots_exact();
  const int64_t total = static_cast<int64_t>(model.total_mappings());
  for (Obs obs : {Obs::maybe_mapped_shared, Obs::shared_bit}) {
    if (!models(obs)) continue;
    const int64_t v = impl.read(obs);
    const std::string_view f = obs_info(obs).name;
    if (mms >= 2 && v != 1)
      return make(ViolationKind::contract, impl, f, 1, v,
                  "never false while two or more mms map the folio");
    if (obs == Obs::maybe_mapped_shared && total <= 1 && v != 0)
      return make(ViolationKind::contract, impl, f, 0, v, "a folio mapped at most once is exclusive");
    if (obs == Obs::shared_bit && total == 0 && v != 0)
      return make(ViolationKind::contract, impl, f, 0, v, "an unmapped folio has the bit clear");
    if (exact && v != (mms >= 2))
      return make(ViolationKind::contract, impl, f, mms >= 2, v,
                  "exact while at most two mms mapped at once since the folio was last unmapped");
  }
  if (!models(Obs::mm_id)) return std::nullopt;
  std::array<int64_t, 2> id{}, count{};
  for (uint32_t s = 0; s < 2; s++) {
    id[s] = impl.read(Obs::mm_id, s);
    count[s] = impl.read(Obs::mm_id_mapcount, s);
    if (id[s] == 0) continue;
    const int64_t held = static_cast<int64_t>(model.mm_mappings(static_cast<uint32_t>(id[s])));
    if (count[s] > held)
      return make(ViolationKind::contract, impl, indexed(Obs::mm_id_mapcount, s), held, count[s],
                  "a slot never counts more mappings than its mm holds");
  }
  if (!exact) return std::nullopt;
  // With at most two mms per epoch every mm that maps owns a slot with its exact count, and no
  // other mm owns one.
  for (uint32_t s = 0; s < 2; s++) {
    if (id[s] == 0) continue;
    const int64_t held = static_cast<int64_t>(model.mm_mappings(static_cast<uint32_t>(id[s])));
    if (count[s] != held)
      return make(ViolationKind::contract, impl, indexed(Obs::mm_id_mapcount, s), held, count[s],
                  "exact slot count while at most two mms mapped at once");
  }
  for (const auto& [mm, m] : model.mms()) {
    if (m.total() == 0 || id[0] == mm || id[1] == mm) continue;
    return make(ViolationKind::contract, impl, "mm_id[*]", mm, 0,
                "every mapping mm owns a slot while at most two mms mapped at once");
  }
  return std::nullopt;
}

}  // namespace

std::optional<Violation> check_agreement(const ReferenceModel& model, const Implementation& impl,
                                         PageRange scope, bool full) {
  static_assert(kNumObs <= 64, "models_mask() has a bit per observable");
  static const uint64_t kScalars = [] {
    uint64_t m = 0;
    for (int i = 0; i < kNumObs; i++)
      if (!obs_info(static_cast<Obs>(i)).indexed) m |= uint64_t{1} << i;
    return m;
  }();
  const uint64_t modelled = impl.models_mask();
  const uint64_t both = model.models_mask() & modelled;
  // Every scalar observable both model, in the order of observables.def.
  std::array<int64_t, kNumObs> want_all, have_all;
  const uint64_t scalars = both & kScalars;
  model.read_scalars(scalars, want_all);
  impl.read_scalars(scalars, have_all);
  for (uint64_t m = scalars; m; m &= m - 1) {
    const auto i = static_cast<size_t>(std::countr_zero(m));
    // A contract observable the model models is exact in this setup (e.g. maybe_mapped_shared of
    // small and hugetlb folios, or without CONFIG_MM_ID): compare it like the others.
    const int64_t want = want_all[i], have = have_all[i];
    if (want == have) continue;
    const Obs obs = static_cast<Obs>(i);
    const ObsInfo& info = obs_info(obs);
    if (obs == Obs::result && model.result_admitted()) {
      if (have == *model.result_admitted()) continue;
      return make(ViolationKind::contract, impl, info.name, want, have,
                  "a reader returns the exact answer or the stale shared bit's");
    }
    return make(ViolationKind::mismatch, impl, info.name, want, have,
                "differs from the reference model");
  }
  if (full) scope = {0, model.setup().nr_pages()};
  for (Obs obs : {Obs::page_mapcount, Obs::anon_exclusive}) {
    if (!(both >> static_cast<int>(obs) & 1)) continue;
    // A chunk of pages at a time: folios of up to 2^22 pages.
    std::array<int64_t, 64> want, have;
    for (uint32_t p = scope.first; p < scope.last; p += 64) {
      const std::span<int64_t> w(want.data(), std::min<uint32_t>(64, scope.last - p));
      const std::span<int64_t> h(have.data(), w.size());
      model.read_pages(obs, p, w);
      impl.read_pages(obs, p, h);
      for (size_t j = 0; j < w.size(); j++)
        if (w[j] != h[j])
          return make(ViolationKind::mismatch, impl, indexed(obs, p + static_cast<uint32_t>(j)),
                      w[j], h[j], "differs from the reference model");
    }
  }
  if (auto v = check_slot_contracts(model, impl, modelled)) return v;
  if (auto v = impl.check_invariants(scope, full)) return v;
  if (full && model.total_mappings() == 0 && model.pins() == 0)
    if (auto v = impl.check_free()) return v;
  return std::nullopt;
}

}  // namespace foliocheck
