#!/usr/bin/env python3
"""Lists every check foliocheck makes, read from the code, and fails when one has no test that fires it.

A check is covered when a test file (tests/*_test.cpp) holds its name as a string literal: the
tests in tests/checks_test.cpp assert exactly that name on the violation or reason they provoke.
  check-inventory.py              exit 1 naming each check no test fires
  check-inventory.py --markdown   the inventory as docs/testing.md
  check-inventory.py --check-doc  exit 1 when docs/testing.md is not the generated table
  check-inventory.py --self-test  exit 0 only if a planted, unfired check makes the check fail
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')

# Checks that only a kernel tree's own code can be made to fail (kernel/kernel_impl.cpp asks the
# tree's raw words through its glue): no test fires them yet, and the table says so. A check
# listed here that a test does fire, or that the code no longer has, fails the run.
UNFIRED = {
    "read_helper_warned": "needs a kernel tree whose read helper warns",
    "partially_mapped": "needs a kernel tree; PG_partially_mapped is set only by the tree's code",
    "anon_exclusive_mapped_once[": "needs a kernel tree's raw words corrupted through its glue",
    "mapped_stat_recount": "needs a kernel tree's statistics corrupted through its glue",
}


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
    for m in re.finditer(r"^" + re.escape(returns) + r" (?:\w+::)?(\w+)\(", text, re.M):
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
    # (precondition and need_unmet give their reasons through refusal<Why> and need_unmet_t<Why>.)
    for path, fns in (("core/reference_model.cpp", {"setup_error", "refusal"}),
                      ("core/legality.cpp", {"op_fits_setup", "need_unmet_t", "overflow_reason"})):
        text = (ROOT / path).read_text()
        for name, body, base in functions(text, "std::optional<std::string>"):
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
    # Agreement: the sentence of each mismatch and contract check_agreement reports.
    text = (ROOT / "core/agreement.cpp").read_text()
    for stmt, at in statements(text, r"\bmake\(ViolationKind::(?:mismatch|contract)"):
        kind = "contract" if "contract" in stmt[:30] else "mismatch"
        add(joined_literals(stmt)[-1][0], kind, "core/agreement.cpp", text, at)
    return checks


def firing_tests(extra=()):
    """{literal: "file: TEST name"} for every string literal in the tests."""
    found = {}
    for path in sorted((ROOT / "tests").glob("*_test.cpp")):
        text = path.read_text()
        tests = [(m.start(), f"{m.group(1)}.{m.group(2)}")
                 for m in re.finditer(r"^TEST\((\w+), (\w+)\)", text, re.M)]
        for lit, pos in joined_literals(text):
            owner = [t for start, t in tests if start < pos]
            if owner:
                found.setdefault(lit, f"{path.relative_to(ROOT)} `{owner[-1]}`")
    for lit in extra:
        found.setdefault(lit, "planted")
    return found


def problems(checks, fired):
    out = []
    for name, kind, where in checks:
        if name in UNFIRED:
            if name in fired:
                out.append(f"{where}: {kind} {name!r} is listed as unfired but {fired[name]} fires it")
        elif name not in fired:
            out.append(f"{where}: {kind} {name!r} has no test that fires it and asserts its name")
    names = {c[0] for c in checks}
    out += [f"UNFIRED lists {n!r}, which the code no longer checks" for n in UNFIRED if n not in names]
    return out


def markdown(checks, fired):
    rows = ["<!-- Generated by tests/check-inventory.py --markdown; ctest fails when it is stale. -->",
            "# Testing: every check foliocheck makes, and the test that makes it fire", "",
            "Issue #15: a check no test makes fire may be dead or wrong without anyone noticing. "
            "`tests/check-inventory.py` reads every check from the code (the reasons of "
            "`setup_error`, `precondition` and `core/legality.cpp`, the names passed to `bad(...)` "
            "in `impl/folio_checks.h` and `kernel/kernel_impl.cpp`, the harness drift names, the "
            "sentences of `core/agreement.cpp`) and fails when one has no test that fires it and "
            "asserts its name. `tests/reuse_test.cpp` separately claims that every object forgets "
            "everything on `reset()`.", "",
            f"{len(checks)} checks; {sum(c[0] in fired for c in checks)} fired by a test.", "",
            "| check | kind | where | fired by |", "|---|---|---|---|"]
    for name, kind, where in checks:
        by = fired.get(name) or f"none yet: {UNFIRED.get(name, '?')}"
        cell = name.replace("|", "\\|")
        rows.append(f"| `{cell}` | {kind} | `{where}` | {by} |")
    return "\n".join(rows) + "\n"


def main(argv):
    checks = inventory()
    if "--self-test" in argv:
        # A check added to the code without a test: the run must fail and name it.
        planted = checks + [("planted_unfired_check", "invariant", "nowhere:1")]
        found = problems(planted, firing_tests())
        ok = any("planted_unfired_check" in p for p in found)
        print("self-test:", "the planted check is named" if ok else "the planted check went unnoticed")
        return 0 if ok else 1
    fired = firing_tests()
    if "--markdown" in argv:
        sys.stdout.write(markdown(checks, fired))
        return 0
    if "--check-doc" in argv:
        if (ROOT / "docs/testing.md").read_text() != markdown(checks, fired):
            print("docs/testing.md is stale: run tests/check-inventory.py --markdown > docs/testing.md")
            return 1
        return 0
    found = problems(checks, fired)
    for p in found:
        print(p)
    print(f"{len(checks)} checks inventoried, {sum(c[0] in fired for c in checks)} fired by a test, "
          f"{len(UNFIRED)} listed as unfired, {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
