#!/usr/bin/env bash
# Bounded libFuzzer run of every tests/fuzz/fuzz_*.c target (docs/fuzzing.md).
#
#   scripts/fuzz.sh [SECONDS]     SECONDS per target, default 60
#
# Builds build-fuzz/ with clang (-DDM_FUZZ=ON, -DDM_SANITIZE=OFF: the fuzz
# flags carry ASan+UBSan themselves), then runs each target on a scratch copy
# of its seed corpus (build-fuzz/fuzz/corpus/<name>/; the committed seeds in
# tests/fuzz/corpus/ are never written). Crashes, leaks and timeouts land in
# build-fuzz/fuzz/crashes/<name>/. Exits 1 when any target failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-60}
[[ -n $secs ]] || secs=60
if ! [[ $secs =~ ^[0-9]+$ ]] || ((secs < 1)); then
	echo "usage: $0 [SECONDS per target]" >&2
	exit 2
fi
build=$root/build-fuzz
out=$build/fuzz
jobs=$(nproc)

if ! command -v clang >/dev/null; then
	echo "fuzz: clang not found (libFuzzer needs clang and libclang-rt-dev)" >&2
	exit 2
fi
mkdir -p "$out"
if ! CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DDM_FUZZ=ON -DDM_SANITIZE=OFF \
	>"$out/configure.log" 2>&1; then
	cat "$out/configure.log" >&2
	echo "fuzz: configure failed (log: $out/configure.log)" >&2
	exit 2
fi
if ! cmake --build "$build" -j "$jobs" --target fuzz-targets >"$out/build.log" 2>&1; then
	tail -40 "$out/build.log" >&2
	echo "fuzz: build failed (log: $out/build.log)" >&2
	exit 2
fi

failed=0
summary=()
for src in tests/fuzz/fuzz_*.c; do
	target=$(basename "$src" .c)
	name=${target#fuzz_}
	bin=$out/$target
	corpus=$out/corpus/$name
	crashes=$out/crashes/$name
	log=$out/$name.log
	mkdir -p "$corpus" "$crashes"
	# Scratch corpus: seeds copied in, grown by the fuzzer, kept between runs.
	if [[ -d tests/fuzz/corpus/$name ]]; then
		cp -p tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true
	fi
	dict=()
	[[ -f tests/fuzz/$name.dict ]] && dict=(-dict="$root/tests/fuzz/$name.dict")
	echo "fuzz: $name for ${secs}s (log: $log)"
	touch "$out/.start-$name"
	"$bin" "$corpus" "${dict[@]}" -max_total_time="$secs" -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
	units=$(find "$corpus" -type f | wc -l)
	mapfile -t found < <(find "$crashes" -type f -newer "$out/.start-$name" | sort)
	if ((rc != 0)) || ((${#found[@]} > 0)); then
		failed=1
		summary+=("FAIL $name: exit $rc, execs ${execs:-?}, cov ${cov:-?}, corpus $units")
		grep -m1 -E '^==[0-9]+==ERROR|runtime error|fuzz invariant failed|deadly signal' \
			"$log" >&2 || true
		for f in "${found[@]}"; do
			summary+=("     crash input: $f")
		done
	else
		summary+=("ok   $name: execs ${execs:-?}, cov ${cov:-?}, corpus $units, ${secs}s")
	fi
done

echo "fuzz summary:"
printf '  %s\n' "${summary[@]}"
exit $failed
