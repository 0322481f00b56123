#!/usr/bin/env bash
# Claims that `foliocheck export --kunit` answers bad input and bad flags with exit 2 and a
# file:line:column error, and that its --patch goes through `git am` on a tree shaped like mm/.
set -uo pipefail
foliocheck=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 passed=0
claim() {  # claim DESCRIPTION WANTED_EXIT STDERR_REGEX COMMAND...
  local what=$1 want=$2 regex=$3
  shift 3
  local err code
  err=$("$@" 2>&1 >/dev/null)
  code=$?
  if [ "$code" -ne "$want" ] || ! grep -qE -- "$regex" <<<"$err"; then
    echo "FAIL: $what: exit $code, stderr: $err"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}
good=$here/../corpus/traces/mm-id/kunit-order9-fork-pmd-split-unmap.trace
bad=$here/malformed/unknown-semantics.trace
claim "malformed trace" 2 "^$bad:2:18: error: " "$foliocheck" export --kunit "$good" "$bad"
claim "truncated trace" 2 "^$here/malformed/truncated-file.trace:5:29: error: " \
  "$foliocheck" export --kunit "$here/malformed/truncated-file.trace"
claim "missing file" 2 "^/nonexistent.trace:0" "$foliocheck" export --kunit /nonexistent.trace
claim "unknown flag" 2 "unknown flag '--bogus'" "$foliocheck" export --kunit --bogus "$good"
claim "no format" 2 "needs a format" "$foliocheck" export "$good"
claim "a flag of another command" 2 "does not apply to 'export'" "$foliocheck" export --kunit --quiet "$good"
claim "--patch without a tree" 2 "needs --linux-dir" "$foliocheck" export --kunit --patch "$good"
claim "--patch on a non-tree" 2 "not a kernel tree" "$foliocheck" export --kunit --patch --linux-dir="$tmp/none" "$good"
claim "no traces" 2 "at least one trace" "$foliocheck" export --kunit -o "$tmp/x.c"

# A tree shaped like the kernel's mm/ (not the kernel's text): the patch must apply with git am.
mkdir -p "$tmp/tree/mm/tests"
printf 'menu "Memory Management options"\n\nconfig X\n\tbool\n\nsource "mm/damon/Kconfig"\n\nendmenu\n' >"$tmp/tree/mm/Kconfig"
printf 'obj-y += a.o\nobj-$(CONFIG_X) += tests/x.o\n' >"$tmp/tree/mm/Makefile"
(cd "$tmp/tree" && git init -q && git add -A && git -c user.name=t -c user.email=t@example.invalid commit -qm base)
claim "export --patch" 0 "exported" "$foliocheck" export --kunit --patch --linux-dir="$tmp/tree" "$good" -o "$tmp/p.patch"
if (cd "$tmp/tree" && git -c user.name=t -c user.email=t@example.invalid am -q "$tmp/p.patch") &&
   grep -q '^config FOLIOCHECK_KUNIT_TEST$' "$tmp/tree/mm/Kconfig" &&
   [ "$(tail -1 "$tmp/tree/mm/Makefile")" = 'obj-$(CONFIG_FOLIOCHECK_KUNIT_TEST) += tests/foliocheck_kunit.o' ] &&
   grep -q 'CONFIG_FOLIOCHECK_KUNIT_TEST=y' "$tmp/tree/mm/tests/.kunitconfig" &&
   grep -q 'FC_CASE(kunit_order9_fork_pmd_split_unmap)' "$tmp/tree/mm/tests/foliocheck_kunit.c"; then
  passed=$((passed + 1))
else
  echo "FAIL: git am of the patch"
  failed=$((failed + 1))
fi
claim "a second patch on the patched tree" 2 "FOLIOCHECK_KUNIT_TEST already" \
  "$foliocheck" export --kunit --patch --linux-dir="$tmp/tree" "$good"
echo "export --kunit: $passed passed, $failed failed"
[ $failed -eq 0 ]
