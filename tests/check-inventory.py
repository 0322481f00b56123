#!/usr/bin/env python3
"""Lists every check foliocheck makes, read from the code, and fails when one has no test that fires it.

A check is covered when a test file (tests/*_test.cpp, kernel/*_test.cpp) holds its name as a
string literal: the tests in tests/checks_test.cpp and kernel/kernel_test.cpp assert exactly that
name on the violation or reason they provoke. kernel/'s tests run only in a build with a kernel
tree (they are registered with ctest only there, and ci/kernel runs them): in such a build
(--kernel-build) they count like any other; without a tree, a check of kernel/'s own code that
only they fire is listed as fired only in a kernel build, and any other check they alone fire is
a gap.
  check-inventory.py [--kernel-build]   exit 1 naming each check no test fires
  check-inventory.py --markdown         the inventory as docs/testing.md's generated part
  check-inventory.py --write-doc        rewrites that part of docs/testing.md, keeping the rest
  check-inventory.py --check-doc        exit 1 when docs/testing.md's generated part is stale
  check-inventory.py --self-test        exit 0 only if planted gaps make the check fail
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')

# The test folders, and whether their tests need a kernel tree built in.
TEST_DIRS = (("tests", False), ("kernel", True))
# docs/testing.md: the generated inventory, then this line, then what is written by hand.
DOC_END = "<!-- End of the generated inventory; what follows is written by hand. -->"


def joined_literals(text, base=0):
    """(literal, offset) of each run of adjacent string literals, joined as the compiler joins them."""
    out, last_end = [], None
    for m in STRING.finditer(text):
        if last_end is not None and text[last_end:m.start()].strip() == "":
            out[-1] = (out[-1][0] + m.group(1), out[-1][1])
        else:
            out.append((m.group(1), base + m.start()))
        last_end = m.end()
    return out


def functions(text, returns):
    """(name, body, offset) of each top-level function whose signature starts with `returns`."""
    for m in re.finditer(r"^(?:\[\[[\w:]+\]\] )?(?:inline )?" + re.escape(returns) +
                         r" (?:\w+::)?(\w+)\(", text, re.M):
        end = text.find("\n}\n", m.end())
        yield m.group(1), text[m.end():end], m.end()


def statements(body, start, base=0):
    """(text, offset) of each statement beginning with `start`, up to its `;`."""
    for m in re.finditer(start, body):
        yield body[m.start():body.find(";", m.end())], base + m.start()


def line_at(text, offset):
    return text.count("\n", 0, offset) + 1


def inventory():
    """[(check, kind, where)] for every check in the code, in source order."""
    checks = []

    def add(name, kind, path, text, offset):
        if all(name != c[0] or kind != c[1] for c in checks):
            checks.append((name, kind, f"{path}:{line_at(text, offset)}"))

    # Preconditions: the reasons setup_error, precondition and legality.cpp give, in kernel terms.
    # (precondition gives its reasons through misformed<Why> and refused_now<Why>, need_unmet and
    # overflow_reason through need_unmet_t<Why> and overflow_t<Why>, all returning Refusal<Why>.)
    # (op_fits_setup's reasons are misfit()'s literals, which inner loops ask without a string.)
    for path, fns in (("core/reference_model.cpp", {"setup_error", "misformed", "refused_now"}),
                      ("core/legality.cpp", {"misfit"}),
                      ("core/legality_rules.h", {"need_unmet_t", "overflow_t"})):
        text = (ROOT / path).read_text()
        found = [f for ret in ("std::optional<std::string>", "const char*", "Refusal<Why>")
                 for f in functions(text, ret)]
        for name, body, base in sorted(found, key=lambda f: f[2]):
            if name not in fns:
                continue
            for stmt, at in statements(body, r"\breturn\b|\bpage_msg\(", base):
                lits = joined_literals(stmt, at)
                if lits:
                    add(lits[0][0], "precondition", path, text, lits[0][1])
    # Own invariants and free-path checks: the name each bad(...) reports.
    for path in ("impl/folio_checks.h", "kernel/kernel_impl.cpp"):
        text = (ROOT / path).read_text()
        free_from = min(i for i in (text.find("check_free_words(const"),
                                    text.find("KernelImplementation::check_free()"), len(text)) if i >= 0)
        for stmt, at in statements(text, r"\bbad\("):
            depth, arg = 0, ""
            for ch in stmt[stmt.find("(") + 1:]:
                if ch in "([":
                    depth += 1
                elif ch in ")]":
                    depth -= 1
                if depth < 0 or (depth == 0 and ch == ","):
                    break
                arg += ch
            # Every literal of the name argument ("a" : "b" alternatives), but not the "]" that
            # closes a page index.
            for lit, _ in joined_literals(arg):
                if len(lit) > 2:
                    add(lit, "free path" if at > free_from else "invariant", path, text, at)
    # The harness's own recounts: the model's drift names and the encodings' tallies.
    text = (ROOT / "core/reference_model.cpp").read_text()
    for m in re.finditer(r'ViolationKind::harness, "model", "([^"]+)"|drift\("([^"]+)"', text):
        add(m.group(1) or m.group(2), "harness", "core/reference_model.cpp", text, m.start())
    text = (ROOT / "impl/packed_folio.cpp").read_text()
    for m in re.finditer(r'violation\(ViolationKind::harness, "([^"]+)"', text):
        add(m.group(1), "harness", "impl/packed_folio.cpp", text, m.start())
    # Interleave: what BlockExplorer::check() finds at quiescence of an interleaving, and the
    # reader values it reports as admitted.
    path = "interleave/interleave.cpp"
    text = (ROOT / path).read_text()
    for name, body, base in functions(text, "std::string"):
        if name != "check":
            continue
        for stmt, at in statements(body, r"\breturn\b|\*admitted = ", base):
            lits = joined_literals(stmt, at)
            if lits and lits[0][0]:
                add(lits[0][0], "admitted" if "admitted =" in stmt[:12] else "interleaving",
                    path, text, lits[0][1])
    # Agreement: the sentence of each mismatch and contract check_agreement reports.
    text = (ROOT / "core/agreement.cpp").read_text()
    for stmt, at in statements(text, r"\bmake\(ViolationKind::(?:mismatch|contract)"):
        kind = "contract" if "contract" in stmt[:30] else "mismatch"
        add(joined_literals(stmt)[-1][0], kind, "core/agreement.cpp", text, at)
    return checks


class Firing:
    """The first test that holds a check's name, and whether it needs a kernel tree."""
    def __init__(self, test, kernel_only):
        self.test, self.kernel_only = test, kernel_only

    def __str__(self):
        return self.test + (" (kernel build only)" if self.kernel_only else "")


def firing_tests():
    """{literal: Firing} for every string literal in the tests, those of every build first."""
    found = {}
    for folder, kernel_only in TEST_DIRS:
        for path in sorted((ROOT / folder).glob("*_test.cpp")):
            text = path.read_text()
            tests = [(m.start(), f"{m.group(1)}.{m.group(2)}")
                     for m in re.finditer(r"^TEST\((\w+), (\w+)\)", text, re.M)]
            for lit, pos in joined_literals(text):
                owner = [t for start, t in tests if start < pos]
                if owner:
                    found.setdefault(lit, Firing(f"{path.relative_to(ROOT)} `{owner[-1]}`",
                                                 kernel_only))
    return found


def problems(checks, fired, kernel_build):
    """(problems, notes): what fails the run, and the checks fired only in a kernel build."""
    out, notes = [], []
    for name, kind, where in checks:
        f = fired.get(name)
        if f is None:
            out.append(f"{where}: {kind} {name!r} has no test that fires it and asserts its name")
        elif f.kernel_only and not kernel_build:
            if where.startswith("kernel/"):
                notes.append(f"{where}: {kind} {name!r} is fired only in a kernel build, by {f.test}")
            else:
                out.append(f"{where}: {kind} {name!r} is fired only in a kernel build, by {f.test}: "
                           "add a test that runs without a tree")
    return out, notes


def markdown(checks, fired):
    everywhere = sum(c[0] in fired and not fired[c[0]].kernel_only for c in checks)
    kernel = sum(c[0] in fired and fired[c[0]].kernel_only for c in checks)
    rows = ["<!-- Generated by tests/check-inventory.py --write-doc down to the line that ends it; "
            "ctest fails when it is stale. -->",
            "# Testing: every check foliocheck makes, and the test that makes it fire", "",
            "Issue #15: a check no test makes fire may be dead or wrong without anyone noticing. "
            "`tests/check-inventory.py` reads every check from the code (the reasons of "
            "`setup_error`, `precondition`, `core/legality.cpp` and `core/legality_rules.h`, the "
            "names passed to `bad(...)` "
            "in `impl/folio_checks.h` and `kernel/kernel_impl.cpp`, the harness drift names, the "
            "sentences of `core/agreement.cpp`, what `interleave/interleave.cpp` finds at the end of "
            "an interleaving) and fails when one has no test that fires it and "
            "asserts its name. `tests/reuse_test.cpp` separately claims that every object forgets "
            "everything on `reset()`.", "",
            "The checks of `kernel/kernel_impl.cpp` that only a tree's own folio can break are fired "
            "by `kernel/kernel_test.cpp` through a test-only hook (`kernel/kernel_fault.h`, the "
            "faults of `kernel/kernel_faults.def`): it writes into the tree's folio what no helper "
            "of a correct tree leaves (PG_head cleared, PG_partially_mapped set, PageAnonExclusive "
            "set on a page two mms map, an NR_*_MAPPED statistic one too high). Only tests include "
            "the hook (`tests/check-layers.sh` fails on any other file), so no trace reaches it. "
            "Those tests are registered with ctest only when a tree is built in, and `ci/kernel` "
            "runs them: in a kernel-enabled build the inventory counts them like any other "
            "(`--kernel-build`, 0 unfired); without a tree it lists those checks as fired only in "
            "a kernel build.", "",
            f"{len(checks)} checks; {everywhere} fired by a test of every build, {kernel} by a test "
            f"of the kernel-enabled build, {len(checks) - everywhere - kernel} unfired.", "",
            "| check | kind | where | fired by |", "|---|---|---|---|"]
    for name, kind, where in checks:
        by = str(fired[name]) if name in fired else "none"
        cell = name.replace("|", "\\|")
        rows.append(f"| `{cell}` | {kind} | `{where}` | {by} |")
    return "\n".join(rows) + "\n\n" + DOC_END + "\n"


def doc_parts():
    """(generated part, hand-written rest) of docs/testing.md."""
    text = (ROOT / "docs/testing.md").read_text()
    at = text.find(DOC_END + "\n")
    if at < 0:
        return text, ""
    end = at + len(DOC_END) + 1
    return text[:end], text[end:]


def main(argv):
    checks = inventory()
    kernel_build = "--kernel-build" in argv
    fired = firing_tests()
    if "--self-test" in argv:
        # A check added to the code without a test, and one outside kernel/ that only a kernel
        # test fires: a build without a tree must fail naming both; a kernel build, the first.
        planted = checks + [("planted_unfired_check", "invariant", "nowhere:1"),
                            ("planted_kernel_only_check", "invariant", "impl/nowhere.h:1")]
        planted_fired = dict(fired, planted_kernel_only_check=Firing("kernel/x_test.cpp `T.t`", True))
        dev, _ = problems(planted, planted_fired, False)
        kernel, _ = problems(planted, planted_fired, True)
        ok = (any("planted_unfired_check" in p for p in dev) and
              any("planted_kernel_only_check" in p for p in dev) and
              any("planted_unfired_check" in p for p in kernel) and
              not any("planted_kernel_only_check" in p for p in kernel))
        print("self-test:", "the planted checks are named" if ok else "a planted check went unnoticed")
        return 0 if ok else 1
    if "--markdown" in argv:
        sys.stdout.write(markdown(checks, fired))
        return 0
    if "--write-doc" in argv:
        (ROOT / "docs/testing.md").write_text(markdown(checks, fired) + doc_parts()[1])
        return 0
    if "--check-doc" in argv:
        if doc_parts()[0] != markdown(checks, fired):
            print("docs/testing.md is stale: run tests/check-inventory.py --write-doc")
            return 1
        return 0
    found, notes = problems(checks, fired, kernel_build)
    for p in notes + found:
        print(p)
    kernel = sum(c[0] in fired and fired[c[0]].kernel_only for c in checks)
    unfired = sum(c[0] not in fired for c in checks)
    if kernel_build:
        print(f"{len(checks)} checks inventoried, {len(checks) - unfired} fired by a test "
              f"({kernel} by kernel tests, which this kernel build runs), {unfired} unfired, "
              f"{len(found)} problems")
    else:
        print(f"{len(checks)} checks inventoried, {len(checks) - unfired - kernel} fired by a test "
              f"of this build, {kernel} fired only in a kernel build, {unfired} unfired, "
              f"{len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
