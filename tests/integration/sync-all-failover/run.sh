#!/usr/bin/env bash
# `all` mode and worker failover, TLS on every link, enable-gtid on:
#   1. writers change the upstream while the full copy runs (the copy is
#      held mid-table by a row lock on the target, so "during" is certain);
#      the sync then starts at the snapshot: identical at the end;
#   2. binlog event filters: deletes and TRUNCATE of one table and an
#      ADD INDEX matched by sql-pattern are not replicated, the rest is;
#   3. the worker running the task is killed (-9) under load and not
#      restarted: after the keepalive lapses the source is rebound to the
#      other worker, which resumes from the target's checkpoint by GTID;
#      identical at the end, nothing lost or applied twice;
#   4. pause-task stops applying within a second, resume-task resumes.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"
# shellcheck source=../../lib/migrate.sh
source "$here/../../lib/migrate.sh"

migrate_need
dm_init sync-all-failover
trap 'stop_writers; unhold blk; mariadb_stop_all; _dm_cleanup' EXIT
migrate_setup || exit 1
echo "enable-gtid: true" >>"$T/source.yaml"
cert_leaf ca w2 dm-worker && free_port W2P || exit 1
sed -e 's/^name = "w1"/name = "w2"/' -e "s/127.0.0.1:$W1P/127.0.0.1:$W2P/" \
	-e 's/w1\.pem/w2.pem/' -e 's/w1\.key/w2.key/' "$T/w1.toml" >"$T/w2.toml"

ROWS=40000
mariadb_sql up "CREATE DATABASE k; USE k;
CREATE TABLE t_big (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, s VARCHAR(100), d DECIMAL(10,2));
INSERT INTO t_big (v, s, d) SELECT seq, REPEAT(CHAR(97 + seq % 26), 10 + seq % 80), seq / 8 FROM seq_1_to_$ROWS;
CREATE TABLE t_nokey (a INT, s VARCHAR(20));
INSERT INTO t_nokey SELECT seq % 5, 'seed' FROM seq_1_to_40;
CREATE TABLE audit (id INT PRIMARY KEY, what VARCHAR(20));" || exit 1
# The copy waits as long as the lock is held: nothing in it times out first.
mariadb_sql down "SET GLOBAL innodb_lock_wait_timeout = 900; CREATE DATABASE k;
CREATE TABLE k.t_big (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, s VARCHAR(100), d DECIMAL(10,2));" || exit 1

cat >task.yaml <<YAML
name: "fo"
task-mode: all
meta-schema: "dm_meta"
target-database:
$(db_block "$DOWN")
block-allow-list:
  bal:
    do-dbs: ["k"]
filters:
  keep-audit:
    schema-pattern: "k"
    table-pattern: "audit"
    events: ["delete", "truncate table"]
    action: Ignore
  no-audit-index:
    schema-pattern: "k"
    sql-pattern: ["^ALTER\\\\s+TABLE\\\\s+\`?audit\`?\\\\s+ADD\\\\s+INDEX"]
    action: Ignore
mydumpers:
  dump:
    threads: 2
    rows: 2000
syncers:
  sync:
    worker-count: 4
    batch: 50
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    filter-rules: ["keep-audit", "no-audit-index"]
    mydumper-config-name: "dump"
    syncer-config-name: "sync"
YAML

writer_sql() {
	local k=$1 i=0 r
	while [[ ! -e $T/stop-writers ]]; do
		for _ in 1 2 3 4 5; do
			i=$((i + 1)) r=$((RANDOM % ROWS + 1))
			case $((RANDOM % 6)) in
			0) echo "INSERT INTO k.t_big (v, s, d) VALUES ($i, 'w$k-$i', $RANDOM.5);" ;;
			1) echo "UPDATE k.t_big SET v = v + 1, s = CONCAT('u$k-', $i) WHERE id = $r;" ;;
			2) echo "DELETE FROM k.t_big WHERE id = $r;" ;;
			3) echo "BEGIN; UPDATE k.t_big SET id = id + 1000000 WHERE id = $r; UPDATE k.t_big SET d = d + 1 WHERE id = $((r + 1)); COMMIT;" ;;
			4) echo "INSERT INTO k.t_nokey VALUES ($((RANDOM % 5)), 'w$k-$i'); DELETE FROM k.t_nokey WHERE a = $((RANDOM % 5)) LIMIT 1;" ;;
			5) echo "UPDATE k.t_nokey SET s = 'upd$k' WHERE a = $((RANDOM % 5)) LIMIT 2;" ;;
			esac
		done
		sleep 0.05
	done
}
start_writers() {
	local cnf k
	cnf=$(mariadb_defaults up) || return 1
	rm -f "$T/stop-writers"
	for k in 1 2; do
		writer_sql "$k" | mariadb --defaults-file="$cnf" -uroot --force --batch >>"$T/writer-$k.out" 2>&1 &
		WRITER_PIDS+=("$!")
	done
}
bound_worker() { # source -> worker name
	ctl list-member --worker | tr -d ' \n' | grep -o "\"name\":\"w[12]\"[^}]*\"source\":\"$1\"" |
		grep -o 'w[12]' | head -1
}
applied_rows() { mariadb_sql down "SELECT COUNT(*) FROM k.t_big WHERE s = 'paused'"; }

migrate_start_cluster || exit 1
step 'source created over TLS (enable-gtid)' eval 'ctl operate-source create source.yaml >src.out || { cat src.out; false; }'
step 'the source is bound to w1' eventually 15 '"name":"w1"[^}]*"stage":"bound","source":"mysql-01"' \
	ctl list-member --worker
# w2 gets a longer keepalive: under a loaded CI machine a 3 s TTL can lapse
# while it catches up, and then no worker is left for the source
dm_bg w2 "$DM_BUILD_DIR/dm-worker" --config="$T/w2.toml" --keepalive-ttl=10
W2_PID=$DM_BG_PID
wait_for_port "$W2P" || exit 1

# 1. writes during the copy
# writers first: a writer started after hold would inherit its fifo
start_writers
hold blk "BEGIN; INSERT INTO k.t_big (id, v) VALUES (20001, 0);"
step 'start-task (all, worker-count 4, filters)' ctl start-task task.yaml
step 'the copy reaches the held row and waits there, writers running' eventually 60 '^[1-9]' lock_waits
sleep 2
unhold blk
step 'the copy finishes and the sync unit runs' \
	eventually 120 '"stage":"Running","unit":"Sync"' ctl query-status fo
sleep 2
stop_writers
step 'writes made during the copy arrive exactly once: identical' converges 90 k audit
step 'the sync started at the snapshot position, by GTID' \
	eval 'grep -q "task fo source mysql-01: reading the binlog after GTID [0-9]" w1.out'

# 2. binlog event filters
mariadb_sql up "USE k; INSERT INTO audit SELECT seq, 'kept' FROM seq_1_to_10;
DELETE FROM audit WHERE id <= 4; UPDATE audit SET what = 'changed' WHERE id = 10;
TRUNCATE TABLE audit; INSERT INTO audit VALUES (11, 'after');
ALTER TABLE audit ADD INDEX w (what); ALTER TABLE audit ADD COLUMN extra INT;
INSERT INTO t_big (v, s) VALUES (1, 'after audit');" || exit 1
step 'other tables still follow' converges 30 k audit
step 'deletes and TRUNCATE of k.audit were filtered out, inserts and updates were not' \
	eval '[[ $(mariadb_sql down "SELECT COUNT(*), SUM(what = '"'changed'"'), MAX(id) FROM k.audit") == "11	1	11" ]]'
step 'the ADD INDEX matched by sql-pattern was filtered out, the ADD COLUMN was not' \
	eval '[[ $(mariadb_sql down "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '"'k'"' AND TABLE_NAME = '"'audit'"' AND INDEX_NAME = '"'w'"'") == 0 && $(mariadb_sql down "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '"'k'"' AND TABLE_NAME = '"'audit'"' AND COLUMN_NAME = '"'extra'"'") == 1 ]]'

# 3. the worker dies for good under load; the other one takes over
start_writers
sleep 2
step 'w1 holds the task' eval '[[ $(bound_worker mysql-01) == w1 ]]'
kill -KILL "$W1_PID"
wait "$W1_PID" 2>/dev/null
step 'after the keepalive lapses the source is rebound to w2' \
	eventually 30 '"name":"w2"[^}]*"stage":"bound","source":"mysql-01"' ctl list-member --worker
step 'w2 resumes the task from the target checkpoint, by GTID' \
	eval 'wait_for_file "$T/w2.out" "task fo source mysql-01: resuming from the checkpoint" 60 &&
		wait_for_file "$T/w2.out" "task fo source mysql-01: reading the binlog after GTID" 10'
sleep 3
stop_writers
step 'after failover the target equals the upstream exactly' converges 90 k audit
step 'the task runs on w2 with no error' \
	eventually 20 '"stage":"Running","unit":"Sync"' ctl query-status fo

# 4. pause and resume
step 'pause-task' ctl pause-task fo
sleep 1
mariadb_sql up "USE k; INSERT INTO t_big (v, s) SELECT seq, 'paused' FROM seq_1_to_5" || exit 1
sleep 2
step 'paused: nothing is applied' eval '[[ $(applied_rows) == 0 ]]'
step 'resume-task' ctl resume-task fo
step 'resumed: the writes made meanwhile arrive, once' converges 30 k audit
step 'query-status shows rates, positions and synced' \
	eventually 20 '"synced":true.*"recentTps":"?[0-9]' ctl query-status fo
step 'no password or key in any log' eval '! grep -R -e "$PASS" -e "PRIV""ATE KEY" "$T"/*.out'
dm_done
