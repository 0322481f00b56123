// libFuzzer target: the trace parser never crashes or hangs, and print(parse(x)) is a fixed point.
//
// For any text: parse_trace() gives either a trace or an error pointing inside the text (a line
// that exists, a column within it); for a trace t, print_trace(t) parses back to t and prints
// back to the same text. A broken claim prints the input and a FOLIOCHECK-SIGNATURE line, then
// aborts. Seeds: corpus/fuzz_trace_parser/; dictionary: corpus/fuzz_trace_parser.dict.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "trace/trace.h"

namespace {

using namespace foliocheck;

[[noreturn]] void fail(std::string_view input, const char* signature, const std::string& message) {
  std::fprintf(stderr, "==== input ====\n%.*s\n==== end of input ====\nfoliocheck: %s\n"
               "FOLIOCHECK-SIGNATURE: %s\n",
               static_cast<int>(input.size()), input.data(), message.c_str(), signature);
  std::fflush(stderr);
  std::abort();
}

// The 1-based line `line` of `text`, as the parser splits lines.
std::string_view line_of(std::string_view text, uint32_t line) {
  size_t pos = 0;
  for (uint32_t i = 1; i < line; i++) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return {};
    pos = nl + 1;
  }
  const size_t end = std::min(text.find('\n', pos), text.size());
  return text.substr(pos, end - pos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const ParseResult parsed = parse_trace(text, "<fuzz>");
  if (parsed.trace.has_value() == parsed.error.has_value())
    fail(text, "parser-result", "parse_trace() must give exactly one of a trace and an error");
  if (parsed.error) {
    const TraceError& e = *parsed.error;
    const uint32_t lines = static_cast<uint32_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    if (e.line < 1 || e.line > lines)
      fail(text, "parser-error-line", "error line " + std::to_string(e.line) + " outside 1.." +
                                          std::to_string(lines) + ": " + e.describe());
    if (e.column < 1 || e.column > line_of(text, e.line).size() + 1)
      fail(text, "parser-error-column", "error column outside its line: " + e.describe());
    if (e.message.empty()) fail(text, "parser-error-message", "an error without a message");
    return 0;
  }
  const std::string printed = print_trace(*parsed.trace);
  const ParseResult again = parse_trace(printed, "<printed>");
  if (!again.trace)
    fail(text, "printer-unparsable", "print(parse(x)) does not parse: " + again.error->describe() +
                                         "\n==== printed ====\n" + printed);
  if (!(*again.trace == *parsed.trace))
    fail(text, "printer-roundtrip", "parse(print(t)) != t\n==== printed ====\n" + printed);
  if (print_trace(*again.trace) != printed)
    fail(text, "printer-fixed-point", "print(parse(print(t))) != print(t)\n==== printed ====\n" + printed);
  return 0;
}
