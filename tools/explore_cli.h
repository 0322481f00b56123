// What `foliocheck explore` and `foliocheck mutants` share: search options from flags, and their
// name.
#pragma once

#include <optional>
#include <string>

#include "explore/explore.h"
#include "tools/cli.h"

namespace foliocheck::cli {

// Fills `options` from --semantics, --bits, --order, ... or says what is wrong with them.
std::optional<std::string> explore_options_from_flags(const Flags& flags, ExploreOptions& options);
// "config semantics=mm-id bits=64 pmd_order=2 pud_order=3 folio order=2 type=anon mms=2 depth=4"
std::string describe_options(const ExploreOptions& options);

}  // namespace foliocheck::cli
