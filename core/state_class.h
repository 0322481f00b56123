// Abstract mapcount states (state_class.def): classification, dense numbering, the state map every engine prints.
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/implementation.h"
#include "core/reference_model.h"

namespace foliocheck {

enum class ClassDim : uint8_t {
#define FOLIOCHECK_CLASS_DIM(e, label) e,
#include "core/state_class.def"
};
inline constexpr size_t kNumClassDims = 0
#define FOLIOCHECK_CLASS_DIM(e, label) +1
#include "core/state_class.def"
    ;

// Every value of every dimension, named <dim>_<value> (ClassValue::slots_two).
enum class ClassValue : uint8_t {
#define FOLIOCHECK_CLASS_VALUE(d, e, label) d##_##e,
#include "core/state_class.def"
};
inline constexpr size_t kNumClassValues = 0
#define FOLIOCHECK_CLASS_VALUE(d, e, label) +1
#include "core/state_class.def"
    ;

struct ClassValueInfo {
  ClassDim dim;
  uint8_t index;  // within its dimension
  std::string_view label;
};
const ClassValueInfo& class_value_info(ClassValue v);
std::string_view class_dim_label(ClassDim d);
uint32_t class_dim_size(ClassDim d);
// The value `index` of dimension `d`.
ClassValue class_value(ClassDim d, uint32_t index);

// One value per dimension.
struct StateClass {
  uint8_t v[kNumClassDims] = {};
  void set(ClassValue value) {
    const ClassValueInfo& i = class_value_info(value);
    v[static_cast<size_t>(i.dim)] = i.index;
  }
  bool is(ClassValue value) const {
    const ClassValueInfo& i = class_value_info(value);
    return v[static_cast<size_t>(i.dim)] == i.index;
  }
  uint32_t get(ClassDim d) const { return v[static_cast<size_t>(d)]; }
  bool operator==(const StateClass&) const = default;
};

// Whether a folio can be in this class at all (the rules are in state_class.cpp, each with its
// reason); only feasible classes are numbered.
bool state_class_feasible(const StateClass& c);
// Feasible classes, numbered 0..kNumStateClasses()-1 in the mixed-radix order of the dimensions.
uint32_t num_state_classes();
uint32_t state_class_index(const StateClass& c);  // REQUIRES: feasible
StateClass state_class_at(uint32_t index);
// "mm-id PTE-only mms=2 slots=two owners ..." (one line).
std::string state_class_name(const StateClass& c);

// The class of the state `model` is in; `impls` are read for the mm-id slots (the first one that
// models them). O(nr_pages) for the per-page bucket, O(mms) otherwise.
StateClass classify_state(const ReferenceModel& model,
                          std::span<const std::unique_ptr<Implementation>> impls);

// The operation just applied, its result and the shape it left, per variant.
uint32_t num_transition_classes();
uint32_t transition_class_index(Semantics variant, OpKind op, bool ebusy, ClassValue shape);
// Whether this operation can return -EBUSY at all (the try_dup and try_share helpers).
bool op_can_ebusy(OpKind op);
std::string transition_class_name(uint32_t index);
uint32_t classify_transition(const ReferenceModel& model, const Op& op);

// Which classes an engine reached, and when first (seconds from the engine's own start).
class StateMap {
 public:
  StateMap();
  void note_state(uint32_t index, double seconds) { note(m_states, index, seconds); }
  void note_transition(uint32_t index, double seconds) { note(m_transitions, index, seconds); }
  // Classifies the model's state and the operation that led to it, and notes both.
  void note(const ReferenceModel& model, std::span<const std::unique_ptr<Implementation>> impls,
            const Op& op, double seconds);
  void merge(const StateMap& other);
  // Seconds when first reached, or a negative number: never.
  double state_first(uint32_t index) const { return m_states[index]; }
  double transition_first(uint32_t index) const { return m_transitions[index]; }
  uint32_t states_reached() const;
  uint32_t transitions_reached() const;

 private:
  static void note(std::vector<double>& v, uint32_t index, double seconds) {
    if (v[index] < 0 || seconds < v[index]) v[index] = seconds;
  }
  std::vector<double> m_states, m_transitions;
};

// The map as a table, one row per dimension value and one column per variant: classes reached
// with that value of the feasible ones, then the transitions per operation, then every value never
// reached. The same text for every engine, so their maps compare line by line.
std::string format_state_map(const StateMap& map, std::string_view engine);

// ---- milestones (the named states of state_class.def) -------------------------------------------

enum class Milestone : uint8_t {
#define FOLIOCHECK_MILESTONE(e, label, classify, required) e,
#include "core/state_class.def"
};
inline constexpr size_t kNumMilestones = 0
#define FOLIOCHECK_MILESTONE(e, label, classify, required) +1
#include "core/state_class.def"
    ;
struct MilestoneInfo {
  std::string_view label;
  bool classify;
  bool required;
};
const MilestoneInfo& milestone_info(Milestone m);

// Which milestones one run (a test case, an input) reached, noted after every operation; keeps
// the history the named states need (whether the folio was emptied before).
class MilestoneTracker {
 public:
  void note(const ReferenceModel& m, const Op& op,
            std::span<const std::unique_ptr<Implementation>> impls);
  const std::bitset<kNumMilestones>& reached() const { return m_reached; }

 private:
  std::bitset<kNumMilestones> m_reached;
  bool m_emptied = false;  // the folio was mapped, then completely unmapped
};

}  // namespace foliocheck
