# Thin wrapper over CMake. `make demo` and `make test` work on a fresh Debian 12
# machine: both install missing packages first (scripts/install-deps.sh).
BUILD_DIR ?= build
BENCH_DIR ?= build-release
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo test bench format tidy clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	$(BUILD_DIR)/outlet demo

test: build
	bash scripts/run-tests.sh $(BUILD_DIR)

bench: deps
	cmake -S . -B $(BENCH_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BENCH_DIR) -j $(JOBS) --target outlet_bench
	$(BENCH_DIR)/outlet_bench --benchmark_repetitions=7 --benchmark_out=$(BENCH_DIR)/bench.json \
	  --benchmark_out_format=json
	python3 bench/table.py $(BENCH_DIR)/bench.json

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

tidy: build
	bash scripts/tidy.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(BENCH_DIR)
