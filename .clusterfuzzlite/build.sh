#!/bin/bash -eu
# Builds foliocheck's libFuzzer targets the OSS-Fuzz way, without CMake (base-builder's is too old).
#
# Reads $CC, $CXX, $CXXFLAGS (sanitizer and coverage flags included), $LIB_FUZZING_ENGINE, $SRC
# (holding this repository as $SRC/foliocheck), $WORK (scratch) and writes into $OUT: one binary
# per target, <target>_seed_corpus.zip from corpus/<target>/, <target>.options from
# fuzz/<target>.options, and fuzz_trace_parser.dict. The source lists are read from the layers'
# CMakeLists.txt (core/, impl/, trace/) and fuzz/'s decoder, so that they live in one place. ci/check-oss-fuzz-build runs this script
# outside Docker and checks its outputs.
cd "$SRC/foliocheck"
work="${WORK:-/tmp}/foliocheck-build"
rm -rf "$work"
mkdir -p "$work"

sources=$(for dir in core impl trace; do
    sed -n "/^add_library(foliocheck_$dir STATIC/,/^)/p" "$dir/CMakeLists.txt" |
      grep -oE '[A-Za-z0-9_]+\.cpp' | sed "s|^|$dir/|"
  done; echo fuzz/decoder.cpp)
[ "$(printf '%s\n' $sources | wc -l)" -gt 4 ] ||
  { echo "build.sh: no sources found in core/, impl/, trace/CMakeLists.txt" >&2; exit 1; }
# shellcheck disable=SC2016
printf '%s\n' $sources | xargs -P "$(nproc)" -I{} sh -c \
  '$CXX $CXXFLAGS -std=c++20 -I. -c "$1" -o "$0/$(echo "$1" | tr / _ | sed "s/\.cpp$/.o/")"' "$work" {}
ar rcs "$work/libfoliocheck_model.a" "$work"/*.o

zip_dir() {  # zip_dir DIR ZIP: every file of DIR at the top of ZIP
  if command -v zip >/dev/null; then
    (cd "$1" && zip -q -j "$2" ./*)
  else
    python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w") as z:
    for name in sorted(os.listdir(sys.argv[1])):
        z.write(os.path.join(sys.argv[1], name), name)
PY
  fi
}

for target in fuzz_differential fuzz_trace_parser; do
  extra=()
  [ "$target" = fuzz_differential ] && extra=(fuzz/op_mutator.cpp)
  # shellcheck disable=SC2086
  $CXX $CXXFLAGS -std=c++20 -I. "fuzz/$target.cpp" "${extra[@]}" "$work/libfoliocheck_model.a" \
    $LIB_FUZZING_ENGINE -o "$OUT/$target"
  rm -f "$OUT/${target}_seed_corpus.zip"
  zip_dir "$PWD/corpus/$target" "$OUT/${target}_seed_corpus.zip"
  cp "fuzz/$target.options" "$OUT/$target.options"
done
cp corpus/fuzz_trace_parser.dict "$OUT/fuzz_trace_parser.dict"
