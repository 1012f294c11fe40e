#!/usr/bin/env bash
# Incremental sync over TLS on every link: binlog -> target, exactly once.
#   1. DML on tables with a PK, a unique key under a case-insensitive
#      collation, a composite key and no key at all;
#   2. DDL mid-stream (add/drop column, create, rename, truncate);
#   3. kill -9 of the worker 10 times at random moments under a mixed
#      write load, restarted each time;
#   4. the target restarts, then the upstream restarts, mid-stream.
# After each part the target must equal the upstream table by table (every
# row's bytes in a fixed order, and CHECKSUM TABLE), not just in counts.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"
# shellcheck source=../../lib/migrate.sh
source "$here/../../lib/migrate.sh"

migrate_need
dm_init sync-incremental
trap 'stop_writers; mariadb_stop_all; _dm_cleanup' EXIT
migrate_setup || exit 1

SCHEMA="CREATE DATABASE k; USE k;
CREATE TABLE t_pk (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL, s VARCHAR(64) CHARACTER SET utf8mb4,
  d DECIMAL(12,2), ts DATETIME(6), b VARBINARY(16), u INT UNSIGNED, f FLOAT, j JSON);
CREATE TABLE t_uk (code VARCHAR(20) CHARACTER SET utf8mb4 NOT NULL, n INT, UNIQUE KEY (code));
CREATE TABLE t_comp (a INT NOT NULL, b VARCHAR(10) NOT NULL, n INT, PRIMARY KEY (a, b));
CREATE TABLE t_nokey (a INT, s VARCHAR(20), f FLOAT);"
for db in up down; do mariadb_sql "$db" "$SCHEMA" || exit 1; done
SEED="USE k;
INSERT INTO t_pk (v, s, d, ts, b, u, f, j) SELECT seq, CONCAT('s', seq), seq / 4, '2024-01-01' + INTERVAL seq MINUTE,
  UNHEX(MD5(seq)), 4294967295 - seq, seq / 3, JSON_OBJECT('n', seq) FROM seq_1_to_500;
INSERT INTO t_uk SELECT CONCAT('Code', seq), seq FROM seq_1_to_100;
INSERT INTO t_comp SELECT seq % 10, CONCAT('b', seq), seq FROM seq_1_to_200;
INSERT INTO t_nokey SELECT seq % 7, 'dup', 1.5 FROM seq_1_to_50;"
for db in up down; do mariadb_sql "$db" "$SEED" || exit 1; done
IFS=$'\t' read -r FILE POS < <(mariadb_sql up "SHOW MASTER STATUS")

cat >task.yaml <<YAML
name: "inc"
task-mode: incremental
meta-schema: "dm_meta"
target-database:
$(db_block "$DOWN")
block-allow-list:
  bal:
    do-dbs: ["k"]
syncers:
  sync:
    worker-count: 4
    batch: 50
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    syncer-config-name: "sync"
    meta:
      binlog-name: "$FILE"
      binlog-pos: $POS
YAML

writer_sql() {
	local k=$1 i=0 r
	while [[ ! -e $T/stop-writers ]]; do
		for _ in 1 2 3 4 5; do
			i=$((i + 1)) r=$((RANDOM % 700 + 1))
			case $((RANDOM % 9)) in
			0) echo "INSERT INTO k.t_pk (v, s, d, ts, b, u, f, j) VALUES ($RANDOM, 'w$k-$i', $RANDOM.25, NOW(6), UNHEX(SHA1($i)), $RANDOM, $RANDOM / 7, JSON_ARRAY($i, 'x'));" ;;
			1) echo "UPDATE k.t_pk SET v = v + 1, s = CONCAT('u$k-', $i), f = f * 2 WHERE id = $r;" ;;
			2) echo "DELETE FROM k.t_pk WHERE id = $r;" ;;
			3) echo "BEGIN; UPDATE k.t_pk SET id = id + 100000 WHERE id = $r; INSERT INTO k.t_uk VALUES ('W$k-$((i % 50))', $i) ON DUPLICATE KEY UPDATE n = n + 1; COMMIT;" ;;
			4) echo "UPDATE k.t_uk SET code = CONCAT(code, 'x') WHERE n = $((RANDOM % 100));" ;;
			5) echo "INSERT INTO k.t_comp VALUES ($((RANDOM % 10)), 'w$k$i', $i) ON DUPLICATE KEY UPDATE n = n + 1;" ;;
			6) echo "DELETE FROM k.t_comp WHERE a = $((RANDOM % 10)) AND n % 13 = $((RANDOM % 13));" ;;
			7) echo "INSERT INTO k.t_nokey VALUES ($((RANDOM % 7)), 'w$k', $i / 3); DELETE FROM k.t_nokey WHERE a = $((RANDOM % 7)) LIMIT 1;" ;;
			8) echo "UPDATE k.t_nokey SET s = 'upd' WHERE a = $((RANDOM % 7)) LIMIT 2;" ;;
			esac
		done
		sleep 0.05
	done
}
start_writers() {
	local cnf k
	cnf=$(mariadb_defaults up) || return 1
	rm -f "$T/stop-writers"
	for k in 1 2 3; do
		writer_sql "$k" | mariadb --defaults-file="$cnf" -uroot --force --batch >>"$T/writer-$k.out" 2>&1 &
		WRITER_PIDS+=("$!")
	done
}

migrate_start_cluster || exit 1
step 'source created over TLS' eval 'ctl operate-source create source.yaml >src.out || { cat src.out; false; }'
step 'start-task (incremental, worker-count 4)' ctl start-task task.yaml
step 'the sync unit runs' eventually 30 '"stage":"Running","unit":"Sync"' ctl query-status inc

# 1. DML
mariadb_sql up "SET NAMES utf8mb4; USE k;
UPDATE t_pk SET s = NULL, d = -d, ts = '0000-00-00 00:00:00' WHERE id % 5 = 0;
DELETE FROM t_pk WHERE id % 7 = 0;
INSERT INTO t_pk (v, s, b, u, f) VALUES (0, '', '', 0, -0.5), (-2147483648, '🐬 ünï', 0x00ff00, 4294967295, 3.4e38);
UPDATE t_uk SET code = LOWER(code) WHERE n < 30;
UPDATE t_comp SET b = CONCAT(b, '!') WHERE a = 3;
DELETE FROM t_nokey WHERE a = 2 LIMIT 3;
UPDATE t_nokey SET f = 2.25 WHERE a = 4;" || exit 1
step 'DML arrives: every table equals the upstream' converges 60 k
step 'query-status: synced, positions and counters' \
	eventually 20 '"synced":true.*"totalEvents":"?[1-9]' ctl query-status inc
# a binlog rotation with nothing after it: the checkpoint follows the
# upstream into the new file, else synced would stay false until a write
NEWLOG=$(mariadb_sql up "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
step "after a binlog rotation and no write: synced in $NEWLOG" \
	eventually 20 "\"syncerBinlog\":\"\\($NEWLOG,[0-9]+\\)\".*\"synced\":true" ctl query-status inc

# 2. DDL mid-stream, with DML around it
mariadb_sql up "SET NAMES utf8mb4; USE k;
ALTER TABLE t_pk ADD COLUMN extra INT NOT NULL DEFAULT 7 AFTER v;
UPDATE t_pk SET extra = id WHERE id < 50;
ALTER TABLE t_pk DROP COLUMN b;
INSERT INTO t_pk (v, s) VALUES (1, 'after drop');
CREATE TABLE t_new (id INT PRIMARY KEY, s VARCHAR(10));
INSERT INTO t_new VALUES (1, 'a'), (2, 'b');
RENAME TABLE t_new TO t_renamed;
INSERT INTO t_renamed VALUES (3, 'c');
TRUNCATE TABLE t_nokey;
INSERT INTO t_nokey VALUES (1, 'x', 0.5), (1, 'x', 0.5);
ALTER TABLE t_comp MODIFY n BIGINT;
UPDATE t_comp SET n = n * 1000000000;" || exit 1
step 'DDL arrives in order with the DML around it' converges 60 k

# 3. kill -9 at random moments under load
start_writers
# each kill lands while the sync runs: a restarted worker is killed only
# after it resumed, at a random moment up to 2 s later
for i in $(seq 1 10); do
	sleep "$((RANDOM % 2)).$((RANDOM % 10))"
	kill -KILL "$W1_PID" 2>/dev/null
	wait "$W1_PID" 2>/dev/null
	dm_bg "w1-$i" "$DM_BUILD_DIR/dm-worker" --config="$T/w1.toml" --keepalive-ttl=3
	W1_PID=$DM_BG_PID
	wait_for_file "$T/w1-$i.out" "task inc source mysql-01: resuming from the checkpoint" 60 >/dev/null
done
step 'the load keeps committing through 10 worker kills' stop_writers
step 'each of the 10 restarts resumed from the checkpoint' \
	eval '[[ $(grep -l "resuming from the checkpoint" w1-*.out | wc -l) == 10 ]]'
step 'after 10 kills the target equals the upstream exactly' converges 120 k

# 4. the target restarts, then the upstream restarts
start_writers
sleep 1
mariadb_stop down
sleep 2
step 'the target is back' migrate_start_down
sleep 1
stop_writers
step 'after a target restart the sync recovers by itself' converges 120 k
mariadb_stop up
sleep 1
step 'the upstream is back' migrate_start_up
mariadb_sql up "INSERT INTO k.t_pk (v, s) VALUES (42, 'after upstream restart')" || exit 1
step 'after an upstream restart the sync recovers by itself' converges 120 k
step 'the task is still Running, with no error' \
	eventually 20 '"stage":"Running","unit":"Sync"' ctl query-status inc
step 'no password or key in any log' eval '! grep -R -e "$PASS" -e "PRIV""ATE KEY" "$T"/*.out'
dm_done
