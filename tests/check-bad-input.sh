#!/usr/bin/env bash
# Claims that bad input to `foliocheck replay` and `print` gets exit 2 and a file:line:column
# error, never a crash: every file in tests/malformed/, each with the position its error names.
set -uo pipefail
foliocheck=$1
dir=$(cd "$(dirname "$0")/malformed" && pwd)
# file -> "line:column" the error must name (empty: any position).
declare -A where=(
  [truncated-statement.trace]=4:1 [truncated-file.trace]=5:29 [empty.trace]=1:1
  [unknown-semantics.trace]=2:18 [syzbot-nr-496.trace]=3:1 [remove-unheld-mapping.trace]=4:1
  [exclusive-page-mapped-twice.trace]=4:1 [exclusive-pmd-over-twice-mapped-head.trace]=5:1 [unmodelled-expect.trace]=4:8 [no-mm-id-large-anon.trace]=3:1 [no-mm-id-pmd.trace]=4:1 [random-bytes.trace]=
  [concurrent-unterminated.trace]=3:1 [concurrent-nested.trace]=5:3 [concurrent-expect-inside.trace]=5:2
  [concurrent-bad-schedule.trace]=7:14 [concurrent-end-without-block.trace]=4:1
  [wp-reuse-v612.trace]=6:1
)
failed=0 passed=0
for f in "$dir"/*.trace /nonexistent/missing.trace; do
  name=$(basename "$f")
  for cmd in replay print; do
    err=$("$foliocheck" "$cmd" "$f" 2>&1 >/dev/null)
    code=$?
    want=${where[$name]-}
    # print only parses: semantic errors (preconditions, unmodelled expects) are replay's.
    if [ "$cmd" = print ] && [[ $name =~ ^(syzbot|remove|exclusive|unmodelled|no-mm-id-pmd|wp-reuse) ]]; then
      [ $code -eq 0 ] && { passed=$((passed + 1)); continue; }
    fi
    if [ $code -ne 2 ] || ! grep -q "^$f:${want:+$want:}.*error: " <<<"$err"; then
      echo "FAIL: foliocheck $cmd $f: exit $code, stderr: $err"
      failed=$((failed + 1))
    else
      passed=$((passed + 1))
    fi
  done
done
"$foliocheck" replay --no-such-flag "$dir/empty.trace" >/dev/null 2>&1; [ $? -eq 2 ] && passed=$((passed + 1)) || { echo "FAIL: bad flag"; failed=$((failed + 1)); }
"$foliocheck" replay --impl=nonesuch "$dir/syzbot-nr-496.trace" >/dev/null 2>&1; [ $? -eq 2 ] && passed=$((passed + 1)) || { echo "FAIL: bad --impl"; failed=$((failed + 1)); }
# An implementation that does not support the setup: exit 2, the file named once, at its config line.
out=$("$foliocheck" replay --impl=v6.12-64 "$dir/syzbot-nr-496.trace" 2>&1); code=$?
if [ $code -eq 2 ] && [ "$(grep -o "$dir/syzbot-nr-496.trace" <<<"$out" | wc -l)" -eq 1 ] &&
   grep -q "^$dir/syzbot-nr-496.trace:2:1: error: implementation 'v6.12-64' does not support" <<<"$out"; then
  passed=$((passed + 1))
else
  echo "FAIL: unsupported --impl: exit $code, output: $out"; failed=$((failed + 1))
fi
echo "bad input: $passed passed, $failed failed"
[ $failed -eq 0 ]
