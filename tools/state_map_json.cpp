// The state map (core/state_class.h) as JSON, for `foliocheck state-map --json`, `explore --state-map --json` and the nightly report.
#include "tools/state_map_json.h"

#include <vector>

namespace foliocheck::cli {
namespace {

struct Cell {
  uint32_t feasible = 0, reached = 0;
  double first = -1;
  void add(double t) {
    feasible++;
    if (t < 0) return;
    reached++;
    if (first < 0 || t < first) first = t;
  }
  nlohmann::ordered_json json() const {
    nlohmann::ordered_json j = {{"feasible", feasible}, {"reached", reached}};
    j["first"] = first >= 0 ? nlohmann::ordered_json(first) : nlohmann::ordered_json(nullptr);
    return j;
  }
};

}  // namespace

nlohmann::ordered_json state_map_json(const StateMap& map) {
  const uint32_t nv = class_dim_size(ClassDim::variant);
  std::vector<std::vector<Cell>> cells(kNumClassValues, std::vector<Cell>(nv));
  std::vector<Cell> all(nv);
  nlohmann::ordered_json reached = nlohmann::ordered_json::array();
  for (uint32_t i = 0; i < num_state_classes(); i++) {
    const StateClass c = state_class_at(i);
    const uint32_t v = c.get(ClassDim::variant);
    const double t = map.state_first(i);
    all[v].add(t);
    for (size_t d = 1; d < kNumClassDims; d++)
      cells[static_cast<size_t>(class_value(static_cast<ClassDim>(d), c.v[d]))][v].add(t);
    if (t >= 0) reached.push_back({{"class", state_class_name(c)}, {"first", t}});
  }
  nlohmann::ordered_json variants = nlohmann::ordered_json::array();
  for (uint32_t v = 0; v < nv; v++)
    variants.push_back(class_value_info(class_value(ClassDim::variant, v)).label);
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  auto row = [&](const std::string& dim, const std::string& value, const std::vector<Cell>& cs) {
    nlohmann::ordered_json r = {{"dim", dim}, {"value", value}};
    r["cells"] = nlohmann::ordered_json::array();
    for (const Cell& c : cs) r["cells"].push_back(c.json());
    rows.push_back(r);
  };
  row("all", "all", all);
  for (size_t i = 0; i < kNumClassValues; i++) {
    const ClassValueInfo& info = class_value_info(static_cast<ClassValue>(i));
    if (info.dim == ClassDim::variant) continue;
    row(std::string(class_dim_label(info.dim)), std::string(info.label), cells[i]);
  }
  nlohmann::ordered_json transitions = nlohmann::ordered_json::array();
  for (uint32_t k = 0; k < kNumOpKinds; k++) {
    const OpKind op = static_cast<OpKind>(k);
    nlohmann::ordered_json r = {{"op", op_info(op).name}, {"can_ebusy", op_can_ebusy(op)}};
    r["cells"] = nlohmann::ordered_json::array();
    for (uint32_t v = 0; v < nv; v++) {
      uint32_t ok = 0;
      double first = -1, ebusy_first = -1;
      for (uint32_t sh = 0; sh < class_dim_size(ClassDim::shape); sh++) {
        const ClassValue shape = class_value(ClassDim::shape, sh);
        const double t = map.transition_first(
            transition_class_index(static_cast<Semantics>(v), op, false, shape));
        const double e = map.transition_first(
            transition_class_index(static_cast<Semantics>(v), op, true, shape));
        if (t >= 0) {
          ok++;
          if (first < 0 || t < first) first = t;
        }
        if (e >= 0 && (ebusy_first < 0 || e < ebusy_first)) ebusy_first = e;
      }
      nlohmann::ordered_json c = {{"shapes", ok}};
      c["first"] = first >= 0 ? nlohmann::ordered_json(first) : nlohmann::ordered_json(nullptr);
      c["ebusy_first"] =
          ebusy_first >= 0 ? nlohmann::ordered_json(ebusy_first) : nlohmann::ordered_json(nullptr);
      r["cells"].push_back(c);
    }
    transitions.push_back(r);
  }
  return {{"state_classes", num_state_classes()},
          {"states_reached", map.states_reached()},
          {"transition_classes", num_transition_classes()},
          {"transitions_reached", map.transitions_reached()},
          {"variants", variants},
          {"rows", rows},
          {"transitions", transitions},
          {"reached", reached}};
}

}  // namespace foliocheck::cli
