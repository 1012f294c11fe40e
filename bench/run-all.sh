#!/usr/bin/env bash
# make bench: runs every benchmark in bench/ (full.sh, the full migration;
# incremental.sh, the sync) against build-release (DM_BUILD_DIR overrides) and exits with
# the status of the first one that failed (0 when all passed). Timings are
# printed, never judged; see docs/benchmarks.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rc=0
benches=(full.sh incremental.sh)
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
