#!/usr/bin/env bash
# Claims that empty, truncated, random and non-failing files given to `foliocheck decode` and
# `foliocheck reduce` get exit 2 and a one-line error naming the file, never a crash.
set -uo pipefail
foliocheck=$1
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

: >"$tmp/empty"
printf 'FC\x01' >"$tmp/truncated-header"
printf 'F' >"$tmp/one-byte"
RANDOM=4  # a fixed seed: the same "random" bytes every run, not starting with the magic
for _ in $(seq 4096); do printf "\\x$(printf %02x $((RANDOM % 256)))"; done >"$tmp/random"
printf 'foliocheck-trace 1\nfolio order=2 type=anon\nfolio_add_anon_rmap_ptes mm=1 page=0 nr=4\n' >"$tmp/passing.trace"
printf 'foliocheck-trace 1\nfolio order=2 type=anon\nfolio_remove_rmap_ptes mm=1 page=0 nr=1\n' >"$tmp/invalid.trace"

failed=0 passed=0
expect2() {  # expect2 DESCRIPTION COMMAND...: exit 2 and an error on stderr naming the input
  local what=$1 err code
  shift
  err=$("$@" 2>&1 >/dev/null)
  code=$?
  if [ $code -eq 2 ] && grep -q "error: " <<<"$err"; then
    passed=$((passed + 1))
  else
    echo "FAIL: $what: exit $code, stderr: $err"
    failed=$((failed + 1))
  fi
}
for f in empty truncated-header one-byte random passing.trace /nonexistent/input; do
  path=$tmp/$f
  [[ $f == /* ]] && path=$f
  expect2 "decode $f" "$foliocheck" decode "$path"
done
expect2 "decode without a file" "$foliocheck" decode
for f in empty random one-byte passing.trace invalid.trace /nonexistent/input; do
  path=$tmp/$f
  [[ $f == /* ]] && path=$f
  expect2 "reduce $f" "$foliocheck" reduce "$path" -o "$tmp/out.trace"
done
for f in "$root"/tests/malformed/*.trace; do
  expect2 "reduce $(basename "$f")" "$foliocheck" reduce "$f" -o "$tmp/out.trace"
done
expect2 "reduce without -o" "$foliocheck" reduce "$tmp/passing.trace"
expect2 "reduce with -o but no name" "$foliocheck" reduce "$tmp/passing.trace" -o
expect2 "reduce with an unknown mutant" "$foliocheck" reduce --mutant=nonesuch "$tmp/passing.trace" -o "$tmp/out.trace"
[ -e "$tmp/out.trace" ] && { echo "FAIL: a failed reduce wrote its output"; failed=$((failed + 1)); }
echo "decode/reduce bad input: $passed passed, $failed failed"
[ $failed -eq 0 ]
