#!/usr/bin/env bash
# clang-format check plus cppcheck over every tracked C file. Non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h')
rc=0
if ! clang-format --dry-run --Werror $files; then
	echo "lint: clang-format would change the files above; run 'make format'" >&2
	rc=1
fi
if ! cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
	--inline-suppr --suppress=missingIncludeSystem --include=scripts/cppcheck-defs.h -I src $(git ls-files 'src/*.c' 'tools/*.c'); then
	rc=1
fi
exit $rc
