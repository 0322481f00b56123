// The state map (core/state_class.h) as JSON, for `foliocheck state-map --json`, `explore --state-map --json` and the nightly report.
#pragma once

#include <nlohmann/json.hpp>

#include "core/state_class.h"

namespace foliocheck::cli {

// Per variant and dimension value: feasible classes, reached classes, first reached (seconds, or
// null); per operation and variant: shapes reached after it, and -EBUSY; every reached class with
// its time.
nlohmann::ordered_json state_map_json(const StateMap& map);

}  // namespace foliocheck::cli
