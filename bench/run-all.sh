#!/usr/bin/env bash
# make bench: runs every benchmark in bench/ (today: full.sh, the full
# migration) against build-release (DM_BUILD_DIR overrides) and exits with
# the status of the first one that failed (0 when all passed). Timings are
# printed, never judged; see docs/benchmarks.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
benches=(full.sh)
for b in "${benches[@]}"; do
	echo "### bench/$b"
	"$here/$b"
	s=$?
	if ((s != 0)); then
		echo "### bench/$b failed (exit $s)"
		((rc == 0)) && rc=$s
	fi
done
exit $rc
