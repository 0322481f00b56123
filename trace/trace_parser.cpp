// Parses trace format v1 with errors that name the file, line and column.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/reference_model.h"
#include "trace/trace.h"

namespace foliocheck {
namespace {

struct Token {
  std::string_view text;
  uint32_t column;  // 1-based
};

// One `key=value`, `key[index]=value` or bare flag.
struct Item {
  std::string_view key;
  std::optional<std::string_view> index;
  std::optional<std::string_view> value;
  uint32_t column;
  uint32_t value_column;
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view file) : m_text(text), m_file(file) {}
  ParseResult run();

 private:
  bool fail(uint32_t column, std::string message) {
    if (!m_error) m_error = TraceError{std::string(m_file), m_line, column, std::move(message)};
    return false;
  }
  bool statement(const std::vector<Token>& tokens);
  bool header(const std::vector<Token>& tokens);
  bool config(const std::vector<Token>& tokens);
  bool folio(const std::vector<Token>& tokens);
  bool expect(const std::vector<Token>& tokens);
  bool operation(const std::vector<Token>& tokens);
  bool concurrent(const std::vector<Token>& tokens);
  bool end(const std::vector<Token>& tokens);
  bool schedule(const std::vector<Token>& tokens);
  bool split(const std::vector<Token>& tokens, std::vector<Item>& items);
  bool integer(std::string_view text, uint32_t column, int64_t lo, int64_t hi, int64_t& out,
               std::string_view what);

  std::string_view m_text;
  std::string_view m_file;
  uint32_t m_line = 0;
  std::optional<TraceError> m_error;
  Trace m_trace;
  bool m_have_header = false;
  bool m_have_config = false;
  bool m_have_folio = false;
  // The open `concurrent` block (1-based), or 0; the block a `schedule` line may still follow
  // (the last one closed, until the next operation or block), or 0.
  uint32_t m_open_block = 0;
  uint32_t m_schedulable = 0;
};

bool Parser::integer(std::string_view text, uint32_t column, int64_t lo, int64_t hi, int64_t& out,
                     std::string_view what) {
  if (text.empty()) return fail(column, "missing value for " + std::string(what));
  int64_t v = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, v, 10);
  if (ec == std::errc::result_out_of_range)
    return fail(column, std::string(what) + " is out of range (" + std::to_string(lo) + ".." +
                            std::to_string(hi) + ")");
  if (ec != std::errc() || ptr != last)
    return fail(column, "expected a decimal integer for " + std::string(what) + ", got '" +
                            std::string(text) + "'");
  if (v < lo || v > hi)
    return fail(column, std::string(what) + "=" + std::to_string(v) + " is out of range (" +
                            std::to_string(lo) + ".." + std::to_string(hi) + ")");
  out = v;
  return true;
}

bool Parser::split(const std::vector<Token>& tokens, std::vector<Item>& items) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (size_t i = 1; i < tokens.size(); i++) {
    const Token& t = tokens[i];
    Item item{t.text, std::nullopt, std::nullopt, t.column, t.column};
    const size_t eq = t.text.find('=');
    if (eq != std::string_view::npos) {
      item.key = t.text.substr(0, eq);
      item.value = t.text.substr(eq + 1);
      item.value_column = t.column + static_cast<uint32_t>(eq) + 1;
    }
    const size_t open = item.key.find('[');
    if (open != std::string_view::npos) {
      if (item.key.empty() || item.key.back() != ']')
        return fail(t.column, "malformed index in '" + std::string(t.text) + "'");
      item.index = item.key.substr(open + 1, item.key.size() - open - 2);
      item.key = item.key.substr(0, open);
    }
    if (item.key.empty()) return fail(t.column, "empty key in '" + std::string(t.text) + "'");
    // A set, not a scan: fuzzed lines can hold many thousands of items.
    if (!seen.emplace(item.key, item.index.value_or(std::string_view{"\x01"})).second)
      return fail(t.column, "key '" + std::string(t.text.substr(0, eq)) + "' given twice");
    items.push_back(item);
  }
  return true;
}

bool Parser::header(const std::vector<Token>& tokens) {
  if (tokens[0].text != "foliocheck-trace")
    return fail(tokens[0].column, "a trace starts with 'foliocheck-trace 1', not '" +
                                      std::string(tokens[0].text) + "'");
  if (tokens.size() != 2) return fail(tokens[0].column, "expected 'foliocheck-trace 1'");
  int64_t version = 0;
  if (!integer(tokens[1].text, tokens[1].column, 1, kIntMax, version, "version")) return false;
  if (version != kTraceVersion)
    return fail(tokens[1].column, "unsupported trace version " + std::to_string(version) +
                                      " (this foliocheck reads version 1)");
  m_have_header = true;
  return true;
}

bool Parser::config(const std::vector<Token>& tokens) {
  if (m_have_config) return fail(tokens[0].column, "config given twice");
  if (m_have_folio) return fail(tokens[0].column, "config must come before folio");
  std::vector<Item> items;
  if (!split(tokens, items)) return false;
  Config& c = m_trace.setup.config;
  for (const Item& it : items) {
    if (it.index || !it.value) return fail(it.column, "config takes key=value pairs");
    int64_t v = 0;
    if (it.key == "semantics") {
      auto s = semantics_from_name(*it.value);
      if (!s)
        return fail(it.value_column, "unknown semantics '" + std::string(*it.value) +
                                         "' (v6.12, mm-id, no-page-mapcount, no-mm-id)");
      c.semantics = *s;
    } else if (it.key == "bits") {
      if (!integer(*it.value, it.value_column, 32, 64, v, "bits")) return false;
      if (v != 32 && v != 64) return fail(it.value_column, "bits must be 32 or 64");
      c.bits = static_cast<int>(v);
    } else if (it.key == "pmd_order") {
      if (!integer(*it.value, it.value_column, 2, 19, v, "pmd_order")) return false;
      c.pmd_order = static_cast<int>(v);
    } else if (it.key == "pud_order") {
      if (!integer(*it.value, it.value_column, 3, 20, v, "pud_order")) return false;
      c.pud_order = static_cast<int>(v);
    } else {
      return fail(it.column, "unknown config key '" + std::string(it.key) +
                                 "' (semantics, bits, pmd_order, pud_order)");
    }
  }
  if (c.pmd_order >= c.pud_order)
    return fail(tokens[0].column, "pmd_order must be below pud_order");
  m_have_config = true;
  m_trace.config_line = m_line;
  return true;
}

bool Parser::folio(const std::vector<Token>& tokens) {
  if (m_have_folio) return fail(tokens[0].column, "folio given twice");
  std::vector<Item> items;
  if (!split(tokens, items)) return false;
  FolioShape& f = m_trace.setup.folio;
  bool have_order = false, have_type = false;
  for (const Item& it : items) {
    if (it.index) return fail(it.column, "folio keys take no index");
    if (it.key == "hugetlb" && !it.value) {
      f.hugetlb = true;
    } else if (!it.value) {
      return fail(it.column, "unknown folio flag '" + std::string(it.key) + "' (hugetlb)");
    } else if (it.key == "order") {
      int64_t v = 0;
      if (!integer(*it.value, it.value_column, 0, m_trace.setup.config.pud_order, v, "order"))
        return false;
      f.order = static_cast<int>(v);
      have_order = true;
    } else if (it.key == "type") {
      auto t = folio_type_from_name(*it.value);
      if (!t)
        return fail(it.value_column,
                    "unknown folio type '" + std::string(*it.value) + "' (anon, file, shmem)");
      f.type = *t;
      have_type = true;
    } else {
      return fail(it.column, "unknown folio key '" + std::string(it.key) + "' (order, type)");
    }
  }
  if (!have_order) return fail(tokens[0].column, "folio needs order=");
  if (!have_type) return fail(tokens[0].column, "folio needs type=");
  if (auto why = ReferenceModel::setup_error(m_trace.setup)) return fail(tokens[0].column, *why);
  m_have_folio = true;
  // Without a config line the setup is the defaults and the folio line: errors about it name that.
  if (!m_trace.config_line) m_trace.config_line = m_line;
  return true;
}

bool Parser::expect(const std::vector<Token>& tokens) {
  if (!m_have_folio) return fail(tokens[0].column, "expect before the folio statement");
  if (m_open_block)
    return fail(tokens[0].column,
                "expect inside a concurrent block (expects hold once every thread finished: put "
                "them after 'end')");
  std::vector<Item> items;
  if (!split(tokens, items)) return false;
  if (items.empty()) return fail(tokens[0].column, "expect needs at least one observable=value");
  Statement st;
  st.kind = Statement::expect;
  st.line = m_line;
  std::set<std::pair<Obs, uint32_t>> indexes;
  const Setup& s = m_trace.setup;
  for (const Item& it : items) {
    auto obs = obs_from_name(it.key);
    if (!obs) return fail(it.column, "unknown observable '" + std::string(it.key) + "'");
    if (!it.value) return fail(it.column, "expect takes observable=value");
    const ObsInfo& info = obs_info(*obs);
    Expectation e{*obs, 0, 0, it.column};
    if (info.indexed != it.index.has_value())
      return fail(it.column, std::string(it.key) + (info.indexed ? " needs an index, e.g. " +
                                                                       std::string(it.key) + "[0]"
                                                                 : " takes no index"));
    if (it.index) {
      int64_t lo = 0, hi = 0;
      if (*obs == Obs::page_mapcount || *obs == Obs::anon_exclusive) {
        hi = int64_t{s.nr_pages()} - 1;
      } else if (*obs == Obs::mm_mapcount) {
        lo = 1;
        hi = mm_id_max(s.config.bits);
      } else {
        hi = 1;
      }
      int64_t idx = 0;
      const uint32_t col = it.column + static_cast<uint32_t>(it.key.size()) + 1;
      if (!integer(*it.index, col, lo, hi, idx, std::string(it.key) + " index")) return false;
      e.index = static_cast<uint32_t>(idx);
    }
    // `ret` reads as the kernel writes it: -EBUSY is accepted beside -16.
    if (*obs == Obs::ret && *it.value == "-EBUSY")
      e.value = -kEBUSY;
    else if (!integer(*it.value, it.value_column, INT64_MIN, INT64_MAX, e.value, it.key))
      return false;
    // Indexes are compared as numbers: `x[01]` and `x[1]` name one observable.
    if (info.indexed && !indexes.emplace(e.obs, e.index).second)
      return fail(it.column, std::string(it.key) + "[" + std::to_string(e.index) + "] given twice");
    st.expects.push_back(e);
  }
  m_trace.statements.push_back(std::move(st));
  return true;
}

bool Parser::operation(const std::vector<Token>& tokens) {
  std::string_view name = tokens[0].text;
  auto kind = op_from_name(name);
  bool singular = false;
  if (!kind && name.ends_with("_pte")) {
    auto plural = op_from_name(std::string(name) + "s");
    if (plural && (op_info(*plural).args & kArgRange)) {
      kind = plural;
      singular = true;
    }
  }
  if (!kind) return fail(tokens[0].column, "unknown statement '" + std::string(name) + "'");
  if (!m_have_folio) return fail(tokens[0].column, "operation before the folio statement");
  std::vector<Item> items;
  if (!split(tokens, items)) return false;
  const unsigned args = op_info(*kind).args;
  const Setup& s = m_trace.setup;
  Statement st;
  st.kind = Statement::op;
  st.line = m_line;
  Op& op = st.operation;
  op.kind = *kind;
  op.mm = 0;
  op.nr = singular ? 1 : 0;
  bool have_mm = false, have_src = false, have_page = false, have_nr = singular;
  for (const Item& it : items) {
    if (it.index) return fail(it.column, "operation keys take no index");
    if (!it.value) {
      if (it.key == "exclusive" && (args & kArgExclusive)) {
        op.exclusive = true;
        continue;
      }
      return fail(it.column, "unknown flag '" + std::string(it.key) + "' for " + std::string(name));
    }
    int64_t v = 0;
    const std::string_view key = it.key;
    if (key == "mm" && (args & kArgMm)) {
      if (!integer(*it.value, it.value_column, 1, mm_id_max(s.config.bits), v, "mm")) return false;
      op.mm = static_cast<uint32_t>(v);
      have_mm = true;
    } else if (key == "src" && (args & kArgSrc)) {
      if (!integer(*it.value, it.value_column, 1, mm_id_max(s.config.bits), v, "src")) return false;
      op.src = static_cast<uint32_t>(v);
      have_src = true;
    } else if (key == "page" && (args & (kArgRange | kArgPage))) {
      if (!integer(*it.value, it.value_column, 0, kIntMax, v, "page")) return false;
      op.page = static_cast<uint32_t>(v);
      have_page = true;
    } else if (key == "nr" && (args & kArgRange) && !singular) {
      if (!integer(*it.value, it.value_column, 0, kIntMax, v, "nr")) return false;
      op.nr = static_cast<uint32_t>(v);
      have_nr = true;
    } else if (key == "x") {
      if (!integer(*it.value, it.value_column, 1, kMaxRepeat, v, "x")) return false;
      op.repeat = static_cast<uint32_t>(v);
    } else {
      return fail(it.column, "unknown key '" + std::string(key) + "' for " + std::string(name));
    }
  }
  auto missing = [&](const char* key) {
    return fail(tokens[0].column, std::string(name) + " needs " + key + "=");
  };
  if ((args & kArgMm) && !have_mm) return missing("mm");
  if ((args & kArgSrc) && !have_src) return missing("src");
  if ((args & (kArgRange | kArgPage)) && !have_page) return missing("page");
  if ((args & kArgRange) && !have_nr) return missing("nr");
  if (!(args & (kArgRange | kArgPage))) op.nr = 1;
  if (!(args & kArgRange) && (args & kArgPage)) op.nr = 1;
  st.block = m_open_block;
  m_schedulable = 0;
  m_trace.statements.push_back(std::move(st));
  return true;
}

bool Parser::concurrent(const std::vector<Token>& tokens) {
  if (!m_have_folio) return fail(tokens[0].column, "concurrent before the folio statement");
  if (m_open_block)
    return fail(tokens[0].column, "nested concurrent block (the block opened on line " +
                                      std::to_string(m_trace.blocks.back().line) +
                                      " is still open)");
  if (tokens.size() != 1) return fail(tokens[1].column, "concurrent takes nothing after it");
  m_trace.blocks.push_back(ConcurrentBlock{{}, m_line});
  m_open_block = static_cast<uint32_t>(m_trace.blocks.size());
  m_schedulable = 0;
  return true;
}

bool Parser::end(const std::vector<Token>& tokens) {
  if (!m_open_block) return fail(tokens[0].column, "end without a concurrent block");
  if (tokens.size() != 1) return fail(tokens[1].column, "end takes nothing after it");
  if (m_trace.block_threads(m_open_block).empty())
    return fail(tokens[0].column, "empty concurrent block: it needs at least one operation");
  m_schedulable = m_open_block;
  m_open_block = 0;
  return true;
}

bool Parser::schedule(const std::vector<Token>& tokens) {
  if (m_open_block)
    return fail(tokens[0].column, "schedule inside a concurrent block (it goes after 'end')");
  if (!m_schedulable)
    return fail(tokens[0].column,
                "schedule must follow the 'end' of a concurrent block, before the next operation");
  ConcurrentBlock& b = m_trace.blocks[m_schedulable - 1];
  if (!b.schedule.empty()) return fail(tokens[0].column, "schedule given twice for one block");
  if (tokens.size() != 2)
    return fail(tokens.size() < 2 ? tokens[0].column : tokens[2].column,
                "expected 'schedule T,T,...' (thread numbers separated by commas, no spaces)");
  const int64_t threads = static_cast<int64_t>(m_trace.block_threads(m_schedulable).size());
  std::string_view list = tokens[1].text;
  uint32_t column = tokens[1].column;
  std::vector<uint32_t> out;
  while (true) {
    const size_t comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    int64_t t = 0;
    if (!integer(item, column, 0, threads - 1, t, "schedule thread")) return false;
    out.push_back(static_cast<uint32_t>(t));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
    column += static_cast<uint32_t>(comma) + 1;
  }
  b.schedule = std::move(out);
  return true;
}

bool Parser::statement(const std::vector<Token>& tokens) {
  if (!m_have_header) return header(tokens);
  const std::string_view word = tokens[0].text;
  if (word == "foliocheck-trace") return fail(tokens[0].column, "header given twice");
  if (word == "config") return config(tokens);
  if (word == "folio") return folio(tokens);
  if (word == "expect") return expect(tokens);
  if (word == "concurrent") return concurrent(tokens);
  if (word == "end") return end(tokens);
  if (word == "schedule") return schedule(tokens);
  return operation(tokens);
}

ParseResult Parser::run() {
  size_t pos = 0;
  while (pos <= m_text.size() && !m_error) {
    size_t end = m_text.find('\n', pos);
    if (end == std::string_view::npos) end = m_text.size();
    std::string_view line = m_text.substr(pos, end - pos);
    m_line++;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<Token> tokens;
    for (size_t i = 0; i < line.size();) {
      if (line[i] == ' ' || line[i] == '\t') {
        i++;
        continue;
      }
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') j++;
      tokens.push_back({line.substr(i, j - i), static_cast<uint32_t>(i + 1)});
      i = j;
    }
    for (const Token& t : tokens)
      for (unsigned char c : t.text)
        if (c < 0x20 || c >= 0x7f) {
          fail(
              t.column, "unexpected byte 0x" + [c] {
                const char* hex = "0123456789abcdef";
                return std::string{hex[c >> 4], hex[c & 15]};
              }() + " (traces are plain ASCII)");
          break;
        }
    if (!m_error && !tokens.empty()) statement(tokens);
    if (end == m_text.size()) break;
    pos = end + 1;
  }
  if (!m_error && !m_have_header) {
    m_line = 1;
    fail(1, "empty trace: expected 'foliocheck-trace 1'");
  }
  if (!m_error && !m_have_folio)
    fail(1, "missing folio statement (e.g. 'folio order=0 type=anon')");
  if (!m_error && m_open_block) {
    m_line = m_trace.blocks.back().line;
    fail(1, "unterminated concurrent block: no 'end' after it");
  }
  if (m_error) return {std::nullopt, m_error};
  return {std::move(m_trace), std::nullopt};
}

}  // namespace

std::string TraceError::describe() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: " + message;
}

size_t Trace::nr_ops() const {
  size_t n = 0;
  for (const Statement& s : statements) n += s.kind == Statement::op;
  return n;
}

std::vector<size_t> Trace::block_threads(uint32_t k) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < statements.size(); i++)
    if (statements[i].kind == Statement::op && statements[i].block == k && k) out.push_back(i);
  return out;
}

void Trace::carry_schedules(const Trace& from) {
  for (uint32_t k = 1; k <= blocks.size() && k <= from.blocks.size(); k++) {
    const std::vector<size_t> before = from.block_threads(k), now = block_threads(k);
    std::vector<uint32_t> schedule;
    for (uint32_t t : from.blocks[k - 1].schedule) {
      if (t >= before.size()) continue;
      const uint32_t line = from.statements[before[t]].line;
      for (size_t i = 0; i < now.size(); i++) {
        if (line && statements[now[i]].line == line) {
          schedule.push_back(static_cast<uint32_t>(i));
          break;
        }
      }
    }
    blocks[k - 1].schedule = std::move(schedule);
  }
}

std::vector<uint32_t> Trace::mms() const {
  std::vector<uint32_t> ids;
  auto note = [&](uint32_t id) {
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  for (const Statement& s : statements) {
    if (s.kind != Statement::op) continue;
    const unsigned args = op_info(s.operation.kind).args;
    if (args & kArgSrc) note(s.operation.src);
    if (args & kArgMm) note(s.operation.mm);
  }
  return ids;
}

std::vector<size_t> Trace::sequential_order() const {
  std::vector<size_t> order;
  for (size_t i = 0; i < statements.size(); i++) {
    const uint32_t k = statements[i].kind == Statement::op ? statements[i].block : 0;
    if (!k || k > blocks.size() || blocks[k - 1].schedule.empty()) {
      order.push_back(i);
      continue;
    }
    // The first statement of a block stands for the whole block, in the schedule's order.
    if (i > 0 && statements[i - 1].kind == Statement::op && statements[i - 1].block == k) continue;
    const std::vector<size_t> threads = block_threads(k);
    const auto& sched = blocks[k - 1].schedule;
    std::vector<size_t> last(threads.size(), SIZE_MAX);  // the step each thread runs last
    for (size_t step = 0; step < sched.size(); step++)
      if (sched[step] < threads.size()) last[sched[step]] = step;
    std::vector<size_t> idx(threads.size());
    for (size_t t = 0; t < idx.size(); t++) idx[t] = t;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return last[a] < last[b]; });
    for (size_t t : idx) order.push_back(threads[t]);
  }
  return order;
}

ParseResult parse_trace(std::string_view text, std::string_view file) {
  return Parser(text, file).run();
}

ParseResult parse_trace_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return {std::nullopt, TraceError{path, 0, 0, "is a directory, not a trace file"}};
  std::ifstream in(path, std::ios::binary);
  if (!in) return {std::nullopt, TraceError{path, 0, 0, "cannot open the file"}};
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return {std::nullopt, TraceError{path, 0, 0, "cannot read the file"}};
  return parse_trace(buf.str(), path);
}

}  // namespace foliocheck
