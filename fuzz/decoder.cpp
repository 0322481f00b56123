// Decodes fuzz inputs into operations that are valid by construction (layout in decoder.h).
#include "fuzz/decoder.h"

#include "core/legality.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <limits>

namespace foliocheck {
namespace {

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
  // Semantics past the first four (proposals, core/semantics.def) have no bit of their own: a
  // geometry byte whose high nibble is 0xA + k selects the k-th of them. Seeds with other nibbles
  // keep their meaning (one seed of the corpus had 0xA when proposed-total-mapped came).
  if (const int extra = (h[1] >> 4) - 0xA; extra >= 0 && extra < kNumSemantics - 4)
    s.config.semantics = static_cast<Semantics>(4 + extra);
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
  if (!s.sem().thp && s.large() && !s.folio.hugetlb)
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

bool Step::possible(OpKind k) const { return !op_is_reader(k) && op_enabled(k, m); }

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

// Every call is built from ops.def's columns alone: the mm is a holder where the Need names one
// (an unmap, a pin), the parent of a fork is a holder and the child `who`'s mm, and a range runs
// over the pages the Need (or, for anon adds, PageAnonExclusive) allows.
std::optional<Op> Step::build(OpKind k, bool exclusive) const {
  const OpInfo& info = op_info(k);
  Op op;
  op.kind = k;
  op.mm = 0;
  op.src = 0;
  op.page = 0;
  op.nr = 1;
  op.exclusive = exclusive && (info.args & kArgExclusive);
  const Need need = info.needs;
  if (info.args & kArgMm) op.mm = pick_mm(r.who);
  if (need_is_mm(need)) {
    auto id = pick_holder(r.who, [need](const MmMappings& mm) { return mm_holds(mm, need); });
    if (!id) return std::nullopt;
    op.mm = *id;
  }
  if (need_is_src(need)) {
    // A dup's child is `who`'s mm; the parent is a holder other than the child.
    auto pred = [need](const MmMappings& mm) { return mm_holds(mm, need); };
    auto src = pick_holder(static_cast<uint8_t>(r.who >> 4), pred, op.mm);
    if (!src) {
      src = pick_holder(0, pred);
      if (!src) return std::nullopt;
      op.mm = *src % 6 + 1;
    }
    op.src = *src;
  }
  if (!(info.args & (kArgRange | kArgPage))) return op;
  const MmMappings* holder = need == Need::mm_ptes   ? m.mm(op.mm)
                             : need == Need::src_ptes ? m.mm(op.src)
                                                      : nullptr;
  auto page_ok = [&](uint32_t i) {
    switch (need) {
      case Need::mm_ptes:
      case Need::src_ptes:
        return holder->pte[i] > 0;
      case Need::pages_mapped:
        return m.page_pte(i) > 0;
      case Need::ae_page:
        return m.page_anon_exclusive(i);
      default:
        // Anon adds keep PageAnonExclusive pages mapped at most once.
        return info.folio != kAnonFolio || info.adds != Adds::range || ae_add_ok(i, op.exclusive);
    }
  };
  if (!range_where(page_ok, op, !(info.args & kArgRange))) return std::nullopt;
  return op;
}


// How many times `op` may run in a row with every repetition valid (spec "(a)": what each helper
// assumes of its caller, and no counter overflow).
uint32_t Step::safe_repeat(const Op& op) const {
  const OpInfo& info = op_info(op.kind);
  int64_t cap = static_cast<int64_t>(repeats_before_overflow(op, m));
  // The Needs a call uses up, and PageAnonExclusive, which a second call would map twice.
  switch (info.needs) {
    case Need::fresh:
    case Need::ae_page:
    case Need::ae_head:
      return 1;
    case Need::mm_ptes: {
      const MmMappings* mm = m.mm(op.mm);
      uint32_t least = std::numeric_limits<uint32_t>::max();
      for (uint32_t i = op.page; i < op.page + op.nr; i++) least = std::min(least, mm->pte[i]);
      cap = std::min<int64_t>(cap, least);
      break;
    }
    case Need::mm_pmd:
    case Need::mm_pud:
    case Need::mm_hugetlb: {
      const MmMappings* mm = m.mm(op.mm);
      cap = std::min<int64_t>(cap, mm_held(*mm, info.needs));
      break;
    }
    case Need::pinned:
      cap = std::min<int64_t>(cap, m.pins());
      break;
    default:
      break;
  }
  if (info.folio == kAnonFolio && info.adds != Adds::nothing && !need_is_src(info.needs)) {
    const PageRange r = touched_pages(op, s);
    bool any_ae = info.adds == Adds::one && m.nr_anon_exclusive() > 0;
    for (uint32_t i = r.first; i < r.last && !any_ae; i++) any_ae = m.page_anon_exclusive(i);
    if (op.exclusive || any_ae) return 1;
  }
  return static_cast<uint32_t>(std::clamp<int64_t>(cap, 1, kMaxRepeat));
}

// The top four flag bytes (1 record in 64) are the long runs, 0xFF the longest. A long run
// ignores bit 0 (exclusive): an exclusive mapping cannot be repeated, so the bit would only
// waste the run. Rarer than 1 in 64 and mutations would seldom make one; more common and long
// runs, not agreement checks, would fill the campaign's time (docs/fuzzing.md).
constexpr uint8_t kFirstLongFlags = 256 - std::size(kFuzzLongRepeats);

bool long_run(uint8_t flags) { return flags >= kFirstLongFlags; }

bool wants_exclusive(uint8_t flags) { return !long_run(flags) && (flags & 1) != 0; }

uint32_t wanted_repeat(uint8_t flags) {
  if (long_run(flags)) return kFuzzLongRepeats[flags - kFirstLongFlags];
  const uint8_t c = flags >> 1;
  if (c < 112) return 1;
  return 2u + (c - 112u);
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
  return FuzzDecoder(data, decode_setup(header));
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
      for (bool exclusive : {wants_exclusive(r.flags), false}) {
        op = step.build(k, exclusive);
        if (op && model.allows(*op)) break;
        op.reset();
        if (!exclusive) break;
      }
      if (!op) continue;
      // Each repetition costs an agreement check over the pages it touches.
      const uint64_t cost = std::max<uint64_t>(1, touched_pages(*op, m_setup).last -
                                                      touched_pages(*op, m_setup).first);
      uint64_t& budget = long_run(r.flags) ? m_long_budget_left : m_budget_left;
      const uint64_t affordable = 1 + budget / cost;
      op->repeat = static_cast<uint32_t>(
          std::min<uint64_t>({wanted_repeat(r.flags), affordable, step.safe_repeat(*op)}));
      budget -= (op->repeat - 1) * cost;
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
