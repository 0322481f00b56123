#!/usr/bin/env python3
"""Takes the rmap functions, macros and enums named in kernel/symbols.def out of a kernel tree.

The kernel's big headers are never included: each symbol's text is cut out of its file (by
brace depth for functions and enums, by line continuation for macros), prefixed with a `#line`
directive so that compiler errors and recorded warnings name the kernel file and line, and
written into four generated files that kernel/kernel_rmap.c includes around our shim:

  kernel_tree.h     what the tree is (name, version, style, configuration, word size, the CONFIG_*
                    it is built with, FC_HAVE_*, the name of the variant's one exported symbol)
  kernel_decls.inc  macros, enums and typedefs
  kernel_protos.inc a prototype of every function taken (so the order of symbols.def is free)
  kernel_bodies.inc the function definitions

Every function is made `static`: one build links several trees and configurations, each a
separate compilation of kernel/kernel_rmap.c, and only its table of entry points is exported.

Usage: extract.py --tree DIR --symbols kernel/symbols.def --out DIR [--config NAME] [--bits 64|32]
                  [--name NAME]
       extract.py --tree DIR --print-style    prints `style version config...`
Exit status 2 with `file:line: error: ...` when the tree lacks something this style needs.
"""

import argparse
import os
import re
import sys

# Kernel configurations foliocheck can build a tree's code for, per tree style. The first one of a
# style is its default. Each maps to the CONFIG_* symbols that are on; everything else is off.
STYLE_CONFIGS = {
    "v6.12": {
        "v6.12": ["CONFIG_TRANSPARENT_HUGEPAGE"],
    },
    "next": {
        "mm-id": ["CONFIG_TRANSPARENT_HUGEPAGE", "CONFIG_MM_ID", "CONFIG_PAGE_MAPCOUNT"],
        "no-page-mapcount": ["CONFIG_TRANSPARENT_HUGEPAGE", "CONFIG_MM_ID",
                             "CONFIG_NO_PAGE_MAPCOUNT"],
        "no-mm-id": ["CONFIG_PAGE_MAPCOUNT"],
    },
}
# Word sizes every configuration is built for. 32 compiles the code with CONFIG_64BIT off, so that
# the tree's own #ifdefs choose the 32-bit types and field placement (docs/kernel.md, "32-bit").
BITS = [64, 32]
# On in every build: an MMU kernel with hugetlb, swap, KSM and memcg, as distributions ship.
COMMON_CONFIGS = ["__KERNEL__", "CONFIG_MMU", "CONFIG_HUGETLB_PAGE",
                  "CONFIG_SWAP", "CONFIG_KSM", "CONFIG_MEMCG", "CONFIG_NUMA",
                  "CONFIG_HAVE_GUP_FAST", "CONFIG_SPARSEMEM", "CONFIG_SPARSEMEM_VMEMMAP",
                  "CONFIG_DEBUG_VM"]
# Per style, on in every configuration: next trees keep the folio size in _nr_pages when there is
# room after _refcount_1, which CONFIG_MEMCG makes (include/linux/mm_types.h).
STYLE_COMMON = {"v6.12": [], "next": ["NR_PAGES_IN_LARGE_FOLIO"]}
# On with THP: x86-64's PUD-level THP, which folio_add_file_rmap_pud() also needs. It is kept on
# at 32 bits too (no 32-bit architecture has it) so that the 32-bit builds answer PUD operations
# the way the model's 32-bit semantics do; docs/kernel.md says so.
THP_EXTRAS = ["CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD"]
# Every CONFIG_* the shim answers IS_ENABLED() for; the extracted code may test no other.
KNOWN_CONFIGS = sorted(set(c for c in COMMON_CONFIGS if c.startswith("CONFIG_")) | {
    "CONFIG_64BIT", "CONFIG_TRANSPARENT_HUGEPAGE", "CONFIG_MM_ID", "CONFIG_PAGE_MAPCOUNT",
    "CONFIG_NO_PAGE_MAPCOUNT", "CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD"})

# Race mutants that revert a kernel fix in the tree's own text (impl/race_mutants.def): a copy of
# the function under another name, with whole one-line statements moved. Each line keeps its
# #line, so a warning of the copy names the tree's file and line. Without the statements (a tree
# before the fix), no copy is made and the glue says the mutant cannot run there.
MUTANT_COPIES = {
    "__wp_can_reuse_large_anon_folio": {
        "name": "fc_mutant_wp_checks_before_recheck",
        # The fix for syzbot 5e8feb543ca8e12e0ede ("mm/memory: move sanity checks in
        # do_wp_page() after mapcount vs. refcount stabilization", April 2025) moved these from
        # right after the KSM warning to after the recheck under the mm-id lock.
        "move": ["VM_WARN_ON_ONCE_FOLIO(folio_large_mapcount(folio) > folio_nr_pages(folio), folio);",
                 "VM_WARN_ON_ONCE_FOLIO(folio_entire_mapcount(folio), folio);"],
        "after": "VM_WARN_ON_ONCE(folio_test_ksm(folio));",
    },
}


def mutant_copy(name, text, first_line, path):
    """The function `text` (starting at `first_line` of `path`) with MUTANT_COPIES[name] applied,
    under the copy's name, with #line directives; None when the tree lacks the statements."""
    spec = MUTANT_COPIES[name]
    lines = [(s, first_line + i) for i, s in enumerate(text.split("\n"))]
    moved = [l for l in lines if l[0].strip() in spec["move"]]
    anchor = [i for i, l in enumerate(lines) if l[0].strip() == spec["after"]]
    if len(moved) != len(spec["move"]) or len(anchor) != 1:
        return None
    kept = [l for l in lines if l not in moved]
    at = kept.index(lines[anchor[0]]) + 1
    out_lines = kept[:at] + moved + kept[at:]
    out, prev = [], None
    for s, n in out_lines:
        if prev is None or n != prev + 1:
            out.append(f"#line {n} {c_string(path)}")
        out.append(s)
        prev = n
    copy = "\n".join(out)
    return re.sub(r"\b" + re.escape(name) + r"\b", spec["name"], copy, count=1)


SYMBOL_LINE = re.compile(r'^FOLIOCHECK_KSYM\(\s*(\w+)\s*,\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*(\w+)\s*\)')
# function_or_macro: one configuration defines the name as a function, another as a macro
# (folio_add_large_mapcount with and without CONFIG_MM_ID).
KINDS = {"function", "macro", "enum", "typedef", "function_or_macro"}
TREES = {"any", "v6_12", "next"}


class ExtractError(Exception):
    pass


def mask(text):
    """The text with comments, strings and character literals blanked (newlines kept), so that
    braces and names inside them are not seen."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
        else:
            i += 1
            continue
        for k in range(i, j):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


class Source:
    """One file of the tree, with what is needed to find symbols in it."""

    def __init__(self, tree, rel, enabled):
        self.rel = rel
        path = os.path.join(tree, rel)
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                self.text = f.read()
        except OSError as e:
            raise ExtractError(f"{path}:0: error: cannot read: {e.strerror}")
        self.masked = mask(self.text)
        self.line_starts = [0]
        for m in re.finditer("\n", self.text):
            self.line_starts.append(m.end())
        self.depth = self._depths()
        self.active = self._conditions(enabled)

    def line_of(self, pos):
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def _depths(self):
        """Brace depth at the start of every line."""
        depth, per_line, in_directive = 0, [], False
        for line in self.masked.split("\n"):
            per_line.append(depth)
            # Preprocessor lines, with their continuations, hold macro bodies, not scopes.
            if in_directive or line.lstrip().startswith("#"):
                in_directive = line.rstrip().endswith("\\")
                continue
            depth += line.count("{") - line.count("}")
        return per_line

    def _conditions(self, enabled):
        """Per line: True if every enclosing #if is true for `enabled`, False if one is false,
        None if one cannot be evaluated."""
        stack, result = [], []
        lines = self.masked.split("\n")
        cont = ""
        for raw in lines:
            line = (cont + raw) if cont else raw
            if line.rstrip().endswith("\\"):
                cont = line.rstrip()[:-1] + " "
                result.append(_all(stack))
                continue
            cont = ""
            s = line.strip()
            m = re.match(r"#\s*(ifdef|ifndef|if|elif|else|endif)\b(.*)", s)
            if m:
                kw, rest = m.group(1), m.group(2).strip()
                if kw == "ifdef":
                    stack.append([rest.split()[0] in enabled, False])
                elif kw == "ifndef":
                    stack.append([rest.split()[0] not in enabled, False])
                elif kw == "if":
                    stack.append([evaluate(rest, enabled), False])
                elif kw in ("elif", "else") and stack:
                    top = stack[-1]
                    taken = top[1] or top[0] is True
                    if kw == "else":
                        value = None if top[0] is None and not top[1] else not taken
                    else:
                        value = False if taken else evaluate(rest, enabled)
                    stack[-1] = [value, taken]
                elif kw == "endif" and stack:
                    stack.pop()
            result.append(_all(stack))
        return result


def _all(stack):
    values = [v for v, _ in stack]
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def evaluate(expr, enabled):
    """A preprocessor condition over CONFIG_* symbols, or None if it is beyond this evaluator."""
    on = lambda m: str(int(m.group(1) in enabled))
    e = re.sub(r"\bdefined\s*\(\s*(\w+)\s*\)", on, expr)
    e = re.sub(r"\bdefined\s+(\w+)", on, e)
    e = re.sub(r"\bIS_ENABLED\s*\(\s*(\w+)\s*\)", on, e)
    e = re.sub(r"\b(CONFIG_\w+)\b", on, e)
    e = e.replace("&&", " and ").replace("||", " or ")
    e = re.sub(r"!(?!=)", " not ", e)
    if re.search(r"[A-Za-z_]\w*", re.sub(r"\b(and|or|not)\b", "", e)):
        return None
    try:
        return bool(eval(e, {"__builtins__": {}}, {}))  # only digits and operators remain
    except Exception:
        return None


def find_function(src, name):
    """Definitions of `name` at file scope: (start, end, brace) positions in src.text."""
    found = []
    for m in re.finditer(r"\b" + re.escape(name) + r"\s*\(", src.masked):
        line = src.line_of(m.start())
        if src.depth[line - 1] != 0:
            continue
        # Skip calls and prototypes: the closing parenthesis must be followed by `{`.
        i, depth = m.end() - 1, 0
        while i < len(src.masked):
            c = src.masked[i]
            depth += c == "("
            depth -= c == ")"
            if depth == 0:
                break
            i += 1
        j = i + 1
        while j < len(src.masked) and src.masked[j] in " \t\n":
            j += 1
        if j >= len(src.masked) or src.masked[j] != "{":
            continue
        # The declaration starts at the line holding the name, or earlier when the return type
        # sits on lines of its own.
        start_line = line
        prefix = src.masked[src.line_starts[line - 1]:m.start()]
        if prefix.strip().startswith("#"):
            continue
        while not prefix.strip() and start_line > 1:
            prev = src.masked[src.line_starts[start_line - 2]:src.line_starts[start_line - 1]]
            p = prev.strip()
            if not p or p.endswith((";", "}", "{")) or p.startswith("#"):
                break
            start_line -= 1
            prefix = prev
        end = match_brace(src, j)
        found.append((src.line_starts[start_line - 1], end, j, start_line))
    return found


def match_brace(src, open_pos):
    depth = 0
    for i in range(open_pos, len(src.masked)):
        c = src.masked[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ExtractError(f"{src.rel}:{src.line_of(open_pos)}: error: unbalanced braces")


def find_macro(src, name):
    found = []
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+" + re.escape(name) + r"\b", src.masked,
                         re.M):
        end = m.start()
        while True:
            nl = src.text.find("\n", end)
            if nl < 0:
                end = len(src.text)
                break
            if src.text[:nl].rstrip(" \t").endswith("\\"):
                end = nl + 1
                continue
            end = nl
            break
        line = src.line_of(m.start())
        found.append((m.start(), end, None, line))
    return found


def find_enum(src, name):
    found = []
    for m in re.finditer(r"^enum[ \t]+" + re.escape(name) + r"\s*\{", src.masked, re.M):
        end = match_brace(src, m.end() - 1)
        semi = src.masked.find(";", end)
        found.append((m.start(), semi + 1, None, src.line_of(m.start())))
    return found


def find_typedef(src, name):
    found = []
    for m in re.finditer(r"^typedef\b[^;{]*\b" + re.escape(name) + r"\s*;", src.masked, re.M):
        found.append((m.start(), m.end(), None, src.line_of(m.start())))
    return found


FINDERS = {"function": find_function, "macro": find_macro, "enum": find_enum,
           "typedef": find_typedef}


def choose(src, name, kind, found):
    """The one definition the configuration compiles: the kernel keeps alternatives under #if."""
    if not found:
        return None
    live = [f for f in found if src.active[f[3] - 1] is True]
    if len(live) >= 1:
        return live[0]
    unknown = [f for f in found if src.active[f[3] - 1] is None]
    if len(unknown) == 1:
        return unknown[0]
    if not unknown:
        return INACTIVE  # the configuration does not compile it (e.g. the lock without MM_ID)
    lines = ", ".join(str(f[3]) for f in found)
    raise ExtractError(f"{src.rel}:{found[0][3]}: error: {kind} {name} is defined at lines "
                       f"{lines}, none of them certainly compiled in this configuration")


INACTIVE = "inactive"


def make_static(signature):
    """The declaration part of a function, with internal linkage: `extern` dropped, `static`
    added where the tree has none (the out-of-line functions of mm/rmap.c and mm/gup.c)."""
    sig = re.sub(r"^(\s*)extern\s+", r"\1", signature)
    if re.match(r"\s*static\b", sig):
        return sig
    return "static " + sig.lstrip()


def read_symbols(path):
    symbols = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.startswith("FOLIOCHECK_KSYM"):
                continue
            m = SYMBOL_LINE.match(line)
            if not m or m.group(1) not in KINDS or m.group(4) not in TREES:
                raise ExtractError(f"{path}:{number}: error: malformed FOLIOCHECK_KSYM line")
            symbols.append((m.group(1), m.group(2), m.group(3), m.group(4), number))
    return symbols


def tree_version(tree):
    values = {}
    try:
        with open(os.path.join(tree, "Makefile"), encoding="utf-8") as f:
            for line in f:
                m = re.match(r"(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)", line)
                if m and m.group(1) not in values:
                    values[m.group(1)] = m.group(2)
                if len(values) == 4:
                    break
    except OSError:
        return "unknown"
    v = ".".join(values.get(k, "?") for k in ("VERSION", "PATCHLEVEL", "SUBLEVEL"))
    return v + values.get("EXTRAVERSION", "")


def detect_style(tree):
    """`next` when rmap.h keeps the large mapcount behind the mm-id helpers, else `v6.12`."""
    path = os.path.join(tree, "include/linux/rmap.h")
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            text = f.read()
    except OSError as e:
        raise ExtractError(f"{path}:0: error: not a kernel tree: {e.strerror}")
    return "next" if "folio_add_return_large_mapcount" in text else "v6.12"


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_if_changed(path, content):
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            if f.read() == content:
                return
    except OSError:
        pass
    with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(content)


def c_ident(s):
    return re.sub(r"[^A-Za-z0-9_]", "_", s)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", required=True)
    ap.add_argument("--symbols")
    ap.add_argument("--out")
    ap.add_argument("--config", default="")
    ap.add_argument("--bits", type=int, default=64, choices=BITS)
    ap.add_argument("--name", default="", help="the tree's name (default linux-VERSION)")
    ap.add_argument("--print-style", action="store_true",
                    help="print `style version config...` and exit")
    args = ap.parse_args()
    tree = os.path.abspath(args.tree)

    try:
        style = detect_style(tree)
        configs = STYLE_CONFIGS[style]
        version = tree_version(tree)
        if args.print_style:
            print(style, version, *configs)
            return 0
        if not args.symbols or not args.out:
            ap.error("--symbols and --out are required")
        config = args.config or next(iter(configs))
        if config not in configs:
            raise ExtractError(
                f"{os.path.join(tree, 'include/linux/rmap.h')}:0: error: a {style}-style tree "
                f"builds as {'|'.join(configs)}, not '{config}'")
        enabled = set(COMMON_CONFIGS) | set(STYLE_COMMON[style]) | set(configs[config])
        if args.bits == 64:
            enabled.add("CONFIG_64BIT")
        if "CONFIG_TRANSPARENT_HUGEPAGE" in enabled:
            enabled |= set(THP_EXTRAS)
        tree_key = "v6_12" if style == "v6.12" else "next"

        sources = {}
        decls, protos, bodies, have = [], [], [], []
        for kind, rel, name, trees, number in read_symbols(args.symbols):
            if trees not in ("any", tree_key):
                continue
            if rel not in sources:
                sources[rel] = Source(tree, rel, enabled)
            src = sources[rel]
            if kind == "function_or_macro":
                found = choose(src, name, "function", find_function(src, name))
                if found is None or found == INACTIVE:
                    kind = "macro"
                    found = choose(src, name, kind, find_macro(src, name)) or found
                else:
                    kind = "function"
            else:
                found = choose(src, name, kind, FINDERS[kind](src, name))
            if found is None:
                raise ExtractError(
                    f"{os.path.join(tree, rel)}:0: error: {kind} {name} not found (needed by "
                    f"{args.symbols}:{number} for a {style}-style tree)")
            if found == INACTIVE:
                continue
            start, end, brace, line = found
            directive = f'#line {line} {c_string(os.path.join(tree, rel))}\n'
            text = src.text[start:end]
            have.append(name)
            if kind == "function":
                signature = make_static(src.text[start:brace].rstrip())
                protos.append(directive + signature + ";\n")
                body = make_static(src.text[start:brace]) + src.text[brace:end]
                bodies.append(directive + body + "\n")
                if name in MUTANT_COPIES:
                    copy = mutant_copy(name, body, line, os.path.join(tree, rel))
                    if copy is not None:
                        copy_name = MUTANT_COPIES[name]["name"]
                        protos.append(directive + re.sub(r"\b" + re.escape(name) + r"\b",
                                                         copy_name, signature, count=1) + ";\n")
                        bodies.append(copy + "\n")
                        have.append(copy_name)
            else:
                decls.append(directive + text + "\n")
    except ExtractError as e:
        print(e, file=sys.stderr)
        return 2

    os.makedirs(args.out, exist_ok=True)
    name = args.name or f"linux-{version}"
    head = "/* Generated by kernel/extract.py from {} ({}): do not edit. */\n".format(
        tree, version)
    semantics = config
    variant = f"{name}/{config}-{args.bits}"
    tree_h = [head, "#pragma once\n",
              f"#define FC_TREE_NAME {c_string(name)}\n",
              f"#define FC_TREE_DIR {c_string(tree)}\n",
              f"#define FC_TREE_VERSION {c_string(version)}\n",
              f"#define FC_TREE_STYLE {c_string(style)}\n",
              f"#define FC_TREE_STYLE_{tree_key.upper()} 1\n",
              f"#define FC_SEMANTICS {c_string(semantics)}\n",
              f"#define FC_BITS {args.bits}\n",
              f"#define FC_VARIANT {c_string(variant)}\n",
              f"#define FC_OPS_SYMBOL fc_kernel_ops_{c_ident(name)}_{c_ident(config)}_{args.bits}\n"]
    for c in sorted(enabled - set(KNOWN_CONFIGS)):
        if not c.startswith("CONFIG_") and c != "__KERNEL__":
            tree_h.append(f"#define {c} 1\n")
    for c in KNOWN_CONFIGS:
        on = c in enabled
        if on:
            tree_h.append(f"#define {c} 1\n")
        tree_h.append(f"#define FC_IS_ENABLED_{c} {int(on)}\n")
    for name_ in have:
        tree_h.append(f"#define FC_HAVE_{name_} 1\n")
    write_if_changed(os.path.join(args.out, "kernel_tree.h"), "".join(tree_h))
    write_if_changed(os.path.join(args.out, "kernel_decls.inc"), head + "".join(decls))
    write_if_changed(os.path.join(args.out, "kernel_protos.inc"), head + "".join(protos))
    write_if_changed(os.path.join(args.out, "kernel_bodies.inc"), head + "".join(bodies))
    return 0


if __name__ == "__main__":
    sys.exit(main())
