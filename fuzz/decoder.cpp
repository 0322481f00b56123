// Decodes fuzz inputs into operations that are valid by construction (layout in decoder.h).
#include "fuzz/decoder.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

namespace foliocheck {
namespace {

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr int64_t kGupPinCountingBias = 1024;

struct Record {
  uint8_t kind;   // index into the operations that can be legal now
  uint8_t who;    // mm (adds), holder (removals, dups, pins); dups: high nibble picks the source
  uint8_t page;   // first page, scaled into the folio; searched forward for a legal one
  uint8_t nr;     // length, clamped to what is legal from `page`; 0xFF = to the end
  uint8_t flags;  // bit 0: exclusive; bits 1-7: repetition class
};

Setup decode_setup(const uint8_t* h) {
  Setup s;
  s.config.semantics = static_cast<Semantics>(h[0] & 3);
  s.config.bits = (h[0] & 4) ? 32 : 64;
  const uint8_t type = (h[0] >> 3) & 3;
  s.folio.type = type == 1 ? FolioType::file : type == 2 ? FolioType::shmem : FolioType::anon;
  s.folio.hugetlb = ((h[0] >> 5) & 3) == 3;

  // Scaled geometry makes PMD-sized folios a few pages big, so edge cases appear in short inputs;
  // the real one keeps the kernel's numbers honest.
  const uint8_t g = h[1] & 7;
  const int pmd = g < 3 ? 2 : g < 6 ? 3 : g == 6 ? 4 : 9;
  const bool far_pud = (h[1] >> 3) & 1;
  // Real PUD-sized folios (order 18) are left out: a quarter-million pages make every input cost
  // tens of milliseconds, and no rule depends on that size.
  const int pud = pmd + 1 + far_pud;
  s.config.pmd_order = pmd;
  s.config.pud_order = pud;

  const uint8_t o = h[2];
  int order = 0;
  switch (o & 7) {
    case 0: order = 0; break;
    case 1: order = 1; break;
    case 2:
    case 3: order = pmd; break;
    case 4: order = pud; break;
    case 5: order = 2; break;
    case 6: order = pud - pmd >= 2 ? pmd + 1 : pmd - 1; break;
    default: order = (o >> 3) % (std::min(pud, pmd + 2) + 1); break;
  }
  s.folio.order = order;

  // Shapes the kernel cannot build are bent into the nearest one it can.
  if (s.folio.hugetlb && s.folio.type == FolioType::shmem) s.folio.type = FolioType::file;
  if (s.folio.hugetlb && s.folio.order < 2) s.folio.order = 2;
  if (s.has_mm_id() && s.config.bits == 32 && s.folio.order > 15) s.folio.order = 15;
  // no-mm-id kernels are THP=n: their large non-hugetlb folios are pagecache folios.
  if (s.config.semantics == Semantics::no_mm_id && s.large() && !s.folio.hugetlb)
    s.folio.type = FolioType::file;
  if (ReferenceModel::setup_error(s)) s.folio = FolioShape{};
  return s;
}

// One decoding step: the model's state and one record.
class Step {
 public:
  Step(const ReferenceModel& model, const Record& r)
      : m(model), s(model.setup()), n(model.setup().nr_pages()), r(r) {}

  bool possible(OpKind k) const;
  std::optional<Op> build(OpKind k, bool exclusive) const;
  uint32_t safe_repeat(const Op& op) const;

 private:
  uint32_t pick_mm(uint8_t b) const {
    return b >= 0xF8 ? mm_id_max(s.config.bits) - (b & 7) : 1 + b % 6;
  }
  template <class Pred>
  std::optional<uint32_t> pick_holder(uint8_t b, Pred pred, uint32_t except = 0) const;
  uint32_t scale_page() const {
    if (n <= 256) return r.page % n;
    return r.page < 128 ? r.page : n - 256 + r.page;
  }
  uint32_t wanted_nr(uint32_t avail) const {
    if (r.nr == 0xFF) return avail;
    if (avail <= 255) return 1 + r.nr % avail;
    return r.nr < 192 ? 1u + r.nr : avail - (255u - r.nr);
  }
  // The first page at or after the scaled `page` (wrapping) where `ok` holds, and as many pages
  // after it as `nr` asks for while `ok` keeps holding.
  template <class Pred>
  bool range_where(Pred ok, Op& op, bool single = false) const;
  bool ae_add_ok(uint32_t i, bool exclusive) const {
    if (!(exclusive || m.page_anon_exclusive(i))) return true;
    return m.page_pte(i) == 0 && !(s.large() && m.entire() > 1);
  }

  const ReferenceModel& m;
  const Setup& s;
  uint32_t n;
  const Record& r;
};

bool Step::possible(OpKind k) const {
  const bool huge = s.folio.hugetlb, anon = s.anon();
  // The add_new helpers plain-set the counters: legal while nothing maps the folio.
  const bool fresh = m.total_mappings() == 0;
  switch (k) {
    case OpKind::add_new_anon:
      return !huge && anon && fresh && s.folio.order <= s.config.pmd_order;
    case OpKind::add_anon_ptes: return !huge && anon;
    case OpKind::add_anon_pmd: return !huge && anon && s.pmd_sized();
    case OpKind::add_file_ptes: return !huge && !anon;
    case OpKind::add_file_pmd: return !huge && !anon && s.pmd_sized();
    case OpKind::add_file_pud:
      return !huge && !anon && s.pud_sized() && s.config.semantics != Semantics::v6_12;
    case OpKind::remove_ptes: return !huge && m.pages_pte_mapped() > 0;
    case OpKind::remove_pmd: return !huge && s.pmd_sized() && m.entire() > 0;
    case OpKind::remove_pud: return !huge && s.pud_sized() && m.entire() > 0;
    case OpKind::dup_file_ptes: return !huge && !anon && m.pages_pte_mapped() > 0;
    case OpKind::dup_file_pmd: return !huge && !anon && s.pmd_sized() && m.pages_pte_mapped() == n;
    case OpKind::try_dup_anon_ptes: return !huge && anon && m.pages_pte_mapped() > 0;
    case OpKind::try_dup_anon_pmd: return !huge && anon && s.pmd_sized() && m.entire() > 0;
    case OpKind::try_share_anon_pte: return !huge && anon;
    case OpKind::try_share_anon_pmd: return !huge && anon && s.pmd_sized() && m.page_anon_exclusive(0);
    case OpKind::hugetlb_add_new_anon: return huge && anon && fresh;
    case OpKind::hugetlb_add_anon: return huge && anon;
    case OpKind::hugetlb_add_file: return huge && !anon;
    case OpKind::hugetlb_remove: return huge && m.entire() > 0;
    case OpKind::hugetlb_try_dup_anon: return huge && anon && m.entire() > 0;
    case OpKind::hugetlb_try_share_anon: return huge && anon && m.page_anon_exclusive(0);
    case OpKind::gup_pin: return m.total_mappings() > 0;
    case OpKind::gup_unpin: return m.pins() > 0;
  }
  return false;
}

template <class Pred>
std::optional<uint32_t> Step::pick_holder(uint8_t b, Pred pred, uint32_t except) const {
  uint32_t count = 0;
  for (const auto& [id, mm] : m.mms()) count += id != except && pred(mm);
  if (count == 0) return std::nullopt;
  uint32_t want = b % count;
  for (const auto& [id, mm] : m.mms()) {
    if (id == except || !pred(mm)) continue;
    if (want-- == 0) return id;
  }
  return std::nullopt;
}

template <class Pred>
bool Step::range_where(Pred ok, Op& op, bool single) const {
  const uint32_t start = scale_page();
  uint32_t first = n;
  for (uint32_t k = 0; k < n; k++) {
    const uint32_t i = start + k < n ? start + k : start + k - n;
    if (ok(i)) {
      first = i;
      break;
    }
  }
  if (first == n) return false;
  op.page = first;
  if (single) return true;
  const uint32_t want = wanted_nr(n - first);
  uint32_t nr = 1;
  while (nr < want && ok(first + nr)) nr++;
  op.nr = nr;
  return true;
}

std::optional<Op> Step::build(OpKind k, bool exclusive) const {
  Op op;
  op.kind = k;
  const unsigned args = op_info(k).args;
  // Canonical form, as the parser leaves what a statement does not name.
  op.mm = 0;
  op.src = 0;
  op.page = 0;
  op.nr = 1;
  op.exclusive = exclusive && (args & kArgExclusive);
  if (args & kArgMm) op.mm = pick_mm(r.who);
  auto any_page = [](uint32_t) { return true; };
  auto holder_ptes = [&](uint32_t id) {
    const MmMappings* mm = m.mm(id);
    return [mm](uint32_t i) { return mm->pte[i] > 0; };
  };
  auto has_ptes = [](const MmMappings& mm) { return mm.pte_total > 0; };
  // A dup's child is `who`'s mm; the parent is a holder other than the child.
  auto pick_src = [&](auto pred) -> bool {
    auto src = pick_holder(static_cast<uint8_t>(r.who >> 4), pred, op.mm);
    if (!src) {
      src = pick_holder(0, pred);
      if (!src) return false;
      op.mm = *src % 6 + 1;
    }
    op.src = *src;
    return true;
  };

  switch (k) {
    case OpKind::add_new_anon:
    case OpKind::add_anon_pmd:
    case OpKind::add_file_pmd:
    case OpKind::add_file_pud:
    case OpKind::dup_file_pmd:
    case OpKind::hugetlb_add_new_anon:
    case OpKind::hugetlb_add_anon:
    case OpKind::hugetlb_add_file:
    case OpKind::try_share_anon_pmd:
    case OpKind::hugetlb_try_share_anon:
    case OpKind::gup_unpin:
      return op;
    case OpKind::add_anon_ptes:
      if (!range_where([&](uint32_t i) { return ae_add_ok(i, op.exclusive); }, op)) return std::nullopt;
      return op;
    case OpKind::add_file_ptes:
      range_where(any_page, op);
      return op;
    case OpKind::remove_ptes: {
      auto id = pick_holder(r.who, has_ptes);
      if (!id) return std::nullopt;
      op.mm = *id;
      if (!range_where(holder_ptes(*id), op)) return std::nullopt;
      return op;
    }
    case OpKind::remove_pmd:
    case OpKind::remove_pud:
    case OpKind::hugetlb_remove: {
      auto id = pick_holder(r.who, [k](const MmMappings& mm) {
        return k == OpKind::remove_pmd ? mm.pmd > 0 : k == OpKind::remove_pud ? mm.pud > 0 : mm.hugetlb > 0;
      });
      if (!id) return std::nullopt;
      op.mm = *id;
      return op;
    }
    case OpKind::dup_file_ptes:
      if (!range_where([&](uint32_t i) { return m.page_pte(i) > 0; }, op)) return std::nullopt;
      return op;
    case OpKind::try_dup_anon_ptes:
      if (!pick_src(has_ptes)) return std::nullopt;
      if (!range_where(holder_ptes(op.src), op)) return std::nullopt;
      return op;
    case OpKind::try_dup_anon_pmd:
      if (!pick_src([](const MmMappings& mm) { return mm.pmd > 0; })) return std::nullopt;
      return op;
    case OpKind::hugetlb_try_dup_anon:
      if (!pick_src([](const MmMappings& mm) { return mm.hugetlb > 0; })) return std::nullopt;
      return op;
    case OpKind::try_share_anon_pte:
      if (!range_where([&](uint32_t i) { return m.page_anon_exclusive(i); }, op, true))
        return std::nullopt;
      return op;
    case OpKind::gup_pin: {
      auto id = pick_holder(r.who, [](const MmMappings& mm) { return mm.total() > 0; });
      if (!id) return std::nullopt;
      op.mm = *id;
      return op;
    }
  }
  return std::nullopt;
}


// How many times `op` may run in a row with every repetition valid (spec "(a)": what each helper
// assumes of its caller, and no counter overflow).
uint32_t Step::safe_repeat(const Op& op) const {
  const int64_t total = static_cast<int64_t>(m.total_mappings());
  const int64_t pins = m.pins();
  int64_t cap = std::numeric_limits<int32_t>::max();
  if (const uint64_t added = mappings_added(op, s))
    cap = (kIntMax - 1 - total - kGupPinCountingBias * (pins + 1)) / static_cast<int64_t>(added);
  auto any_ae = [&](uint32_t first, uint32_t last) {
    for (uint32_t i = first; i < last; i++)
      if (m.page_anon_exclusive(i)) return true;
    return false;
  };
  const MmMappings* mm = (op_info(op.kind).args & kArgMm) ? m.mm(op.mm) : nullptr;
  switch (op.kind) {
    case OpKind::add_new_anon:
    case OpKind::hugetlb_add_new_anon:
    case OpKind::try_share_anon_pte:
    case OpKind::try_share_anon_pmd:
    case OpKind::hugetlb_try_share_anon:
      return 1;
    case OpKind::add_anon_ptes:
      if (op.exclusive || any_ae(op.page, op.page + op.nr)) return 1;
      break;
    case OpKind::add_anon_pmd:
      if (op.exclusive || any_ae(0, n)) return 1;
      break;
    case OpKind::hugetlb_add_anon:
      if (op.exclusive || m.page_anon_exclusive(0)) return 1;
      break;
    case OpKind::remove_ptes: {
      uint32_t least = std::numeric_limits<uint32_t>::max();
      for (uint32_t i = op.page; i < op.page + op.nr; i++) least = std::min(least, mm->pte[i]);
      cap = least;
      break;
    }
    case OpKind::remove_pmd: cap = mm->pmd; break;
    case OpKind::remove_pud: cap = mm->pud; break;
    case OpKind::hugetlb_remove: cap = mm->hugetlb; break;
    case OpKind::gup_unpin: cap = pins; break;
    case OpKind::gup_pin: cap = (kIntMax - 1 - total) / kGupPinCountingBias - pins; break;
    case OpKind::add_file_ptes:
    case OpKind::add_file_pmd:
    case OpKind::add_file_pud:
    case OpKind::dup_file_ptes:
    case OpKind::dup_file_pmd:
    case OpKind::try_dup_anon_ptes:
    case OpKind::try_dup_anon_pmd:
    case OpKind::hugetlb_add_file:
    case OpKind::hugetlb_try_dup_anon:
      break;
  }
  return static_cast<uint32_t>(std::clamp<int64_t>(cap, 1, kMaxRepeat));
}

uint32_t wanted_repeat(uint8_t flags, bool heavy) {
  const uint8_t c = flags >> 1;
  if (c < 112) return 1;
  if (c < 126) return 2u + (c - 112u);
  // Heavy: just short of GUP_PIN_COUNTING_BIAS mappings of a small folio (refcount 1024 looks
  // pinned), and a long run towards SHRT_MAX mappings of one mm (32-bit MM slot overflow); a
  // few small repeats then cross them.
  if (heavy) return c == 126 ? 1020 : 4090;
  return c == 126 ? 16 : 64;
}

}  // namespace

std::optional<FuzzDecoder> FuzzDecoder::open(std::span<const uint8_t> data, std::string* error) {
  if (data.size() < sizeof kFuzzMagic || std::memcmp(data.data(), kFuzzMagic, sizeof kFuzzMagic)) {
    if (error)
      *error = data.empty() ? "empty input: a fuzz input starts with the magic bytes 'FC'"
                            : "not a fuzz input: it does not start with the magic bytes 'FC'";
    return std::nullopt;
  }
  if (data.size() < kFuzzHeaderSize) {
    if (error)
      *error = "truncated fuzz input: the header needs " + std::to_string(kFuzzHeaderSize) +
               " bytes, the input has " + std::to_string(data.size());
    return std::nullopt;
  }
  const uint8_t* header = data.data() + sizeof kFuzzMagic;
  return FuzzDecoder(data, decode_setup(header), (header[0] >> 7) && (header[1] >> 4) == 0xF);
}

std::optional<Op> FuzzDecoder::next(const ReferenceModel& model) {
  while (m_pos + kFuzzRecordSize <= m_data.size()) {
    const uint8_t* b = m_data.data() + m_pos;
    m_pos += kFuzzRecordSize;
    const Record r{b[0], b[1], b[2], b[3], b[4]};
    const Step step(model, r);
    std::array<OpKind, kNumOpKinds> kinds;
    size_t count = 0;
    for (int i = 0; i < kNumOpKinds; i++)
      if (step.possible(static_cast<OpKind>(i))) kinds[count++] = static_cast<OpKind>(i);
    for (size_t j = 0; j < count; j++) {
      const OpKind k = kinds[(r.kind + j) % count];
      std::optional<Op> op;
      for (bool exclusive : {(r.flags & 1) != 0, false}) {
        op = step.build(k, exclusive);
        if (op && !model.precondition(*op)) break;
        op.reset();
        if (!exclusive) break;
      }
      if (!op) continue;
      // Each repetition costs an agreement check over the pages it touches.
      const uint64_t cost = std::max<uint64_t>(1, touched_pages(*op, m_setup).last -
                                                      touched_pages(*op, m_setup).first);
      const uint64_t affordable = 1 + m_budget_left / cost;
      op->repeat = static_cast<uint32_t>(
          std::min<uint64_t>({wanted_repeat(r.flags, m_heavy), affordable, step.safe_repeat(*op)}));
      m_budget_left -= (op->repeat - 1) * cost;
      return op;
    }
    // No kind gave a legal operation with these bytes: the record is skipped, not the rest.
  }
  m_pos = m_data.size();
  return std::nullopt;
}

DecodeResult decode_fuzz_input(std::span<const uint8_t> data) {
  DecodeResult out;
  auto decoder = FuzzDecoder::open(data, &out.error);
  if (!decoder) return out;
  ReferenceModel model;
  model.reset(decoder->setup());
  Trace trace;
  trace.setup = decoder->setup();
  // print_trace() puts the header, config and folio on lines 1-3.
  uint32_t line = 4;
  while (auto op = decoder->next(model)) {
    for (uint32_t k = 0; k < op->repeat; k++) {
      if (auto why = model.precondition(*op)) {
        out.harness = true;
        out.error = "the decoder produced an invalid operation (a foliocheck bug): '" +
                    print_op(*op) + "' repetition " + std::to_string(k + 1) + ": " + *why;
        return out;
      }
      model.apply(*op);
    }
    Statement st;
    st.kind = Statement::op;
    st.operation = *op;
    st.line = line++;
    trace.statements.push_back(std::move(st));
  }
  out.trace = std::move(trace);
  return out;
}

}  // namespace foliocheck
