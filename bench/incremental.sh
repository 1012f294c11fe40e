#!/usr/bin/env bash
# Incremental-sync benchmark (docs/benchmarks.md). One run:
#   1. prepares sysbench tables upstream and copies them to the target
#      (untimed; the copy is restored before every run), notes the binlog
#      position P0;
#   2. with nothing replicating, generates ~BENCH_CHANGES row changes with
#      sysbench oltp_write_only + oltp_insert; P1 is the end;
#   3. times the apply of P0..P1 (catch-up) into the same target server:
#        dm4 / dm16    dm, worker-count 4 / 16, TLS on every link
#        mariadb0      MariaDB's replication, slave_parallel_threads=0, TLS
#        mariadb4      slave_parallel_threads=4, slave_parallel_mode=optimistic
#        dm4-plain     dm, worker-count 4, MariaDB links plaintext
#      each run verified (rows + CHECKSUM TABLE of every table = upstream);
#   4. steady load: dm (worker-count 4, TLS) follows sysbench at a fixed
#      rate (default half of dm4's catch-up transactions/s) for
#      BENCH_STEADY_SECS; a heartbeat row updated upstream every 100 ms
#      (its NOW(6)) is read on the target every 100 ms: lag p50/p99;
#   5. one transaction of BENCH_BIG_MB MiB upstream, applied by a fresh
#      dm-worker: its peak RSS (VmHWM).
# Timings and the issue's targets are printed, never judged; a run that
# does not verify is void and the script exits 1.
#
# Knobs (environment; defaults are the issue's scale):
#   BENCH_TABLES=4 BENCH_ROWS=100000   sysbench tables x rows before the load
#   BENCH_CHANGES=1000000              row changes to generate (~80% from
#                                      oltp_write_only, 4 per transaction)
#   BENCH_GEN_THREADS=4                sysbench threads while generating
#   BENCH_RUNS="dm4 dm16 mariadb0 mariadb4 dm4-plain"
#   BENCH_REPEAT=1                     rounds of all runs, interleaved; each
#                                      run's time is its median
#   BENCH_STEADY_SECS=60 BENCH_STEADY_TPS=(half of dm4)   0 secs: skip
#   BENCH_BIG_MB=1024                  0: skip the big transaction
#   BENCH_BUFFER_POOL_MB=1024          innodb_buffer_pool_size of both servers
#   BENCH_TIMEOUT=3600                 seconds before a run is declared failed
#   DM_BUILD_DIR=build-release         dm-master, dm-worker, dmctl, tools/cert-issue
#   DM_KEEP_TMP=1                      keep the scratch directory
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
source "$root/bench/lib.sh"

TABLES=${BENCH_TABLES:-4}
ROWS=${BENCH_ROWS:-100000}
CHANGES=${BENCH_CHANGES:-1000000}
GEN_THREADS=${BENCH_GEN_THREADS:-4}
RUNS=${BENCH_RUNS:-dm4 dm16 mariadb0 mariadb4 dm4-plain}
REPEAT=${BENCH_REPEAT:-1}
STEADY_SECS=${BENCH_STEADY_SECS:-60}
STEADY_TPS=${BENCH_STEADY_TPS:-}
BIG_MB=${BENCH_BIG_MB:-1024}
# shellcheck disable=SC2034 # POOL_MB and DBS are read by bench/lib.sh
POOL_MB=${BENCH_BUFFER_POOL_MB:-1024}
TIMEOUT=${BENCH_TIMEOUT:-3600}
PASS='bench-Pw-9'
# shellcheck disable=SC2034
DBS="sbtest"

B=$DM_BUILD_DIR
bench_need sysbench mariadb-dump jq || exit 1
for r in $RUNS; do
	case $r in dm4 | dm16 | mariadb0 | mariadb4 | dm4-plain) ;; *)
		echo "bench: unknown run '$r' in BENCH_RUNS" >&2
		exit 1
		;;
	esac
done

BG=()
stop_bg() {
	local p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	BG=()
}
dm_init bench-incremental
trap 'stop_bg; stop_dm; mariadb_stop_all; _dm_cleanup' EXIT
say "bench/incremental.sh in $T: $TABLES x $ROWS sysbench rows, ~$CHANGES row changes," \
	"runs: $RUNS, steady ${STEADY_SECS}s, big transaction ${BIG_MB} MiB, dm from $B"

# ---- servers, data ----------------------------------------------------------
bench_certs || exit 1
free_port UP && free_port DOWN || exit 1
bench_server up "$UP" 1 --binlog && bench_server down "$DOWN" 2 || exit 1
sb() { # sysbench TEST ARGS... against the upstream, as root over its socket
	local t=$1
	shift
	sysbench "$t" --db-driver=mysql --mysql-socket="$(mariadb_socket up)" --mysql-user=root \
		--mysql-password= --mysql-db=sbtest --tables="$TABLES" --table-size="$ROWS" "$@"
}
say "preparing upstream data"
mariadb_sql up "CREATE DATABASE sbtest;
CREATE TABLE sbtest.hb (id INT PRIMARY KEY, ts DATETIME(6) NOT NULL);
INSERT INTO sbtest.hb VALUES (1, NOW(6))" || exit 1
sb oltp_write_only --threads="$TABLES" prepare >"$T/prepare.log" 2>&1 || {
	tail -n 20 "$T/prepare.log"
	exit 1
}
TABLE_LIST="sbtest.hb "
for ((i = 1; i <= TABLES; i++)); do TABLE_LIST+="sbtest.sbtest$i "; done
mariadb-dump --defaults-file="$(mariadb_defaults up)" -uroot --single-transaction \
	--databases sbtest >"$T/initial.sql" 2>"$T/dump.err" || { cat "$T/dump.err"; exit 1; }
IFS=$'\t' read -r P0_FILE P0_POS _ < <(mariadb_sql up "SHOW MASTER STATUS")
restore_target() { # the upstream as it was at P0
	reset_target || return 1
	mariadb --defaults-file="$(mariadb_defaults down)" -uroot <"$T/initial.sql" || return 1
	quiesce
}

# ---- the binlog to apply ----------------------------------------------------
WO_EVENTS=$((CHANGES * 8 / 10 / 4))
INS_EVENTS=$((CHANGES - WO_EVENTS * 4))
say "generating: $WO_EVENTS oltp_write_only + $INS_EVENTS oltp_insert transactions," \
	"$GEN_THREADS threads each, nothing replicating"
st=$(now)
sb oltp_write_only --threads="$GEN_THREADS" --events="$WO_EVENTS" --time=0 --report-interval=0 \
	run >"$T/gen-wo.log" 2>&1 &
g1=$!
sb oltp_insert --threads="$GEN_THREADS" --events="$INS_EVENTS" --time=0 run >"$T/gen-ins.log" 2>&1 &
g2=$!
wait "$g1" && wait "$g2" || {
	tail -n 20 "$T/gen-wo.log" "$T/gen-ins.log"
	exit 1
}
IFS=$'\t' read -r P1_FILE P1_POS _ < <(mariadb_sql up "SHOW MASTER STATUS")
BINLOG_MB=$(mariadb_sql up "SHOW BINARY LOGS" | awk '{ s += $2 } END { printf "%.0f", s / 1048576 }')
say "generated in $(elapsed "$st" "$(now)") s: $P0_FILE:$P0_POS .. $P1_FILE:$P1_POS" \
	"(binlog files total $BINLOG_MB MiB)"
sums up >"$T/source.sums" || exit 1

# ---- runs -------------------------------------------------------------------
task_yaml() { # DIR TLS WORKERS NAME FILE POS
	cat <<YAML
name: "$4"
task-mode: incremental
meta-schema: "dm_meta"
target-database:
$(db_block "$DOWN" "$2")
block-allow-list:
  bal:
    do-dbs: ["sbtest"]
syncers:
  sync:
    worker-count: $3
    batch: 100
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    syncer-config-name: "sync"
    meta:
      binlog-name: "$5"
      binlog-pos: $6
YAML
}
sync_field() { # DIR JQ: a field of the task's sync status
	ctl query-status "$(cat "$1/task-name")" >"$1/status.json" 2>&1
	jq -r "[.sources[]?.subTaskStatus[]?] | .[0] | $2" "$1/status.json" 2>/dev/null
}
# run_dm DIR TLS WORKERS: prints "seconds rows events transactions rss_kib" on fd 3
run_dm() {
	local d=$1 tls=$2 n=$3 t0 t1 before pos stage
	bench_dm_start "$d" "$tls" || return 1
	echo bench >"$d/task-name"
	task_yaml "$d" "$tls" "$n" bench "$P0_FILE" "$P0_POS" >"$d/task.yaml"
	before=$(ssl_accepts)
	local c0 k0
	c0=$(server_cpu) k0=$(target_counts)
	t0=$(now)
	ctl start-task "$d/task.yaml" >"$d/start.out" 2>&1 || { cat "$d/start.out"; return 1; }
	local want="($P1_FILE, $P1_POS)" deadline=$((SECONDS + TIMEOUT)) done i=0
	# Done when every applier's checkpoint row on the target is at P1: what
	# dm itself would resume from, read the way the MariaDB runs read
	# Exec_Master_Log_Pos (query-status refreshes only every 0.5 s).
	while ((SECONDS < deadline)); do
		done=$(plain_sql down "SELECT COUNT(*) FROM dm_meta.bench_syncer_checkpoint
WHERE binlog_name > '$P1_FILE' OR (binlog_name = '$P1_FILE' AND binlog_pos >= $P1_POS)" 2>/dev/null)
		[[ $done == "$n" ]] && break
		if ((++i % 20 == 0)); then
			stage=$(sync_field "$d" '.stage // ""')
			[[ $stage == Paused || $stage == Stopped ]] && break
		fi
		sleep 0.1
	done
	t1=$(now)
	if [[ $done != "$n" ]]; then
		echo "dm did not reach $want: ${done:-no} of $n checkpoint rows there; query-status:"
		sync_field "$d" '.stage' >/dev/null
		tail -c 3000 "$d/status.json"
		return 1
	fi
	# when each applier's last commit happened (the target's clock, UTC)
	echo "appliers' last commits, seconds after the start:" $(plain_sql down \
		"SELECT ROUND(UNIX_TIMESTAMP(updated_at) - $t0, 2) FROM dm_meta.bench_syncer_checkpoint ORDER BY applier")
	# the counters below come from query-status: wait for it (untimed)
	for ((i = 0; i < 50; i++)); do
		pos=$(sync_field "$d" '.sync.syncerBinlog // ""')
		past "$pos" && break
		sleep 0.1
	done
	local rows events txns rss cpu
	rows=$(sync_field "$d" '.sync.totalRows') events=$(sync_field "$d" '.sync.totalEvents')
	txns=$(sync_field "$d" '.sync.totalTransactions')
	rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$WPID/status" 2>/dev/null)
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$WPID/stat" 2>/dev/null)
	echo "CPU seconds during the run: $(server_cpu_since "$c0")"
	echo "on the target: $(target_counts_since "$k0")"
	ctl stop-task bench >/dev/null 2>&1
	stop_dm
	check_tls "$tls" "$before" || return 1
	echo "dm: $rows rows, $events events, $txns transactions; worker peak RSS" \
		"$((rss / 1024)) MiB, CPU $cpu s"
	echo "$(elapsed "$t0" "$t1") $rows $events $txns $rss" >&3
}
target_counts() { # statements and row lock waits on the target so far
	plain_sql down "SELECT SUM(IF(VARIABLE_NAME IN ('COM_INSERT', 'COM_UPDATE', 'COM_DELETE',
  'COM_REPLACE'), VARIABLE_VALUE, 0)), SUM(IF(VARIABLE_NAME = 'COM_COMMIT', VARIABLE_VALUE, 0)),
  SUM(IF(VARIABLE_NAME = 'INNODB_ROW_LOCK_WAITS', VARIABLE_VALUE, 0))
  FROM information_schema.GLOBAL_STATUS"
}
target_counts_since() { # from target_counts
	local a b c d e f
	read -r a b c <<<"$1"
	read -r d e f <<<"$(target_counts)"
	echo "$((d - a)) row statements, $((e - b)) commits, $((f - c)) row lock waits"
}
at_p1() { # FILE POS [WANT_FILE WANT_POS]: at or past P1 (or WANT)
	local wf=${3:-$P1_FILE} wp=${4:-$P1_POS}
	[[ -n $1 && -n $2 ]] || return 1
	[[ $1 > "$wf" ]] || { [[ $1 == "$wf" ]] && (($2 >= wp)); }
}
past() { # "(file, pos)" from query-status [WANT_FILE WANT_POS]: at or past P1
	local f=${1#(} p=${1##*, }
	at_p1 "${f%%,*}" "${p%)}" "${@:2}"
}
# run_mariadb DIR THREADS: the target replicates P0..P1 itself
run_mariadb() {
	local d=$1 n=$2 t0 t1 before st file pos
	mariadb_sql down "STOP SLAVE; RESET SLAVE ALL;
SET GLOBAL slave_parallel_threads = $n; SET GLOBAL slave_parallel_mode = 'optimistic';
CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $UP, MASTER_USER = 'dm',
  MASTER_PASSWORD = '$PASS', MASTER_SSL = 1, MASTER_SSL_CA = '$T/ca.pem',
  MASTER_SSL_CERT = '$T/dbclient.pem', MASTER_SSL_KEY = '$T/dbclient.key',
  MASTER_SSL_VERIFY_SERVER_CERT = 1, MASTER_USE_GTID = no,
  MASTER_LOG_FILE = '$P0_FILE', MASTER_LOG_POS = $P0_POS" || return 1
	before=$(ssl_accepts)
	local c0 k0
	c0=$(server_cpu) k0=$(target_counts)
	t0=$(now)
	mariadb_sql down "START SLAVE" || return 1
	local deadline=$((SECONDS + TIMEOUT))
	while ((SECONDS < deadline)); do
		mariadb --defaults-file="$(mariadb_defaults down)" -uroot -e "SHOW SLAVE STATUS\G" >"$d/slave.txt" 2>&1
		file=$(awk '$1 == "Relay_Master_Log_File:" { print $2 }' "$d/slave.txt")
		pos=$(awk '$1 == "Exec_Master_Log_Pos:" { print $2 }' "$d/slave.txt")
		at_p1 "$file" "$pos" && break
		if grep -Eq "Slave_SQL_Running: No|Last_(IO|SQL)_Errno: [1-9]" "$d/slave.txt"; then
			grep -E "Running|Errno|Error" "$d/slave.txt"
			return 1
		fi
		sleep 0.1
	done
	t1=$(now)
	echo "CPU seconds during the run: $(server_cpu_since "$c0")"
	echo "on the target: $(target_counts_since "$k0")"
	st=$(grep -E "Slave_SSL_Allowed|Master_SSL_Allowed" "$d/slave.txt" | tr -s ' ')
	mariadb_sql down "STOP SLAVE; RESET SLAVE ALL" || return 1
	at_p1 "$file" "$pos" || {
		echo "the replica did not reach $P1_FILE:$P1_POS (at $file:$pos)"
		return 1
	}
	check_tls on "$before" || return 1
	echo "replica:$st"
	echo "$(elapsed "$t0" "$t1") - - - -" >&3
}

declare -A SECS RROWS REVENTS RTXNS RRSS ALL
failed=0
for ((rep = 1; rep <= REPEAT; rep++)); do
	for r in $RUNS; do
		d=$T/$r.$rep
		mkdir -p "$d"
		tls=on
		[[ $r == dm4-plain ]] && tls=off
		say "run $r: restoring the target to P0"
		restore_target || exit 1
		set_tls "$tls" || exit 1
		case $r in
		dm4 | dm4-plain) cmd=(run_dm "$d" "$tls" 4) ;;
		dm16) cmd=(run_dm "$d" "$tls" 16) ;;
		mariadb0) cmd=(run_mariadb "$d" 0) ;;
		mariadb4) cmd=(run_mariadb "$d" 4) ;;
		esac
		if "${cmd[@]}" 3>"$d/result" >"$d/run.log" 2>&1 && verify "$d" >>"$d/run.log" 2>&1; then
			read -r secs RROWS[$r] REVENTS[$r] RTXNS[$r] RRSS[$r] <"$d/result"
			ALL[$r]+="$secs "
			sed 's/^/    /' "$d/run.log"
			say "run $r ($rep of $REPEAT): $secs s"
		else
			failed=$((failed + 1))
			say "run $r ($rep of $REPEAT) FAILED:"
			sed 's/^/    /' "$d/run.log"
			for f in "$d"/*.log; do
				[[ -f $f && $f != "$d/run.log" ]] || continue
				echo "    --- last lines of $f"
				tail -n 15 "$f" | sed 's/^/    /'
			done
		fi
		stop_dm
	done
done
# each run's median over the repeats (a failed repeat voids the run)
for r in $RUNS; do
	read -ra times <<<"${ALL[$r]:-}"
	((${#times[@]} == REPEAT)) || continue
	SECS[$r]=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
done
set_tls on || exit 1
# the counts of the applied range, from whichever dm run saw them
ROWS_N="" EVENTS_N="" TXNS_N=""
for r in dm4 dm16 dm4-plain; do
	if [[ -n ${RROWS[$r]:-} && ${RROWS[$r]} != - ]]; then
		ROWS_N=${RROWS[$r]} EVENTS_N=${REVENTS[$r]} TXNS_N=${RTXNS[$r]}
		break
	fi
done

# ---- steady load: lag -------------------------------------------------------
LAG_P50="" LAG_P99="" LAG_MAX="" STEADY_DONE=""
steady() {
	local d=$T/steady rate
	mkdir -p "$d"
	rate=$STEADY_TPS
	if [[ -z $rate && -n ${SECS[dm4]:-} && -n $TXNS_N ]]; then
		rate=$(calc %.0f "$TXNS_N / ${SECS[dm4]} / 2")
	fi
	[[ -n $rate ]] || rate=500
	restore_target_now || return 1
	local file pos
	IFS=$'\t' read -r file pos _ < <(mariadb_sql up "SHOW MASTER STATUS")
	bench_dm_start "$d" on || return 1
	echo steady >"$d/task-name"
	task_yaml "$d" on 4 steady "$file" "$pos" >"$d/task.yaml"
	ctl start-task "$d/task.yaml" >"$d/start.out" 2>&1 || { cat "$d/start.out"; return 1; }
	local cnf_up cnf_down
	cnf_up=$(mariadb_defaults up) cnf_down=$(mariadb_defaults down)
	# heartbeat: one session, an UPDATE every 100 ms
	(while [[ ! -e $d/stop ]]; do
		echo "UPDATE sbtest.hb SET ts = NOW(6) WHERE id = 1;"
		sleep 0.1
	done) | mariadb --defaults-file="$cnf_up" -uroot >"$d/hb.log" 2>&1 &
	BG+=("$!")
	# lag: one session on the target, a sample every 100 ms
	(while [[ ! -e $d/stop ]]; do
		echo "SELECT TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) FROM sbtest.hb WHERE id = 1;"
		sleep 0.1
	done) | mariadb --defaults-file="$cnf_down" -uroot --batch --skip-column-names --unbuffered \
		>"$d/lag.raw" 2>&1 &
	BG+=("$!")
	# Half of dm's catch-up rate may be more than sysbench can drive into
	# the upstream here while dm follows (it aborts once it falls behind
	# its rate): an unthrottled 5 s probe caps the rate at 70% of that.
	local probe="" why="half of dm4's catch-up"
	[[ -n $STEADY_TPS ]] && why="BENCH_STEADY_TPS"
	sb oltp_write_only --threads=4 --time=5 run >"$d/probe.log" 2>&1
	probe=$(awk '/transactions:/ { gsub(/[()]/, "", $3); printf "%.0f", $3 }' "$d/probe.log")
	if [[ -z $STEADY_TPS && -n $probe ]] && ((rate > probe * 7 / 10)); then
		rate=$((probe * 7 / 10))
		why="70% of the $probe tps sysbench reached unthrottled with dm following"
	fi
	# measure once dm follows: the heartbeat arrives within a second
	local skip deadline=$((SECONDS + 60))
	while ((SECONDS < deadline)); do
		[[ $(tail -n 1 "$d/lag.raw") =~ ^[0-9]+$ ]] && (($(tail -n 1 "$d/lag.raw") < 1000000)) && break
		sleep 0.2
	done
	skip=$(wc -l <"$d/lag.raw")
	say "steady: sysbench oltp_write_only at $rate tps ($why) for $STEADY_SECS s," \
		"dm worker-count 4, TLS"
	sb oltp_write_only --threads=4 --rate="$rate" --time="$STEADY_SECS" --report-interval=10 \
		run >"$d/sysbench.log" 2>&1
	local sbrc=$?
	local got
	got=$(awk '/transactions:/ { gsub(/[()]/, "", $3); print $3 }' "$d/sysbench.log")
	: >"$d/stop"
	stop_bg
	if ((sbrc != 0)); then
		echo "sysbench did not hold $rate tps; set BENCH_STEADY_TPS lower:"
		grep -m 2 -e FATAL -e 'tps:' "$d/sysbench.log"
		ctl stop-task steady >/dev/null 2>&1
		stop_dm
		return 1
	fi
	tail -n "+$((skip + 1))" "$d/lag.raw" | grep -E '^-?[0-9]+$' | sort -n >"$d/lag.sorted"
	local n
	n=$(wc -l <"$d/lag.sorted")
	((n > 0)) || { echo "no lag samples"; return 1; }
	LAG_P50=$(awk -v n="$n" 'NR == int(n * 0.50 + 0.5) { printf "%.3f", $1 / 1e6 }' "$d/lag.sorted")
	LAG_P99=$(awk -v n="$n" 'NR == int(n * 0.99 + 0.5) { printf "%.3f", $1 / 1e6 }' "$d/lag.sorted")
	LAG_MAX=$(tail -n 1 "$d/lag.sorted" | awk '{ printf "%.3f", $1 / 1e6 }')
	STEADY_DONE="asked $rate tps, sysbench did ${got:-?} tps, $n lag samples"
	ctl stop-task steady >/dev/null 2>&1
	stop_dm
}
restore_target_now() { # the target equal to the upstream now (untimed)
	reset_target || return 1
	mariadb-dump --defaults-file="$(mariadb_defaults up)" -uroot --single-transaction \
		--databases sbtest 2>"$T/dump2.err" | mariadb --defaults-file="$(mariadb_defaults down)" -uroot
}
if ((STEADY_SECS > 0)); then
	steady >"$T/steady.log" 2>&1 || { failed=$((failed + 1)); say "steady run FAILED"; }
	sed 's/^/    /' "$T/steady.log"
fi

# ---- one big transaction: worker memory -------------------------------------
BIG_RSS="" BIG_SECS=""
big() {
	local d=$T/big file pos
	mkdir -p "$d"
	stop_dm
	# the table on both sides, outside the binlog: only the INSERT is applied
	mariadb_sql up "SET SESSION sql_log_bin = 0;
CREATE TABLE sbtest.big (id INT PRIMARY KEY, pad VARCHAR(1000) NOT NULL)" || return 1
	mariadb_sql down "CREATE TABLE sbtest.big (id INT PRIMARY KEY, pad VARCHAR(1000) NOT NULL)" || return 1
	IFS=$'\t' read -r file pos _ < <(mariadb_sql up "SHOW MASTER STATUS")
	local n=$((BIG_MB * 1024 * 1024 / 1000)) st
	st=$(now)
	mariadb_sql up "USE sbtest; INSERT INTO sbtest.big
SELECT seq, REPEAT(CHAR(97 + seq % 26), 1000) FROM seq_1_to_$n" || return 1
	local f2 p2
	IFS=$'\t' read -r f2 p2 _ < <(mariadb_sql up "SHOW MASTER STATUS")
	say "big: one upstream transaction of $n rows x 1000 bytes in $(elapsed "$st" "$(now)") s," \
		"binlog $file:$pos .. $f2:$p2"
	bench_dm_start "$d" on || return 1
	echo big >"$d/task-name"
	task_yaml "$d" on 4 big "$file" "$pos" >"$d/task.yaml"
	local t0 want="($f2, $p2)" at="" deadline=$((SECONDS + TIMEOUT)) rss=0 r
	t0=$(now)
	ctl start-task "$d/task.yaml" >"$d/start.out" 2>&1 || { cat "$d/start.out"; return 1; }
	while ((SECONDS < deadline)); do
		at=$(sync_field "$d" '.sync.syncerBinlog // ""')
		# past it: the upstream writes a binlog checkpoint event after
		# the rotation, and dm follows it there
		past "$at" "$f2" "$p2" && break
		[[ $(sync_field "$d" '.stage // ""') == Paused ]] && break
		sleep 1
	done
	BIG_SECS=$(elapsed "$t0" "$(now)")
	rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$WPID/status" 2>/dev/null)
	past "$at" "$f2" "$p2" || { echo "dm did not apply the big transaction (at $at, want $want)"; tail -c 2000 "$d/status.json"; return 1; }
	r=$(mariadb_sql down "SELECT COUNT(*) FROM sbtest.big")
	[[ $r == "$n" ]] || { echo "the target has $r rows of $n"; return 1; }
	BIG_RSS=$((rss / 1024))
	echo "applied $n rows in $BIG_SECS s; worker peak RSS $BIG_RSS MiB"
	ctl stop-task big >/dev/null 2>&1
	stop_dm
}
if ((BIG_MB > 0)); then
	big >"$T/big.log" 2>&1 || { failed=$((failed + 1)); say "big transaction run FAILED"; }
	sed 's/^/    /' "$T/big.log"
fi

# ---- report -----------------------------------------------------------------
echo
echo "== incremental benchmark: $P0_FILE:$P0_POS .. $P1_FILE:$P1_POS, ${ROWS_N:-?} row changes," \
	"${EVENTS_N:-?} events, ${TXNS_N:-?} transactions; $TABLES tables x $ROWS rows; $(nproc) CPUs"
label() {
	case $1 in
	dm4) echo "dm, worker-count 4, TLS" ;;
	dm16) echo "dm, worker-count 16, TLS" ;;
	mariadb0) echo "MariaDB replication, 0 threads" ;;
	mariadb4) echo "MariaDB replication, 4 optimistic" ;;
	dm4-plain) echo "dm, worker-count 4, plaintext" ;;
	esac
}
printf '%-36s %8s %10s %10s %8s %10s  %s\n' run seconds events/s rows/s txn/s "worker RSS" \
	"$( ((REPEAT > 1)) && echo "(median; each repeat)")"
for r in $RUNS; do
	s=${SECS[$r]:-}
	if [[ -z $s ]]; then
		printf '%-36s %8s\n' "$(label "$r")" FAILED
		continue
	fi
	rss=-
	[[ ${RRSS[$r]:-} && ${RRSS[$r]} != - ]] && rss="$((RRSS[$r] / 1024)) MiB"
	ev=- rw=- tx=-
	if [[ -n $ROWS_N ]]; then
		ev=$(calc %.0f "$EVENTS_N / $s") rw=$(calc %.0f "$ROWS_N / $s") tx=$(calc %.0f "$TXNS_N / $s")
	fi
	printf '%-36s %8.2f %10s %10s %8s %10s  %s\n' "$(label "$r")" "$s" "$ev" "$rw" "$tx" "$rss" \
		"$( ((REPEAT > 1)) && echo "${ALL[$r]}")"
done
echo
printf '%-46s %10s   %s\n' ratio value "issue's target"
ratio() { # label slower faster target: how many times faster
	if [[ -n $2 && -n $3 ]]; then
		printf '%-46s %10s   %s\n' "$1" "$(calc %.2fx "$2 / $3")" "$4"
	else
		printf '%-46s %10s   %s\n' "$1" n/a "$4"
	fi
}
best_dm=${SECS[dm4]:-}
if [[ -n ${SECS[dm16]:-} ]] && { [[ -z $best_dm ]] || awk -v a="${SECS[dm16]}" -v b="$best_dm" 'BEGIN { exit !(a < b) }'; }; then
	best_dm=${SECS[dm16]}
fi
ratio "dm (best of 4/16) vs MariaDB parallel (4)" "${SECS[mariadb4]:-}" "$best_dm" ">= 1.0x"
ratio "dm (best of 4/16) vs MariaDB single-threaded" "${SECS[mariadb0]:-}" "$best_dm" ">= 2x"
if [[ -n ${SECS[dm4]:-} && -n ${SECS[dm4-plain]:-} ]]; then
	printf '%-46s %10s   %s\n' "TLS cost (dm4 TLS vs plaintext)" \
		"$(calc '%+.1f%%' "(${SECS[dm4]} / ${SECS[dm4-plain]} - 1) * 100")" "<= 5%"
fi
printf '%-46s %10s   %s\n' "steady-load lag p50 / p99 / max (s)" \
	"${LAG_P50:-n/a} / ${LAG_P99:-n/a} / ${LAG_MAX:-n/a}" "p99 <= 1 s (${STEADY_DONE:-not run})"
printf '%-46s %10s   %s\n' "worker peak RSS, ${BIG_MB} MiB transaction" \
	"${BIG_RSS:-n/a} MiB" "<= 128 MiB (applied in ${BIG_SECS:-?} s)"
echo
if ((failed > 0)); then
	echo "# $failed run(s) failed or did not verify: their figures are void"
	exit 1
fi
echo "# every run finished and verified"
exit 0
