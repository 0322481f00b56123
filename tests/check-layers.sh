#!/usr/bin/env bash
# Claims that dependencies point one way, toward the core: each folder includes only its own
# headers and those of the layers below it (README.md, "Architecture").
set -uo pipefail
# Usage: check-layers.sh [ROOT]   (default: this repository)
#        check-layers.sh --self-test   (a planted bad include must be named, with exit 1)
if [ "${1:-}" = --self-test ]; then
  d=$(mktemp -d)
  trap 'rm -rf "$d"' EXIT
  mkdir -p "$d/core" && echo '#include "trace/trace.h"' > "$d/core/bad.h"
  out=$("$0" "$d")
  code=$?
  [ $code -eq 1 ] && grep -q '^core/bad.h:1: core/ must not include from trace/' <<<"$out" &&
    { echo "self-test: the planted include was named"; exit 0; }
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
  [export]="core impl trace" [interleave]="core impl trace explore"
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
[ $failed -eq 0 ] && echo "layers: every include points toward the core"
exit $failed
