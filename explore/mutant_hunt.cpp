// The mutant hunt: explore searches the folio shapes where a planted mutant can show, cheapest first.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "explore/explore.h"
#include "impl/registry.h"
#include "trace/reduce.h"
#include "trace/replay.h"

namespace foliocheck {

using Clock = std::chrono::steady_clock;

namespace {

// The folio shapes a mutant hunt tries, cheapest and most telling first. Scaled geometry: order 2
// is PMD-sized (4 pages), order 3 PUD-sized (8 pages, with the representative ranges only: all 36
// ranges of 8 pages multiply the state space without reaching new code).
struct HuntShape {
  int order;
  FolioType type;
  bool hugetlb;
  uint32_t mms;
  bool overflow;  // only for 32-bit encodings, where short slot counts can wrap
  uint32_t all_ranges_up_to;
  bool high_ids;  // MM_ID_MAX and MM_ID_MAX - 1, for encodings that store ids (CONFIG_MM_ID)
};
constexpr HuntShape kHuntShapes[] = {
    {2, FolioType::anon, false, 2, false, 8, false},
    {2, FolioType::file, false, 2, false, 8, false},
    {0, FolioType::anon, false, 2, false, 8, false},
    {1, FolioType::anon, false, 2, false, 8, false},
    {2, FolioType::shmem, false, 2, false, 8, false},
    {3, FolioType::file, false, 2, false, 4, false},
    {2, FolioType::anon, true, 2, false, 8, false},
    {2, FolioType::file, true, 2, false, 8, false},
    {2, FolioType::file, false, 3, false, 8, false},
    {2, FolioType::file, false, 2, true, 8, false},
    {2, FolioType::file, false, 2, false, 8, true},
    {2, FolioType::anon, false, 3, false, 8, false},
};

}  // namespace

std::vector<ExploreOptions> mutant_setups(const MutantInfo& mutant, uint32_t max_depth) {
  std::vector<const EncodingInfo*> listed;
  std::string_view rest = mutant.encodings;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    for (const EncodingInfo& e : encodings())
      if (e.name == name) listed.push_back(&e);
  }
  // One encoding per variant: a mistake in shared code shows on both word sizes, and 64-bit ids
  // keep the alphabet the same; 32-bit only where the mutant lives there alone.
  std::vector<const EncodingInfo*> chosen;
  for (const EncodingInfo* e : listed) {
    auto same = std::find_if(chosen.begin(), chosen.end(),
                             [&](const EncodingInfo* c) { return c->semantics == e->semantics; });
    if (same == chosen.end())
      chosen.push_back(e);
    else if ((*same)->bits == 32 && e->bits == 64)
      *same = e;
  }
  std::vector<ExploreOptions> out;
  for (const EncodingInfo* e : chosen) {
    for (const HuntShape& shape : kHuntShapes) {
      if (shape.overflow && e->bits != 32) continue;
      const bool stores_ids = semantics_info(e->semantics).mm_id;
      if (shape.high_ids && !stores_ids) continue;
      ExploreOptions o;
      o.setup.config.semantics = e->semantics;
      o.setup.config.bits = e->bits;
      o.setup.config.pmd_order = 2;
      o.setup.config.pud_order = 3;
      o.setup.folio = {shape.order, shape.type, shape.hugetlb};
      if (ReferenceModel::setup_error(o.setup)) continue;
      o.mms = shape.mms;
      o.depth = max_depth;
      o.overflow = shape.overflow;
      o.all_ranges_up_to = shape.all_ranges_up_to;
      if (shape.high_ids) o.mm_ids = {mm_id_max(e->bits), mm_id_max(e->bits) - 1};
      o.impls = {std::string(e->name)};
      out.push_back(std::move(o));
    }
  }
  return out;
}

MutantSearch explore_mutant(const MutantInfo& mutant, uint32_t max_depth, double budget_seconds) {
  const Mutant before = active_mutant();
  set_active_mutant(mutant.mutant);
  const auto start = Clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  MutantSearch hunt;

  // A kill counts only if the unmutated encoding passes the same trace; otherwise the violation is
  // someone else's bug, and counting it would make a dead mutant of a live one.
  auto take_violation = [&](const Explorer& e) {
    const ExploreResult& r = e.result();
    set_active_mutant(Mutant::none);
    ReplayOptions ro;
    ro.impls = e.options().impls;
    ro.sweep_every = 1;
    const ReplayReport baseline = replay_trace(r.as_trace(e.options().setup), ro);
    set_active_mutant(mutant.mutant);
    if (baseline.result != ReplayReport::ok) {
      std::string text = print_setup(e.options().setup);
      std::replace(text.begin(), text.end(), '\n', ' ');
      for (const Op& op : r.trace) text += "| " + print_op(op) + " ";
      hunt.unmutated_failures.push_back(text + "=> " + r.found->describe());
      return false;
    }
    hunt.killed = true;
    hunt.where = e.options();
    hunt.encoding = e.options().impls.front();
    hunt.trace = r.trace;
    hunt.found = r.found;
    return true;
  };

  // Searches `setups` up to `depth`, all advanced one level at a time; true on a kill.
  auto search = [&](std::vector<ExploreOptions> setups, uint32_t depth) {
    std::vector<std::unique_ptr<Explorer>> explorers;
    bool killed = false;
    for (ExploreOptions& o : setups) {
      o.depth = depth;
      auto e = std::make_unique<Explorer>(std::move(o));
      if (e->error()) continue;
      hunt.setups++;
      if (e->result().outcome == ExploreResult::violation && !killed) killed = take_violation(*e);
      explorers.push_back(std::move(e));
    }
    uint32_t searched = depth;
    for (uint32_t level = 1; level <= depth && !killed && !hunt.limited; level++) {
      for (auto& e : explorers) {
        if (e->result().outcome != ExploreResult::running) continue;
        const double left = budget_seconds - elapsed();
        if (budget_seconds > 0 && left <= 0) {
          hunt.limited = true;
          break;
        }
        if (budget_seconds > 0) e->set_max_seconds(e->result().seconds + left);
        e->expand_level();
        if (e->result().outcome == ExploreResult::violation && take_violation(*e)) {
          killed = true;
          break;
        }
        if (e->result().outcome == ExploreResult::limit) hunt.limited = true;
      }
    }
    for (const auto& e : explorers) {
      const ExploreResult& r = e->result();
      hunt.transitions += r.transitions;
      hunt.states += r.states;
      if (r.outcome != ExploreResult::closed && r.outcome != ExploreResult::violation)
        searched = std::min(searched, r.depth);
    }
    if (!killed) hunt.depth = std::min(hunt.depth, searched);
    return killed;
  };

  // Phase 1: the first encoding the mutant names. Phase 2: the other encodings, only as deep as a
  // kill could still be shorter than the one phase 1 found.
  std::vector<ExploreOptions> first, others;
  for (ExploreOptions& o : mutant_setups(mutant, max_depth))
    (first.empty() || o.impls == first.front().impls ? first : others).push_back(std::move(o));
  hunt.depth = max_depth;
  search(std::move(first), max_depth);
  const uint32_t bound = hunt.killed ? static_cast<uint32_t>(hunt.trace.size()) : max_depth + 1;
  if (bound > 1 && !others.empty() && !hunt.limited) {
    const MutantSearch phase1 = hunt;
    hunt.killed = false;
    if (search(std::move(others), bound - 1) || !phase1.killed) {
      // A shorter kill, or the only one.
    } else {
      hunt.killed = true;
      hunt.where = phase1.where;
      hunt.encoding = phase1.encoding;
      hunt.trace = phase1.trace;
      hunt.found = phase1.found;
    }
  }
  // The kill is a shortest one over every setup unless the budget cut a search short.
  hunt.shortest_proven = hunt.killed && !hunt.limited;
  if (hunt.killed) hunt.depth = static_cast<uint32_t>(hunt.trace.size());
  hunt.seconds = elapsed();
  set_active_mutant(before);
  return hunt;
}

}  // namespace foliocheck
