// `foliocheck state-map`: which abstract state classes a set of fuzz_differential inputs reaches, and when each was first reached.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/differential.h"
#include "core/state_class.h"
#include "fuzz/decoder.h"
#include "impl/registry.h"
#include "tools/cli.h"
#include "tools/state_map_json.h"

namespace foliocheck::cli {
namespace {

// The modification time of a corpus file: when libFuzzer wrote it, i.e. found it.
double mtime_of(const std::filesystem::path& p) {
  struct stat st;
  if (stat(p.c_str(), &st) != 0) return 0;
  return static_cast<double>(st.st_mtim.tv_sec) + static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
}

}  // namespace

Exit cmd_state_map(const Flags& flags) {
  if (flags.args.empty()) return usage_error("state-map needs at least one input FILE or DIR");
  std::vector<std::filesystem::path> files;
  for (const std::string& arg : flags.args) {
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg, ec))
        if (entry.is_regular_file()) files.push_back(entry.path());
    } else if (std::filesystem::is_regular_file(arg, ec)) {
      files.push_back(arg);
    } else {
      return usage_error(arg + ": no such file or directory");
    }
  }
  // Times count from --since (seconds since the epoch), or from the oldest input.
  double since = flags.since;
  if (since <= 0) {
    since = -1;
    for (const auto& f : files) {
      const double t = mtime_of(f);
      if (since < 0 || t < since) since = t;
    }
  }
  StateMap map;
  std::map<std::vector<std::string>, std::unique_ptr<Differential>> diffs;
  size_t inputs = 0, skipped = 0;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    auto decoder = FuzzDecoder::open(data, nullptr);
    if (!decoder) {
      skipped++;
      continue;
    }
    inputs++;
    const double t = std::max(0.0, mtime_of(f) - since);
    const Setup& setup = decoder->setup();
    std::vector<std::string> names = choose_implementations(setup).names;
    auto& diff = diffs[names];
    if (!diff) diff = std::make_unique<Differential>(make_implementations(names));
    diff->reset(setup);
    while (auto op = decoder->next(diff->model())) {
      // A violation (a crash input, a mutant) ends the input where the fuzz target stops too.
      if (diff->step(*op).kind != StepOutcome::ok) break;
      map.note(diff->model(), diff->impls(), *op, t);
    }
  }
  if (flags.json) {
    nlohmann::ordered_json j = state_map_json(map);
    j["inputs"] = inputs;
    j["not_fuzz_inputs"] = skipped;
    print_json(std::cout, j);
  } else {
    std::cout << inputs << " inputs (" << skipped << " not fuzz inputs)\n"
              << format_state_map(map, "libFuzzer corpus");
  }
  return Exit::ok;
}

}  // namespace foliocheck::cli
