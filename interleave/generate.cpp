// Random small concurrent blocks after random legal prefixes (interleave --generate).
#include "interleave/generate.h"

#include <algorithm>
#include <memory>

#include "core/alphabet.h"
#include "core/reference_model.h"
#include "impl/registry.h"

namespace foliocheck {
namespace {

constexpr uint32_t kMms = 3;
constexpr int kTries = 200;

bool accepts(ReferenceModel& m, const Op& op) {
  if (m.precondition(op)) return false;
  m.apply(op);
  return true;
}

// Every order of `block` is legal after `model`.
bool legal_in_every_order(const ReferenceModel& model, std::vector<Op> block) {
  std::sort(block.begin(), block.end(), [](const Op& a, const Op& b) { return a.mm < b.mm; });
  do {
    ReferenceModel m = model;
    for (const Op& op : block)
      if (!accepts(m, op)) return false;
  } while (std::next_permutation(block.begin(), block.end(),
                                 [](const Op& a, const Op& b) { return a.mm < b.mm; }));
  return true;
}

}  // namespace

std::optional<Trace> generate_concurrent_trace(std::mt19937_64& rng, const std::string& impl_name) {
  std::unique_ptr<Implementation> impl = make_implementation(impl_name);
  if (!impl) return std::nullopt;
  auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  static constexpr Semantics kSemantics[] = {Semantics::v6_12, Semantics::mm_id,
                                             Semantics::no_page_mapcount, Semantics::no_mm_id};
  for (int attempt = 0; attempt < kTries; attempt++) {
    const FolioType type = pick(2) ? FolioType::file : FolioType::anon;
    const int order = 1 + static_cast<int>(pick(2));
    std::vector<Setup> setups;
    for (Semantics s : kSemantics) {
      Setup setup = make_setup(s, 64, order, type);
      if (!semantics_info(s).thp && order > 0 && type == FolioType::anon) continue;
      if (impl->supports(setup)) setups.push_back(setup);
    }
    if (setups.empty()) continue;
    const Setup setup = setups[pick(setups.size())];
    constexpr uint32_t kMmIds[kMms] = {1, 2, 3};
    // explore's default: every range of folios up to 8 pages, no slot-overflow repetitions.
    const std::vector<Op> alphabet = op_alphabet(setup, kMmIds, 8, false);
    ReferenceModel model;
    model.reset(setup);
    Trace t;
    t.setup = setup;
    const size_t prefix = pick(4);
    for (size_t i = 0; i < prefix; i++) {
      std::vector<Op> legal;
      for (const Op& op : alphabet)
        if (!model.precondition(op)) legal.push_back(op);
      if (legal.empty()) break;
      const Op op = legal[pick(legal.size())];
      model.apply(op);
      Statement st;
      st.operation = op;
      t.statements.push_back(st);
    }
    // The block: operations on disjoint mms (one mm's operations on one folio are serialized by
    // its page-table lock, and fork holds the parent's mmap lock against GUP and unmaps), each
    // legal now, and together legal in every order.
    std::vector<Op> legal;
    for (const Op& op : alphabet)
      if (!model.precondition(op)) legal.push_back(op);
    if (legal.size() < 2) continue;
    const size_t want = 2 + pick(2);
    std::vector<Op> block;
    for (int i = 0; i < 50 && block.size() < want; i++) {
      const Op op = legal[pick(legal.size())];
      bool clash = false;
      for (const Op& b : block)
        clash |= b.mm == op.mm || (op.src && (b.mm == op.src || b.src == op.src)) ||
                 (b.src && b.src == op.mm);
      if (clash) continue;
      block.push_back(op);
      if (!legal_in_every_order(model, block)) block.pop_back();
    }
    if (block.size() < 2) continue;
    ConcurrentBlock cb;
    t.blocks.push_back(cb);
    for (const Op& op : block) {
      Statement st;
      st.operation = op;
      st.block = 1;
      t.statements.push_back(st);
    }
    return t;
  }
  return std::nullopt;
}

}  // namespace foliocheck
