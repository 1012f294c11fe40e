#!/usr/bin/env bash
# A plaintext cluster on loopback (what dm allows without certificates):
# master + 2 workers + a source whose security block is empty, against a
# plaintext MariaDB; an incremental task (schema src routed to dst on the
# same server) and its stages round-trip through dmctl.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"

mariadb_available || { echo "SKIP: MariaDB is not installed"; exit 77; }
B=$DM_BUILD_DIR
for p in dm-master dm-worker dmctl; do
	[[ -x $B/$p ]] || { echo "SKIP: $B/$p is not built"; exit 77; }
done
dm_init control-plane-plain
trap 'mariadb_stop_all; _dm_cleanup' EXIT

PASS='plain-Pw-9'
free_port DBP && free_port MP && free_port W1P && free_port W2P || exit 1
mariadb_start up "$T" "$DBP" --binlog || exit 1
mariadb_sql up "CREATE USER 'dm'@'127.0.0.1' IDENTIFIED BY '$PASS';
GRANT ALL ON *.* TO 'dm'@'127.0.0.1';" || exit 1

cat >source.yaml <<YAML
source-id: "mysql-01"
from:
  host: "127.0.0.1"
  port: $DBP
  user: "dm"
  password: "$PASS"
  security: {}
YAML
mariadb_sql up "CREATE DATABASE src; CREATE TABLE src.t (id INT PRIMARY KEY, v VARCHAR(20));
CREATE DATABASE dst;" || exit 1
cat >task.yaml <<YAML
name: "t1"
task-mode: incremental
target-database:
  host: "127.0.0.1"
  port: $DBP
  user: "dm"
  password: "$PASS"
block-allow-list:
  only-src:
    do-dbs: ["src"]
routes:
  to-dst:
    schema-pattern: "src"
    target-schema: "dst"
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "only-src"
    route-rules: ["to-dst"]
YAML

dm_bg master "$B/dm-master" --master-addr="127.0.0.1:$MP" --data-dir="$T/master"
MPID=$DM_BG_PID
dm_bg w1 "$B/dm-worker" --name=w1 --worker-addr="127.0.0.1:$W1P" --join="127.0.0.1:$MP" \
	--keepalive-ttl=2
dm_bg w2 "$B/dm-worker" --name=w2 --worker-addr="127.0.0.1:$W2P" --join="127.0.0.1:$MP" \
	--keepalive-ttl=2
wait_for_port "$MP" && wait_for_port "$W1P" && wait_for_port "$W2P" || exit 1

ctl() { "$B/dmctl" --master-addr="127.0.0.1:$MP" "$@"; }
eventually() {
	local secs=$1 re=$2
	shift 2
	local deadline=$((SECONDS + secs))
	while ((SECONDS < deadline)); do
		"$@" 2>&1 | tr -d ' \n' | grep -Eq -- "$re" && return 0
		sleep 0.2
	done
	echo "output never matched /$re/:"
	"$@"
	return 1
}

step 'list-member shows both workers, over http' \
	eventually 10 '"name":"w1","addr":"http://127.0.0.1:[0-9]+".*"name":"w2","addr":"http://' \
	ctl list-member --worker
step 'operate-source create (empty security block) binds the source' \
	eval 'ctl operate-source create source.yaml >src.out && grep -q "\"worker\": *\"w[12]\"" src.out'
step 'list-member shows the source bound' eventually 5 '"stage":"bound","source":"mysql-01"' \
	ctl list-member --worker
step 'start-task' ctl start-task task.yaml
# the task starts at the upstream's position when the sync begins reading:
# write only after that
step 'the sync reads the binlog' \
	eventually 20 '"syncerBinlog":"\(binlog\.[0-9]+,[0-9]+\)"' ctl query-status t1
# dst.t does not exist yet: the first row pauses the subtask with the
# reason; after creating it, resume-task makes the worker try again.
mariadb_sql up "INSERT INTO src.t VALUES (1, 'one')" || exit 1
step 'query-status: Paused by the worker, with the reason' \
	eventually 20 '"stage":"Paused".*dst.*t.*doesnotexistonthetarget' ctl query-status t1
step 'query-status without a task lists it with an error' \
	eventually 5 '"taskName":"t1","taskStatus":"Error' ctl query-status
mariadb_sql up "CREATE TABLE dst.t (id INT PRIMARY KEY, v VARCHAR(20))" || exit 1
step 'resume-task: the worker runs the subtask again and the row arrives' \
	eval 'ctl resume-task t1 >/dev/null && eventually 20 "^1one$" mariadb_sql up "SELECT GROUP_CONCAT(id, v ORDER BY id SEPARATOR \"\") FROM dst.t"'
step 'query-status: Running in the Sync unit' \
	eventually 10 '"stage":"Running","unit":"Sync"' ctl query-status t1
step 'pause-task: the expected stage becomes Paused' \
	eval 'ctl pause-task t1 && eventually 10 "taskt1:1subtasks->Paused" cat "$T/master.out"'
mariadb_sql up "INSERT INTO src.t VALUES (2, 'two'); UPDATE src.t SET v = 'uno' WHERE id = 1" || exit 1
step 'while paused nothing is applied' \
	eval 'sleep 1; [[ $(mariadb_sql up "SELECT COUNT(*) FROM dst.t") == 1 ]]'
step 'resume-task: what was written meanwhile arrives, once' \
	eval 'ctl resume-task t1 >/dev/null && eventually 20 "^1uno2two$" mariadb_sql up "SELECT GROUP_CONCAT(id, v ORDER BY id SEPARATOR \"\") FROM dst.t"'
step 'start-task on an existing task is refused' not ctl start-task task.yaml
step 'stop-task removes it' eval 'ctl stop-task t1 && not ctl query-status t1'
step 'a worker listening off loopback without TLS is refused at start' \
	eval 'not "$B/dm-worker" --worker-addr=0.0.0.0:1 --join=127.0.0.1:1 >w.err 2>&1 && grep -q "not a loopback address" w.err'
step 'the master exits cleanly on SIGTERM' dm_stop "$MPID"
dm_done
