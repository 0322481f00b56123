// `foliocheck export --kunit`: each trace becomes a KUnit case that calls the kernel's rmap helpers.
#include "export/kunit.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace foliocheck {
namespace {

constexpr const char* kPrelude =
#include "export/kunit_prelude.inc"
    ;

constexpr int kMaxMms = 16;  // FC_MAX_MMS of the prelude

// A C string literal; `format` doubles '%' for the printf-style messages of KUnit.
std::string c_string(std::string_view s, bool format = false) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (ch == '%' && format) out += '%';
    out += ch;
  }
  return out + "\"";
}

std::string sanitise(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    out += ok ? ch : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out = "t_" + out;
  return out;
}

std::string stem_of(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  if (base.ends_with(".trace")) base.resize(base.size() - 6);
  return base;
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  const std::string dir = path.substr(0, slash);
  return dir.substr(dir.find_last_of('/') + 1);
}

// Case names: the file's stem, made unique by its folder, then by a counter.
std::vector<std::string> case_names(const std::vector<KunitInput>& inputs) {
  std::map<std::string, int> uses;
  for (const KunitInput& in : inputs) uses[sanitise(stem_of(in.path))]++;
  std::vector<std::string> names;
  std::set<std::string> taken;
  for (const KunitInput& in : inputs) {
    std::string name = sanitise(stem_of(in.path));
    if (uses[name] > 1 && !parent_of(in.path).empty())
      name = sanitise(parent_of(in.path) + "_" + stem_of(in.path));
    std::string unique = name;
    for (int n = 2; taken.count(unique); n++) unique = name + "_" + std::to_string(n);
    taken.insert(unique);
    names.push_back(unique);
  }
  return names;
}

bool uses_page_range(OpKind k) { return op_info(k).args & kArgRange; }

std::string semantics_enum(Semantics s) {
  switch (s) {
    case Semantics::mm_id: return "FC_MM_ID";
    case Semantics::no_page_mapcount: return "FC_NO_PAGE_MAPCOUNT";
    case Semantics::no_mm_id: return "FC_NO_MM_ID";
    case Semantics::v6_12:
    case Semantics::proposed_total_mapped:
      break;
  }
  return "FC_OTHER";
}

std::string type_enum(FolioType t) {
  return t == FolioType::anon ? "FC_ANON" : t == FolioType::file ? "FC_FILE" : "FC_SHMEM";
}

class CaseWriter {
 public:
  CaseWriter(const KunitInput& in, std::ostringstream& out)
      : in_(in), t_(in.trace), out_(out), mms_(in.trace.mms()) {}

  void write(const std::string& name) {
    const Setup& s = t_.setup;
    out_ << "/* " << in_.path << " */\n"
         << "static void fc_" << name << "(struct kunit *test)\n{\n"
         << "\tstatic const struct fc_trace t = {\n"
         << "\t\t.file = " << c_string(in_.path) << ",\n"
         << "\t\t.semantics = " << semantics_enum(s.config.semantics) << ",\n"
         << "\t\t.bits = " << s.config.bits << ", .pmd_order = " << s.config.pmd_order
         << ", .pud_order = " << s.config.pud_order << ", .order = " << s.folio.order << ",\n"
         << "\t\t.type = " << type_enum(s.folio.type) << ", .nr_mms = " << mms_.size()
         << ", .fresh_anon = " << (fresh_anon() ? "true" : "false") << ",\n\t};\n"
         << "\tstruct fc_ctx *c = fc_setup(test, &t);\n"
         << "\tstruct folio *folio = c->folio;\n";
    if (has_repeat()) out_ << "\tunsigned int i;\n";
    out_ << "\n";
    first_ = true;
    for (const Statement& st : t_.statements) {
      if (st.kind == Statement::op)
        write_op(st);
      else
        write_expect(st);
      first_ = false;
    }
    out_ << "}\n\n";
  }

 private:
  bool fresh_anon() const {
    for (const Statement& st : t_.statements)
      if (st.kind == Statement::op) return st.operation.kind == OpKind::add_new_anon;
    return false;
  }
  bool has_repeat() const {
    for (const Statement& st : t_.statements)
      if (st.kind == Statement::op && st.operation.repeat > 1) return true;
    return false;
  }
  int mm_index(uint32_t id) const {
    return static_cast<int>(std::find(mms_.begin(), mms_.end(), id) - mms_.begin());
  }
  std::string vma(uint32_t id) const { return "c->vma[" + std::to_string(mm_index(id)) + "]"; }
  std::string mm(uint32_t id) const { return "c->mm[" + std::to_string(mm_index(id)) + "]"; }
  static std::string page(uint32_t p) {
    return p == 0 ? "&folio->page" : "folio_page(folio, " + std::to_string(p) + ")";
  }
  static std::string flags(const Op& op) { return op.exclusive ? "RMAP_EXCLUSIVE" : "RMAP_NONE"; }

  // A mapping: the caller holds a folio reference per mapping before it maps (a mapping pins the
  // folio), so the references come first.
  static std::vector<std::string> mapping(const std::string& refs, const std::string& call,
                                          const std::string& track) {
    return {"folio_ref_add(folio, " + refs + ");", call, track, "c->ret = 0;"};
  }
  // An unmapping drops its references only after the rmap call, as zap_pte_range() does.
  static std::vector<std::string> unmapping(const std::string& call, const std::string& refs,
                                            const std::string& track) {
    return {call, "folio_ref_sub(folio, " + refs + ");", track, "c->ret = 0;"};
  }

  // The kernel call of one repetition of `op`, with the references its caller takes or drops.
  std::vector<std::string> call(const Op& op) const {
    const std::string p = page(op.page), n = std::to_string(op.nr);
    const std::string m = std::to_string(mm_index(op.mm));
    const std::string range = std::to_string(op.page) + ", " + n;
    switch (op.kind) {
      case OpKind::add_new_anon:
        // Small and PMD-sized folios get one mapping, smaller large folios one per page.
        return {"folio_add_new_anon_rmap(folio, " + vma(op.mm) + ", FC_VA, " + flags(op) + ");",
                "if (folio_test_pmd_mappable(folio)) {",
                "\tfolio_ref_add(folio, 1);",
                "\tc->pmds[" + m + "]++;",
                "} else {",
                "\tfolio_ref_add(folio, folio_nr_pages(folio));",
                "\tfc_track_ptes(c, " + m + ", 0, folio_nr_pages(folio), 1);",
                "}",
                "c->ret = 0;"};
      case OpKind::add_anon_ptes:
        return mapping(n,
                       "folio_add_anon_rmap_ptes(folio, " + p + ", " + n + ", " + vma(op.mm) +
                           ", FC_ADDR(" + std::to_string(op.page) + "), " + flags(op) + ");",
                       "fc_track_ptes(c, " + m + ", " + range + ", 1);");
      case OpKind::add_anon_pmd:
        return mapping("1",
                       "folio_add_anon_rmap_pmd(folio, &folio->page, " + vma(op.mm) + ", FC_VA, " +
                           flags(op) + ");",
                       "c->pmds[" + m + "]++;");
      case OpKind::add_file_ptes:
        return mapping(n,
                       "folio_add_file_rmap_ptes(folio, " + p + ", " + n + ", " + vma(op.mm) + ");",
                       "fc_track_ptes(c, " + m + ", " + range + ", 1);");
      case OpKind::add_file_pmd:
        return mapping("1", "folio_add_file_rmap_pmd(folio, &folio->page, " + vma(op.mm) + ");",
                       "c->pmds[" + m + "]++;");
      case OpKind::add_file_pud:
        return mapping("1", "folio_add_file_rmap_pud(folio, &folio->page, " + vma(op.mm) + ");",
                       "c->puds[" + m + "]++;");
      case OpKind::remove_ptes:
        return unmapping("folio_remove_rmap_ptes(folio, " + p + ", " + n + ", " + vma(op.mm) + ");",
                         n, "fc_track_ptes(c, " + m + ", " + range + ", -1);");
      case OpKind::remove_pmd:
        return unmapping("folio_remove_rmap_pmd(folio, &folio->page, " + vma(op.mm) + ");", "1",
                         "c->pmds[" + m + "]--;");
      case OpKind::remove_pud:
        return unmapping("folio_remove_rmap_pud(folio, &folio->page, " + vma(op.mm) + ");", "1",
                         "c->puds[" + m + "]--;");
      case OpKind::dup_file_ptes:
        return mapping(n,
                       "folio_dup_file_rmap_ptes(folio, " + p + ", " + n + ", " + vma(op.mm) + ");",
                       "fc_track_ptes(c, " + m + ", " + range + ", 1);");
      case OpKind::dup_file_pmd:
        // The kernel duplicates a PMD as HPAGE_PMD_NR PTE-level mappings (no entire mapping).
        return mapping("folio_nr_pages(folio)",
                       "folio_dup_file_rmap_pmd(folio, &folio->page, " + vma(op.mm) + ");",
                       "fc_track_ptes(c, " + m + ", 0, folio_nr_pages(folio), 1);");
      case OpKind::try_dup_anon_ptes:
      case OpKind::try_dup_anon_pmd: {
        const bool ptes = op.kind == OpKind::try_dup_anon_ptes;
        const std::string refs = ptes ? n : "1";
        // copy_present_ptes()/copy_huge_pmd(): reference first, dropped again on -EBUSY; fork
        // holds the parent's write_protect_seq, which folio_needs_cow_for_dma() asserts.
        return {"folio_ref_add(folio, " + refs + ");",
                "raw_write_seqcount_begin(&" + mm(op.src) + "->write_protect_seq);",
                ptes ? "c->ret = folio_try_dup_anon_rmap_ptes(folio, " + p + ", " + n + ", " +
                           vma(op.mm) + ", " + vma(op.src) + ");"
                     : "c->ret = folio_try_dup_anon_rmap_pmd(folio, &folio->page, " + vma(op.mm) +
                           ", " + vma(op.src) + ");",
                "raw_write_seqcount_end(&" + mm(op.src) + "->write_protect_seq);",
                "if (c->ret)",
                "\tfolio_ref_sub(folio, " + refs + ");",
                "else",
                ptes ? "\tfc_track_ptes(c, " + m + ", " + range + ", 1);" : "\tc->pmds[" + m + "]++;"};
      }
      case OpKind::try_share_anon_pte:
        return {"c->ret = folio_try_share_anon_rmap_pte(folio, " + p + ");"};
      case OpKind::try_share_anon_pmd:
        return {"c->ret = folio_try_share_anon_rmap_pmd(folio, &folio->page);"};
      case OpKind::gup_pin:
        // As __get_user_pages_locked() does: the mm is marked before the folio is grabbed.
        return {"mm_flags_set(MMF_HAS_PINNED, " + mm(op.mm) + ");",
                "c->ret = try_grab_folio(folio, 1, FOLL_PIN);",
                "KUNIT_ASSERT_EQ(test, c->ret, 0);", "c->pins++;"};
      case OpKind::gup_unpin:
        return {"unpin_folio(folio);", "c->pins--;", "c->ret = 0;"};
      default:
        return {};  // hugetlb: refused before writing (kunit_export_refusal)
    }
  }

  void write_op(const Statement& st) {
    const Op& op = st.operation;
    out_ << (first_ ? "" : "\n") << "\t/* " << in_.path << ":" << st.line << ": " << print_op(op)
         << " */\n";
    std::string indent = "\t";
    if (op.repeat > 1) {
      out_ << "\tfor (i = 0; i < " << op.repeat << "; i++) {\n";
      indent = "\t\t";
    }
    for (const std::string& line : call(op)) out_ << indent << line << "\n";
    if (op.repeat > 1) out_ << "\t}\n";
  }

  // The kernel's reader of one observable, or empty with the reason it has none.
  std::string reader(const Expectation& e, std::string& none) const {
    const std::string i = std::to_string(e.index);
    switch (e.obs) {
      case Obs::folio_mapcount: return "folio_mapcount(folio)";
      case Obs::mapped: return "folio_mapped(folio)";
      case Obs::entire_mapcount: return "fc_entire_mapcount(folio)";
      case Obs::nr_pages_mapped: return "fc_nr_pages_mapped(folio)";
      case Obs::entirely_mapped: return "fc_entirely_mapped(folio)";
      case Obs::average_page_mapcount: return "folio_average_page_mapcount(folio)";
      case Obs::maybe_mapped_shared: return "folio_maybe_mapped_shared(folio)";
      case Obs::shared_bit: return "fc_shared_bit(folio)";
      case Obs::pincount: return "fc_pincount(folio)";
      case Obs::maybe_dma_pinned: return "folio_maybe_dma_pinned(folio)";
      case Obs::partially_mapped: return "fc_partially_mapped(folio)";
      case Obs::ret: return "c->ret";
      case Obs::nr_anon_mapped: return "fc_stat(c, FC_NR_ANON_MAPPED)";
      case Obs::nr_file_mapped: return "fc_stat(c, FC_NR_FILE_MAPPED)";
      case Obs::nr_anon_thps: return "fc_stat(c, FC_NR_ANON_THPS)";
      case Obs::nr_shmem_pmdmapped: return "fc_stat(c, FC_NR_SHMEM_PMDMAPPED)";
      case Obs::nr_file_pmdmapped: return "fc_stat(c, FC_NR_FILE_PMDMAPPED)";
      case Obs::page_mapcount: return "fc_page_mapcount(folio, " + i + ")";
      case Obs::anon_exclusive: return "fc_anon_exclusive(folio, " + i + ")";
      case Obs::mm_id: return "fc_mm_id(folio, " + i + ")";
      case Obs::mm_id_mapcount: return "fc_mm_id_mapcount(folio, " + i + ")";
      case Obs::mm_mapcount:
        none = "the kernel keeps no per-mm mapcount";
        return "";
      case Obs::total_mapped_pages:
        none = "_total_mapped_pages is the RFC's, not merged in any tree";
        return "";
      case Obs::warnings:
        if (e.value == 0) return "fc_warned(c)";  // only where fc_can_see_warnings(c)
        none = "the kernel prints its VM_WARNs but does not count them";
        return "";
      case Obs::likely_mapped_shared:
        none = "folio_likely_mapped_shared() is Linux 6.12's";
        return "";
      case Obs::result:
        none = "readers are not exported";
        return "";
    }
    none = "no reader";
    return "";
  }

  // The expected value: a number, or for mm_id the kernel's id of the trace's mm.
  std::string expected(const Expectation& e) const {
    if (e.obs != Obs::mm_id || e.value == 0) return std::to_string(e.value) + "L";
    const auto it = std::find(mms_.begin(), mms_.end(), static_cast<uint32_t>(e.value));
    if (it == mms_.end()) return "-1L /* mm " + std::to_string(e.value) + " never maps: no id */";
    return "fc_kernel_mm_id(c, " + std::to_string(it - mms_.begin()) + ")";
  }

  void write_expect(const Statement& st) {
    for (const Expectation& e : st.expects) {
      std::string what(obs_info(e.obs).name);
      if (obs_info(e.obs).indexed) what += "[" + std::to_string(e.index) + "]";
      const std::string where =
          in_.path + ":" + std::to_string(st.line) + ":" + std::to_string(e.column);
      std::string none;
      const std::string read = reader(e, none);
      if (read.empty()) {
        out_ << "\t/* " << where << ": " << what << "=" << e.value << " not checked: " << none
             << " */\n";
        continue;
      }
      const bool guarded = e.obs == Obs::warnings;
      if (guarded) out_ << "\tif (fc_can_see_warnings(c))\n\t";
      out_ << "\tKUNIT_EXPECT_EQ_MSG(test, (long)" << read << ", " << expected(e) << ",\n\t\t\t"
           << (guarded ? "\t    " : "    ")
           << c_string(where + ": " + what, true) << ");\n";
    }
  }

  const KunitInput& in_;
  const Trace& t_;
  std::ostringstream& out_;
  std::vector<uint32_t> mms_;
  bool first_ = true;
};

}  // namespace

std::string kunit_export_refusal(const Trace& t) {
  const Setup& s = t.setup;
  if (s.config.semantics == Semantics::v6_12)
    return "semantics=v6.12 is Linux 6.12's rmap; the suite runs the tree it is built in";
  if (s.config.semantics == Semantics::proposed_total_mapped)
    return "semantics=proposed-total-mapped is an RFC no tree has merged (docs/proposed.md)";
  if (s.folio.hugetlb)
    return "hugetlb folios need a hugetlb pool and hugetlbfs VMAs; not exported";
  if (t.mms().size() > static_cast<size_t>(kMaxMms))
    return "more than " + std::to_string(kMaxMms) + " mms";
  for (const Statement& st : t.statements) {
    if (st.kind == Statement::expect) {
      for (const Expectation& e : st.expects)
        if (e.obs == Obs::warnings && e.value != 0)
          return "line " + std::to_string(st.line) +
                 " expects VM_WARN warnings: the kernel would warn, not return";
      continue;
    }
    const Op& op = st.operation;
    if (op_info(op.kind).level == kRead)
      return "line " + std::to_string(st.line) + ": " + std::string(op_info(op.kind).name) +
             " is a reader for concurrent blocks (foliocheck interleave); not exported";
    const uint64_t end = uses_page_range(op.kind) ? uint64_t{op.page} + op.nr
                         : op.kind == OpKind::try_share_anon_pte ? uint64_t{op.page} + 1
                                                                   : 0;
    if (end > s.nr_pages() || (uses_page_range(op.kind) && op.nr == 0))
      return "line " + std::to_string(st.line) +
             ": the page range leaves the folio; the kernel would touch a neighbouring page";
  }
  return "";
}

KunitSuite export_kunit(const std::vector<KunitInput>& inputs) {
  KunitSuite suite;
  std::ostringstream out;
  out << kPrelude;
  const std::vector<std::string> names = case_names(inputs);
  for (size_t k = 0; k < inputs.size(); k++) {
    KunitCase kc{inputs[k].path, names[k], kunit_export_refusal(inputs[k].trace)};
    if (kc.skip_reason.empty()) {
      CaseWriter(inputs[k], out).write(kc.name);
    } else {
      out << "/* " << kc.path << ": not exported: " << kc.skip_reason << " */\n"
          << "static void fc_" << kc.name << "(struct kunit *test)\n{\n"
          << "\tkunit_skip(test, " << c_string(kc.path + ": " + kc.skip_reason, true) << ");\n}\n\n";
    }
    suite.cases.push_back(kc);
  }
  out << "static struct kunit_case fc_cases[] = {\n";
  for (const KunitCase& kc : suite.cases) out << "\tFC_CASE(" << kc.name << "),\n";
  out << "\t{}\n};\n\n"
      << "static struct kunit_suite fc_suite = {\n"
      << "\t.name = \"foliocheck\",\n"
      << "\t.test_cases = fc_cases,\n"
      << "};\n"
      << "kunit_test_suite(fc_suite);\n\n"
      << "MODULE_DESCRIPTION(\"foliocheck rmap mapcount traces as KUnit tests\");\n"
      << "MODULE_LICENSE(\"GPL\");\n";
  suite.source = out.str();
  return suite;
}

std::string kunit_kconfig_entry() {
  return "config FOLIOCHECK_KUNIT_TEST\n"
         "\tbool \"KUnit tests of the rmap mapcounts from foliocheck traces\" if !KUNIT_ALL_TESTS\n"
         "\tdepends on KUNIT && MMU\n"
         "\tdefault KUNIT_ALL_TESTS\n"
         "\thelp\n"
         "\t  Replays foliocheck traces (rmap calls on one folio with the expected\n"
         "\t  mapcounts, flags and statistics) on real folios and checks them with\n"
         "\t  the kernel's own readers. Built in only: it uses mm-internal helpers.\n"
         "\n"
         "\t  If unsure, say N.\n"
         "\n";
}

std::string kunit_makefile_line() {
  return "obj-$(CONFIG_FOLIOCHECK_KUNIT_TEST) += tests/foliocheck_kunit.o\n";
}

std::string kunit_kunitconfig() {
  // THP selects CONFIG_MM_ID; DEBUG_VM turns the rmap code's own sanity checks on.
  return "CONFIG_KUNIT=y\n"
         "CONFIG_TRANSPARENT_HUGEPAGE=y\n"
         "CONFIG_DEBUG_KERNEL=y\n"
         "CONFIG_DEBUG_VM=y\n"
         "CONFIG_FOLIOCHECK_KUNIT_TEST=y\n";
}

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return lines;
}

std::string new_file_diff(const std::string& path, const std::string& text) {
  const std::vector<std::string> lines = split_lines(text);
  std::string d = "diff --git a/" + path + " b/" + path + "\nnew file mode 100644\n--- /dev/null\n+++ b/" +
                  path + "\n@@ -0,0 +1," + std::to_string(lines.size()) + " @@\n";
  for (const std::string& l : lines) d += "+" + l + "\n";
  return d;
}

// Inserts `insert` before line `at` (0-based) of `old`, with three lines of context each side.
std::string insertion_diff(const std::string& path, const std::string& old, size_t at,
                           const std::string& insert) {
  const std::vector<std::string> lines = split_lines(old);
  const std::vector<std::string> added = split_lines(insert);
  const size_t from = at >= 3 ? at - 3 : 0;
  const size_t to = std::min(lines.size(), at + 3);
  const size_t ctx = to - from;
  std::string d = "diff --git a/" + path + " b/" + path + "\n--- a/" + path + "\n+++ b/" + path +
                  "\n@@ -" + std::to_string(from + 1) + "," + std::to_string(ctx) + " +" +
                  std::to_string(from + 1) + "," + std::to_string(ctx + added.size()) + " @@\n";
  for (size_t i = from; i < at; i++) d += " " + lines[i] + "\n";
  for (const std::string& l : added) d += "+" + l + "\n";
  for (size_t i = at; i < to; i++) d += " " + lines[i] + "\n";
  return d;
}

}  // namespace

KunitPatch make_kunit_patch(const KunitSuite& suite, const KunitTreeFiles& tree) {
  KunitPatch p;
  if (tree.kconfig.empty() || !tree.kconfig.ends_with("\n") || tree.makefile.empty() ||
      !tree.makefile.ends_with("\n")) {
    p.error = "mm/Kconfig and mm/Makefile must exist and end in a newline";
    return p;
  }
  if (tree.kconfig.find("config FOLIOCHECK_KUNIT_TEST\n") != std::string::npos) {
    p.error = "mm/Kconfig has FOLIOCHECK_KUNIT_TEST already: the suite is in this tree";
    return p;
  }
  // The entry goes before mm/Kconfig's DAMON menu, after the other mm tests.
  const std::vector<std::string> klines = split_lines(tree.kconfig);
  size_t at = klines.size();
  for (size_t i = 0; i < klines.size(); i++)
    if (klines[i] == "source \"mm/damon/Kconfig\"") at = i;
  if (at == klines.size())
    for (size_t i = 0; i < klines.size(); i++)
      if (klines[i] == "endmenu") at = i;
  if (at == klines.size()) {
    p.error = "mm/Kconfig has neither 'source \"mm/damon/Kconfig\"' nor 'endmenu' to insert before";
    return p;
  }
  const std::string kunitconfig =
      tree.has_kunitconfig ? "mm/tests/foliocheck.kunitconfig" : "mm/tests/.kunitconfig";
  const size_t nr_exported =
      std::count_if(suite.cases.begin(), suite.cases.end(),
                    [](const KunitCase& c) { return c.skip_reason.empty(); });

  std::ostringstream m;
  m << "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
    << "From: foliocheck <foliocheck@example.invalid>\n"
    << "Date: Thu, 1 Jan 1970 00:00:00 +0000\n"
    << "Subject: [PATCH] mm/tests: KUnit cases of the rmap mapcounts from foliocheck traces\n"
    << "\n"
    << "Add " << suite.cases.size() << " KUnit cases generated by `foliocheck export\n--kunit` ("
    << nr_exported << " exported, the others report why they skip). Each\ncalls the rmap helpers"
    << " a trace names on a real folio and checks every\nexpected mapcount, flag and statistic with"
    << " the kernel's own readers:\n\n"
    << "  ./tools/testing/kunit/kunit.py run --arch=x86_64 --kunitconfig=" << kunitconfig << "\n\n";
  for (const KunitCase& c : suite.cases) m << "  " << c.name << ": " << c.path << "\n";
  m << "---\n";
  m << new_file_diff(kunitconfig, kunit_kunitconfig());
  m << insertion_diff(kKunitKconfigPath, tree.kconfig, at, kunit_kconfig_entry());
  m << insertion_diff(kKunitMakefilePath, tree.makefile, split_lines(tree.makefile).size(),
                      kunit_makefile_line());
  m << new_file_diff(kKunitSourcePath, suite.source);
  m << "-- \nfoliocheck\n\n";
  p.text = m.str();
  return p;
}

}  // namespace foliocheck
