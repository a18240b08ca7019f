#!/usr/bin/env bash
# clang-tidy over every source file (repo .clang-tidy), two at a time; exits 1 on any finding.
set -uo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/.."
git ls-files 'src/*.cpp' 'tools/*.cpp' 'examples/*.cpp' 'bench/*.cpp' |
  xargs -P 2 -n 1 clang-tidy -p "$build_dir" --quiet 2>/dev/null |
  grep -E '^/.*(warning|error):' | sort -u > "$build_dir/tidy.txt"
if [ -s "$build_dir/tidy.txt" ]; then
  cat "$build_dir/tidy.txt"
  echo "clang-tidy: $(wc -l < "$build_dir/tidy.txt") finding(s)"
  exit 1
fi
echo "clang-tidy: clean"
