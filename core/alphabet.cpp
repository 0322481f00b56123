// The operations a search tries in a state before the model's precondition filters them.
#include "core/alphabet.h"

#include <algorithm>
#include <array>

#include "core/legality.h"

namespace foliocheck {
namespace {

struct Range {
  uint32_t page, nr;
  bool operator==(const Range&) const = default;
};

std::vector<Range> ranges_for(uint32_t n, uint32_t all_up_to) {
  std::vector<Range> out;
  if (n <= all_up_to) {
    for (uint32_t p = 0; p < n; p++)
      for (uint32_t nr = 1; p + nr <= n; nr++) out.push_back({p, nr});
    return out;
  }
  const Range wanted[] = {{0, n}, {0, 1},     {n - 1, 1},         {n / 2, 1},
                          {1, 1}, {0, n / 2}, {n / 2, n - n / 2}, {1, n - 2}};
  for (const Range& r : wanted)
    if (r.nr >= 1 && r.page + r.nr <= n && std::find(out.begin(), out.end(), r) == out.end())
      out.push_back(r);
  return out;
}

std::vector<uint32_t> pages_for(uint32_t n, uint32_t all_up_to) {
  std::vector<uint32_t> out;
  if (n <= all_up_to) {
    for (uint32_t p = 0; p < n; p++) out.push_back(p);
    return out;
  }
  for (uint32_t p : {0u, 1u, n / 2, n - 1})
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  return out;
}

}  // namespace

std::vector<Op> op_alphabet(const Setup& s, std::span<const uint32_t> ids,
                            uint32_t all_ranges_up_to, bool overflow) {
  const uint32_t n = s.nr_pages();
  const std::vector<Range> ranges = ranges_for(n, all_ranges_up_to);
  const std::vector<uint32_t> pages = pages_for(n, all_ranges_up_to);
  std::vector<Op> out;
  for (int k = 0; k < kNumOpKinds; k++) {
    const OpKind kind = static_cast<OpKind>(k);
    if (op_is_reader(kind) || !op_fits(kind, s)) continue;
    const unsigned args = op_info(kind).args;
    std::vector<Op> ops(1);
    ops[0].kind = kind;
    // Each argument the kind takes multiplies its calls by that argument's values.
    auto expand = [&](const auto& values, auto&& set) {
      std::vector<Op> next;
      for (const Op& op : ops)
        for (const auto& v : values) {
          Op x = op;
          if (set(x, v)) next.push_back(x);
        }
      ops = std::move(next);
    };
    if (args & kArgMm) expand(ids, [](Op& x, uint32_t m) { return x.mm = m, true; });
    if (args & kArgSrc) expand(ids, [](Op& x, uint32_t m) { return x.src = m, m != x.mm; });
    if (args & kArgRange)
      expand(ranges, [](Op& x, const Range& r) { return x.page = r.page, x.nr = r.nr, true; });
    if (args & kArgPage) expand(pages, [](Op& x, uint32_t p) { return x.page = p, true; });
    if (args & kArgExclusive)
      expand(std::array{false, true}, [](Op& x, bool e) { return x.exclusive = e, true; });
    // PTE-range calls are the ones that carry one mm's mappings past SHRT_MAX in a few steps.
    if (overflow && (args & kArgRange)) {
      // Just below and just past SHRT_MAX + 1 logical mappings of one mm, in one statement each.
      const uint32_t below = 32768 / n;
      std::vector<Op> extra;
      for (const Op& op : ops) {
        if (op.page != 0 || op.nr != n || op.exclusive || below == 0) continue;
        for (uint32_t k2 : {below, below + 1}) {
          Op x = op;
          x.repeat = k2;
          extra.push_back(x);
        }
      }
      ops.insert(ops.end(), extra.begin(), extra.end());
    }
    out.insert(out.end(), ops.begin(), ops.end());
  }
  return out;
}

}  // namespace foliocheck
