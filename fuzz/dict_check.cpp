// Checks that a libFuzzer dictionary quotes every operation and observable name of the vocabulary.
//
// Usage: dict_check FILE.dict. ops.def and observables.def are the lists; a name added there
// without a dictionary entry fails ctest, so the parser fuzzer keeps knowing every word.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "core/vocab.h"

int main(int argc, char** argv) {
  using namespace foliocheck;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE.dict\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "%s: error: cannot open the file\n", argv[1]);
    return 2;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string dict = buf.str();
  int missing = 0;
  auto need = [&](std::string_view kind, std::string_view name) {
    if (dict.find("\"" + std::string(name)) != std::string::npos) return;
    std::fprintf(stderr, "%s: no entry for the %.*s '%.*s'\n", argv[1], static_cast<int>(kind.size()),
                 kind.data(), static_cast<int>(name.size()), name.data());
    missing++;
  };
  for (int i = 0; i < kNumOpKinds; i++) need("operation", op_info(static_cast<OpKind>(i)).name);
  for (int i = 0; i < kNumObs; i++) need("observable", obs_info(static_cast<Obs>(i)).name);
  if (missing) return 1;
  std::printf("%s: names all %d operations and %d observables\n", argv[1], kNumOpKinds, kNumObs);
  return 0;
}
