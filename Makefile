# Thin wrapper over CMake/CTest. `make` builds the Debug (ASan+UBSan) tree in
# build/, which is also what `make test` runs.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build test unit lint format demo bench fuzz release clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

release:
	cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DDM_SANITIZE=OFF >/dev/null
	cmake --build build-release -j $(JOBS)

lint:
	scripts/lint.sh

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

demo:
	scripts/demo.sh

bench: release
	bench/run-all.sh

fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) build-release build-fuzz
