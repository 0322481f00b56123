#!/usr/bin/env bash
# Claims that dependencies point one way, toward the core: each folder includes only its own
# headers and those of the layers below it (README.md, "Architecture").
set -uo pipefail
# Also: the test-only fault hook kernel/kernel_fault.h is included by tests and the kernel glue
# that defines it only, so that no trace, engine or command can plant a fault.
# Usage: check-layers.sh [ROOT]   (default: this repository)
#        check-layers.sh --self-test   (planted bad includes must be named, with exit 1)
if [ "${1:-}" = --self-test ]; then
  d=$(mktemp -d)
  trap 'rm -rf "$d"' EXIT
  mkdir -p "$d/core" "$d/tools" && echo '#include "trace/trace.h"' > "$d/core/bad.h"
  echo '#include "kernel/kernel_fault.h"' > "$d/tools/bad.cpp"
  out=$("$0" "$d")
  code=$?
  [ $code -eq 1 ] && grep -q '^core/bad.h:1: core/ must not include from trace/' <<<"$out" &&
    grep -q '^tools/bad.cpp:1: only tests may include kernel/kernel_fault.h' <<<"$out" &&
    { echo "self-test: the planted includes were named"; exit 0; }
  echo "self-test FAILED: exit $code, output: $out"
  exit 1
fi
root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
# folder -> the folders its files may include from, besides their own
declare -A allowed=(
  [core]=""
  [impl]="core"
  [kernel]="core impl"
  [trace]="core impl"
  # the engines, each on the trace format
  [explore]="core impl trace" [fuzz]="core impl trace" [properties]="core impl trace"
  [export]="core impl trace" [interleave]="core impl trace"
  [tools]="core impl trace explore fuzz properties export interleave"
  [bench]="core impl trace explore"
  [tests]="core impl trace explore fuzz properties export interleave tools"
)
failed=0
for dir in "${!allowed[@]}"; do
  [ -d "$root/$dir" ] || continue
  while IFS=: read -r file line text; do
    inc=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' <<<"$text")
    [ -z "$inc" ] && continue
    # Tests sit beside what they test and may use any layer to drive it.
    [[ $file == *_test.cpp ]] && continue
    [ "$inc" = "$dir" ] && continue
    case " ${allowed[$dir]} " in *" $inc "*) continue ;; esac
    # kernel/'s own shim headers live in kernel/shim/ and are included as "shim/...".
    [ "$dir" = kernel ] && [ "$inc" = shim ] && continue
    echo "${file#$root/}:$line: $dir/ must not include from $inc/ (layers: ${allowed[$dir]:-none})"
    failed=1
  done < <(grep -rn --include='*.h' --include='*.cpp' --include='*.c' --include='*.def' '#[[:space:]]*include' "$root/$dir")
done
for dir in "${!allowed[@]}"; do
  [ -d "$root/$dir" ] || continue
  while IFS=: read -r file line _; do
    rel=${file#$root/}
    [[ $rel == *_test.cpp || $rel == kernel/kernel_impl.cpp ]] && continue
    echo "$rel:$line: only tests may include kernel/kernel_fault.h (a test-only hook)"
    failed=1
  done < <(grep -rn --include='*.h' --include='*.cpp' --include='*.c' \
             '#[[:space:]]*include[[:space:]]*"kernel/kernel_fault.h"' "$root/$dir")
done
[ $failed -eq 0 ] && echo "layers: every include points toward the core; only tests include the fault hook"
exit $failed
