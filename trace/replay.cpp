// Replays a trace through the reference model and selected implementations, checking `expect`s.
#include "trace/replay.h"
#include "impl/registry.h"

#include <ostream>

#include "core/differential.h"

namespace foliocheck {

std::string_view replay_result_name(ReplayReport::Result r) {
  switch (r) {
    case ReplayReport::ok: return "ok";
    case ReplayReport::violation: return "violation";
    case ReplayReport::invalid: return "invalid";
    case ReplayReport::error: return "error";
  }
  return "error";
}

namespace {

std::string counters_line(const ReferenceModel& m) {
  std::string s = "mapcount=" + std::to_string(m.read(Obs::folio_mapcount));
  if (m.setup().large()) s += " entire=" + std::to_string(m.read(Obs::entire_mapcount));
  if (m.models(Obs::nr_pages_mapped))
    s += " pages_mapped=" + std::to_string(m.read(Obs::nr_pages_mapped));
  s += " mms=" + std::to_string(m.nr_mms_mapping());
  const Obs stat_mapped = m.setup().anon() ? Obs::nr_anon_mapped : Obs::nr_file_mapped;
  s += std::string(" ") + std::string(obs_info(stat_mapped).name) + "=" +
       std::to_string(m.read(stat_mapped));
  if (m.read(Obs::partially_mapped)) s += " partially_mapped";
  if (m.pins()) s += " pins=" + std::to_string(m.pins());
  if (m.read(Obs::ret)) s += " ret=" + std::to_string(m.read(Obs::ret));
  return s;
}

std::vector<std::pair<std::string, int64_t>> scalars(const Implementation& impl) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (int i = 0; i < kNumObs; i++) {
    const Obs obs = static_cast<Obs>(i);
    if (obs_info(obs).indexed || !impl.models(obs)) continue;
    out.emplace_back(std::string(obs_info(obs).name), impl.read(obs));
  }
  return out;
}

}  // namespace

ReplayReport replay_trace(const Trace& trace, const ReplayOptions& opt) {
  ReplayReport rep;
  std::vector<std::unique_ptr<Implementation>> impls;
  const Setup& setup = trace.setup;
  auto error = [&](std::string message) {
    rep.result = ReplayReport::error;
    rep.message = std::move(message);
    return rep;
  };
  const ImplementationChoice choice = choose_implementations(setup, opt.impls);
  if (auto why = choice.error(setup)) {
    if (!choice.unknown) {  // the setup is what the implementation refuses: name its line
      rep.line = trace.config_line;
      rep.column = trace.config_line ? 1 : 0;
    }
    return error(*why);
  }
  impls = make_implementations(choice.names);
  Differential diff(std::move(impls));
  diff.sweep_every = opt.sweep_every;
  diff.reset(setup);
  rep.impls.push_back("model");
  for (const auto& impl : diff.impls()) rep.impls.emplace_back(impl->name());

  auto collect_final = [&] {
    rep.final_obs.emplace_back("model", scalars(diff.model()));
    for (const auto& impl : diff.impls()) rep.final_obs.emplace_back(impl->name(), scalars(*impl));
  };

  size_t op_index = 0;
  // A concurrent block runs sequentially here: in program order, or in its pinned schedule's
  // order (Trace::sequential_order); `foliocheck interleave` is what runs it concurrently.
  for (const size_t si : trace.sequential_order()) {
    const Statement& st = trace.statements[si];
    if (st.kind == Statement::expect) {
      for (const Expectation& e : st.expects) {
        std::vector<const Implementation*> all{&diff.model()};
        for (const auto& impl : diff.impls()) all.push_back(impl.get());
        bool modeled = false;
        const std::string field =
            std::string(obs_info(e.obs).name) +
            (obs_info(e.obs).indexed ? "[" + std::to_string(e.index) + "]" : "");
        for (const Implementation* impl : all) {
          if (!impl->models(e.obs)) continue;
          modeled = true;
          const int64_t have = impl->read(e.obs, e.index);
          if (have == e.value) continue;
          rep.result = ReplayReport::violation;
          rep.failed_expect = true;
          rep.line = st.line;
          rep.column = e.column;
          rep.op_index = op_index;
          rep.found = Violation{ViolationKind::mismatch, std::string(impl->name()), field,
                                    e.value, have, "expect on line " + std::to_string(st.line)};
          rep.message = "expect " + field + "=" + std::to_string(e.value) + " failed: " +
                        std::string(impl->name()) + " has " + std::to_string(have);
          collect_final();
          return rep;
        }
        if (!modeled) {
          rep.line = st.line;
          rep.column = e.column;
          return error("no selected implementation models " + field + " in this configuration");
        }
        rep.expects++;
      }
      continue;
    }
    const Op& op = st.operation;
    op_index++;
    StepOutcome out = diff.step(op);
    // Where replay stops: the statement, and which repetition of `x=K`.
    auto stop = [&](ReplayReport::Result result, std::string message) {
      rep.result = result;
      rep.line = st.line;
      rep.column = 1;
      rep.op_index = op_index;
      rep.message = std::move(message);
      if (op.repeat > 1) rep.message += " (repetition " + std::to_string(out.repetition + 1) + ")";
    };
    if (out.kind == StepOutcome::invalid) {
      stop(ReplayReport::invalid, out.invalid_reason);
      if (opt.allow_invalid) {
        Op rest = op;
        rest.repeat = op.repeat - out.repetition;
        diff.step_unchecked(rest);
        rep.ran_invalid = true;
        for (const auto& impl : diff.impls()) {
          auto log = impl->warning_log();
          rep.warnings.emplace_back(std::string(impl->name()),
                                    std::vector<std::string>(log.begin(), log.end()));
        }
      }
      collect_final();
      return rep;
    }
    if (out.kind == StepOutcome::violation) {
      stop(ReplayReport::violation, out.found->describe());
      rep.found = out.found;
      collect_final();
      return rep;
    }
    rep.ops++;
    if (opt.log)
      *opt.log << "  #" << op_index << " L" << st.line << " " << print_op(op) << "  | "
               << counters_line(diff.model()) << "\n";
  }
  if (auto v = diff.finish()) {
    rep.result = ReplayReport::violation;
    rep.line = trace.statements.empty() ? 0 : trace.statements.back().line;
    rep.op_index = op_index;
    rep.found = v;
    rep.message = v->describe() + " (final sweep)";
  }
  collect_final();
  return rep;
}

}  // namespace foliocheck
