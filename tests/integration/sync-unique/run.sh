#!/usr/bin/env bash
# Unique indexes besides the PK, through the incremental sync with 4
# appliers: a TLS dm-master and dm-worker run one `incremental` task while
# the upstream commits a few thousand small transactions that hand unique
# values from one row to another (delete then insert elsewhere with the
# freed values, swaps through a temporary value, a composite unique (a, b)
# with a nullable b moved between rows, values set to NULL and reused,
# both within one transaction and across several), over ids spread across
# every applier. Routed by the PK alone, the taking row can reach the
# target before the row that freed the value: a duplicate-key error (the
# task pauses) or a deadlock between appliers (the sync restarts).
#
#   t_bin  email VARBINARY (compared by bytes: keyed by its value),
#          UNIQUE (a, b) with b nullable;
#   t_ci   email VARCHAR utf8mb4_general_ci, values handed on with their
#          case changed ('Mail7' then 'mail7'): bytes cannot tell, the
#          table is keyed as a whole.
#
# Once under binlog_row_image FULL (schema uq_f), once under MINIMAL
# (uq_m: the before image holds the PK only, so a change's unique values
# are unknown and it must be ordered against everything). Each time: the
# target equals the upstream table by table (every row's bytes, CHECKSUM
# TABLE), and the task is Running with no error; the sync restarted for
# nothing but deadlocks between appliers (see running below).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"
# shellcheck source=../../lib/migrate.sh
source "$here/../../lib/migrate.sh"

migrate_need
dm_init sync-unique
trap 'mariadb_stop_all; _dm_cleanup' EXIT
migrate_setup || exit 1
upcnf=$(mariadb_defaults up) || exit 1

ROWS=300      # rows per table at the start
ROUNDS=${DM_UNIQUE_ROUNDS:-1200} # workload rounds per schema (1 to 3 transactions each)
SEED=${DM_UNIQUE_SEED:-$RANDOM}
echo "# workload seed $SEED (DM_UNIQUE_SEED=$SEED to replay it)"

schema_sql() {
	cat <<SQL
CREATE DATABASE $1; USE $1;
CREATE TABLE t_bin (id INT PRIMARY KEY, email VARBINARY(64), a INT NOT NULL, b INT,
  v INT NOT NULL DEFAULT 0, UNIQUE KEY email (email), UNIQUE KEY ab (a, b));
CREATE TABLE t_ci (id INT PRIMARY KEY, email VARCHAR(64) CHARACTER SET utf8mb4
  COLLATE utf8mb4_general_ci NOT NULL, v INT NOT NULL DEFAULT 0, UNIQUE KEY email (email));
INSERT INTO t_bin (id, email, a, b) SELECT seq, CONCAT('e', seq), seq, NULLIF(seq % 4, 0)
  FROM seq_1_to_$ROWS;
INSERT INTO t_ci (id, email) SELECT seq, CONCAT('Mail', seq) FROM seq_1_to_$ROWS;
SQL
}
for db in up down; do
	for s in uq_f uq_m; do mariadb_sql "$db" "$(schema_sql "$s")" || exit 1; done
done
# a deadlock's details go to down/error.log (kept with DM_KEEP_TMP=1)
mariadb_sql down "SET GLOBAL innodb_print_all_deadlocks = ON" || exit 1
IFS=$'\t' read -r FILE POS < <(mariadb_sql up "SHOW MASTER STATUS")

cat >task.yaml <<YAML
name: "uniq"
task-mode: incremental
meta-schema: "dm_meta"
target-database:
$(db_block "$DOWN")
block-allow-list:
  bal:
    do-dbs: ["uq_*"]
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

# workload SCHEMA: the statements, from a model of both tables kept here
# (so every statement succeeds upstream: each frees a value before another
# row takes it). Autocommit statements are one transaction each.
workload() {
	local s=$1 r x y n i t
	local -a live em aa bb ci
	for ((i = 1; i <= ROWS; i++)); do
		live+=("$i") em[i]="'e$i'" aa[i]=$i bb[i]=$((i % 4)) ci[i]="Mail$i"
		((i % 4 == 0)) && bb[i]=NULL
	done
	local next=$((ROWS + 1)) fresh=0
	pick() { # two distinct live ids into x, y; i: x's slot in live
		i=$((RANDOM % ${#live[@]}))
		x=${live[i]}
		y=${live[RANDOM % ${#live[@]}]}
		while ((y == x)); do y=${live[RANDOM % ${#live[@]}]}; done
	}
	for ((r = 0; r < ROUNDS; r++)); do
		pick
		n=$next
		case $((RANDOM % 8)) in
		0) # delete, then a new row takes every unique value it freed
			# (t_ci's with its case changed)
			echo "DELETE FROM $s.t_bin WHERE id = $x;"
			echo "INSERT INTO $s.t_bin (id, email, a, b) VALUES ($n, ${em[x]}, ${aa[x]}, ${bb[x]});"
			em[n]=${em[x]} aa[n]=${aa[x]} bb[n]=${bb[x]} ci[n]=${ci[x]}
			echo "DELETE FROM $s.t_ci WHERE id = $x;"
			t=${ci[x]^^}
			[[ ${ci[x]} == "$t" ]] && t=${ci[x],,}
			echo "INSERT INTO $s.t_ci (id, email) VALUES ($n, '$t');"
			ci[n]=$t
			live[i]=$n next=$((next + 1))
			;;
		1) # swap the emails of x and y through a temporary value
			if [[ ${em[x]} == NULL || ${em[y]} == NULL ]]; then
				echo "UPDATE $s.t_bin SET v = v + 1 WHERE id IN ($x, $y);"
				continue
			fi
			echo "UPDATE $s.t_bin SET email = 'tmp' WHERE id = $x;"
			echo "UPDATE $s.t_bin SET email = ${em[x]} WHERE id = $y;"
			echo "UPDATE $s.t_bin SET email = ${em[y]} WHERE id = $x;"
			t=${em[x]} em[x]=${em[y]} em[y]=$t
			;;
		2) # x's (a, b) goes to y: x first takes b = NULL (never collides)
			if [[ ${bb[x]} == NULL ]]; then # x takes a new pair instead
				aa[x]=$((ROWS * 10 + fresh)) bb[x]=1 fresh=$((fresh + 1))
				echo "UPDATE $s.t_bin SET a = ${aa[x]}, b = 1 WHERE id = $x;"
				continue
			fi
			echo "UPDATE $s.t_bin SET b = NULL WHERE id = $x;"
			echo "UPDATE $s.t_bin SET a = ${aa[x]}, b = ${bb[x]} WHERE id = $y;"
			aa[y]=${aa[x]} bb[y]=${bb[x]} bb[x]=NULL
			;;
		3) # x's email goes to y within one transaction, x gets a new one
			echo "BEGIN; UPDATE $s.t_bin SET email = 'n$fresh' WHERE id = $x;"
			echo "UPDATE $s.t_bin SET email = ${em[x]} WHERE id = $y; COMMIT;"
			em[y]=${em[x]} em[x]="'n$fresh'" fresh=$((fresh + 1))
			;;
		4) # x's email becomes NULL (two NULLs never collide), y takes it
			echo "UPDATE $s.t_bin SET email = NULL WHERE id = $x;"
			echo "UPDATE $s.t_bin SET email = ${em[x]} WHERE id = $y;"
			em[y]=${em[x]} em[x]=NULL
			;;
		5) # delete and re-insert under a new id in one transaction
			echo "BEGIN; DELETE FROM $s.t_bin WHERE id = $x;"
			echo "INSERT INTO $s.t_bin (id, email, a, b) VALUES ($n, ${em[x]}, ${aa[x]}, ${bb[x]}); COMMIT;"
			em[n]=${em[x]} aa[n]=${aa[x]} bb[n]=${bb[x]} ci[n]=${ci[x]}
			echo "UPDATE $s.t_ci SET id = $n WHERE id = $x;"
			live[i]=$n next=$((next + 1))
			;;
		6) # t_ci: swap through a temporary value, the case flipped on
			# the way ('Mail7' = 'mail7' under the collation)
			echo "UPDATE $s.t_ci SET email = 'tmp' WHERE id = $x;"
			echo "UPDATE $s.t_ci SET email = '${ci[x]^^}' WHERE id = $y;"
			echo "UPDATE $s.t_ci SET email = '${ci[y],,}' WHERE id = $x;"
			t=${ci[x]^^} ci[x]=${ci[y],,} ci[y]=$t
			;;
		7) # rows that collide with nothing
			echo "UPDATE $s.t_bin SET v = v + 1 WHERE id = $x;"
			echo "UPDATE $s.t_ci SET v = v + 1 WHERE id = $y;"
			;;
		esac
	done
}

# Appliers may still deadlock on rows that share no value: to check a
# unique value that a row freed (its entry is only delete-marked until
# purge), InnoDB locks that entry and the gap after it, even at READ
# COMMITTED, so two appliers writing neighbouring values can wait on each
# other. That is transient: the sync restarts from its checkpoint and
# replays exactly. Any other interruption, and any error, is a failure.
running() {
	eventually 5 '"stage":"Running","unit":"Sync"' ctl query-status uniq || return 1
	! ctl query-status uniq | grep -E '"(Message|message|msg)": *"[^"]' &&
		! grep -E "Duplicate entry" "$T/w1.out" &&
		! grep "sync interrupted" "$T/w1.out" | grep -v "MySQL error 1213 "
}
deadlocks() {
	echo "# $(grep -c "sync interrupted (MySQL error 1213 " "$T/w1.out") deadlock restarts so far"
}

migrate_start_cluster || exit 1
step 'source created over TLS' eval 'ctl operate-source create source.yaml >src.out || { cat src.out; false; }'
step 'start-task (incremental, worker-count 4)' ctl start-task task.yaml
step 'the sync unit runs' eventually 30 '"stage":"Running","unit":"Sync"' ctl query-status uniq

# phase SCHEMA IMAGE
phase() {
	local s=$1 image=$2
	echo "# --- $s: binlog_row_image=$image ---"
	mariadb_sql up "SET GLOBAL binlog_row_image = '$image'" || exit 1
	RANDOM=$SEED
	workload "$s" >"$T/$s.sql"
	step "$s: $(grep -c . "$T/$s.sql") statements hand unique values on, upstream" eval \
		'mariadb --defaults-file="$upcnf" -uroot --batch <"$T/$s.sql" &&
		 [[ $(mariadb_sql up "SELECT @@SESSION.binlog_row_image") == "$image" ]]'
	step "$s: every table equals the upstream (rows, CHECKSUM TABLE)" eval \
		'converges 180 "$s" || { ctl query-status uniq | grep -Ei "stage|error|msg|message" | head -8; false; }'
	step "$s: the task is still Running, with no error (deadlocks aside)" running
	deadlocks
}

phase uq_f FULL
phase uq_m MINIMAL

step 'no password or key in any log' eval '! grep -R -e "$PASS" -e "PRIV""ATE KEY" "$T"/*.out'
dm_done
