# shellcheck shell=bash
# A steady sysbench write load on a private MariaDB instance of mariadb.sh,
# for integration scenarios and benchmarks that migrate under load. sysbench
# connects as root over the instance's Unix socket, which MariaDB allows even
# with require_secure_transport (a socket counts as a secure transport).
# Needs mariadb.sh sourced and $T set (dm_init, or any scratch directory):
# every sysbench output goes to a file in $T.
#
#   sb_available             sysbench is installed (callers exit 77 if not)
#   sb_prepare DB SCHEMA TABLES ROWS
#                            creates SCHEMA if missing, then sysbench's tables
#                            SCHEMA.sbtest1..TABLES of ROWS rows each on the
#                            instance DB; output in $T/sysbench-prepare-SCHEMA.log
#   sb_start DB SCHEMA RATE [TABLES ROWS]
#                            runs $SB_TEST (default oltp_write_only: per
#                            transaction an indexed and a non-indexed UPDATE,
#                            a DELETE and an INSERT) on those tables in the
#                            background at RATE transactions/s on $SB_THREADS
#                            (default 2) connections, until sb_stop (at most
#                            $SB_MAX_TIME s, default 3600). TABLES and ROWS
#                            default to those of sb_prepare. One report line
#                            per second in SB_LOG ($T/sysbench-SCHEMA-N.log);
#                            the pid in SB_PID
#   sb_stop [PID]            stops it (default SB_PID) with SIGTERM: its open
#                            transactions roll back on the server. Prints
#                            sb_report; fails when sysbench had already ended
#                            (an error: see its log) or did no transaction
#   sb_stop_all              stops every load started here (for EXIT traps)
#   sb_report LOG            "N s, M transactions, E errors, max queue Q";
#                            fails on a FATAL line or when no transaction ran

SB_TEST=${SB_TEST:-oltp_write_only}
SB_THREADS=${SB_THREADS:-2}
SB_MAX_TIME=${SB_MAX_TIME:-3600}

_SB_SIZES=() # "DB/SCHEMA=TABLES ROWS", from sb_prepare
_SB_RUNS=()  # "PID=LOG", from sb_start
_SB_N=0

sb_available() {
	command -v sysbench >/dev/null 2>&1
}

_sb_args() { # DB SCHEMA TABLES ROWS: connection and table options
	local sock
	sock=$(mariadb_socket "$1") || return 1
	echo "--db-driver=mysql --mysql-socket=$sock --mysql-user=root --mysql-password="
	echo "--mysql-db=$2 --tables=$3 --table-size=$4"
}

sb_prepare() {
	if (($# != 4)); then
		echo "sysbench.sh: usage: sb_prepare DB SCHEMA TABLES ROWS" >&2
		return 1
	fi
	local args log=$T/sysbench-prepare-$2.log
	args=$(_sb_args "$@") || return 1
	mariadb_sql "$1" "CREATE DATABASE IF NOT EXISTS \`$2\`" || return 1
	# shellcheck disable=SC2086 # $args is a list of options without spaces
	if ! sysbench "$SB_TEST" $args --threads=1 prepare >"$log" 2>&1; then
		echo "sysbench.sh: sysbench prepare of $1/$2 failed; last lines of $log:" >&2
		tail -n 20 "$log" >&2
		return 1
	fi
	_SB_SIZES+=("$1/$2=$3 $4")
}

sb_start() {
	if (($# != 3 && $# != 5)); then
		echo "sysbench.sh: usage: sb_start DB SCHEMA RATE [TABLES ROWS]" >&2
		return 1
	fi
	local db=$1 schema=$2 rate=$3 tables=${4:-} rows=${5:-} entry args
	if [[ -z $tables ]]; then
		for entry in "${_SB_SIZES[@]}"; do
			[[ ${entry%%=*} == "$db/$schema" ]] && read -r tables rows <<<"${entry#*=}"
		done
		if [[ -z $tables ]]; then
			echo "sysbench.sh: sb_start $db $schema: no sb_prepare for it here; give TABLES ROWS" >&2
			return 1
		fi
	fi
	args=$(_sb_args "$db" "$schema" "$tables" "$rows") || return 1
	_SB_N=$((_SB_N + 1))
	SB_LOG=$T/sysbench-$schema-$_SB_N.log
	# shellcheck disable=SC2086 # $args is a list of options without spaces
	sysbench "$SB_TEST" $args --threads="$SB_THREADS" --rate="$rate" --time="$SB_MAX_TIME" \
		--report-interval=1 run >"$SB_LOG" 2>&1 </dev/null &
	SB_PID=$!
	_SB_RUNS+=("$SB_PID=$SB_LOG")
	# Fail now rather than later when it cannot connect or finds no table.
	local deadline=$((SECONDS + 10))
	while ! grep -q '^\[ *[0-9]*s \] thds:' "$SB_LOG" 2>/dev/null; do
		if ! kill -0 "$SB_PID" 2>/dev/null || ((SECONDS >= deadline)); then
			echo "sysbench.sh: sysbench $SB_TEST on $db/$schema did not start; last lines of $SB_LOG:" >&2
			tail -n 20 "$SB_LOG" >&2
			sb_stop "$SB_PID" >/dev/null 2>&1
			return 1
		fi
		sleep 0.1
	done
}

sb_report() {
	local log=$1 out
	out=$(awk '
		/^\[ *[0-9]+s \] thds:/ {
			n++
			for (i = 1; i < NF; i++) {
				if ($i == "tps:") trx += $(i + 1)
				if ($i == "err/s:") err += $(i + 1)
			}
		}
		/^\[ *[0-9]+s \] queue length:/ {
			q = $5 + 0
			if (q > maxq) maxq = q
		}
		END { printf "%d s, %d transactions, %d errors, max queue %d\n", n, trx + 0.5, err + 0.5, maxq }
	' "$log") || return 1
	echo "sysbench $(basename "$log" .log): $out"
	if grep -q FATAL "$log"; then
		grep -m3 FATAL "$log"
		return 1
	fi
	[[ $out != *" 0 transactions"* ]]
}

sb_stop() {
	local pid=${1:-${SB_PID:-}} entry log="" rc=0
	[[ -n $pid ]] || return 0
	for entry in "${_SB_RUNS[@]}"; do
		[[ ${entry%%=*} == "$pid" ]] && log=${entry#*=}
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		local deadline=$((SECONDS + 10))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.05; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	else
		wait "$pid" 2>/dev/null
		echo "sysbench (pid $pid) had ended before sb_stop (status $?)"
		rc=1
	fi
	local runs=()
	for entry in "${_SB_RUNS[@]}"; do
		[[ ${entry%%=*} == "$pid" ]] || runs+=("$entry")
	done
	_SB_RUNS=("${runs[@]}")
	if [[ -n $log ]]; then
		sb_report "$log" || rc=1
		((rc == 0)) || tail -n 5 "$log"
	fi
	return $rc
}

sb_stop_all() {
	local entry
	for entry in "${_SB_RUNS[@]}"; do
		sb_stop "${entry%%=*}" >/dev/null 2>&1
	done
	_SB_RUNS=()
	return 0
}
