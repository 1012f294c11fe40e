#!/usr/bin/env bash
# make demo: a full migration between two TLS-only MariaDB servers, driven by
# a TLS-secured dm cluster on loopback, end to end.
#   1. certificates from dm's own PKI code (tools/cert-issue)
#   2. two private MariaDB servers (upstream with binlog, downstream), both
#      with require_secure_transport and a user that must show a certificate
#   3. a sample schema `shop` upstream: utf8mb4 with emoji, DECIMAL,
#      DATETIME(6), ENUM, JSON, BLOB, a composite string key, a table without
#      a key, a view, and 400k orders (DM_DEMO_ORDERS)
#   4. dm-master and dm-worker with mutual TLS and cert-allowed-cn; plaintext
#      is refused
#   5. dmctl: operate-source create, start-task (task-mode full), progress
#      from query-status every second until Finished
#   6. verification: per table row count, CHECKSUM TABLE and an md5 of every
#      row in key order, on both sides; the snapshot position recorded
# Everything runs under a temporary directory and is stopped at the end
# (DM_KEEP_TMP=1 keeps the directory). DM_BUILD_DIR picks the build tree.
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

port() { # a free loopback port, not one handed out before
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		[[ " ${ports_used:-} " == *" $p "* ]] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		ports_used="${ports_used:-} $p"
		echo "$p"
		return
	done
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

UP=$(port)
DOWN=$(port)
MP=$(port)
WP=$(port)
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
task-mode: full
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
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    mydumper-config-name: "dump"
    loader-config-name: "load"
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

say "task.yaml"
sed -e "s|$T|\$T|g" -e "s|$PASS|***|" "$T/task.yaml" | sed 's/^/  /'
say "dmctl start-task task.yaml"
ctl start-task "$T/task.yaml" >"$T/start.out" 2>&1 || {
	cat "$T/start.out"
	die "start-task failed"
}
jq -c '{result, msg}' "$T/start.out" 2>/dev/null || cat "$T/start.out"

say "dmctl query-status $TASK, every second"
# One line per poll, from the Load unit's status of the (only) subtask.
# shellcheck disable=SC2016 # a jq program, not shell
summary='
  (.sources // [])[0] as $s
  | ($s.subTaskStatus // [])[0] as $st
  | ($st.load // {}) as $l
  | [ ($st.stage // "?"), ($l.phase // "-"), ($l.progress // "-"),
      ($l.rows // 0), ($l.rowsTotalEst // 0), ($l.rowsPerSecond // 0),
      ($l.etaSeconds // "-"), ($l.tablesFinished // 0), ($l.tablesTotal // 0),
      ($l.finishedBytes // 0), ($st.result.errors // [] | map(.Message) | join("; ")) ]
  | @tsv'
start=$SECONDS
deadline=$((SECONDS + ${DM_DEMO_TIMEOUT:-180}))
stage=""
while :; do
	# dmctl exits non-zero when a subtask reports an error: read its JSON anyway.
	ctl query-status "$TASK" >"$T/status.json" 2>&1 || true
	stage="?" err=""
	if line=$(jq -r "$summary" "$T/status.json" 2>/dev/null) && [[ -n $line ]]; then
		IFS=$'\t' read -r stage phase pct rows est rps eta tf tt bytes err <<<"$line"
		[[ $eta == - ]] || eta=${eta}s
		printf '  %3ds  %-9s %-9s %8s  rows %7s / ~%-7s %7s rows/s  ETA %4s  tables %s/%s  %s MiB\n' \
			$((SECONDS - start)) "$stage" "$phase" "${pct// /}" "$rows" "$est" "$rps" "$eta" \
			"$tf" "$tt" "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')"
	else
		printf '  %3ds  query-status: %s\n' $((SECONDS - start)) "$(head -c 200 "$T/status.json")"
	fi
	[[ $stage == Finished ]] && break
	if [[ $stage == Paused ]]; then
		tail -n 5 "$T/worker.log" | cut -c1-200 | sed 's/^/  /'
		die "the task paused: ${err:-no error reported}"
	fi
	if ((SECONDS >= deadline)); then
		jq 'del(.. | .tables?)' "$T/status.json" 2>/dev/null || head -c 3000 "$T/status.json"
		tail -n 20 "$T/worker.log" | cut -c1-200
		die "the task did not finish in ${DM_DEMO_TIMEOUT:-180}s (stage ${stage:-unknown})"
	fi
	sleep 1
done
echo "  finished in $((SECONDS - start))s"
jq -r '.sources[0].subTaskStatus[0].load.tables[]? |
	"    \(.target)  \(.rows) rows, \(.chunks) chunks"' "$T/status.json"

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

say "the snapshot position the task recorded (dm_meta.${TASK}_snapshot on the target)"
mariadb --defaults-file="$(mariadb_defaults downstream)" -uroot --table \
	-e "SELECT * FROM dm_meta.${TASK}_snapshot" | sed 's/^/  /'
echo "  upstream now: $(mariadb_sql upstream "SHOW MASTER STATUS" | cut -f1,2 | tr '\t' ' ')," \
	"gtid_binlog_pos $(mariadb_sql upstream "SELECT @@gtid_binlog_pos")"

say "the worker's log (last 10 lines)"
tail -n 10 "$T/worker.log" | cut -c1-200 | sed 's/^/  /'

if ((bad)); then
	die "$bad table(s) differ"
fi
say "demo finished in ${SECONDS}s: every table matches; stopping everything"
