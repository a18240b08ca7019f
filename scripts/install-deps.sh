#!/usr/bin/env bash
# Installs the Debian 12 packages Outlet builds and tests with (DESIGN.md, "Dependencies").
# Idempotent: packages already present are skipped, and nothing runs apt when all are there.
# Works as root or through sudo; never prompts (CI has no standard input).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache clang-format clang-tidy python3
  # core libraries
  nlohmann-json3-dev libsimdjson-dev libsqlite3-dev sqlite3 libre2-dev
  libcli11-dev libspdlog-dev libfmt-dev
  # runtimes
  liblua5.4-dev libmozjs-102-dev
  # network, packages, signatures
  libboost-dev libcurl4-openssl-dev libzip-dev libsodium-dev
  # scale-out
  redis-server libhiredis-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev json-schema-test-suite
  # C -> wasm examples
  clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo_cmd=()
elif command -v sudo >/dev/null 2>&1; then
  sudo_cmd=(sudo -n)
else
  echo "install-deps: missing packages (${missing[*]}) and neither root nor sudo is available" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
