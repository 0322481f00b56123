// Google Benchmark: operations per second of the model, each encoding and the differential step.
//
// Beside the encodings, in the same run: a raw per-page int array (the physical floor) and every
// kernel tree built in (the registry's implementations that are not encodings), per operation and
// per touched page for batches of 1, 16 and 512 pages (BatchPair/*).
//
// The claims the numbers back (docs/benchmarks.md): a single-PTE operation costs about the same on
// an order-18 folio as on an order-4 one, in the encodings, the model and the differential step
// without its periodic full sweep; and the per-operation cost of a trace does not grow with its
// length.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/differential.h"
#include "impl/registry.h"
#include "explore/explore.h"
#include "core/implementation.h"
#include "core/reference_model.h"

namespace foliocheck {
namespace {

constexpr int kOrders[] = {0, 2, 4, 9, 18};

Setup setup_for(Semantics s, int bits, int order) {
  Setup st;
  st.config.semantics = s;
  st.config.bits = bits;
  st.folio.order = order;
  st.folio.type = FolioType::file;
  return st;
}

Op pte(OpKind kind, uint32_t mm, uint32_t page) {
  Op op;
  op.kind = kind;
  op.mm = mm;
  op.page = page;
  op.nr = 1;
  return op;
}

// The measured pair: mm 1 maps one PTE in the middle of the folio and unmaps it, while mm 2 keeps
// the last page mapped so that the folio never becomes unmapped (no free-path checks, slots busy).
struct Pair {
  Op background, map, unmap;
  explicit Pair(const Setup& s)
      : background(pte(OpKind::add_file_ptes, 2, s.nr_pages() - 1)),
        map(pte(OpKind::add_file_ptes, 1, s.nr_pages() / 2)),
        unmap(pte(OpKind::remove_ptes, 1, s.nr_pages() / 2)) {}
};

void label(benchmark::State& state, const Setup& s) {
  state.SetLabel(std::string(semantics_name(s.config.semantics)) + " order " +
                 std::to_string(s.folio.order));
}

// ReferenceModel: precondition + apply, what every engine pays for the model side of a step.
void BM_ModelPtePair(benchmark::State& state) {
  const Setup s = setup_for(Semantics::mm_id, 64, static_cast<int>(state.range(0)));
  const Pair p(s);
  ReferenceModel m;
  m.reset(s);
  m.apply(p.background);
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.precondition(p.map));
    m.apply(p.map);
    benchmark::DoNotOptimize(m.precondition(p.unmap));
    m.apply(p.unmap);
  }
  state.SetItemsProcessed(state.iterations() * 2);
  label(state, s);
}

// One encoding alone: the optimized side.
void BM_EncodingPtePair(benchmark::State& state, std::string name, Semantics sem, int bits) {
  const Setup s = setup_for(sem, bits, static_cast<int>(state.range(0)));
  auto impl = make_implementation(name);
  if (!impl || !impl->supports(s)) {
    state.SkipWithError("setup not supported");
    return;
  }
  const Pair p(s);
  impl->reset(s);
  impl->apply(p.background);
  for (auto _ : state) {
    impl->apply(p.map);
    impl->apply(p.unmap);
    benchmark::DoNotOptimize(impl->read(Obs::folio_mapcount));
  }
  state.SetItemsProcessed(state.iterations() * 2);
  state.SetLabel(name + " order " + std::to_string(s.folio.order));
}

// Differential::step with the model and one encoding: precondition, both sides applied, agreement
// on the touched pages, and every `sweep` operations a full sweep of every page. range(1) is the
// period: 0 means no periodic sweep (the incremental comparison alone), -1 means max(64, nr_pages),
// a period that keeps the amortized cost of sweeping per operation independent of the folio size.
constexpr int64_t kSweepNever = 0, kSweepScaled = -1;
std::string sweep_name(int64_t period) {
  return period == kSweepNever    ? "never"
         : period == kSweepScaled ? "max(64,N)"
                                  : std::to_string(period);
}
void BM_DifferentialPtePair(benchmark::State& state, std::string name, Semantics sem) {
  const Setup s = setup_for(sem, 64, static_cast<int>(state.range(0)));
  std::vector<std::unique_ptr<Implementation>> impls;
  impls.push_back(make_implementation(name));
  Differential d(std::move(impls));
  const int64_t period = state.range(1);
  d.sweep_every = period == kSweepNever    ? std::numeric_limits<uint32_t>::max()
                  : period == kSweepScaled ? 0u  // Differential's default period, max(64, nr_pages)
                                           : static_cast<uint32_t>(period);
  const Pair p(s);
  d.reset(s);
  if (d.step(p.background).kind != StepOutcome::ok) {
    state.SkipWithError("background mapping failed");
    return;
  }
  for (auto _ : state) {
    const StepOutcome a = d.step(p.map);
    const StepOutcome b = d.step(p.unmap);
    if (a.kind != StepOutcome::ok || b.kind != StepOutcome::ok) {
      state.SkipWithError("the step did not succeed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * 2);
  state.SetLabel(name + " order " + std::to_string(s.folio.order) + " sweep " + sweep_name(period));
}

// A valid random trace of `len` operations over the whole alphabet (3 mms, every op kind), made
// once with a fixed seed; mappings are kept bounded by preferring removals when many are held.
std::vector<Op> random_trace(const Setup& s, size_t len) {
  ExploreOptions o;
  o.setup = s;
  o.mms = 3;
  const std::vector<Op> alphabet = explore_alphabet(o);
  ReferenceModel m;
  m.reset(s);
  std::mt19937_64 rng(42);
  std::vector<Op> out;
  std::vector<Op> valid, removals;
  while (out.size() < len) {
    valid.clear();
    removals.clear();
    for (const Op& op : alphabet) {
      if (m.precondition(op)) continue;
      valid.push_back(op);
      if (op.kind == OpKind::remove_ptes || op.kind == OpKind::remove_pmd ||
          op.kind == OpKind::gup_unpin)
        removals.push_back(op);
    }
    const bool shrink = m.total_mappings() > 4u * s.nr_pages() && !removals.empty();
    const std::vector<Op>& from = shrink ? removals : valid;
    const Op op = from[rng() % from.size()];
    m.apply(op);
    out.push_back(op);
  }
  return out;
}

// reset + a whole trace + finish(): what replay and the fuzz targets pay per input, per operation.
void BM_DifferentialTrace(benchmark::State& state) {
  Setup s = setup_for(Semantics::mm_id, 64, 9);
  s.folio.type = FolioType::anon;
  const std::vector<Op> trace = random_trace(s, static_cast<size_t>(state.range(0)));
  std::vector<std::unique_ptr<Implementation>> impls;
  impls.push_back(make_implementation("mm-id-64"));
  Differential d(std::move(impls));
  for (auto _ : state) {
    d.reset(s);
    for (const Op& op : trace)
      if (d.step(op).kind != StepOutcome::ok) {
        state.SkipWithError("the trace did not replay cleanly");
        return;
      }
    if (d.finish()) {
      state.SkipWithError("the final sweep failed");
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(trace.size()));
  state.SetLabel("mm-id-64 anon order 9, " + std::to_string(trace.size()) + " operations");
}

// Batches of 1, 16 and 512 pages mapped and unmapped by one call each (folio_add_file_rmap_ptes
// then folio_remove_rmap_ptes, nr = batch) on an order-9 file folio, while mm 2 keeps the last page
// mapped. Items are touched pages; the time per iteration is two operations.
constexpr int kBatches[] = {1, 16, 512};

void BM_BatchPair(benchmark::State& state, std::string name, Semantics sem) {
  const uint32_t batch = static_cast<uint32_t>(state.range(0));
  const Setup s = setup_for(sem, 64, 9);
  auto impl = make_implementation(name);
  if (!impl || !impl->supports(s)) {
    state.SkipWithError("setup not supported");
    return;
  }
  Op background = pte(OpKind::add_file_ptes, 2, s.nr_pages() - 1);
  Op map = pte(OpKind::add_file_ptes, 1, 0), unmap = pte(OpKind::remove_ptes, 1, 0);
  map.nr = unmap.nr = batch;
  impl->reset(s);
  impl->apply(background);
  for (auto _ : state) {
    impl->apply(map);
    impl->apply(unmap);
    benchmark::DoNotOptimize(impl->read(Obs::folio_mapcount));
  }
  state.SetItemsProcessed(state.iterations() * 2 * batch);
  state.SetLabel(name + " " + std::string(semantics_name(sem)) + " " + std::to_string(batch) +
                 " pages per call");
}

// The physical floor beside the encodings, in the same run: a per-page int array incremented and
// decremented over the batch, which is all a mapcount per page could cost.
void BM_BatchPairRawIntArray(benchmark::State& state) {
  const uint32_t batch = static_cast<uint32_t>(state.range(0));
  std::vector<int> mapcount(512, -1);
  for (auto _ : state) {
    for (uint32_t i = 0; i < batch; i++) mapcount[i]++;
    benchmark::ClobberMemory();
    for (uint32_t i = 0; i < batch; i++) mapcount[i]--;
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(mapcount.data());
  state.SetItemsProcessed(state.iterations() * 2 * batch);
  state.SetLabel("raw int[] loop " + std::to_string(batch) + " pages per call");
}

struct EncodingInfo {
  Semantics semantics;
  int bits;
  const char* name;
};
constexpr EncodingInfo kEncodings[] = {
#define FOLIOCHECK_ENCODING(sem, bits, name, sentence) {Semantics::sem, bits, name},
#include "impl/encodings.def"
#undef FOLIOCHECK_ENCODING
};

void register_all() {
  auto orders = [](benchmark::internal::Benchmark* b) {
    for (int o : kOrders) b->Arg(o);
  };
  benchmark::RegisterBenchmark("ModelPtePair", BM_ModelPtePair)->Apply(orders);
  for (const EncodingInfo& e : kEncodings) {
    auto* b =
        benchmark::RegisterBenchmark(("EncodingPtePair/" + std::string(e.name)).c_str(),
                                     BM_EncodingPtePair, std::string(e.name), e.semantics, e.bits);
    for (int o : kOrders) {
      // Only folios the kernel can have: 32-bit MM_ID stops at order 15 (W5).
      const Setup s = setup_for(e.semantics, e.bits, o);
      if (!ReferenceModel::setup_error(s) && make_implementation(e.name)->supports(s)) b->Arg(o);
    }
  }
  for (const EncodingInfo& e : kEncodings) {
    if (e.bits != 64) continue;
    auto* b =
        benchmark::RegisterBenchmark(("DifferentialPtePair/" + std::string(e.name)).c_str(),
                                     BM_DifferentialPtePair, std::string(e.name), e.semantics);
    for (int o : kOrders) b->Args({o, kSweepNever})->Args({o, 64});
  }
  // With the period scaled to the folio, an order-18 folio sweeps once per 262144 operations: run
  // long enough for several sweeps to be inside every measurement.
  auto* scaled = benchmark::RegisterBenchmark("DifferentialPtePairScaledSweep/mm-id-64",
                                              BM_DifferentialPtePair, std::string("mm-id-64"),
                                              Semantics::mm_id);
  for (int o : kOrders) scaled->Args({o, kSweepScaled});
  scaled->MinTime(2.0);
  auto batches = [](benchmark::internal::Benchmark* b) {
    for (int n : kBatches) b->Arg(n);
  };
  benchmark::RegisterBenchmark("BatchPair/raw-int-array", BM_BatchPairRawIntArray)->Apply(batches);
  for (const EncodingInfo& e : kEncodings)
    if (e.bits == 64)
      benchmark::RegisterBenchmark(("BatchPair/" + std::string(e.name)).c_str(), BM_BatchPair,
                                   std::string(e.name), e.semantics)
          ->Apply(batches);
  // Kernel trees built in (kernel/): every registered implementation that is not an encoding, by
  // the registry rather than by name, beside each 64-bit encoding whose variant the tree builds
  // (the tree's own code for that configuration, compiled from the same sources).
  for (std::string_view name : implementation_names()) {
    if (std::any_of(std::begin(kEncodings), std::end(kEncodings),
                    [&](const EncodingInfo& e) { return name == e.name; }))
      continue;
    auto impl = make_implementation(name);
    for (const EncodingInfo& e : kEncodings) {
      if (e.bits != 64 || !impl->supports(setup_for(e.semantics, 64, 9))) continue;
      benchmark::RegisterBenchmark(
          ("BatchPair/" + std::string(name) + ":" + std::string(semantics_name(e.semantics)))
              .c_str(),
          BM_BatchPair, std::string(name), e.semantics)
          ->Apply(batches);
    }
  }
  benchmark::RegisterBenchmark("DifferentialTrace", BM_DifferentialTrace)
      ->Arg(16)
      ->Arg(256)
      ->Arg(4096)
      ->Arg(65536)
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace
}  // namespace foliocheck

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  foliocheck::register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
