#!/usr/bin/env bash
# make demo: a TLS-secured dm cluster on loopback, end to end.
#   1. certificates from dm's own PKI code (build/tools/cert-issue)
#   2. a private upstream MariaDB that requires TLS and a client certificate
#   3. dm-master and dm-worker with mutual TLS and cert-allowed-cn
#   4. dmctl: list-member, operate-source create (TLS to MariaDB), query-status
# Everything runs under a temporary directory and is stopped at the end.
# The migration data path (full/incremental copy) arrives with later work;
# this demo shows the secured control plane.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
B=${DM_BUILD_DIR:-$root/build}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "building"
if ! make -s build >/tmp/dm-demo-build.log 2>&1; then
	tail -n 30 /tmp/dm-demo-build.log
	exit 1
fi
# shellcheck source=../tests/lib/mariadb.sh
source "$root/tests/lib/mariadb.sh"

T=$(mktemp -d /tmp/dm-demo-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	mariadb_stop_all
	if [[ ${DM_KEEP_TMP:-0} == 1 ]]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

port() { # a free loopback port
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on 127.0.0.1:$1" >&2
	return 1
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

DBP=$(port)
MP=$(port)
WP=$(port)
say "starting an upstream MariaDB on 127.0.0.1:$DBP (require_secure_transport=ON, user REQUIRE X509)"
mariadb_start upstream "$T" "$DBP" --binlog --require-secure-transport \
	--ssl-ca "$T/ca.pem" --ssl-cert "$T/db.pem" --ssl-key "$T/db.key"
mariadb_sql upstream "CREATE USER 'dm'@'127.0.0.1' IDENTIFIED BY 'demo-Pw-1' REQUIRE X509;
GRANT ALL ON *.* TO 'dm'@'127.0.0.1';"

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
cat >"$T/source.yaml" <<YAML
source-id: "mysql-01"
from:
  host: "127.0.0.1"
  port: $DBP
  user: "dm"
  password: "demo-Pw-1"
  security:
    ssl-ca: "$T/ca.pem"
    ssl-cert: "$T/dbclient.pem"
    ssl-key: "$T/dbclient.key"
YAML

say "starting dm-master (127.0.0.1:$MP) and dm-worker (127.0.0.1:$WP) with mutual TLS"
"$B/dm-master" --config="$T/dm-master.toml" &
pids+=($!)
"$B/dm-worker" --config="$T/dm-worker.toml" &
pids+=($!)
wait_port "$MP"
wait_port "$WP"
ctl() { "$B/dmctl" --master-addr="127.0.0.1:$MP" --ssl-ca "$T/ca.pem" \
	--ssl-cert "$T/client.pem" --ssl-key "$T/client.key" "$@"; }
for _ in $(seq 1 50); do
	ctl list-member --worker 2>/dev/null | grep -q worker1 && break
	sleep 0.1
done

say "dmctl list-member"
ctl list-member
say "plaintext to the master is refused"
curl -sS --max-time 3 "http://127.0.0.1:$MP/api/v1/sources" || true
echo
say "dmctl operate-source create source.yaml (dm-master checks the upstream over TLS)"
ctl operate-source create "$T/source.yaml"
say "dmctl list-member --worker (the source is bound)"
ctl list-member --worker
say "the master's log"
sed 's/^/  /' "$T/master.log"
say "demo finished: stopping everything"
