#!/usr/bin/env bash
# The type matrix of binlog-decode (its schema.sql and dml.sql: every
# column type with edge values, inserts, updates of every column to and
# from NULL, key changes, deletes, tables without a key and with a
# composite key, a big blob), plus keys of every type (keys-schema.sql,
# keys-dml.sql), through the real incremental sync: a TLS dm-master and
# dm-worker run one `incremental` task (4 appliers) while the upstream
# logs the DML under binlog_row_image FULL and MINIMAL times
# binlog_row_metadata FULL and MINIMAL, then NO_LOG (MariaDB's default: no
# signedness, charsets or names) under FULL, MINIMAL and NOBLOB, each
# setting into a schema of its own (bd_ff, bd_mf, bd_fm, bd_mm, bd_fn,
# bd_mn, bd_nn). Per setting: the target equals the upstream table by
# table (every row's bytes and CHECKSUM TABLE), the sync never restarted,
# and no UPDATE or DELETE of a keyed table read the target table whole.
#
# As in binlog-decode the schema is created on both servers beforehand
# (the task's filter ignores the DDL of bd_*): CREATE TABLE t_old is run
# upstream under mysql56_temporal_format=OFF, a global the binlog does not
# carry, so a replayed CREATE would store its temporals in the new format
# and CHECKSUM TABLE would differ although every value is equal.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
decode=$here/../binlog-decode
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"
# shellcheck source=../../lib/migrate.sh
source "$here/../../lib/migrate.sh"

migrate_need
dm_init sync-types
trap 'mariadb_stop_all; _dm_cleanup' EXIT
migrate_setup || exit 1
upcnf=$(mariadb_defaults up) && downcnf=$(mariadb_defaults down) || exit 1
IFS=$'\t' read -r FILE POS < <(mariadb_sql up "SHOW MASTER STATUS")

cat >task.yaml <<YAML
name: "types"
task-mode: incremental
meta-schema: "dm_meta"
target-database:
$(db_block "$DOWN")
block-allow-list:
  bal:
    do-dbs: ["bd_*"]
filters:
  schema-made-on-both:
    schema-pattern: "bd_*"
    events: ["all ddl"]
    action: Ignore
syncers:
  sync:
    worker-count: 4
    batch: 50
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    filter-rules: ["schema-made-on-both"]
    syncer-config-name: "sync"
    meta:
      binlog-name: "$FILE"
      binlog-pos: $POS
YAML

# Statements that read a table without an index are logged on the target
# whatever they take: the sync must find a row of a keyed table by its key.
mariadb_sql down "SET GLOBAL slow_query_log_file = '$T/down-scans.log', long_query_time = 1000,
	log_queries_not_using_indexes = ON, slow_query_log = ON" || exit 1

migrate_start_cluster || exit 1
step 'source created over TLS' eval 'ctl operate-source create source.yaml >src.out || { cat src.out; false; }'
step 'start-task (incremental, worker-count 4)' ctl start-task task.yaml
step 'the sync unit runs' eventually 30 '"stage":"Running","unit":"Sync"' ctl query-status types

# binlog-decode's files, for schema DB
sql_for() { sed -E "s/^(DROP DATABASE IF EXISTS|CREATE DATABASE|USE) bd\\b/\\1 $2/" "$decode/$1"; }
nonempty() { # the upstream really holds rows of every table of DB
	local t n
	for t in $(tables_of up "$1"); do
		n=$(mariadb_sql up "SELECT COUNT(*) FROM $1.$t") || return 1
		((n > 0)) || { echo "$1.$t is empty"; return 1; }
	done
	[[ -n $t ]]
}
running() { # and the sync never restarted (a deadlock between appliers would)
	eventually 5 '"stage":"Running","unit":"Sync"' ctl query-status types &&
		! grep "sync interrupted" "$T/w1.out"
}
scans() { # UPDATE/DELETE of DB on the target that read a keyed table whole
	local stmt
	grep -E "^(UPDATE|DELETE FROM) \`$1\`\.|^UPDATE \(SELECT .* STRAIGHT_JOIN \`$1\`\." "$T/down-scans.log" | grep -vE '`(t_nokey|k_nuk)`' |
		while IFS= read -r stmt; do
			# a batched UPDATE reads its derived table of new values whole,
			# which the log reports; the target table itself must be
			# reached through its key (eq_ref), row by row
			if [[ $stmt == "UPDATE (SELECT "* ]] &&
				mariadb_sql down "EXPLAIN ${stmt%;}" | awk -F'\t' '$3 == "dm_t" && $4 == "eq_ref" { ok = 1 } END { exit !ok }'; then
				continue
			fi
			echo "${stmt:0:300}"
		done
}

# phase DB IMAGE METADATA
phase() {
	local db=$1 image=$2 meta=$3
	echo "# --- $db: binlog_row_image=$image binlog_row_metadata=$meta ---"
	mariadb_sql up "SET GLOBAL binlog_row_image = '$image', binlog_row_metadata = '$meta'" || exit 1
	local cnf
	for cnf in "$downcnf" "$upcnf"; do
		{ sql_for schema.sql "$db" && cat "$here/keys-schema.sql"; } |
			mariadb --defaults-file="$cnf" -uroot || exit 1
	done
	# the helper opens a new session, which picks up the global image
	step "$db: a new writer session logs with $image / $meta" eval \
		'[[ $(mariadb_sql up "SELECT @@SESSION.binlog_row_image, @@GLOBAL.binlog_row_metadata") == "$image	$meta" ]]'
	step "$db: the type matrix DML commits upstream" eval \
		'{ sql_for dml.sql "$db" && cat "$here/keys-dml.sql"; } |
		 mariadb --defaults-file="$upcnf" -uroot && nonempty "$db"'
	step "$db: every table equals the upstream (rows, CHECKSUM TABLE)" eval \
		'converges 40 "$db" || { ctl query-status types | grep -Ei "stage|error|msg|message" | head -8; false; }'
	step "$db: the task is still Running, with no error or restart" running
	step "$db: every UPDATE and DELETE of a keyed table used its key" eval '[[ -z $(scans "$db") ]] || { scans "$db"; false; }'
}

phase bd_ff FULL FULL
phase bd_mf MINIMAL FULL
phase bd_fm FULL MINIMAL
phase bd_mm MINIMAL MINIMAL
phase bd_fn FULL NO_LOG
phase bd_mn MINIMAL NO_LOG
phase bd_nn NOBLOB NO_LOG

step 'no password or key in any log' eval '! grep -R -e "$PASS" -e "PRIV""ATE KEY" "$T"/*.out'
dm_done
