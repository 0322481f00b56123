// The reference model: stores the mappings themselves and derives every observable from them.
#include "core/reference_model.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "core/legality.h"
#include "core/legality_rules.h"

namespace foliocheck {

std::optional<std::string> ReferenceModel::setup_error(const Setup& s) {
  const Config& c = s.config;
  if (c.bits != 32 && c.bits != 64) return "bits must be 32 or 64";
  if (c.pmd_order < 2 || c.pmd_order >= c.pud_order || c.pud_order > 20)
    return "geometry needs 2 <= pmd_order < pud_order <= 20";
  if (s.folio.order < 0 || s.folio.order > c.pud_order) return "folio order must be 0..pud_order";
  if (s.folio.hugetlb && s.folio.order < 2)
    return "hugetlb folios have order >= 2 (they always have _entire_mapcount storage)";
  if (s.folio.hugetlb && s.folio.type == FolioType::shmem)
    return "hugetlb folios are anon or hugetlbfs files (type=file), never shmem";
  // From 6.15 on TRANSPARENT_HUGEPAGE selects MM_ID (mm/Kconfig): a kernel without MM_ID has
  // THP=n, hence no large anon or shmem folio (hugetlb and large pagecache folios remain).
  if (!s.sem().thp && s.large() && !s.folio.hugetlb && s.folio.type != FolioType::file)
    return "no-mm-id is CONFIG_TRANSPARENT_HUGEPAGE=n (since 6.15 THP selects MM_ID, mm/Kconfig): "
           "no kernel has a large anon or shmem folio without MM_ID";
  if (s.has_mm_id() && s.large() && !s.folio.hugetlb &&
      int64_t{s.nr_pages()} - 1 > mm_id_mapcount_max(c.bits))
    return "W5: folio_large_nr_pages(folio) - 1 > MM_ID_MAPCOUNT_MAX (32-bit folios above order "
           "15 cannot use CONFIG_MM_ID)";
  return std::nullopt;
}

void ReferenceModel::reset(const Setup& setup) {
  // Explore resets a model for every parent, always to the same setup: what depends on the setup
  // alone is worked out once.
  const bool same_setup = m_setup_derived && m_setup == setup;
  m_setup = setup;
  m_mms.clear();
  m_has_pinned.clear();
  m_ae.assign(setup.nr_pages(), 0);
  m_pins = 0;
  m_partially_mapped = false;
  m_ret = 0;
  m_result = 0;
  m_result_admitted.reset();
  m_alloc_ref_mapped = false;
  m_history = {};
  m_page_pte.assign(setup.nr_pages(), 0);
  m_pages_mapped = 0;
  m_entire = 0;
  m_mapped_pages = 0;
  m_total = 0;
  m_mms_mapping = 0;
  m_nr_ae = 0;
  if (same_setup) return;
  m_models_mask = models_mask_of(*this);
  static_assert(kNumOpKinds <= 64, "m_fits has a bit per kind");
  m_fits = 0;
  for (int k = 0; k < kNumOpKinds; k++)
    if (op_fits(static_cast<OpKind>(k), setup)) m_fits |= uint64_t{1} << k;
  m_setup_derived = true;
}

bool ReferenceModel::has_pincount() const {
  if (!m_setup.large()) return false;
  // next, 32-bit: _pincount moved to page 2, which an order-1 folio does not have.
  if (m_setup.sem().next && m_setup.config.bits == 32)
    return m_setup.folio.order > 1;
  return true;
}

bool ReferenceModel::maybe_dma_pinned() const {
  if (has_pincount()) return m_pins > 0;
  // Small folios count pins in the refcount, which every mapping also raises: a folio mapped
  // 1023 times looks pinned. The model derives the same refcount the caller would hold.
  const int64_t refcount = 1 + static_cast<int64_t>(m_total) + kGupPinCountingBias * m_pins;
  return refcount >= kGupPinCountingBias;
}

bool ReferenceModel::slots_exact() const {
  if (m_history.epoch_max_mms > 2) return false;
  return m_setup.config.bits == 64 ||
         static_cast<int64_t>(m_history.epoch_max_mm_mappings) <= mm_id_mapcount_max(32);
}

template <bool Why>
Refusal<Why> ReferenceModel::misformed(const Op& op) const {
  const Setup& s = m_setup;
  const OpInfo& info = op_info(op.kind);
  const uint32_t n = s.nr_pages();
  const uint32_t max_id = mm_id_max(s.config.bits);

  if ((info.args & kArgMm) && (op.mm < 1 || op.mm > max_id))
    return refuse<Why>("W3: mm id outside MM_ID_MIN..MM_ID_MAX");
  if (info.args & kArgSrc) {
    if (op.src < 1 || op.src > max_id)
      return refuse<Why>("W3: src mm id outside MM_ID_MIN..MM_ID_MAX");
    if (op.src == op.mm)
      return refuse<Why>("fork: the child (mm) must be another mm than the parent (src)");
  }
  if (op.exclusive && !(info.args & kArgExclusive))
    return refuse<Why>("this helper takes no RMAP_EXCLUSIVE");
  if (!fits(op.kind)) return refuse_with<Why>([&] { return *op_fits_setup(op.kind, s); });
  if (info.args & kArgRange) {
    if (op.nr == 0) return refuse<Why>("R3: nr_pages <= 0");
    if (op.page >= n) return refuse<Why>("R4: first page not in the folio");
    if (uint64_t{op.page} + op.nr > n) return refuse<Why>("R5: page+nr-1 outside the folio");
  }
  if ((info.args & kArgPage) && op.page >= n) return refuse<Why>("R4: page not in the folio");
  return {};
}

template <bool Why, bool Pages>
Refusal<Why> ReferenceModel::refused_now(const Op& op) const {
  // The sentence names an overflow before an unmet Need; a yes or no asks the Need first, which
  // refuses far more often.
  if constexpr (Why) {
    if (auto why = rules::overflow_t<Why>(op, *this)) return why;
    if (auto why = rules::need_unmet_t<Why>(op, *this)) return why;
  } else if (rules::need_unmet_t<Why, Pages>(op, *this) || rules::overflow_t<Why>(op, *this)) {
    return true;
  }

  // The kernel's own warnings about the call, beyond what ops.def's Need says.
  auto ae_range_ok = [&](uint32_t first, uint32_t nr) -> Refusal<Why> {
    if constexpr (!Pages) return {};
    for (uint32_t i = first; i < first + nr; i++) {
      switch (rules::ae_add(*this, i, op.exclusive)) {
        case rules::AeAdd::ok:
          continue;
        case rules::AeAdd::second_pte:
          return refuse_with<Why>([&] {
            return rules::page_msg(
                "VM_WARN: PageAnonExclusive page would be mapped by a second PTE", i);
          });
        case rules::AeAdd::entire_shared:
          return refuse_with<Why>([&] {
            return rules::page_msg("VM_WARN: PageAnonExclusive page while entire_mapcount > 1", i);
          });
      }
    }
    return {};
  };
  switch (op.kind) {
    case OpKind::add_anon_ptes:
      return ae_range_ok(op.page, op.nr);
    case OpKind::add_anon_pmd:
      if ((op.exclusive || m_nr_ae > 0) && m_entire > 0)
        return refuse<Why>("VM_WARN: PageAnonExclusive page of a folio with entire_mapcount > 1");
      // RMAP_EXCLUSIVE marks the head page; already AE pages hold at most one PTE.
      if (op.exclusive && m_page_pte[0] > 1)
        return refuse<Why>(
            "VM_WARN: RMAP_EXCLUSIVE PMD mapping of a head page mapped by several PTEs");
      return {};
    case OpKind::try_dup_anon_pmd:
      if (m_nr_ae > m_ae[0])
        return refuse<Why>("VM_WARN: a PageAnonExclusive tail page would be mapped by two PMDs");
      return {};
    case OpKind::hugetlb_add_anon:
      if ((op.exclusive || m_ae[0]) && m_entire > 0)
        return refuse<Why>("VM_WARN: PageAnonExclusive hugetlb folio with entire_mapcount > 1");
      return {};
    default:
      return {};
  }
}

template <bool Why>
Refusal<Why> ReferenceModel::refusal(const Op& op) const {
  if (auto why = misformed<Why>(op)) return why;
  return refused_now<Why>(op);
}

std::optional<std::string> ReferenceModel::precondition(const Op& op) const {
  return refusal<true>(op);
}

bool ReferenceModel::allows(const Op& op) const { return !refusal<false>(op); }

bool ReferenceModel::well_formed(const Op& op) const { return !misformed<false>(op); }

bool ReferenceModel::allows_now(const Op& op) const { return !refused_now<false>(op); }

bool ReferenceModel::allows_now_in_accepted_pages(const Op& op) const {
  return !refused_now<false, false>(op);
}

MmMappings& ReferenceModel::mm_slot(uint32_t id) { return m_mms[id]; }

uint64_t ReferenceModel::add_ptes(uint32_t id, uint32_t page, uint32_t nr, uint32_t times) {
  MmMappings& m = mm_slot(id);
  const bool was_mapping = m.total() != 0;
  if (m.pte.empty()) m.pte.assign(m_setup.nr_pages(), 0);
  // Through plain pointers: a store to a count could alias the vectors' own sizes, which would
  // make the compiler reload where each vector keeps its values on every page.
  uint32_t* pte = m.pte.data();
  uint32_t* page_pte = m_page_pte.data();
  uint32_t newly_mapped = 0;
  for (uint32_t i = page; i < page + nr; i++) {
    pte[i] += times;
    newly_mapped += page_pte[i] == 0;
    page_pte[i] += times;
  }
  m_pages_mapped += newly_mapped;
  const uint64_t added = uint64_t{nr} * times;
  m.pte_total += added;
  m_total += added;
  m_mapped_pages += added;
  count_mapping(was_mapping, m);
  return m.total();
}

void ReferenceModel::count_mapping(bool was_mapping, const MmMappings& m) {
  const bool mapping = m.total() != 0;
  if (mapping && !was_mapping) m_mms_mapping++;
  if (!mapping && was_mapping) m_mms_mapping--;
}

void ReferenceModel::remove_ptes(uint32_t id, uint32_t page, uint32_t nr) {
  MmMappings& m = mm_slot(id);
  const bool was_mapping = m.total() != 0;
  uint32_t last = 0;
  uint32_t* pte = m.pte.data();
  uint32_t* page_pte = m_page_pte.data();
  for (uint32_t i = page; i < page + nr; i++) {
    pte[i]--;
    last += --page_pte[i] == 0;
  }
  m_pages_mapped -= last;
  m.pte_total -= nr;
  m_total -= nr;
  m_mapped_pages -= nr;
  count_mapping(was_mapping, m);
  if (m_setup.has_page_mapcount())
    deferred_split_if(last > 0 && m_entire == 0 && m_pages_mapped > 0);
  else
    deferred_split_if(partial_after_unmap(m_entire == 0));
}

// Without per-page counts a partial mapping is only seen by pigeonhole: fewer mappings (today) or
// fewer mapped pages (the RFC's _total_mapped_pages) than the folio has pages, but some.
bool ReferenceModel::partial_after_unmap(bool last_entire) const {
  const uint64_t n = m_setup.nr_pages();
  if (m_setup.has_total_mapped()) return m_mapped_pages != 0 && m_mapped_pages < n;
  return last_entire && m_total != 0 && m_total < n;
}

namespace {
// What one whole-folio mapping adds to _total_mapped_pages (hugetlb: nothing, docs/proposed.md).
uint64_t level_pages(uint32_t MmMappings::*level, const Setup& s) {
  if (level == &MmMappings::pmd) return uint64_t{1} << s.config.pmd_order;
  if (level == &MmMappings::pud) return uint64_t{1} << s.config.pud_order;
  return 0;
}
}  // namespace

uint64_t ReferenceModel::add_entire(uint32_t id, uint32_t MmMappings::*level, uint32_t times) {
  MmMappings& m = mm_slot(id);
  const bool was_mapping = m.total() != 0;
  m.*level += times;
  count_mapping(was_mapping, m);
  m_entire += times;
  m_total += times;
  m_mapped_pages += uint64_t{level_pages(level, m_setup)} * times;
  return m.total();
}

void ReferenceModel::remove_entire(uint32_t id, uint32_t MmMappings::*level) {
  MmMappings& m = mm_slot(id);
  const bool was_mapping = m.total() != 0;
  m.*level -= 1;
  count_mapping(was_mapping, m);
  m_entire--;
  m_total--;
  m_mapped_pages -= level_pages(level, m_setup);
  if (level == &MmMappings::hugetlb) return;
  const uint32_t n = m_setup.nr_pages();
  const bool last = m_entire == 0;
  if (!m_setup.has_page_mapcount())
    deferred_split_if(partial_after_unmap(last));
  else
    deferred_split_if(level == &MmMappings::pmd && last && m_pages_mapped > 0 &&
                      m_pages_mapped < n);
}

void ReferenceModel::deferred_split_if(bool partially_mapped) {
  // deferred_split_folio() ignores order <= 1; only anon folios are queued.
  if (partially_mapped && m_setup.anon() && m_setup.folio.order > 1) m_partially_mapped = true;
}

void ReferenceModel::after_change(uint64_t grown) {
  if (m_total == 0) {
    m_history.epoch_max_mms = 0;
    m_history.epoch_max_mm_mappings = 0;
    return;
  }
  m_history.ever_mapped = true;
  m_history.epoch_max_mms = std::max(m_history.epoch_max_mms, m_mms_mapping);
  // Every operation changes the mappings of its own mm only, and every other mm holds at most
  // this epoch's maximum already (each held nothing when the epoch began): no need to scan them.
  m_history.epoch_max_mm_mappings = std::max(m_history.epoch_max_mm_mappings, grown);
}

void ReferenceModel::apply(const Op& op) { apply_times(op, 1); }

void ReferenceModel::apply_times(const Op& op, uint32_t times) {
  const Setup& s = m_setup;
  const uint32_t n = s.nr_pages();
  auto set_ae = [&](uint32_t i, bool v) {
    if (m_ae[i] == v) return;
    m_ae[i] = v;
    if (v)
      m_nr_ae++;
    else
      m_nr_ae--;
  };
  // folio_needs_cow_for_dma(src_vma, folio): only mms that ever pinned can have pinned it.
  auto needs_cow_for_dma = [&](uint32_t src) { return mm_has_pinned(src) && maybe_dma_pinned(); };
  if (op_info(op.kind).level == kRead) {
    std::tie(m_result, m_result_admitted) = reader_value(op);
    return;
  }
  m_ret = 0;
  // The mappings op.mm holds after an operation that added some; 0 otherwise.
  uint64_t grown = 0;

  switch (op.kind) {
    case OpKind::add_new_anon:
      if (has_pincount()) m_alloc_ref_mapped = true;
      if (!s.large()) {
        grown = add_ptes(op.mm, 0, 1, times);
        if (op.exclusive) set_ae(0, true);
      } else if (s.folio.order < s.config.pmd_order) {
        grown = add_ptes(op.mm, 0, n, times);
        if (op.exclusive)
          for (uint32_t i = 0; i < n; i++) set_ae(i, true);
      } else {
        grown = add_entire(op.mm, &MmMappings::pmd, times);
        if (op.exclusive) set_ae(0, true);
      }
      break;
    case OpKind::add_anon_ptes:
      grown = add_ptes(op.mm, op.page, op.nr, times);
      if (op.exclusive)
        for (uint32_t i = op.page; i < op.page + op.nr; i++) set_ae(i, true);
      break;
    case OpKind::add_anon_pmd:
      grown = add_entire(op.mm, &MmMappings::pmd, times);
      if (op.exclusive) set_ae(0, true);
      break;
    case OpKind::add_file_ptes:
    case OpKind::dup_file_ptes:
      grown = add_ptes(op.mm, op.page, op.nr, times);
      break;
    case OpKind::add_file_pmd:
      grown = add_entire(op.mm, &MmMappings::pmd, times);
      break;
    case OpKind::add_file_pud:
      grown = add_entire(op.mm, &MmMappings::pud, times);
      break;
    case OpKind::remove_ptes:
      for (uint32_t t = 0; t < times; t++) remove_ptes(op.mm, op.page, op.nr);
      break;
    case OpKind::remove_pmd:
      for (uint32_t t = 0; t < times; t++) remove_entire(op.mm, &MmMappings::pmd);
      break;
    case OpKind::remove_pud:
      for (uint32_t t = 0; t < times; t++) remove_entire(op.mm, &MmMappings::pud);
      break;
    case OpKind::dup_file_pmd:
      grown = add_ptes(op.mm, 0, n, times);
      break;
    case OpKind::try_dup_anon_ptes: {
      if (needs_cow_for_dma(op.src)) {
        bool any_ae = false;
        for (uint32_t i = op.page; i < op.page + op.nr; i++) any_ae |= m_ae[i] != 0;
        if (any_ae) {
          m_ret = -kEBUSY;
          break;
        }
      }
      for (uint32_t i = op.page; i < op.page + op.nr; i++) set_ae(i, false);
      grown = add_ptes(op.mm, op.page, op.nr, times);
      break;
    }
    case OpKind::try_dup_anon_pmd:
    case OpKind::hugetlb_try_dup_anon:
      if (m_ae[0]) {
        if (needs_cow_for_dma(op.src)) {
          m_ret = -kEBUSY;
          break;
        }
        set_ae(0, false);
      }
      grown = add_entire(
          op.mm, op.kind == OpKind::try_dup_anon_pmd ? &MmMappings::pmd : &MmMappings::hugetlb,
          times);
      break;
    case OpKind::try_share_anon_pte:
    case OpKind::try_share_anon_pmd:
    case OpKind::hugetlb_try_share_anon: {
      const uint32_t page = op.kind == OpKind::try_share_anon_pte ? op.page : 0;
      if (maybe_dma_pinned())
        m_ret = -kEBUSY;
      else
        set_ae(page, false);
      break;
    }
    case OpKind::hugetlb_add_new_anon:
      grown = add_entire(op.mm, &MmMappings::hugetlb, times);
      set_ae(0, true);
      break;
    case OpKind::hugetlb_add_anon:
      grown = add_entire(op.mm, &MmMappings::hugetlb, times);
      if (op.exclusive) set_ae(0, true);
      break;
    case OpKind::hugetlb_add_file:
      grown = add_entire(op.mm, &MmMappings::hugetlb, times);
      break;
    case OpKind::hugetlb_remove:
      for (uint32_t t = 0; t < times; t++) remove_entire(op.mm, &MmMappings::hugetlb);
      break;
    case OpKind::gup_pin:
      m_pins += times;
      m_has_pinned.insert(op.mm);
      break;
    case OpKind::gup_unpin:
      m_pins -= times;
      break;
    case OpKind::read_mapcount:
    case OpKind::read_mapped:
    case OpKind::read_maybe_mapped_shared:
    case OpKind::wp_can_reuse_large_anon:
      break;
  }
  after_change(grown);
}

std::pair<int64_t, std::optional<int64_t>> ReferenceModel::reader_value(const Op& reader) const {
  const Setup& s = m_setup;
  const int64_t total = static_cast<int64_t>(m_total);
  const bool slots = s.has_mm_id() && s.large() && !s.folio.hugetlb;
  switch (reader.kind) {
    case OpKind::read_mapcount:
      return {total, std::nullopt};
    case OpKind::read_mapped:
      return {total > 0, std::nullopt};
    case OpKind::read_maybe_mapped_shared: {
      if (!slots) return {read(Obs::maybe_mapped_shared), std::nullopt};
      // A single mapping is exclusive whatever the bit says; two mms set it; else the bit is
      // clear unless it is stale (never cleared since a third mm mapped).
      const int64_t exact = total > 1 && m_mms_mapping >= 2;
      if (total > 1 && !exact && !slots_exact()) return {0, 1};
      return {exact, std::nullopt};
    }
    case OpKind::wp_can_reuse_large_anon: {
      // __wp_can_reuse_large_anon_folio() (mm/memory.c): more than one mapping, all of them this
      // mm's (shared bit clear), and every folio reference a mapping's (refcount == mapcount).
      const int64_t refs = total + m_pins + (m_alloc_ref_mapped ? 0 : 1);
      const int64_t exact = total > 1 && m_mms_mapping == 1 && refs == total;
      if (exact && !slots_exact()) return {1, 0};  // a stale shared bit says "shared"
      return {exact, std::nullopt};
    }
    default:
      return {0, std::nullopt};
  }
}

int64_t ReferenceModel::stat_mapped() const {
  const Setup& s = m_setup;
  if (s.folio.hugetlb) return 0;
  if (!s.large()) return m_total > 0 ? 1 : 0;
  if (!s.has_page_mapcount()) return m_total > 0 ? s.nr_pages() : 0;
  return m_entire > 0 ? s.nr_pages() : m_pages_mapped;
}

int64_t ReferenceModel::stat_pmdmapped() const {
  const Setup& s = m_setup;
  if (s.folio.hugetlb || !s.pmd_sized()) return 0;
  // The RFC has no count of PMD mappings: a PMD-sized folio is accounted as PMD-mapped while
  // anything maps it, as NR_*_MAPPED is (assumption A5 in docs/proposed.md).
  if (s.has_total_mapped()) return m_total > 0 ? s.nr_pages() : 0;
  return m_entire > 0 ? s.nr_pages() : 0;
}

int64_t ReferenceModel::precise_page_mapcount(uint32_t page) const {
  if (m_setup.folio.hugetlb) return m_entire;  // the head page's word is its page type
  return m_page_pte[page] + (m_setup.large() ? m_entire : 0);
}

bool ReferenceModel::models(Obs obs) const {
  const Setup& s = m_setup;
  const SemanticsInfo& sem = s.sem();
  const bool large_slots = s.has_mm_id() && s.large() && !s.folio.hugetlb;
  switch (obs) {
    case Obs::entire_mapcount:
      return !sem.total_mapped;
    case Obs::nr_pages_mapped:
      return s.large() && !sem.total_mapped;
    case Obs::entirely_mapped:
      return s.large() && !sem.total_mapped && (s.folio.hugetlb || sem.page_mapcount);
    case Obs::total_mapped_pages:
      return s.large() && sem.total_mapped;
    case Obs::average_page_mapcount:
      return sem.next;
    case Obs::maybe_mapped_shared:
      return sem.next && !large_slots;
    case Obs::likely_mapped_shared:
      return !sem.next;
    case Obs::pincount:
      return has_pincount();
    case Obs::page_mapcount:
      return s.has_page_mapcount();
    case Obs::shared_bit:
    case Obs::mm_id:
    case Obs::mm_id_mapcount:
      return false;
    default:
      return true;
  }
}

int64_t ReferenceModel::read_one(Obs obs, uint32_t index) const {
  const Setup& s = m_setup;
  const int64_t n = s.nr_pages();
  const int64_t total = static_cast<int64_t>(m_total);
  switch (obs) {
    case Obs::folio_mapcount:
      return total;
    case Obs::mapped:
      return total > 0;
    case Obs::entire_mapcount:
      return s.large() ? m_entire : 0;
    case Obs::nr_pages_mapped:
      if (!s.has_page_mapcount()) return -1;
      return s.folio.hugetlb ? 0 : m_pages_mapped;
    case Obs::entirely_mapped:
      return !s.folio.hugetlb && m_entire > 0;
    case Obs::total_mapped_pages:
      return static_cast<int64_t>(m_mapped_pages);
    case Obs::average_page_mapcount: {
      if (!s.large()) return total;
      if (total <= 0) return 0;
      // The RFC: round(total mapped pages / N), at least 1 while mapped. Hugetlb mappings do not
      // count pages (assumption A4), so a mapped hugetlb folio averages 1.
      if (s.has_total_mapped())
        return std::max<int64_t>(static_cast<int64_t>((m_mapped_pages + n / 2) >> s.folio.order), 1);
      const int64_t e = m_entire;
      if (total <= e) return e;
      const int64_t avg = ((total - e) + n / 2) >> s.folio.order;
      return std::max<int64_t>(avg + e, 1);
    }
    case Obs::maybe_mapped_shared:
      if (!s.large() || s.folio.hugetlb) return total > 1;
      return 1;  // no-mm-id: every large non-hugetlb folio may be shared
    case Obs::likely_mapped_shared:
      if (!s.large() || s.folio.hugetlb) return total > 1;
      if (total <= 1) return 0;
      if (m_entire > 0 || total > n) return 1;
      return m_page_pte[0] > 1;
    case Obs::pincount:
      return m_pins;
    case Obs::maybe_dma_pinned:
      return maybe_dma_pinned();
    case Obs::partially_mapped:
      return m_partially_mapped;
    case Obs::ret:
      return m_ret;
    case Obs::result:
      return m_result;
    case Obs::warnings:
      return 0;
    case Obs::nr_anon_mapped:
      return s.anon() ? stat_mapped() : 0;
    case Obs::nr_file_mapped:
      return s.anon() ? 0 : stat_mapped();
    case Obs::nr_anon_thps:
      return s.anon() ? stat_pmdmapped() : 0;
    case Obs::nr_shmem_pmdmapped:
      return s.folio.type == FolioType::shmem ? stat_pmdmapped() : 0;
    case Obs::nr_file_pmdmapped:
      return s.folio.type == FolioType::file ? stat_pmdmapped() : 0;
    case Obs::page_mapcount:
      return precise_page_mapcount(index);
    case Obs::anon_exclusive:
      // PageAnonExclusive() answers for the head page on hugetlb (include/linux/page-flags.h).
      return m_ae[s.folio.hugetlb ? 0 : index] != 0;
    case Obs::mm_mapcount:
      return static_cast<int64_t>(mm_mappings(index));
    case Obs::shared_bit:
    case Obs::mm_id:
    case Obs::mm_id_mapcount:
      return 0;
  }
  return 0;
}

int64_t ReferenceModel::read(Obs obs, uint32_t index) const { return read_one(obs, index); }

void ReferenceModel::read_scalars(uint64_t which, std::span<int64_t, kNumObs> out) const {
  read_scalars_via([this](Obs o, uint32_t i) { return read_one(o, i); }, which, out);
}

void ReferenceModel::read_pages(Obs obs, uint32_t first, std::span<int64_t> out) const {
  read_pages_via([this](Obs o, uint32_t i) { return read_one(o, i); }, obs, first, out);
}

std::optional<Violation> ReferenceModel::check_invariants(PageRange, bool full) const {
  if (!full) return std::nullopt;
  // Recount every cached aggregate from the mappings themselves.
  const uint32_t n = m_setup.nr_pages();
  // On the stack for the small folios explore checks in every new state.
  std::array<uint64_t, 64> small;
  std::vector<uint64_t> large;
  uint64_t* page = small.data();
  if (n > small.size()) {
    large.resize(n);
    page = large.data();
  }
  std::fill_n(page, n, 0);
  uint64_t total = 0, entire = 0, mapped_pages = 0;
  uint32_t mms = 0;
  for (const auto& [id, m] : m_mms) {
    uint64_t pte_total = 0;
    for (uint32_t i = 0; i < m.pte.size(); i++) {
      page[i] += m.pte[i];
      pte_total += m.pte[i];
    }
    if (pte_total != m.pte_total)
      return Violation{ViolationKind::harness, "model", "mm_pte_total", int64_t(pte_total),
                       int64_t(m.pte_total), "cached per-mm PTE total drifted"};
    total += m.total();
    entire += m.entire();
    mapped_pages += m.pte_total + m.pmd * level_pages(&MmMappings::pmd, m_setup) +
                    m.pud * level_pages(&MmMappings::pud, m_setup);
    mms += m.total() > 0;
  }
  uint32_t mapped = 0, ae = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (page[i] != m_page_pte[i])
      return Violation{ViolationKind::harness, "model", "page_pte[" + std::to_string(i) + "]",
                       int64_t(page[i]), m_page_pte[i], "cached per-page PTE count drifted"};
    mapped += page[i] > 0;
    ae += m_ae[i] != 0;
  }
  auto drift = [](const char* f, int64_t want, int64_t have) {
    return Violation{ViolationKind::harness, "model", f, want, have, "cached aggregate drifted"};
  };
  if (mapped != m_pages_mapped) return drift("pages_mapped", mapped, m_pages_mapped);
  if (total != m_total) return drift("total", int64_t(total), int64_t(m_total));
  if (entire != m_entire) return drift("entire", int64_t(entire), m_entire);
  if (mapped_pages != m_mapped_pages)
    return drift("mapped_pages", int64_t(mapped_pages), int64_t(m_mapped_pages));
  if (mms != m_mms_mapping) return drift("mms_mapping", mms, m_mms_mapping);
  if (ae != m_nr_ae) return drift("nr_anon_exclusive", ae, m_nr_ae);
  return std::nullopt;
}

}  // namespace foliocheck
