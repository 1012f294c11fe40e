#!/usr/bin/env bash
# Snapshot consistency of a full copy under concurrent writes, over TLS.
# Writers keep committing INSERTs, UPDATEs, DELETEs and multi-statement
# transactions on a TLS MariaDB upstream (binlog_format ROW) while a `full`
# task copies it. Afterwards the target copy plus the upstream binlog
# replayed from the recorded snapshot position (mariadb-binlog, database
# `cons` only) must equal the upstream row for row and by CHECKSUM TABLE.
# Done for consistency `snapshot` (lock-free, MariaDB's binlog_snapshot_*,
# set with `consistency:`) and `flush` (FTWRL, set with extra-args
# --consistency), each into a fresh target. Commits must fall both before
# and after the snapshot; a replay from a later position must NOT match.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"
# shellcheck source=../../lib/migrate.sh
source "$here/../../lib/migrate.sh"

mariadb_available || { echo "SKIP: MariaDB is not installed"; exit 77; }
command -v mariadb-binlog >/dev/null 2>&1 || { echo "SKIP: mariadb-binlog is not installed"; exit 77; }
B=$DM_BUILD_DIR
for p in dm-master dm-worker dmctl tools/cert-issue; do
	[[ -x $B/$p ]] || { echo "SKIP: $p is not built"; exit 77; }
done
dm_init full-consistency
WRITER_PIDS=()
stop_writers() { # stop file first (clean end), then by pid if one lingers
	local pid
	[[ -n $T ]] && : >"$T/stop-writers"
	for pid in "${WRITER_PIDS[@]}"; do
		local deadline=$((SECONDS + 20))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && dm_stop "$pid" 5
		wait "$pid" 2>/dev/null
	done
	WRITER_PIDS=()
	return 0
}
trap 'stop_writers; mariadb_stop_all; _dm_cleanup' EXIT

migrate_setup || exit 1
[[ $(mariadb_sql up "SELECT @@binlog_format, @@binlog_row_image") == "ROW	FULL" ]] ||
	{ echo "the upstream does not log full row images"; exit 1; }

# big: integer key, arithmetic chunks; kv: composite string key, index
# walk; audit: no key at all (one chunk, rows matched by full image).
mariadb_sql up "CREATE DATABASE cons; USE cons;
CREATE TABLE cons.big (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL,
  amount DECIMAL(12,2) NOT NULL, s VARCHAR(64) NOT NULL, ts DATETIME(6) NOT NULL,
  b VARBINARY(32) NULL, KEY (v)) ENGINE=InnoDB;
CREATE TABLE cons.kv (k VARCHAR(24) CHARACTER SET utf8mb4 NOT NULL, n INT NOT NULL,
  val VARCHAR(100) CHARACTER SET utf8mb4 NULL, hits INT NOT NULL DEFAULT 0,
  PRIMARY KEY (k, n)) ENGINE=InnoDB;
CREATE TABLE cons.audit (w INT NOT NULL, seq INT NOT NULL, note VARCHAR(40) NOT NULL) ENGINE=InnoDB;
INSERT INTO cons.big (id, v, amount, s, ts, b)
  SELECT seq, seq % 1000, seq * 1.25, CONCAT('row-', seq, REPEAT('x', seq % 40)),
         TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND,
         IF(seq % 7 = 0, NULL, UNHEX(MD5(seq))) FROM seq_1_to_40000;
INSERT INTO cons.kv SELECT CONCAT('kéy-', LPAD(seq % 500, 4, '0')), seq, CONCAT('välue ', seq), 0
  FROM seq_1_to_4000;
INSERT INTO cons.audit SELECT 0, seq, 'seed' FROM seq_1_to_300;" || exit 1

write_task() { # name meta consistency-line
	cat <<YAML
name: "$1"
task-mode: full
meta-schema: "$2"
target-database:
$(db_block "$DOWN")
block-allow-list:
  bal:
    do-dbs: ["cons"]
mydumpers:
  dump:
    threads: 2
    rows: 200
    $3
loaders:
  load:
    pool-size: 2
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    mydumper-config-name: "dump"
    loader-config-name: "load"
YAML
}

migrate_start_cluster || exit 1
upcnf=$(mariadb_defaults up) && downcnf=$(mariadb_defaults down) || exit 1

# One writer: batches of random statements and transactions into one root
# session over the socket, until $T/stop-writers exists. --force: a deadlock
# or a lock wait timeout must not end the load (what commits is binlogged).
writer_sql() {
	local k=$1 i=0 r key
	while [[ ! -e $T/stop-writers ]]; do
		for _ in 1 2 3 4 5 6; do
			i=$((i + 1)) r=$((RANDOM % 42000 + 1))
			printf -v key 'kéy-%04d' $((RANDOM % 500))
			case $((RANDOM % 7)) in
			0) echo "INSERT INTO cons.big (v, amount, s, ts, b) VALUES ($RANDOM, $RANDOM.$((RANDOM % 100)), 'w$k-$i', NOW(6), UNHEX(SHA1($i)));" ;;
			1) echo "UPDATE cons.big SET v = v + 1, s = CONCAT('u', $k, '-', $i), ts = NOW(6) WHERE id = $r;" ;;
			2) echo "DELETE FROM cons.big WHERE id = $r;" ;;
			3) echo "BEGIN; UPDATE cons.big SET amount = amount + 1 WHERE id BETWEEN $r AND $((r + 20));" \
				"INSERT INTO cons.kv VALUES ('w$k', $((i % 300)), 'tx $i', 1) ON DUPLICATE KEY UPDATE hits = hits + 1, val = 'tx $i';" \
				"DELETE FROM cons.kv WHERE k = '$key' AND n % 50 = $((RANDOM % 50));" \
				"INSERT INTO cons.audit VALUES ($k, $i, 'tx'); COMMIT;" ;;
			4) echo "UPDATE cons.kv SET hits = hits + 1, val = CONCAT('ü', $i) WHERE k = '$key';" ;;
			5) echo "BEGIN; DELETE FROM cons.big WHERE id = $r; INSERT INTO cons.big (v, amount, s, ts) VALUES ($k, 0.5, 'moved-$r', NOW(6)); UPDATE cons.audit SET note = 'seen $i' WHERE w = 0 AND seq = $((RANDOM % 300 + 1)); COMMIT;" ;;
			6) echo "INSERT INTO cons.audit VALUES ($k, $i, 'single');" ;;
			esac
		done
		sleep 0.05
	done
}
start_writers() {
	rm -f "$T/stop-writers"
	local k
	for k in 1 2 3; do
		writer_sql "$k" | mariadb --defaults-file="$upcnf" -uroot --force --batch >>"$T/writer-$k.out" 2>&1 &
		WRITER_PIDS+=("$!")
	done
}
# Committed transactions so far: the upstream's GTID sequence number.
seq_now() { mariadb_sql up "SELECT @@GLOBAL.gtid_binlog_pos" | sed 's/.*-//'; }
commits_after() { # wait until the upstream has committed N more than $2
	local deadline=$((SECONDS + 60))
	while ((SECONDS < deadline)); do
		(($(seq_now) > $2 + $1)) && return 0
		sleep 0.2
	done
	echo "fewer than $1 commits after seq $2 (now $(seq_now))"
	return 1
}
# Every row, raw bytes, in key order; and CHECKSUM TABLE.
TABLES=("big:id" "kv:k,n" "audit:w,seq,note")
digest() { # cnf db table order
	{
		mariadb --defaults-file="$1" -uroot --batch --raw --skip-column-names \
			-e "SELECT * FROM $2.$3 ORDER BY $4" | md5sum | cut -d' ' -f1
		mariadb --defaults-file="$1" -uroot --batch --skip-column-names \
			-e "CHECKSUM TABLE $2.$3" | cut -f2
	} | paste -sd' '
}
equal_to_up() { # downstream db: every table equals upstream cons
	local e tb ord a b rc=0
	for e in "${TABLES[@]}"; do
		tb=${e%%:*} ord=${e#*:}
		a=$(digest "$upcnf" cons "$tb" "$ord") && b=$(digest "$downcnf" "$1" "$tb" "$ord") || return 1
		[[ $a == "$b" && $a != *" " ]] || { echo "cons.$tb ($a) != $1.$tb ($b)"; rc=1; }
	done
	return "$rc"
}
differs_from_up() { ! equal_to_up "$@"; }
# Upstream binlog files from $1 onward, full paths (the snapshot's file
# first: --start-position applies to the first file only).
binlogs_from() {
	local dir
	dir=$(dirname "$(mariadb_sql up "SELECT @@GLOBAL.log_bin_basename")") || return 1
	mariadb_sql up "SHOW BINARY LOGS" | cut -f1 | awk -v f="$1" -v d="$dir" '$1 >= f { print d "/" $1 }'
}
replay() { # from-file from-pos downstream-db [mariadb client options]: upstream cons -> db
	local file=$1 pos=$2 db=$3 files
	shift 3
	files=$(binlogs_from "$file") && [[ -n $files ]] || return 1
	local rw=()
	[[ $db != cons ]] && rw=(--rewrite-db="cons->$db")
	# shellcheck disable=SC2086
	mariadb-binlog --no-defaults --start-position="$pos" --database=cons "${rw[@]}" $files \
		>"$T/replay-$db.sql" &&
		mariadb --defaults-file="$downcnf" -uroot "$@" <"$T/replay-$db.sql"
}

step 'source created over TLS' eval 'ctl operate-source create source.yaml >src.out || { cat src.out; false; }'

# run_mode TASK META CONSISTENCY YAML-LINE
run_mode() {
	local task=$1 meta=$2 mode=$3 line=$4
	echo "# --- consistency $mode: task $task, meta $meta ---"
	mariadb_sql down "DROP DATABASE IF EXISTS cons; DROP DATABASE IF EXISTS cons_neg; DROP DATABASE IF EXISTS $meta" || exit 1
	write_task "$task" "$meta" "$line" >"$task.yaml"
	local s0 s_fin s_end snap file pos gtid status cmode s_snap endpos
	s0=$(seq_now)
	start_writers
	step "$mode: the writers are committing before start-task" commits_after 30 "$s0"
	step "$mode: start-task (full, threads 2, rows 200, pool-size 2)" ctl start-task "$task.yaml"
	step "$mode: the task finishes while the writers keep writing" \
		eventually 90 '"stage":"Finished"' ctl query-status "$task"
	s_fin=$(seq_now)
	step "$mode: the writers still commit after Finished" commits_after 20 "$s_fin"
	step "$mode: the writers stop" stop_writers
	step "$mode: the writers saw no SQL error but deadlocks/lock waits" \
		eval '! grep -hv -e "^ERROR 1213" -e "^ERROR 1205" "$T"/writer-*.out | grep .'
	mariadb_sql up "SHOW MASTER STATUS" | cut -f1,2 >"$T/end-$task.pos"
	s_end=$(seq_now)

	snap=$(mariadb_sql down "SELECT consistency, binlog_name, binlog_pos, binlog_gtid, status FROM $meta.${task}_snapshot")
	# shellcheck disable=SC2034 # cmode, status: read by the eval below
	IFS=$'\t' read -r cmode file pos gtid status <<<"$snap"
	s_snap=${gtid##*-}
	endpos=$(<"$T/end-$task.pos")
	echo "# snapshot $file:$pos gtid $gtid; commits: $s0 before the writers, $s_snap at the snapshot, $s_fin at Finished, $s_end at the end ($endpos)"
	step "$mode: the snapshot row says $mode, finished, with a position and GTID" \
		eval '[[ $cmode == "$mode" && $status == finished && $file == binlog.* && $pos =~ ^[0-9]+$ && $gtid =~ ^0-1-[0-9]+$ ]] || { echo "$snap"; false; }'
	step "$mode: the worker log names the same snapshot position" \
		grep -q "task $task source mysql-01: snapshot ($mode) at $file:$pos (gtid $gtid)" "$T/w1.out"
	step "$mode: writer commits fell before the snapshot (in the copy)" eval '((s_snap > s0))'
	step "$mode: writer commits fell after the snapshot (not in the copy)" eval '((s_end > s_snap))'
	step "$mode: the recorded position is not the final upstream position" \
		eval '[[ -n $endpos && $endpos != "$file	$pos" ]]'
	step "$mode: the copy alone differs from the final upstream" differs_from_up cons

	if [[ $mode == snapshot ]]; then
		# Negative control: the same copy, replayed from the 5th transaction
		# after the snapshot, must not come out equal.
		local later
		later=$(mariadb_sql up "SHOW BINLOG EVENTS IN '$file' FROM $pos" |
			awk -F'\t' '$3 == "Gtid" { if (++n == 5) { print $2; exit } }')
		mariadb_sql down "CREATE DATABASE cons_neg;
CREATE TABLE cons_neg.big LIKE cons.big; INSERT INTO cons_neg.big SELECT * FROM cons.big;
CREATE TABLE cons_neg.kv LIKE cons.kv; INSERT INTO cons_neg.kv SELECT * FROM cons.kv;
CREATE TABLE cons_neg.audit LIKE cons.audit; INSERT INTO cons_neg.audit SELECT * FROM cons.audit;" || exit 1
		step "negative control: a later position ($later) loses commits: not equal" \
			eval '[[ $later =~ ^[0-9]+$ ]] && ((later > pos)) && { replay "$file" "$later" cons_neg --force; differs_from_up cons_neg; }'
	fi
	step "$mode: mariadb-binlog from $file:$pos replays into the copy without error" \
		replay "$file" "$pos" cons
	step "$mode: copy + binlog from the snapshot == upstream (rows in key order, CHECKSUM TABLE)" \
		equal_to_up cons
	mariadb_sql up "FLUSH BINARY LOGS" # the next run starts in a new file
}

run_mode t_snap dm_meta_snap snapshot 'consistency: "snapshot"'
run_mode t_flush dm_meta_flush flush 'extra-args: "--consistency flush"'
step 'no password or key in the logs' \
	eval '! grep -R -e "$PASS" -e "PRIV""ATE KEY" "$T"/*.out'
dm_done
