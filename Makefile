# The commands a person types. Build trees live in build/<flavour>.
#   make run    install what is missing, build, migrate, seed, serve on :8080
#   make test   everything CI checks (release -Werror build, ASan+UBSan build, fuzz smoke)
#   make bench  benchmarks (see bench/README.md)
#   make fuzz   run each libFuzzer target longer (FUZZ_SECONDS, default 60)
JOBS        ?= $(shell nproc)
BUILD       ?= build/release
FRAMEFIT    := $(BUILD)/framefit
CTEST_ARGS  ?=
FUZZ_SECONDS ?= 60

.PHONY: all deps test-deps build run test test-release test-asan test-fuzz bench fuzz clean

all: build

deps:
	@sh scripts/install-deps.sh

test-deps:
	@sh scripts/install-deps.sh --all

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(FRAMEFIT) migrate
	$(FRAMEFIT) seed
	$(FRAMEFIT) serve

test: test-deps test-release test-asan test-fuzz

test-release:
	cmake -S . -B build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFF_WERROR=ON >/dev/null
	cmake --build build/ci -j $(JOBS)
	cd build/ci && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

test-asan:
	cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DFF_WERROR=ON \
	      "-DFF_SANITIZE=address;undefined" >/dev/null
	cmake --build build/asan -j $(JOBS)
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	      ctest --output-on-failure -j $(JOBS) -LE 'bench|nosan' $(CTEST_ARGS)

test-fuzz:
	CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DFF_FUZZ=ON >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	cd build/fuzz && ctest --output-on-failure -j $(JOBS) -L fuzz

fuzz:
	CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DFF_FUZZ=ON >/dev/null
	cmake --build build/fuzz -j $(JOBS)
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run-all.sh build/fuzz

bench: test-deps build
	sh bench/run.sh

clean:
	rm -rf build
