# shellcheck shell=bash
# Helpers shared by tests/integration/*/run.sh, in the spirit of git's
# t/test-lib.sh: each check is one `step`, results are printed as they go,
# and the script's exit status says whether every step passed.
#
# Source it, then:
#   dm_init NAME              scratch dir in $T (removed on exit; kept when
#                             DM_KEEP_TMP=1), cleanup trap for dm_bg processes
#   dm_need_cmd CMD...        exit 77 (skipped) when a command is missing
#   dm_tool NAME              prints $DM_BUILD_DIR/tools/NAME, or fails when it is not
#                             built: X=$(dm_tool NAME) || exit 77
#   free_port VAR             a free 127.0.0.1 TCP port into VAR, reserved until exit (ports.sh)
#   wait_for_port PORT [SECS] until something accepts on 127.0.0.1:PORT
#   wait_for_file FILE REGEX [SECS]  until a line of FILE matches (grep -E)
#   dm_bg NAME CMD...         runs CMD in the background, output in $T/NAME.out;
#                             its pid in DM_BG_PID; stopped by the cleanup trap
#   dm_stop PID [SECS]        SIGTERM, wait (SIGKILL after SECS, default 10);
#                             returns the process's exit status
#   cert_ca NAME CN           $T/NAME.pem + $T/NAME.key, a CA (tools/cert_issue.c, which
#                             is src/tls/pki.c: no certificate is checked in)
#   cert_leaf CA NAME CN [SANS]  leaf signed by CA, SANS default 127.0.0.1,localhost
#   step 'what' CMD...        runs CMD (in this shell, output to $T/step-N.log),
#                             prints "ok N - what" or "not ok N - what" + the log
#   not CMD...                succeeds when CMD fails
#   dm_done                   prints the summary; exits 0 only if every step passed

# shellcheck source=tests/lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

DM_SOURCE_DIR=${DM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DM_BUILD_DIR=${DM_BUILD_DIR:-$DM_SOURCE_DIR/build}
DM_STEPS=0
DM_FAILED=0
DM_BG_PIDS=()
DM_PORTS_USED=" "
T=""

_dm_cleanup() {
	local pid
	for pid in "${DM_BG_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && dm_stop "$pid" 5 >/dev/null 2>&1
	done
	# shellcheck disable=SC2086 # a list of port numbers
	dm_port_release $DM_PORTS_USED
	if [[ -n $T && -d $T ]]; then
		if [[ ${DM_KEEP_TMP:-0} == 1 ]]; then
			echo "# kept $T"
		else
			rm -rf "$T"
		fi
	fi
}

dm_init() {
	T=$(mktemp -d "/tmp/dm-it-$1-XXXXXX") || {
		echo "cannot create a scratch directory" >&2
		exit 1
	}
	trap _dm_cleanup EXIT
	trap 'exit 130' INT TERM
	cd "$T" || exit 1
	echo "# $1 in $T"
}

dm_need_cmd() {
	local c
	for c in "$@"; do
		if ! command -v "$c" >/dev/null 2>&1; then
			echo "SKIP: $c is not installed"
			exit 77
		fi
	done
}

dm_tool() {
	local p=$DM_BUILD_DIR/tools/$1
	if [[ ! -x $p ]]; then
		echo "SKIP: $p is not built (make)" >&2
		return 1
	fi
	echo "$p"
}

_dm_port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
	dm_port_pick "$1" || return 1
	DM_PORTS_USED+="${!1} "
}

wait_for_port() {
	local port=$1 deadline=$((SECONDS + ${2:-10}))
	while ((SECONDS < deadline)); do
		_dm_port_open "$port" && return 0
		sleep 0.05
	done
	echo "nothing accepts on 127.0.0.1:$port after ${2:-10}s" >&2
	return 1
}

wait_for_file() {
	local file=$1 re=$2 deadline=$((SECONDS + ${3:-10}))
	while ((SECONDS < deadline)); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line matching /$re/ in $file after ${3:-10}s" >&2
	return 1
}

dm_bg() {
	local name=$1
	shift
	"$@" >"$T/$name.out" 2>&1 </dev/null &
	DM_BG_PID=$!
	DM_BG_PIDS+=("$DM_BG_PID")
}

dm_stop() {
	local pid=$1 deadline=$((SECONDS + ${2:-10})) rc
	kill -TERM "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			echo "pid $pid did not exit after SIGTERM; killing it" >&2
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.05
	done
	wait "$pid" 2>/dev/null
	rc=$?
	return $rc
}

cert_ca() {
	"$DM_BUILD_DIR/tools/cert-issue" ca --cn "$2" --out-cert "$T/$1.pem" --out-key "$T/$1.key"
}

cert_leaf() {
	"$DM_BUILD_DIR/tools/cert-issue" leaf --ca-cert "$T/$1.pem" --ca-key "$T/$1.key" --cn "$3" \
		--san "${4:-127.0.0.1,localhost}" --out-cert "$T/$2.pem" --out-key "$T/$2.key"
}

not() {
	! "$@"
}

step() {
	local what=$1
	shift
	DM_STEPS=$((DM_STEPS + 1))
	local log=$T/step-$DM_STEPS.log
	if "$@" >"$log" 2>&1; then
		echo "ok $DM_STEPS - $what"
	else
		DM_FAILED=$((DM_FAILED + 1))
		echo "not ok $DM_STEPS - $what"
		echo "#   command: $*"
		tail -n 20 "$log" | sed 's/^/#   /'
	fi
}

dm_done() {
	if ((DM_FAILED > 0)); then
		echo "# $DM_FAILED of $DM_STEPS steps failed"
		exit 1
	fi
	echo "# all $DM_STEPS steps passed"
	exit 0
}
