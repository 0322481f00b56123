// Bounded exhaustive search: every valid operation sequence up to a depth, breadth first.
#include "explore/explore.h"

#include "core/differential.h"
#include "core/legality.h"
#include "impl/registry.h"

#include <algorithm>
#include <chrono>


namespace foliocheck {
namespace {

using Clock = std::chrono::steady_clock;

// Each op kind's own name says which folios it takes: the kernel names every anon-only helper
// *_anon_* and every file-only one *_file_*, so the alphabet can drop them without asking the model
// in every state.
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

uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

// 128 bits from two lanes with different multipliers: a collision would silently merge two states,
// so one 64-bit hash over millions of states is not enough margin.
StateKey hash_words(const std::vector<int64_t>& words) {
  uint64_t a = 0x243F6A8885A308D3ull, b = 0x13198A2E03707344ull;
  for (int64_t w : words) {
    const uint64_t u = static_cast<uint64_t>(w);
    a = (a ^ u) * 0x9E3779B97F4A7C15ull;
    a ^= a >> 29;
    b = (b + u) * 0xD6E8FEB86659FD93ull;
    b ^= b >> 32;
  }
  // Never all-zero in `a`: KeySet uses that as its empty slot.
  return {mix(a ^ words.size()) | 1, mix(b + words.size())};
}

// An open-addressing set of keys: the visited set is the hottest structure of the search, and a
// node-based set spends its time in cache misses and allocation.
class KeySet {
 public:
  KeySet() : m_slots(1024) {}
  // True if `k` was not there before.
  bool insert(StateKey k) {
    if ((m_count + 1) * 2 > m_slots.size()) grow();
    return place(m_slots, k);
  }
  size_t size() const { return m_count; }

 private:
  bool place(std::vector<StateKey>& slots, StateKey k) {
    const size_t mask = slots.size() - 1;
    for (size_t i = k.b & mask;; i = (i + 1) & mask) {
      if (slots[i].a == 0) {
        slots[i] = k;
        m_count++;
        return true;
      }
      if (slots[i] == k) return false;
    }
  }
  void grow() {
    std::vector<StateKey> bigger(m_slots.size() * 2);
    m_count = 0;
    for (const StateKey& k : m_slots)
      if (k.a != 0) place(bigger, k);
    m_slots.swap(bigger);
  }
  std::vector<StateKey> m_slots;
  size_t m_count = 0;
};

// Builds StateKeys, keeping its scratch vectors between calls.
struct KeyBuilder {
  // What each implementation (the model first) models never changes within one setup, so it is
  // asked once.
  struct Plan {
    std::vector<Obs> scalars;
    std::vector<Obs> pages;
    bool mm_mapcount = false, mm_id = false, mm_id_mapcount = false;
  };
  std::vector<Plan> plans;
  std::vector<int64_t> words;
  std::vector<std::vector<int64_t>> sigs;  // per-mm signatures
  std::vector<uint32_t> order;             // mm indexes sorted by signature
  std::vector<uint32_t> rename;            // mm index -> canonical number

  // The canonical key of the current state (model + every implementation's reads), with mms
  // renamed by sorted signature; also returns which mms are touched. Two mms with equal signatures
  // are interchangeable, so ties cannot make the key depend on the names.
  StateKey build(const ReferenceModel& model,
                 std::span<const std::unique_ptr<Implementation>> impls,
                 const std::vector<uint32_t>& ids, uint32_t& touched) {
    const uint32_t mms = static_cast<uint32_t>(ids.size());
    const Setup& s = model.setup();
    const uint32_t n = s.nr_pages();
    if (plans.size() != impls.size() + 1) {
      plans.clear();
      auto plan = [&](const Implementation& impl) {
        Plan p;
        for (int i = 0; i < kNumObs; i++) {
          const Obs obs = static_cast<Obs>(i);
          if (!obs_info(obs).indexed && impl.models(obs)) p.scalars.push_back(obs);
        }
        for (Obs obs : {Obs::page_mapcount, Obs::anon_exclusive})
          if (impl.models(obs)) p.pages.push_back(obs);
        p.mm_mapcount = impl.models(Obs::mm_mapcount);
        p.mm_id = impl.models(Obs::mm_id);
        p.mm_id_mapcount = impl.models(Obs::mm_id_mapcount);
        plans.push_back(std::move(p));
      };
      plan(model);
      for (const auto& impl : impls) plan(*impl);
    }
    sigs.resize(mms);
    for (uint32_t i = 0; i < mms; i++) {
      const uint32_t m = ids[i];
      std::vector<int64_t>& sig = sigs[i];
      sig.clear();
      const MmMappings* mm = model.mm(m);
      if (mm && !mm->pte.empty())
        sig.insert(sig.end(), mm->pte.begin(), mm->pte.end());
      else
        sig.insert(sig.end(), n, 0);
      sig.push_back(mm ? mm->pmd : 0);
      sig.push_back(mm ? mm->pud : 0);
      sig.push_back(mm ? mm->hugetlb : 0);
      sig.push_back(model.mm_has_pinned(m));
      for (size_t k = 0; k < impls.size(); k++) {
        const Plan& p = plans[k + 1];
        if (p.mm_mapcount) sig.push_back(impls[k]->read(Obs::mm_mapcount, m));
        if (p.mm_id)
          for (uint32_t slot = 0; slot < 2; slot++)
            sig.push_back(impls[k]->read(Obs::mm_id, slot) == m);
      }
    }
    touched = 0;
    for (uint32_t i = 0; i < mms; i++)
      if (std::any_of(sigs[i].begin(), sigs[i].end(), [](int64_t v) { return v != 0; }))
        touched |= 1u << i;
    order.resize(mms);
    for (uint32_t i = 0; i < mms; i++) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](uint32_t x, uint32_t y) { return sigs[x] < sigs[y]; });
    rename.assign(mms, 0);
    for (uint32_t i = 0; i < mms; i++) rename[order[i]] = i + 1;

    words.clear();
    const History& h = model.history();
    words.push_back(h.ever_mapped);
    words.push_back(h.epoch_max_mms);
    words.push_back(static_cast<int64_t>(h.epoch_max_mm_mappings));
    words.push_back(model.pins());
    for (uint32_t i : order) words.insert(words.end(), sigs[i].begin(), sigs[i].end());
    auto obs_words = [&](const Implementation& impl, const Plan& p) {
      for (Obs obs : p.scalars) words.push_back(impl.read(obs));
      for (Obs obs : p.pages)
        for (uint32_t page = 0; page < n; page++) words.push_back(impl.read(obs, page));
      for (uint32_t slot = 0; slot < 2; slot++) {
        if (p.mm_id) {
          const int64_t id = impl.read(Obs::mm_id, slot);
          const auto it = std::find(ids.begin(), ids.end(), id);
          // An id outside the searched mms can only come from a broken encoding; keep it apart.
          words.push_back(it != ids.end() ? rename[it - ids.begin()]
                                          : (id == 0 ? 0 : (int64_t{1} << 40) + id));
        }
        if (p.mm_id_mapcount) words.push_back(impl.read(Obs::mm_id_mapcount, slot));
      }
    };
    obs_words(model, plans[0]);
    for (size_t i = 0; i < impls.size(); i++) obs_words(*impls[i], plans[i + 1]);
    return hash_words(words);
  }
};

}  // namespace

StateKey explore_state_key(const ReferenceModel& model,
                           std::span<const std::unique_ptr<Implementation>> impls,
                           uint32_t mms) {
  KeyBuilder b;
  uint32_t touched = 0;
  std::vector<uint32_t> ids(mms);
  for (uint32_t i = 0; i < mms; i++) ids[i] = i + 1;
  return b.build(model, impls, ids, touched);
}

std::string_view explore_outcome_name(ExploreResult::Outcome o) {
  constexpr std::string_view kNames[] = {"running", "bounded", "closed", "violation", "limit"};
  return kNames[o];
}

Trace ExploreResult::as_trace(const Setup& setup) const { return make_trace(setup, trace); }

std::vector<uint32_t> explore_mm_ids(const ExploreOptions& o) {
  if (!o.mm_ids.empty()) return o.mm_ids;
  std::vector<uint32_t> ids(o.mms);
  for (uint32_t i = 0; i < o.mms; i++) ids[i] = i + 1;
  return ids;
}

std::vector<Op> explore_alphabet(const ExploreOptions& o) {
  const std::vector<uint32_t> ids = explore_mm_ids(o);
  const Setup& s = o.setup;
  const uint32_t n = s.nr_pages();
  const std::vector<Range> ranges = ranges_for(n, o.all_ranges_up_to);
  const std::vector<uint32_t> pages = pages_for(n, o.all_ranges_up_to);
  std::vector<Op> out;
  for (int k = 0; k < kNumOpKinds; k++) {
    const OpKind kind = static_cast<OpKind>(k);
    if (op_is_reader(kind) || op_fits_setup(kind, s)) continue;
    const unsigned args = op_info(kind).args;
    std::vector<Op> ops(1);
    ops[0].kind = kind;
    auto expand = [&](auto&& f) {
      std::vector<Op> next;
      for (const Op& op : ops) f(op, next);
      ops = std::move(next);
    };
    if (args & kArgMm)
      expand([&](const Op& op, std::vector<Op>& next) {
        for (uint32_t m : ids) {
          Op x = op;
          x.mm = m;
          next.push_back(x);
        }
      });
    if (args & kArgSrc)
      expand([&](const Op& op, std::vector<Op>& next) {
        for (uint32_t m : ids) {
          if (m == op.mm) continue;
          Op x = op;
          x.src = m;
          next.push_back(x);
        }
      });
    if (args & kArgRange)
      expand([&](const Op& op, std::vector<Op>& next) {
        for (const Range& r : ranges) {
          Op x = op;
          x.page = r.page;
          x.nr = r.nr;
          next.push_back(x);
        }
      });
    if (args & kArgPage)
      expand([&](const Op& op, std::vector<Op>& next) {
        for (uint32_t p : pages) {
          Op x = op;
          x.page = p;
          next.push_back(x);
        }
      });
    if (args & kArgExclusive)
      expand([&](const Op& op, std::vector<Op>& next) {
        next.push_back(op);
        Op x = op;
        x.exclusive = true;
        next.push_back(x);
      });
    // PTE-range calls are the ones that carry one mm's mappings past SHRT_MAX in a few steps.
    if (o.overflow && (args & kArgRange)) {
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

struct Explorer::State {
  struct Node {
    uint32_t parent;
    uint32_t touched;  // mms (bit mm-1) whose part of the state is not that of an unused mm
    Op op;
  };
  ReferenceModel root;
  std::vector<uint32_t> ids;  // the mm ids taking part
  std::unique_ptr<Differential> diff;  // the model and the implementations, in lock step
  // The parent being expanded, replayed once per parent; each candidate starts from a copy of it
  // (Differential::assign_state) when every implementation can copy its state, else it is reset
  // and replayed (a kernel tree's implementation, say).
  std::unique_ptr<Differential> parent;
  bool copyable = false;
  std::vector<Op> alphabet;
  std::vector<Node> nodes;
  std::vector<uint32_t> frontier;
  KeySet visited;
  KeyBuilder keys;
  Clock::time_point start;
  Clock::time_point last_progress;
  double seconds_before = 0;  // time spent in earlier expand_level calls

  std::vector<Op> path_to(uint32_t node) const {
    std::vector<Op> path;
    for (uint32_t i = node; i != 0; i = nodes[i].parent) path.push_back(nodes[i].op);
    std::reverse(path.begin(), path.end());
    return path;
  }

  double elapsed() const {
    return std::chrono::duration<double>(Clock::now() - start).count() + seconds_before;
  }
};

Explorer::Explorer(ExploreOptions options) : m_options(std::move(options)), m_state(new State) {
  const Setup& s = m_options.setup;
  if (auto why = ReferenceModel::setup_error(s)) {
    m_error = *why;
    return;
  }
  State& st = *m_state;
  st.ids = explore_mm_ids(m_options);
  m_options.mms = static_cast<uint32_t>(st.ids.size());
  // The touched-mm bitmask has 16 bits to spare, and more mms would never finish anyway.
  if (st.ids.empty() || st.ids.size() > 16) {
    m_error = "mms must be 1..16";
    return;
  }
  for (size_t i = 0; i < st.ids.size(); i++) {
    if (st.ids[i] < 1 || st.ids[i] > mm_id_max(s.config.bits)) {
      m_error = "mm id " + std::to_string(st.ids[i]) + " outside MM_ID_MIN..MM_ID_MAX (1.." +
                std::to_string(mm_id_max(s.config.bits)) + ")";
      return;
    }
    if (std::find(st.ids.begin(), st.ids.begin() + static_cast<std::ptrdiff_t>(i), st.ids[i]) !=
        st.ids.begin() + static_cast<std::ptrdiff_t>(i)) {
      m_error = "mm id " + std::to_string(st.ids[i]) + " named twice";
      return;
    }
  }
  const ImplementationChoice choice = choose_implementations(s, m_options.impls);
  if (auto why = choice.error(s)) {
    m_error = *why;
    return;
  }
  st.diff = std::make_unique<Differential>(make_implementations(choice.names));
  st.parent = std::make_unique<Differential>(make_implementations(choice.names));
  st.parent->reset(s);
  st.copyable = st.diff->assign_state(*st.parent);
  for (const auto& impl : st.diff->impls()) m_result.impls.emplace_back(impl->name());
  st.alphabet = explore_alphabet(m_options);
  st.root.reset(s);
  st.diff->reset(s);
  st.start = st.last_progress = Clock::now();
  // The initial state is a state too: a wrong initial value is a violation of length zero.
  if (auto v = st.diff->finish()) {
    m_result.outcome = ExploreResult::violation;
    m_result.found = std::move(v);
    m_result.seconds = st.elapsed();
    return;
  }
  uint32_t touched = 0;
  st.visited.insert(st.keys.build(st.root, st.diff->impls(), st.ids, touched));
  st.nodes.push_back({0, touched, Op{}});
  st.frontier.push_back(0);
  if (m_options.state_map) {
    m_result.map.emplace();
    m_result.map->note_state(state_class_index(classify_state(st.diff->model(), st.diff->impls())),
                             0);
  }
  m_result.states = 1;
  m_result.outcome = m_options.depth == 0 ? ExploreResult::bounded : ExploreResult::running;
  st.seconds_before = m_result.seconds = st.elapsed();
}

Explorer::~Explorer() = default;

bool Explorer::expand_level(const std::function<void(const ExploreProgress&)>& progress) {
  if (m_error || m_result.outcome != ExploreResult::running) return false;
  State& st = *m_state;
  st.start = st.last_progress = Clock::now();
  const Setup& s = m_options.setup;
  const uint32_t mms = m_options.mms;
  const uint32_t level = m_result.depth + 1;
  std::vector<uint32_t> next;
  ExploreProgress prog;
  prog.depth = level;
  prog.level_size = st.frontier.size();

  auto finish = [&](ExploreResult::Outcome outcome) {
    m_result.outcome = outcome;
    st.seconds_before = m_result.seconds = st.elapsed();
    return false;
  };
  Differential& diff = *st.diff;
  Differential& parent_diff = *st.parent;
  for (size_t fi = 0; fi < st.frontier.size(); fi++) {
    const uint32_t node = st.frontier[fi];
    const std::vector<Op> path = st.path_to(node);
    const uint32_t touched = st.nodes[node].touched;
    // The one unused mm worth trying: the others give states that differ only by mm names.
    uint32_t fresh = mms;
    for (uint32_t i = 0; i < mms && fresh == mms; i++)
      if (!(touched & (1u << i))) fresh = i;
    auto usable = [&](uint32_t id) {
      const uint32_t i =
          static_cast<uint32_t>(std::find(st.ids.begin(), st.ids.end(), id) - st.ids.begin());
      return i < mms && ((touched & (1u << i)) || i == fresh);
    };

    parent_diff.reset(s);
    for (const Op& op : path) {
      parent_diff.advance(op);
      if (st.copyable) m_result.applied += op.repeat;
    }
    const ReferenceModel& parent = parent_diff.model();

    for (const Op& cand : st.alphabet) {
      const unsigned args = op_info(cand.kind).args;
      if ((args & kArgMm) && !usable(cand.mm)) continue;
      if ((args & kArgSrc) && !usable(cand.src)) continue;
      if (parent.precondition(cand)) continue;

      if (!st.copyable || !diff.assign_state(parent_diff)) {
        diff.reset(s);
        for (const Op& op : path) {
          diff.advance(op);
          m_result.applied += op.repeat;
        }
      }
      // Each state gets one full comparison when it is first reached (equal keys check alike);
      // the states between the repetitions of `x=K` get no key of their own, so each is swept.
      diff.sweep_every = cand.repeat > 1 ? 1 : Differential::kNeverSweep;
      StepOutcome out = diff.step(cand);
      m_result.applied += out.kind == StepOutcome::ok ? cand.repeat : out.repetition + 1;
      if (out.kind == StepOutcome::invalid) continue;
      std::optional<Violation> found = std::move(out.found);
      m_result.transitions++;
      if (m_result.map && !found) m_result.map->note(diff.model(), diff.impls(), cand, st.elapsed());
      uint32_t child_touched = 0;
      if (!found &&
          st.visited.insert(st.keys.build(diff.model(), diff.impls(), st.ids, child_touched))) {
        found = diff.finish();
        if (!found) {
          st.nodes.push_back({node, child_touched, cand});
          next.push_back(static_cast<uint32_t>(st.nodes.size() - 1));
          m_result.states++;
        }
      }
      if (found) {
        m_result.found = std::move(found);
        m_result.trace = path;
        m_result.trace.push_back(cand);
        return finish(ExploreResult::violation);
      }
      if ((m_result.transitions & 255) == 0) {
        const double t = st.elapsed();
        if ((m_options.max_seconds > 0 && t >= m_options.max_seconds) ||
            (m_options.max_states > 0 && m_result.states >= m_options.max_states))
          return finish(ExploreResult::limit);
        if (progress &&
            std::chrono::duration<double>(Clock::now() - st.last_progress).count() >= 0.25) {
          st.last_progress = Clock::now();
          prog.states = m_result.states;
          prog.transitions = m_result.transitions;
          prog.level_done = fi;
          prog.seconds = t;
          progress(prog);
        }
      }
    }
  }
  m_result.depth = level;
  st.frontier = std::move(next);
  if (st.frontier.empty()) return finish(ExploreResult::closed);
  if (level >= m_options.depth) return finish(ExploreResult::bounded);
  st.seconds_before = m_result.seconds = st.elapsed();
  if (progress) {
    prog.states = m_result.states;
    prog.transitions = m_result.transitions;
    prog.level_done = prog.level_size;
    prog.seconds = m_result.seconds;
    progress(prog);
  }
  return true;
}

const ExploreResult& Explorer::run(const std::function<void(const ExploreProgress&)>& progress) {
  while (expand_level(progress)) {
  }
  return m_result;
}

}  // namespace foliocheck
