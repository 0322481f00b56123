// `foliocheck decode`: turns a fuzz_differential input into the trace the fuzzer ran.
#include <fstream>
#include <iostream>
#include <iterator>
#include <string_view>
#include <vector>

#include "fuzz/decoder.h"
#include "tools/cli.h"

namespace foliocheck::cli {

Exit cmd_decode(const Flags& flags) {
  if (flags.args.size() != 1) return usage_error("decode needs exactly one input FILE");
  const std::string& file = flags.args[0];
  std::ifstream in(file, std::ios::binary);
  if (!in) return usage_error(file + ": cannot open the file");
  const std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  if (in.bad()) return usage_error(file + ": cannot read the file");
  const DecodeResult decoded = decode_fuzz_input(data);
  if (decoded.harness) {
    std::cerr << file << ": HARNESS BUG: " << decoded.error << "\n";
    return Exit::harness;
  }
  if (!decoded.trace) {
    const bool text = std::string_view(reinterpret_cast<const char*>(data.data()), data.size())
                          .starts_with("foliocheck-trace");
    return usage_error(file + ": " + decoded.error +
                       (text ? " (this is a trace: run it with foliocheck replay)" : ""));
  }
  std::cout << print_trace(*decoded.trace);
  return Exit::ok;
}

}  // namespace foliocheck::cli
