#!/usr/bin/env bash
# make demo: an `all` migration (consistent full copy, then binlog sync)
# between two TLS-only MariaDB servers, driven by a TLS-secured dm cluster on
# loopback, with an application writing upstream the whole time.
#   1. certificates from dm's own PKI code (tools/cert-issue)
#   2. two private MariaDB servers (upstream with binlog_format=ROW,
#      binlog_row_image=FULL, binlog_row_metadata=FULL; downstream), both
#      with require_secure_transport and a user that must show a certificate
#   3. a sample schema `shop` upstream: utf8mb4 with emoji, DECIMAL,
#      DATETIME(6), ENUM, JSON, BLOB, a composite string key, a table without
#      a key, a view, and 400k orders (DM_DEMO_ORDERS)
#   4. dm-master and dm-worker with mutual TLS and cert-allowed-cn; plaintext
#      is refused
#   5. a writer (the "application") starts: small transactions inserting,
#      updating and deleting orders, stock, customers and events upstream,
#      before the task starts and until step 8
#   6. dmctl: operate-source create, start-task (task-mode all), progress
#      from query-status every second until the copy is done and the Sync
#      unit runs
#   7. live changes: tracked inserts, updates and deletes made upstream (one
#      while the copy runs), each timed on the upstream server right after
#      its commit and on the target by a loop in the target polling for it
#      every ~2 ms; then a query-status excerpt (stage, unit, synced, seconds
#      behind, syncer vs master binlog position)
#   8. the writer stops; wait for synced at the upstream's final position
#   9. verification: per table row count, CHECKSUM TABLE and an md5 of every
#      row in key order, on both sides; snapshot and checkpoint positions;
#      a summary (rows copied, writes made, latencies, time)
# Everything it starts (servers, dm, writer) is stopped by PID at the end;
# it runs under a temporary directory (DM_KEEP_TMP=1 keeps it).
# DM_BUILD_DIR picks the build tree.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
B=${DM_BUILD_DIR:-$root/build}
TASK=demo
PASS='demo-Pw-1'
ROWS=${DM_DEMO_ORDERS:-400000}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
die() {
	printf '\033[31mdemo failed: %s\033[0m\n' "$*" >&2
	exit 1
}

for c in jq mariadbd mariadb curl; do
	command -v "$c" >/dev/null 2>&1 || [[ $c == mariadbd && -x /usr/sbin/mariadbd ]] ||
		die "$c is not installed (scripts/install-deps.sh)"
done

T=$(mktemp -d /tmp/dm-demo-XXXXXX)
pids=()
# shellcheck source=SCRIPTDIR/../tests/lib/mariadb.sh
source "$root/tests/lib/mariadb.sh"
cleanup() {
	local rc=$? p
	set +e
	touch "$T/stop-writer"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 1 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	mariadb_stop_all
	# shellcheck disable=SC2086 # a list of port numbers
	dm_port_release ${ports_used:-}
	if [[ ${DM_KEEP_TMP:-0} == 1 ]]; then echo "kept $T"; else rm -rf "$T"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building ($B)"
if ! make -s build BUILD="$B" >"$T/build.log" 2>&1; then
	tail -n 30 "$T/build.log"
	die "build failed"
fi

# A free loopback port into VAR, reserved until cleanup (tests/lib/ports.sh).
port() {
	dm_port_pick "$1" || die "no free port on 127.0.0.1"
	ports_used="${ports_used:-} ${!1}"
}
wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	die "nothing listens on 127.0.0.1:$1"
}

say "issuing certificates with dm's PKI (ECDSA P-256)"
ci=$B/tools/cert-issue
"$ci" ca --cn "dm demo CA" --out-cert "$T/ca.pem" --out-key "$T/ca.key"
for pair in master:dm-master worker:dm-worker client:dm-client db:localhost dbclient:dm; do
	"$ci" leaf --ca-cert "$T/ca.pem" --ca-key "$T/ca.key" --cn "${pair#*:}" \
		--san 127.0.0.1,localhost --days 365 --out-cert "$T/${pair%%:*}.pem" \
		--out-key "$T/${pair%%:*}.key"
done
"$ci" info --cert "$T/master.pem" | sed 's/^/  /'

port UP
port DOWN
port MP
port WP
for db in upstream:$UP downstream:$DOWN; do
	name=${db%%:*} p=${db#*:} extra=()
	[[ $name == upstream ]] && extra=(--binlog)
	say "starting the $name MariaDB on 127.0.0.1:$p (require_secure_transport=ON, user dm REQUIRE X509)"
	mariadb_start "$name" "$T" "$p" "${extra[@]}" --require-secure-transport \
		--ssl-ca "$T/ca.pem" --ssl-cert "$T/db.pem" --ssl-key "$T/db.key"
	mariadb_sql "$name" "CREATE USER 'dm'@'127.0.0.1' IDENTIFIED BY '$PASS' REQUIRE X509;
GRANT ALL ON *.* TO 'dm'@'127.0.0.1';"
done

say "the downstream MariaDB refuses dm without TLS, accepts it with the client certificate"
mariadb --no-defaults -h127.0.0.1 -P"$DOWN" -udm -p"$PASS" --skip-ssl -e 'SELECT 1' 2>&1 |
	sed 's/^/  /' || true
mariadb --no-defaults -h127.0.0.1 -P"$DOWN" -udm -p"$PASS" --ssl-ca="$T/ca.pem" \
	--ssl-cert="$T/dbclient.pem" --ssl-key="$T/dbclient.key" --ssl-verify-server-cert \
	--batch -e "SHOW STATUS LIKE 'Ssl_version'" | sed 's/^/  /'

say "loading the sample database shop upstream ($ROWS orders)"
mariadb_sql upstream "
SET NAMES utf8mb4;
CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE shop;
CREATE TABLE customers (
  id INT UNSIGNED PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(190) NOT NULL UNIQUE,
  country CHAR(2) NOT NULL,
  signed_up DATE NOT NULL,
  vip BOOLEAN NOT NULL DEFAULT 0);
INSERT INTO customers SELECT seq,
  CONCAT(ELT(1 + seq % 8, 'Zoë', 'José', 'Chloé', '李雷', 'Øystein', 'Ярослава', 'Aiko 🌸', 'Ömer 🚀'),
         ' ', ELT(1 + seq % 5, 'Martin', 'Müller', 'Sato 佐藤', 'Smith', 'Silva 🇧🇷')),
  CONCAT('c', seq, '@example.org'), ELT(1 + seq % 5, 'FR', 'DE', 'JP', 'US', 'BR'),
  '2020-01-01' + INTERVAL (seq * 7) % 1500 DAY, seq % 13 = 0
FROM seq_1_to_5000;

CREATE TABLE products (
  id INT PRIMARY KEY,
  sku CHAR(8) NOT NULL,
  title VARCHAR(200) NOT NULL,
  price DECIMAL(10,2) NOT NULL,
  weight_kg FLOAT,
  thumbnail BLOB,
  attrs JSON);
INSERT INTO products SELECT seq, CONCAT('SKU', LPAD(seq, 5, '0')),
  CONCAT('Product ', seq, IF(seq % 10 = 0, ' ☕', '')), 1 + (seq * 37 % 50000) / 100,
  IF(seq % 17 = 0, NULL, seq / 8),
  UNHEX(REPEAT(SHA2(seq, 256), 1 + seq % 64)),
  JSON_OBJECT('color', ELT(1 + seq % 3, 'red', 'green', 'blue'), 'tags', JSON_ARRAY('new', seq % 7))
FROM seq_1_to_500;

CREATE TABLE orders (
  id BIGINT UNSIGNED PRIMARY KEY,
  customer_id INT UNSIGNED NOT NULL,
  product_id INT NOT NULL,
  qty SMALLINT UNSIGNED NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  currency CHAR(3) NOT NULL,
  status ENUM('new', 'paid', 'shipped', 'delivered', 'cancelled') NOT NULL,
  placed_at DATETIME(6) NOT NULL,
  note VARCHAR(255),
  details JSON,
  KEY (customer_id), KEY (placed_at));
INSERT INTO orders SELECT seq, 1 + seq * 7919 % 5000, 1 + seq % 500, 1 + seq % 9,
  (seq * 7907 % 100000) / 100, ELT(1 + seq % 3, 'EUR', 'USD', 'JPY'), 1 + seq % 5,
  '2023-01-01' + INTERVAL seq * 37 SECOND + INTERVAL seq * 7 % 1000000 MICROSECOND,
  IF(seq % 4 = 0, NULL, CONCAT('order ', seq, IF(seq % 9 = 0, ' 📦 fragile, \"handle\\\\with care\"', ''))),
  JSON_OBJECT('items', 1 + seq % 5, 'gift', seq % 11 = 0, 'coupon', IF(seq % 6 = 0, 'SAVE10', NULL))
FROM seq_1_to_$ROWS;

-- a composite string key
CREATE TABLE stock (
  warehouse VARCHAR(20) NOT NULL, product_id INT NOT NULL, qty INT NOT NULL,
  updated_at TIMESTAMP(3) NOT NULL, PRIMARY KEY (warehouse, product_id));
INSERT INTO stock SELECT w, seq, seq * 13 % 400, '2024-06-01 12:00:00' + INTERVAL seq MINUTE
FROM seq_1_to_500 CROSS JOIN (SELECT 'Berlin' w UNION ALL SELECT 'Lyon' UNION ALL SELECT 'Ōsaka') ws;

-- no key at all, with duplicate rows
CREATE TABLE events (at DATETIME, kind VARCHAR(20), payload TEXT);
INSERT INTO events SELECT '2024-01-01' + INTERVAL seq DIV 2 HOUR, ELT(1 + seq % 3, 'login', 'search', NULL),
  IF(seq % 5 = 0, NULL, CONCAT('tab\there\nnewline ', seq DIV 2)) FROM seq_1_to_2000;

CREATE VIEW v_sales AS
  SELECT status, currency, COUNT(*) AS orders, SUM(total) AS revenue FROM orders GROUP BY status, currency;
"
mariadb_sql upstream "SELECT CONCAT('  ', TABLE_NAME, ': ', TABLE_TYPE) FROM information_schema.TABLES
	WHERE TABLE_SCHEMA = 'shop' ORDER BY TABLE_NAME"
echo "  the upstream's binlog, as the sync needs it (docs/mysql-tls.md, source pre-flight checks):"
mariadb_sql upstream "SELECT CONCAT('  log_bin=', IF(@@log_bin, 'ON', 'OFF'), ' binlog_format=', @@binlog_format,
	' binlog_row_image=', @@binlog_row_image, ' binlog_row_metadata=', @@binlog_row_metadata,
	' server_id=', @@server_id)"

cat >"$T/dm-master.toml" <<TOML
name = "master1"
master-addr = "127.0.0.1:$MP"
data-dir = "$T/master"
log-file = "$T/master.log"
ssl-ca = "$T/ca.pem"
ssl-cert = "$T/master.pem"
ssl-key = "$T/master.key"
cert-allowed-cn = ["dm-master", "dm-worker", "dm-client"]
TOML
cat >"$T/dm-worker.toml" <<TOML
name = "worker1"
worker-addr = "127.0.0.1:$WP"
join = "127.0.0.1:$MP"
keepalive-ttl = 3
log-file = "$T/worker.log"
ssl-ca = "$T/ca.pem"
ssl-cert = "$T/worker.pem"
ssl-key = "$T/worker.key"
TOML
db_block() { # port: connection to a MariaDB as dm, TLS with the client certificate
	cat <<YAML
  host: "127.0.0.1"
  port: $1
  user: "dm"
  password: "$PASS"
  security:
    ssl-ca: "$T/ca.pem"
    ssl-cert: "$T/dbclient.pem"
    ssl-key: "$T/dbclient.key"
YAML
}
{
	echo 'source-id: "mysql-01"'
	echo "from:"
	db_block "$UP"
} >"$T/source.yaml"
cat >"$T/task.yaml" <<YAML
name: "$TASK"
task-mode: all
meta-schema: "dm_meta"
target-database:
$(db_block "$DOWN")
block-allow-list:
  bal:
    do-dbs: ["shop"]
mydumpers:
  dump:
    threads: 2
    rows: 10000
loaders:
  load:
    pool-size: 2
syncers:
  sync:
    worker-count: 4
    batch: 100
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    mydumper-config-name: "dump"
    loader-config-name: "load"
    syncer-config-name: "sync"
YAML

say "starting dm-master (127.0.0.1:$MP) and dm-worker (127.0.0.1:$WP) with mutual TLS"
"$B/dm-master" --config="$T/dm-master.toml" >"$T/master.out" 2>&1 &
pids+=($!)
"$B/dm-worker" --config="$T/dm-worker.toml" >"$T/worker.out" 2>&1 &
pids+=($!)
wait_port "$MP"
wait_port "$WP"
ctl() { "$B/dmctl" --master-addr="127.0.0.1:$MP" --ssl-ca "$T/ca.pem" \
	--ssl-cert "$T/client.pem" --ssl-key "$T/client.key" "$@"; }
for _ in $(seq 1 50); do
	ctl list-member --worker 2>/dev/null | grep -q worker1 && break
	sleep 0.1
done

say "plaintext to the master is refused"
curl -sS --max-time 3 "http://127.0.0.1:$MP/api/v1/sources" 2>&1 | sed 's/^/  /' || true
say "dmctl operate-source create source.yaml (dm-master checks the upstream over TLS)"
ctl operate-source create "$T/source.yaml" >"$T/source.out" 2>&1 || {
	cat "$T/source.out"
	die "operate-source create failed"
}
jq -c '{result, sources}' "$T/source.out" 2>/dev/null || cat "$T/source.out"
say "dmctl list-member --worker (the source is bound)"
ctl list-member --worker


# The application: small transactions on shop until $T/stop-writer exists,
# about 20 a second. It touches odd order ids, even product ids of Lyon's
# stock and kind 'order' events only, so the tracked changes below (even
# order ids, other warehouses, kind 'probe') never race with it.
writer_sql() {
	local i=0 id=$ROWS r
	echo "SET NAMES utf8mb4;"
	while [[ ! -e $T/stop-writer ]]; do
		i=$((i + 1))
		r=$(((RANDOM * 32768 + RANDOM) % (ROWS / 2) * 2 + 1))
		case $((i % 6)) in
		0 | 3)
			id=$((id + 1))
			echo "INSERT INTO shop.orders VALUES ($id, $((r % 5000 + 1)), $((r % 500 + 1)), $((i % 9 + 1)), $((r % 99999)).$((i % 100)), 'EUR', 'new', NOW(6), 'app order $id 🛒', JSON_OBJECT('items', $((i % 5 + 1))));"
			;;
		1) echo "UPDATE shop.orders SET status = 'shipped', note = CONCAT('shipped at ', NOW(6)) WHERE id = $r;" ;;
		2) echo "DELETE FROM shop.orders WHERE id = $r;" ;;
		4)
			printf '%s\n' "BEGIN;" \
				"UPDATE shop.stock SET qty = qty - 1, updated_at = NOW(3) WHERE warehouse = 'Lyon' AND product_id = $((r % 500 + 1));" \
				"INSERT INTO shop.events VALUES (NOW(), 'order', 'app order of product $((r % 500 + 1))');" "COMMIT;"
			;;
		5) echo "UPDATE shop.customers SET vip = NOT vip WHERE id = $((r % 5000 + 1));" ;;
		esac
		sleep 0.04
	done
}
writer_count() { # the writer's statements so far (matching an ERE: ^INSERT, ...)
	grep -cE "${1:-^(INSERT|UPDATE|DELETE)}" "$T/writer.sql" 2>/dev/null || true
}

# Live-change probes. watch_target waits on the target, in one session, for
# a condition to become true: a loop inside the server reads it about every
# 2 ms (READ COMMITTED, so each read sees the newest commits) and prints the
# target's clock at the first read that sees it, and how many reads failed
# before. Both servers run on this host: one clock.
watch_target() {
	mariadb --defaults-file="$(mariadb_defaults downstream)" -uroot --batch --skip-column-names -e "
SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED;
DELIMITER //
BEGIN NOT ATOMIC
  DECLARE ok INT DEFAULT 0; DECLARE n INT DEFAULT 0;
  WHILE NOT ok AND n < 30000 DO
    SELECT $1 INTO ok;
    IF NOT ok THEN DO SLEEP(0.002); SET n = n + 1; END IF;
  END WHILE;
  SELECT IF(ok, UNIX_TIMESTAMP(NOW(6)), 'timeout'), n;
END//"
}
clock() { date -d "@$1" +%H:%M:%S.%3N; }
# shellcheck disable=SC2016 # jq programs, not shell
context='.sources[0].subTaskStatus[0] |
	if .unit == "Load" then "[task: Load, copy at \(.load.progress // "-" | gsub(" "; ""))]" else "[task: \(.unit)]" end'
# probe TAG UPSTREAM-TEXT DOWNSTREAM-TEXT SQL CONDITION: starts a watcher,
# makes the change upstream (its time: the upstream's clock right after the
# commit, in the same session), prints both times and the difference.
probe() {
	local tag=$1 up_what=$2 down_what=$3 sql=$4 cond=$5 ctx up seen n ms w
	watch_target "$cond" >"$T/seen.$tag" 2>&1 &
	w=$!
	# the task's state just before the change; meanwhile the watcher starts
	ctx=$(ctl query-status "$TASK" 2>/dev/null | jq -r "$context" 2>/dev/null) || ctx=""
	sleep 0.1
	up=$(mariadb_sql upstream "SET NAMES utf8mb4; $sql; SELECT UNIX_TIMESTAMP(NOW(6))") || {
		kill "$w" 2>/dev/null
		echo "  upstream: $up_what failed"
		return 1
	}
	wait "$w" || true
	read -r seen n <"$T/seen.$tag" || true
	printf '  upstream   %s  %-41s %s\n' "$(clock "$up")" "$up_what" "$ctx"
	if [[ ! $seen =~ ^[0-9.]+$ ]]; then
		printf '  downstream: not seen within 60 s (%s)\n' "$(head -c 200 "$T/seen.$tag")"
		return 1
	fi
	ms=$(awk -v a="$up" -v b="$seen" 'BEGIN { printf "%d", (b - a) * 1000 + 0.5 }')
	((ms >= 0)) || ms=0
	printf '  downstream %s  %-41s %s\n' "$(clock "$seen")" "$down_what" \
		"($ms ms later$([[ $n == 0 ]] && echo ', at most'))"
	echo "$ms $tag" >>"$T/latencies"
}

say "task.yaml"
sed -e "s|$T|\$T|g" -e "s|$PASS|***|" "$T/task.yaml" | sed 's/^/  /'

say "the application starts writing upstream (~20 transactions/s: INSERT, UPDATE, DELETE on orders, stock, customers, events)"
: >"$T/writer.sql"
mariadb --defaults-file="$(mariadb_defaults upstream)" -uroot --batch --force \
	< <(writer_sql | tee -a "$T/writer.sql") >"$T/writer.out" 2>&1 &
writer_pid=$!
pids+=("$writer_pid")
writer_start=$EPOCHREALTIME
sleep 1
echo "  $(writer_count) statements so far"

say "dmctl start-task task.yaml"
ctl start-task "$T/task.yaml" >"$T/start.out" 2>&1 || {
	cat "$T/start.out"
	die "start-task failed"
}
jq -c '{result, msg}' "$T/start.out" 2>/dev/null || cat "$T/start.out"

say "dmctl query-status $TASK, every second, until the copy is done and the Sync unit runs (writer: its statements so far)"
# One line per poll, from the (only) subtask: the Load unit's progress, then
# the Sync unit's state.
# shellcheck disable=SC2016 # a jq program, not shell
summary='
  (.sources // [])[0] as $s
  | ($s.subTaskStatus // [])[0] as $st
  | ($st.load // {}) as $l
  | ($st.sync // {}) as $y
  | [ ($st.stage // "?"), ($st.unit // "?"), ($l.phase // "-"), ($l.progress // "-"),
      ($l.rows // 0), ($l.rowsTotalEst // 0), ($l.rowsPerSecond // 0),
      ($l.etaSeconds // "-"), ($l.tablesFinished // 0), ($l.tablesTotal // 0),
      ($l.finishedBytes // 0), ($y.synced // false), ($y.secondsBehindMaster // "-"),
      ($y.masterBinlog // "-"), ($y.syncerBinlog // "-"), ($y.totalTransactions // 0),
      ($y.recentTps // 0), ($st.result.errors // [] | map(.Message) | join("; ")) ]
  | @tsv'
status() { # query-status into $T/status.json and the fields above; 1 if unreadable
	# dmctl exits non-zero when a subtask reports an error: read its JSON anyway.
	ctl query-status "$TASK" >"$T/status.json" 2>&1 || true
	stage="?" unit="?" err=""
	local line
	line=$(jq -r "$summary" "$T/status.json" 2>/dev/null) && [[ -n $line ]] || return 1
	IFS=$'\t' read -r stage unit phase pct rows est rps eta tf tt bytes synced behind \
		mbin sbin txns tps err <<<"$line"
}
sync_line() {
	printf '  %-9s %-5s synced %-5s  %2ss behind  master %s  syncer %s  %s txns, %s tps\n' \
		"$stage" "$unit" "$synced" "$behind" "$mbin" "$sbin" "$txns" "$tps"
}
start=$SECONDS
deadline=$((SECONDS + ${DM_DEMO_TIMEOUT:-180}))
copy_probe=""
while :; do
	if ! status; then
		printf '  %3ds  query-status: %s\n' $((SECONDS - start)) "$(head -c 200 "$T/status.json")"
	elif [[ $unit == Sync ]]; then
		printf '  %3ds' $((SECONDS - start))
		sync_line
	else
		[[ $eta == - ]] || eta=${eta}s
		printf '  %3ds  %-9s %-9s %8s  rows %7s / ~%-7s %7s rows/s  ETA %4s  tables %s/%s  %s MiB  writer %s\n' \
			$((SECONDS - start)) "$stage" "$phase" "${pct// /}" "$rows" "$est" "$rps" "$eta" \
			"$tf" "$tt" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')" "$(writer_count)"
		# one tracked change made while the copy runs; shown once the sync runs
		if [[ -z $copy_probe && $stage == Running && $phase == copying ]]; then
			probe p1 "INSERT order 9000001" "sees order 9000001" \
				"INSERT INTO shop.orders VALUES (9000001, 42, 42, 1, 9.99, 'EUR', 'new', NOW(6), 'made during the copy', NULL)" \
				"EXISTS(SELECT 1 FROM shop.orders WHERE id = 9000001)" >"$T/probe-copy.out" 2>&1 &
			copy_probe=$!
			pids+=("$copy_probe")
		fi
	fi
	[[ $stage == Running && $unit == Sync ]] && break
	if [[ $stage == Paused || $stage == Finished ]]; then
		tail -n 5 "$T/worker.log" | cut -c1-200 | sed 's/^/  /'
		die "the task is $stage: ${err:-no error reported}"
	fi
	if ((SECONDS >= deadline)); then
		jq 'del(.. | .tables?)' "$T/status.json" 2>/dev/null || head -c 3000 "$T/status.json"
		tail -n 20 "$T/worker.log" | cut -c1-200
		die "the copy did not finish in ${DM_DEMO_TIMEOUT:-180}s (stage ${stage:-unknown}, unit ${unit:-unknown})"
	fi
	sleep 1
done
copy_s=$((SECONDS - start))
IFS=$'\t' read -r copied copy_tables copy_mib copy_rps < <(jq -r '.sources[0].subTaskStatus[0].load |
	[.rows, .tablesFinished, (.finishedBytes | tonumber / 1048576 * 10 | round / 10), .rowsPerSecond] | @tsv' "$T/status.json")
echo "  the copy: $copied rows, $copy_tables tables, $copy_mib MiB, $copy_rps rows/s; then, from the worker's log:"
grep -m1 -o 'sync starts at .*' "$T/worker.log" | sed 's/^/  /'

say "live changes: made upstream, seen on the target (polled every ~2 ms), the writer still running"
if [[ -n $copy_probe ]]; then
	wait "$copy_probe" || { cat "$T/probe-copy.out"; die "the change made during the copy did not arrive"; }
	cat "$T/probe-copy.out"
fi
probe p2 "INSERT order 9000002" "sees order 9000002" \
	"INSERT INTO shop.orders VALUES (9000002, 7, 7, 2, 39.80, 'USD', 'new', NOW(6), 'live order ☕', JSON_OBJECT('items', 2))" \
	"EXISTS(SELECT 1 FROM shop.orders WHERE id = 9000002)" || die "a change did not arrive"
probe p3 "UPDATE order 9000002 SET status = 'paid'" "sees order 9000002 paid" \
	"UPDATE shop.orders SET status = 'paid' WHERE id = 9000002" \
	"EXISTS(SELECT 1 FROM shop.orders WHERE id = 9000002 AND status = 'paid')" || die "a change did not arrive"
gone=$((ROWS >= 4242 ? 4242 : 2)) # an even id: the writer leaves it alone
probe p4 "DELETE order $gone" "order $gone is gone" \
	"DELETE FROM shop.orders WHERE id = $gone" \
	"NOT EXISTS(SELECT 1 FROM shop.orders WHERE id = $gone)" || die "a change did not arrive"
probe p5 "UPDATE stock (Berlin, 42) SET qty = 999" "sees stock (Berlin, 42) at 999" \
	"UPDATE shop.stock SET qty = 999, updated_at = NOW(3) WHERE warehouse = 'Berlin' AND product_id = 42" \
	"(SELECT qty FROM shop.stock WHERE warehouse = 'Berlin' AND product_id = 42) = 999" || die "a change did not arrive"
probe p6 "INSERT order 9000003 + event (one txn)" "sees order 9000003 and its event" \
	"BEGIN; INSERT INTO shop.orders VALUES (9000003, 9, 9, 3, 12.30, 'JPY', 'paid', NOW(6), NULL, NULL);
	INSERT INTO shop.events VALUES (NOW(), 'probe', 'order 9000003 🚀'); COMMIT" \
	"EXISTS(SELECT 1 FROM shop.orders WHERE id = 9000003) AND EXISTS(SELECT 1 FROM shop.events WHERE kind = 'probe')" ||
	die "a change did not arrive"

say "dmctl query-status $TASK under the writer's load (three polls, a second apart)"
for k in 1 2 3; do
	status || true
	sync_line
	((k == 3)) || sleep 1
done
echo "  excerpt:"
jq '.sources[0].subTaskStatus[0] | {name, stage, unit, sync: (.sync | {masterBinlog, syncerBinlog,
	synced, secondsBehindMaster, totalEvents, totalTransactions, totalRows, recentTps, workers})}' \
	"$T/status.json" | sed 's/^/    /'

say "stopping the writer; waiting until the target is synced at the upstream's last position"
touch "$T/stop-writer"
wait "$writer_pid" || die "the writer failed: $(tail -n 3 "$T/writer.out")"
writer_s=$(awk -v a="$writer_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
w_ins=$(writer_count '^INSERT') w_upd=$(writer_count '^UPDATE') w_del=$(writer_count '^DELETE')
w_txn=$(($(writer_count) - $(writer_count '^BEGIN')))
echo "  the writer made $w_txn transactions in ${writer_s}s: $w_ins INSERT, $w_upd UPDATE, $w_del DELETE statements"
if grep -q ERROR "$T/writer.out"; then
	head -n 3 "$T/writer.out"
	die "some of the writer's statements failed"
fi
final=$(mariadb_sql upstream "SHOW MASTER STATUS" | awk '{ printf "(%s, %s)", $1, $2 }')
stopped=$EPOCHREALTIME
until status && [[ $synced == true && $sbin == "$final" ]]; do
	if ((SECONDS >= deadline)); then
		sync_line
		die "not synced at $final in time"
	fi
	sleep 0.2
done
sync_line
synced_ms=$(awk -v a="$stopped" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
echo "  synced at the upstream's $final ${synced_ms} ms after the writer stopped"
echo "  (with no writes, the sync's positions and status advance on the binlog heartbeat, once a second)"

say "verification: upstream vs downstream (rows, CHECKSUM TABLE, md5 of all rows in key order)"
digest() { # instance, table, order
	mariadb --defaults-file="$(mariadb_defaults "$1")" -uroot --batch --raw --skip-column-names \
		-e "SELECT * FROM shop.$2 ORDER BY $3" | md5sum | cut -c1-12
}
checksum() {
	mariadb_sql "$1" "CHECKSUM TABLE shop.$2" | cut -f2
}
bad=0
printf '  %-10s %15s %25s %27s\n' table rows "CHECKSUM TABLE" "md5 of rows"
for spec in customers:id products:id orders:id stock:warehouse,product_id \
	events:at,kind,payload v_sales:status,currency; do
	t=${spec%%:*} order=${spec#*:}
	r1=$(mariadb_sql upstream "SELECT COUNT(*) FROM shop.$t")
	r2=$(mariadb_sql downstream "SELECT COUNT(*) FROM shop.$t" 2>/dev/null || echo missing)
	if [[ $t == v_* ]]; then
		c1=view c2=view
	else
		c1=$(checksum upstream "$t")
		c2=$(checksum downstream "$t" 2>/dev/null || echo missing)
	fi
	d1=$(digest upstream "$t" "$order")
	d2=$(digest downstream "$t" "$order" 2>/dev/null || echo missing)
	if [[ $r1 == "$r2" && $c1 == "$c2" && -n $c1 && $d1 == "$d2" ]]; then
		verdict=$'\033[32mmatch\033[0m'
	else
		verdict=$'\033[31mMISMATCH\033[0m'
		bad=$((bad + 1))
	fi
	printf '  %-10s %7s %7s  %11s %11s  %12s %12s  %s\n' "$t" "$r1" "$r2" "$c1" "$c2" "$d1" "$d2" "$verdict"
done

say "positions: where the copy's snapshot was taken, where the sync's checkpoint is"
snap=$(mariadb_sql downstream "SELECT CONCAT(binlog_name, ':', binlog_pos, ' (gtid ', IFNULL(binlog_gtid, '-'), ')')
	FROM dm_meta.${TASK}_snapshot")
snap_gtid=$(mariadb_sql downstream "SELECT binlog_gtid FROM dm_meta.${TASK}_snapshot")
up_gtid=$(mariadb_sql upstream "SELECT @@gtid_binlog_pos")
echo "  the copy's snapshot (dm_meta.${TASK}_snapshot):  $snap"
echo "  the sync's checkpoint, per applier (dm_meta.${TASK}_syncer_checkpoint):"
mariadb_sql downstream "SELECT CONCAT('    applier ', applier, ':  ', binlog_name, ':', binlog_pos, ' (gtid ', binlog_gtid, ')')
	FROM dm_meta.${TASK}_syncer_checkpoint ORDER BY applier"
echo "  the upstream now:  $(mariadb_sql upstream "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' ':') (gtid $up_gtid)"

say "the worker's log (last 8 lines)"
tail -n 8 "$T/worker.log" | cut -c1-200 | sed 's/^/  /'

if ((bad)); then
	die "$bad table(s) differ"
fi
lat=$(sort -n "$T/latencies" | awk '
	$2 == "p1" { copy = $1; next }
	{ v[n++] = $1 }
	END { printf "%d|%d|%d|%d|%s", n, v[0], v[int((n - 1) / 2)], v[n - 1], copy }')
IFS='|' read -r nlat lmin lmed lmax lcopy <<<"$lat"
say "summary"
printf '  %-9s %s\n' \
	copy "$copied rows in $copy_tables tables at the snapshot $snap, ${copy_s}s" \
	writer "$w_txn transactions ($w_ins INSERT, $w_upd UPDATE, $w_del DELETE) from 1 s before start-task on" \
	sync "$((${up_gtid##*-} - ${snap_gtid##*-})) transactions in the upstream's binlog after the snapshot ($snap_gtid to $up_gtid)," \
	"" "$txns applied; synced ${synced_ms} ms after the writer stopped" \
	latency "$nlat changes made while the Sync unit ran arrived in $lmin-$lmax ms (median $lmed ms)"
[[ -z $lcopy ]] || printf '  %-9s %s\n' "" "the one made during the copy arrived $lcopy ms later, after the copy"
printf '  %-9s %s\n' result "every table matches (rows, CHECKSUM TABLE, md5 of all rows)"
say "demo finished in ${SECONDS}s; stopping the writer, dm-worker, dm-master and both MariaDB servers"
