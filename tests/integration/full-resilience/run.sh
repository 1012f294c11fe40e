#!/usr/bin/env bash
# The full copy when things go wrong, on TLS links throughout:
#   1. kill -9 of the worker in the middle of a large table: after a
#      restart the copy finishes, identical, and finished chunks are not
#      copied again (counted from the checkpoint table);
#   2. pause-task while a writer waits behind a row lock held by someone
#      else on the target: the pause takes effect anyway, resume finishes;
#   3. the target goes away and comes back mid-copy: writers reconnect and
#      the copy finishes without an operator;
#   4. a table dropped upstream while the task is paused: resume stops with
#      an error naming the table, and its chunks stay pending.
# Every "mid-copy" is made certain, not timed: a session on the target
# holds a row lock inside t_big, so the copy stops there until released.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"
# shellcheck source=../../lib/migrate.sh
source "$here/../../lib/migrate.sh"

migrate_need
dm_init full-resilience
trap 'unhold blk; mariadb_stop_all; _dm_cleanup' EXIT
migrate_setup || exit 1

ROWS=60000
mariadb_sql up "CREATE DATABASE shop; USE shop;
CREATE TABLE shop.t_big (id INT PRIMARY KEY, pad VARCHAR(200), n BIGINT);
INSERT INTO shop.t_big SELECT seq, REPEAT(CHAR(97 + seq % 26), 20 + seq % 150), seq * 7 FROM seq_1_to_$ROWS;
CREATE TABLE shop.t_zz (id INT PRIMARY KEY, v VARCHAR(20), KEY v (v));
INSERT INTO shop.t_zz VALUES (1, 'one'), (2, 'two');" || exit 1
# The copy waits as long as a lock is held: nothing in it times out first.
mariadb_sql down "SET GLOBAL innodb_lock_wait_timeout = 900;
CREATE DATABASE shop; CREATE TABLE shop.t_big (id INT PRIMARY KEY, pad VARCHAR(200), n BIGINT);" || exit 1
BLOCK_ID=30001

write_task() { # name meta
	cat <<YAML
name: "$1"
task-mode: full
meta-schema: "$2"
target-database:
$(db_block "$DOWN")
block-allow-list:
  bal:
    do-dbs: ["shop"]
mydumpers:
  dump:
    threads: 1
    rows: 2000
loaders:
  load:
    pool-size: 1
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    mydumper-config-name: "dump"
    loader-config-name: "load"
YAML
}
for i in 1 2 3 4; do write_task "c$i" "dm_meta$i" >"c$i.yaml"; done
chunks() { # meta task status
	mariadb_sql down "SELECT COUNT(*) FROM $1.$2_load_checkpoint WHERE status = '$3'"
}
done_list() { # meta task
	mariadb_sql down "SELECT table_name, chunk_id, updated_at FROM $1.$2_load_checkpoint WHERE status = 'done' ORDER BY 1, 2"
}

migrate_start_cluster || exit 1
step 'source created over TLS' eval 'ctl operate-source create source.yaml >src.out || { cat src.out; false; }'

# 1. kill -9 in the middle of t_big
hold blk "BEGIN; INSERT INTO shop.t_big VALUES ($BLOCK_ID, 'blocker', 0);"
step 'start-task c1' ctl start-task c1.yaml
step 'c1 copies t_big up to the held row and waits there' eventually 60 '^[1-9]' lock_waits
done_before=$(chunks dm_meta1 c1 done)
pending=$(chunks dm_meta1 c1 pending)
done_list dm_meta1 c1 >done-before.txt
step "some chunks are done ($done_before), some are not ($pending)" \
	eval '(( done_before > 0 && pending > 1 ))'
kill -KILL "$W1_PID"
wait "$W1_PID" 2>/dev/null
unhold blk
step 'the dead worker left nothing half-written: done chunks unchanged' \
	eval '[[ $(chunks dm_meta1 c1 done) == "$done_before" ]] && done_list dm_meta1 c1 | cmp -s - done-before.txt'
dm_bg w1-restarted "$DM_BUILD_DIR/dm-worker" --config="$T/w1.toml" --keepalive-ttl=3
W1_PID=$DM_BG_PID
step 'after the restart c1 finishes' eventually 90 '"stage":"Finished"' ctl query-status c1
step 't_big equals the source' same shop.t_big shop.t_big id
step 't_zz, created before the crash, got its deferred index after it' \
	eval 'same_ddl shop.t_zz shop.t_zz && [[ $(mariadb_sql down "SELECT COUNT(*) FROM dm_meta1.c1_load_index") == 0 ]]'
step "the restarted worker copied only the $pending chunks left" \
	grep -q "task c1 source mysql-01: resuming the full copy, $pending chunks left" w1-restarted.out
step 'chunks done before the crash were not copied again' \
	eval 'done_list dm_meta1 c1 >done-after.txt && [[ -z $(comm -23 done-before.txt done-after.txt) ]] &&
	      [[ $(mariadb_sql down "SELECT SUM(rows_copied) FROM dm_meta1.c1_load_checkpoint WHERE table_name = \"t_big\"") == "$ROWS" ]]'

# 2. pause while a writer waits inside the target
hold blk "BEGIN; UPDATE shop.t_big SET n = -1 WHERE id = $BLOCK_ID;"
step 'start-task c2; it waits behind the held row' \
	eval 'ctl start-task c2.yaml >/dev/null && eventually 60 "^[1-9]" lock_waits'
step 'pause-task takes effect though the statement waits inside the target' \
	eval 'ctl pause-task c2 >/dev/null && eventually 20 "\"stage\":\"Paused\"" ctl query-status c2'
step 'the waiting statement was interrupted, and the worker said so' \
	eval '[[ $(lock_waits) == 0 ]] && grep -q "interrupting statements still running" w1-restarted.out'
unhold blk
step 'resume-task c2: Finished, t_big equal' \
	eval 'ctl resume-task c2 >/dev/null && eventually 90 "\"stage\":\"Finished\"" ctl query-status c2 &&
	      same shop.t_big shop.t_big id'

# 3. the target restarts mid-copy
hold blk "BEGIN; UPDATE shop.t_big SET n = -1 WHERE id = $BLOCK_ID;"
step 'start-task c3; it waits behind the held row' \
	eval 'ctl start-task c3.yaml >/dev/null && eventually 60 "^[1-9]" lock_waits'
mariadb_stop down
unhold blk
sleep 2
step 'the target is back' migrate_start_down
step 'c3 finishes by itself after the target came back' \
	eventually 120 '"stage":"Finished"' ctl query-status c3
step 'the worker retried rather than gave up' \
	grep -Eq "writer [0-9]+: .shop.\..t_big. chunk [0-9]+ failed \(attempt 1\), will retry" w1-restarted.out
step 't_big equals the source after the retry' same shop.t_big shop.t_big id

# 4. a table dropped while the task is paused
hold blk "BEGIN; UPDATE shop.t_big SET n = -1 WHERE id = $BLOCK_ID;"
step 'start-task c4, then pause it mid-copy' \
	eval 'ctl start-task c4.yaml >/dev/null && eventually 60 "^[1-9]" lock_waits &&
	      ctl pause-task c4 >/dev/null && eventually 20 "\"stage\":\"Paused\"" ctl query-status c4'
unhold blk
mariadb_sql up "DROP TABLE shop.t_zz" || exit 1
step 'resume-task: Paused again, naming the dropped table' \
	eval 'ctl resume-task c4 >/dev/null && eventually 60 "\"stage\":\"Paused\".*t_zz.*dropped.*resume-task" ctl query-status c4'
step 'its chunk is still pending: nothing silently skipped' \
	eval '[[ $(mariadb_sql down "SELECT status FROM dm_meta4.c4_load_checkpoint WHERE table_name = \"t_zz\"") == pending ]]'
step 'no password or key in any log' eval '! grep -R -e "$PASS" -e "PRIV""ATE KEY" "$T"/*.out'
dm_done
