#!/usr/bin/env bash
# Runs the toml-test corpus (TOML 1.0.0 case list) against toml-decode.
#
#   bash tests/toml-test.sh build/tools/toml-decode
#
# valid/X.toml must decode and equal valid/X.json (per toml-json-equal, found
# beside toml-decode); valid/X.json must itself be well-formed tagged JSON;
# invalid/X.toml must be refused with exit status 1 and a message on stderr.
# The corpus is $TOML_TEST_DIR or ../shared/toml-test beside the clone.
set -u

decode=${1:?usage: toml-test.sh path/to/toml-decode}
equal="$(dirname "$decode")/toml-json-equal"
src=${DM_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
corpus=${TOML_TEST_DIR:-$src/../shared/toml-test}
list="$corpus/files-toml-1.0.0"

if [ ! -f "$list" ]; then
	echo "SKIP: toml-test corpus not found at $corpus; it lives in ../shared beside the clone"
	exit 77
fi
for tool in "$decode" "$equal"; do
	if [ ! -x "$tool" ]; then
		echo "toml-test: $tool is missing; build first (make)" >&2
		exit 1
	fi
done

# Sanitizer reports must not pass for the decoder's own "invalid input" exit.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=87"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

failed() {
	echo "FAIL $1: $2"
	fail=$((fail + 1))
}

first_line() {
	head -c 400 "$1" | head -n 1
}

while IFS= read -r case || [ -n "$case" ]; do
	[ -n "$case" ] || continue
	file="$corpus/$case"
	case "$case" in
	valid/*.toml)
		if ! "$decode" <"$file" >"$tmp/out.json" 2>"$tmp/err"; then
			failed "$case" "refused: $(first_line "$tmp/err")"
		elif ! "$equal" "${file%.toml}.json" "$tmp/out.json" >"$tmp/diff" 2>&1; then
			failed "$case" "differs: $(first_line "$tmp/diff")"
		else
			pass=$((pass + 1))
		fi
		;;
	valid/*.json)
		if [ ! -f "${file%.json}.toml" ]; then
			failed "$case" "no matching .toml input"
		elif ! "$equal" "$file" "$file" >"$tmp/diff" 2>&1; then
			failed "$case" "malformed expected output: $(first_line "$tmp/diff")"
		else
			pass=$((pass + 1))
		fi
		;;
	invalid/*.toml)
		"$decode" <"$file" >/dev/null 2>"$tmp/err"
		rc=$?
		if [ "$rc" -eq 0 ]; then
			failed "$case" "accepted invalid input"
		elif [ "$rc" -ne 1 ]; then
			failed "$case" "exit status $rc (crash or sanitizer report): $(first_line "$tmp/err")"
		elif [ ! -s "$tmp/err" ]; then
			failed "$case" "refused without a message on stderr"
		else
			pass=$((pass + 1))
		fi
		;;
	*)
		failed "$case" "unknown kind of case"
		;;
	esac
done <"$list"

echo "toml-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
