#!/usr/bin/env bash
# Full migration over TLS on every link: a TLS MariaDB upstream (binlog,
# require_secure_transport, REQUIRE X509 user) copied into another by a
# TLS dm-master + dm-worker. Checks every column type family row by row,
# the block-allow-list, routes (two shards into one table), views, the
# snapshot position recorded, per-chunk checkpoints and query-status
# progress; then bad input: a row the target refuses, resume-task.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"
# shellcheck source=../../lib/migrate.sh
source "$here/../../lib/migrate.sh"

mariadb_available || { echo "SKIP: MariaDB is not installed"; exit 77; }
B=$DM_BUILD_DIR
for p in dm-master dm-worker dmctl cert-issue; do
	[[ -x $B/$p || -x $B/tools/$p ]] || { echo "SKIP: $p is not built"; exit 77; }
done
dm_init full-migration
trap 'mariadb_stop_all; _dm_cleanup' EXIT

migrate_setup || exit 1
mariadb_sql up "$(cat "$here/types.sql")" || exit 1

write_task() { # name, extra mydumper lines
	cat <<YAML
name: "$1"
task-mode: full
meta-schema: "dm_meta"
target-database:
$(db_block "$DOWN")
block-allow-list:
  bal:
    do-dbs: ["shop", "shard_*"]
    ignore-tables:
      - db-name: "shop"
        tbl-name: "t_skip"
routes:
  shards:
    schema-pattern: "shard_*"
    table-pattern: "orders_*"
    target-schema: "merged"
    target-table: "orders"
  shop:
    schema-pattern: "shop"
    target-schema: "shop_copy"
mydumpers:
  dump:
    threads: 2
    rows: 1500
loaders:
  load:
    pool-size: 3
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    route-rules: ["shards", "shop"]
    mydumper-config-name: "dump"
    loader-config-name: "load"
YAML
}
write_task t1 >task.yaml

migrate_start_cluster || exit 1
step 'source created over TLS' eval 'ctl operate-source create source.yaml >src.out || { cat src.out; false; }'
step 'start-task (full)' ctl start-task task.yaml
step 'the full task finishes' eventually 60 '"stage":"Finished"' ctl query-status t1
step 'query-status shows the copy: 100%, rows and tables' \
	eventually 5 '"unit":"Load".*"progress":"100.00%".*"metaBinlog":"\([a-z0-9_.-]+\.[0-9]+,[0-9]+\)".*"tablesTotal":12,"tablesFinished":12,"rows":25034,' ctl query-status t1

for t in t_int t_num t_str t_time t_geo t_ckey t_big t_par t_chi; do
	step "$t: target equals source row by row" same "shop.$t" "shop_copy.$t" 1
done
step 't_nokey (no key, duplicate rows) equals' same shop.t_nokey shop_copy.t_nokey '1,2'
for t in t_int t_num t_str t_time t_geo t_ckey t_big t_nokey t_par t_chi; do
	step "$t: the target's definition equals the source's, indexes included" same_ddl "shop.$t" "shop_copy.$t"
done
step 'merged.orders has the shards definition, its index added once' same_ddl shard_a.orders_01 merged.orders
step 'the secondary indexes were added after the rows, and forgotten once added' \
	eval 'grep -q "adding 2 deferred indexes to .shop_copy.\..t_big." "$T/w1.out" &&
	      grep -q "adding 1 deferred index to .merged.\..orders." "$T/w1.out" &&
	      [[ $(grep -c "deferred index" "$T/w1.out") == 2 ]] &&
	      [[ $(mariadb_sql down "SELECT COUNT(*) FROM dm_meta.t1_load_index") == 0 ]]'
step 'routes merge the two shards into merged.orders' \
	eval '[[ $(mariadb_sql down "SELECT GROUP_CONCAT(id, \":\", amount ORDER BY id) FROM merged.orders") == "1:10.50,2:20.00,3:30.25,4:0.01" ]]'
step 'the block-allow-list leaves out junk and shop.t_skip' \
	eval '[[ $(mariadb_sql down "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (\"junk\", \"shop\") OR TABLE_NAME = \"t_skip\"") == 0 ]]'
step 'the view is created after the tables' \
	eval '[[ $(mariadb_sql down "SELECT COUNT(*) FROM shop_copy.v_big") == $(mariadb_sql up "SELECT COUNT(*) FROM shop.v_big") ]]'
step 't_big was copied in several chunks, all done' \
	eval '[[ $(mariadb_sql down "SELECT COUNT(*) > 5 AND SUM(status = \"done\") = COUNT(*) AND SUM(rows_copied) = 20000 FROM dm_meta.t1_load_checkpoint WHERE table_name = \"t_big\"") == 1 ]]'
step 'the composite string key was split by an index walk' \
	eval '(( $(mariadb_sql down "SELECT COUNT(*) FROM dm_meta.t1_load_checkpoint WHERE table_name = \"t_ckey\" AND status = \"done\"") >= 3 ))'
step 'the snapshot position is recorded (file, position, GTID)' \
	eval 'mariadb_sql down "SELECT consistency, binlog_name, binlog_pos, binlog_gtid, status FROM dm_meta.t1_snapshot" >snap.out &&
	      grep -Eq "^(snapshot|flush)	[^	]+\.[0-9]+	[0-9]+	0-[0-9]+-[0-9]+	finished$" snap.out || { cat snap.out; false; }'
step 'the recorded position is the upstream position (no writes since)' \
	eval 'pos=$(mariadb_sql up "SHOW MASTER STATUS" | cut -f1,2) && [[ -n $pos && $(cut -f2,3 snap.out) == "$pos" ]]'
step 'the recorded GTID set is the one at that position (BINLOG_GTID_POS)' \
	eval 'read -r _ f p g _ <snap.out && [[ $(mariadb_sql up "SELECT BINLOG_GTID_POS(\"$f\", $p)") == "$g" ]]'
step 'no password or key in the worker log' \
	eval '! grep -R -e "$PASS" -e "PRIV""ATE KEY" "$T"/*.out'

# Bad input: a target column too short for an upstream value pauses the
# task with the target's own words; after the fix, resume-task finishes it.
mariadb_sql up "CREATE TABLE shop.t_long (id INT PRIMARY KEY, s VARCHAR(50)); INSERT INTO shop.t_long VALUES (1, 'short'), (2, REPEAT('y', 40));" || exit 1
mariadb_sql down "CREATE DATABASE IF NOT EXISTS shop_copy; CREATE TABLE shop_copy.t_long (id INT PRIMARY KEY, s VARCHAR(10));" || exit 1
write_task t2 | sed 's/^meta-schema: "dm_meta"/meta-schema: "dm_meta2"/' >task2.yaml
step 'a second task over the same target starts' ctl start-task task2.yaml
step 'the refused row pauses it with the reason (Data too long, the table)' \
	eventually 60 '"stage":"Paused".*t_long.*(Datatoolong|toolong)' ctl query-status t2
step 'nothing of the refused chunk was committed' \
	eval '[[ $(mariadb_sql down "SELECT COUNT(*) FROM shop_copy.t_long") == 0 ]]'
mariadb_sql down "ALTER TABLE shop_copy.t_long MODIFY s VARCHAR(50)" || exit 1
done_sql='SELECT schema_name, table_name, chunk_id, updated_at FROM dm_meta2.t2_load_checkpoint WHERE status = "done" ORDER BY 1, 2, 3'
mariadb_sql down "$done_sql" >done-before.txt || exit 1
left=$(mariadb_sql down 'SELECT COUNT(*) FROM dm_meta2.t2_load_checkpoint WHERE status = "pending"')
step 'resume-task after fixing the target: Finished' \
	eval 'ctl resume-task t2 >/dev/null && eventually 60 "\"stage\":\"Finished\"" ctl query-status t2'
step 't_long copied' same shop.t_long shop_copy.t_long 1
step 'the resumed run copied only the unfinished chunks; finished ones were not touched' \
	eval '(( left > 0 )) && grep -q "task t2 source mysql-01: resuming the full copy, $left chunks left" "$T/w1.out" &&
	      [[ $(mariadb_sql down "SELECT COUNT(*) FROM dm_meta2.t2_load_checkpoint WHERE status <> \"done\"") == 0 ]] &&
	      mariadb_sql down "$done_sql" >done-after.txt &&
	      [[ -z $(comm -23 <(sort done-before.txt) <(sort done-after.txt)) ]]'
dm_done
