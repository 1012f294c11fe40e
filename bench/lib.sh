# shellcheck shell=bash
# Shared by the benchmarks (bench/full.sh, bench/incremental.sh): TLS
# MariaDB servers with a `dm` user, dm-master + dm-worker, and the checks
# that a run really used TLS (or did not). Sourced with $root set; sources
# tests/lib/common.sh and mariadb.sh itself. Call dm_init before the
# servers; B is the build dir, PASS the dm user's password, POOL_MB the
# buffer pool size.
#
#   bench_certs                   CA, dm and MariaDB certificates in $T
#   bench_server NAME PORT SID [mariadb_start options...]
#                                 a TLS-only server with user dm (REQUIRE X509)
#   set_tls on|off                require_secure_transport and REQUIRE X509
#                                 on up and down
#   ssl_accepts / check_tls       TLS handshakes counted by the servers
#   quiesce                       let InnoDB flush its dirty pages (up, down)
#   bench_dm_start DIR TLS        dm-master + dm-worker, the source created
#                                 from $UP; sets MP WP MPID WPID
#   stop_dm                       stops them
#   ctl ARGS... / db_block PORT TLS   dmctl over mutual TLS / a YAML db block
#   sums NAME / verify DIR        rows + CHECKSUM TABLE of $TABLE_LIST; the
#                                 target's against $T/source.sums
#   reset_target                  drops $DBS and dm_meta on down, quiesces
#   server_cpu / server_cpu_since C   CPU seconds of up and down so far / since C


# The build to measure (DM_BUILD_DIR, default build-release) and the test
# rig's helpers.
DM_BUILD_DIR=$(cd "${DM_BUILD_DIR:-$root/build-release}" 2>/dev/null && pwd) || {
	echo "bench: ${DM_BUILD_DIR:-$root/build-release} does not exist (make release)" >&2
	exit 1
}
export DM_BUILD_DIR
# shellcheck source=../tests/lib/common.sh
source "$root/tests/lib/common.sh"
# shellcheck source=../tests/lib/mariadb.sh
source "$root/tests/lib/mariadb.sh"

# bench_need CMD...: dm's binaries, mariadbd and these commands are there
bench_need() {
	local p c missing=""
	for p in dm-master dm-worker dmctl tools/cert-issue; do
		[[ -x $DM_BUILD_DIR/$p ]] || missing+=" $DM_BUILD_DIR/$p"
	done
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing+=" $c"
	done
	mariadb_available || missing+=" mariadbd"
	[[ -z $missing ]] && return 0
	echo "bench: missing:$missing (make release; scripts/install-deps.sh)" >&2
	return 1
}

say() { printf '# %s %s\n' "$(date +%T)" "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }


stop_dm() {
	[[ -n ${WPID:-} ]] && dm_stop "$WPID" 10 >/dev/null 2>&1
	[[ -n ${MPID:-} ]] && dm_stop "$MPID" 10 >/dev/null 2>&1
	forget_pid "${WPID:-}"
	forget_pid "${MPID:-}"
	WPID="" MPID=""
}
forget_pid() { # so the EXIT trap never signals a pid that was reused
	local p keep=()
	for p in "${DM_BG_PIDS[@]}"; do [[ $p != "$1" ]] && keep+=("$p"); done
	DM_BG_PIDS=("${keep[@]}")
}

bench_certs() {
	cert_ca ca "dm bench CA" && cert_leaf ca master dm-master && cert_leaf ca w1 dm-worker &&
		cert_leaf ca client dm-client && cert_leaf ca db localhost && cert_leaf ca dbclient dm \
		>/dev/null
}

bench_server() {
	local name=$1 port=$2 sid=$3
	shift 3
	mariadb_start "$name" "$T" "$port" "$@" --server-id "$sid" --require-secure-transport \
		--ssl-ca "$T/ca.pem" --ssl-cert "$T/db.pem" --ssl-key "$T/db.key" || return 1
	# mariadb.sh starts small servers; 16 MiB BLOBs need a bigger packet
	# (1 GiB: myloader sends a 16 MiB BLOB escaped, up to 2x) and the data
	# should fit the buffer pool (both are dynamic).
	mariadb_sql "$name" "SET GLOBAL max_allowed_packet = 1073741824;
SET GLOBAL innodb_buffer_pool_size = $((POOL_MB * 1048576));
SET GLOBAL local_infile = ON;
CREATE USER 'dm'@'127.0.0.1' IDENTIFIED BY '$PASS' REQUIRE X509;
GRANT ALL ON *.* TO 'dm'@'127.0.0.1';"
}

# tls on|off: the servers' require_secure_transport and the user's REQUIRE
set_tls() {
	local s name
	for name in up down; do
		if [[ $1 == on ]]; then
			s="SET SESSION sql_log_bin = 0; SET GLOBAL require_secure_transport = ON; ALTER USER 'dm'@'127.0.0.1' REQUIRE X509;"
		else
			s="SET SESSION sql_log_bin = 0; SET GLOBAL require_secure_transport = OFF; ALTER USER 'dm'@'127.0.0.1' REQUIRE NONE;"
		fi
		mariadb_sql "$name" "$s" || return 1
	done
}
plain_sql() { # NAME SQL: as mariadb_sql, without TLS
	# --skip-ssl: the client would otherwise count as a TLS handshake (it
	# uses TLS even over the socket) and void the plaintext runs' check.
	mariadb --defaults-file="$(mariadb_defaults "$1")" -uroot --skip-ssl --batch \
		--skip-column-names -e "$2"
}
ssl_accepts() { # "up down" counters of TLS handshakes accepted
	local name
	for name in up down; do
		plain_sql "$name" "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" | cut -f2
	done | paste -sd ' '
}
# check_tls on|off "BEFORE" [target]: TLS handshakes on both servers (or
# the target only) since BEFORE (the users REQUIRE X509 while on, so every
# connection was TLS), or none at all.
check_tls() {
	local a b c d
	read -r a b <<<"$2"
	read -r c d <<<"$(ssl_accepts)"
	if [[ $1 == on ]] && { [[ -n ${3:-} ]] || ((c > a)); } && ((d > b)); then
		echo "TLS: $((c - a)) handshakes upstream, $((d - b)) on the target; the user REQUIRE X509"
	elif [[ $1 == off ]] && ((c == a && d == b)); then
		echo "plaintext: no TLS handshake on either server during the run"
	else
		echo "TLS check failed (want $1): Ssl_accepts upstream $a -> $c, target $b -> $d"
		return 1
	fi
}

quiesce() { # let InnoDB flush dirty pages so one run's writes do not slow the next
	local name n deadline cap capmax pct
	for name in up down; do
		read -r cap capmax pct <<<"$(mariadb_sql "$name" "SELECT @@GLOBAL.innodb_io_capacity,
  @@GLOBAL.innodb_io_capacity_max, @@GLOBAL.innodb_max_dirty_pages_pct")" || return 1
		mariadb_sql "$name" "SET GLOBAL innodb_io_capacity_max = 40000;
SET GLOBAL innodb_io_capacity = 20000; SET GLOBAL innodb_max_dirty_pages_pct = 0" || return 1
		deadline=$((SECONDS + 300))
		while ((SECONDS < deadline)); do
			n=$(mariadb_sql "$name" "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'" | cut -f2)
			((n < 16)) && break
			sleep 0.1
		done
		((n < 16)) || echo "# $name still has $n dirty pages after 300 s; going on" >&2
		# the server's own settings for the runs themselves
		mariadb_sql "$name" "SET GLOBAL innodb_max_dirty_pages_pct = $pct;
SET GLOBAL innodb_io_capacity = $cap; SET GLOBAL innodb_io_capacity_max = $capmax" || return 1
	done
}


ctl() {
	"$B/dmctl" --master-addr="127.0.0.1:$MP" --ssl-ca "$T/ca.pem" --ssl-cert "$T/client.pem" \
		--ssl-key "$T/client.key" "$@"
}
db_block() { # PORT TLS
	echo "  host: \"127.0.0.1\""
	echo "  port: $1"
	echo "  user: \"dm\""
	echo "  password: \"$PASS\""
	[[ $2 == on ]] || return 0
	echo "  security:"
	echo "    ssl-ca: \"$T/ca.pem\""
	echo "    ssl-cert: \"$T/dbclient.pem\""
	echo "    ssl-key: \"$T/dbclient.key\""
}

# bench_dm_start DIR TLS: a TLS dm-master and dm-worker (MariaDB links with
# TLS on or off), the source created from $UP; logs and configs in DIR
bench_dm_start() {
	local d=$1 tls=$2 tag
	tag=$(basename "$d")
	free_port MP && free_port WP || return 1
	cat >"$d/master.toml" <<TOML
name = "master"
master-addr = "127.0.0.1:$MP"
data-dir = "$d/master-data"
log-file = "$d/master.log"
ssl-ca = "$T/ca.pem"
ssl-cert = "$T/master.pem"
ssl-key = "$T/master.key"
cert-allowed-cn = ["dm-client", "dm-worker"]
TOML
	cat >"$d/worker.toml" <<TOML
name = "w1"
worker-addr = "127.0.0.1:$WP"
join = "127.0.0.1:$MP"
log-file = "$d/worker.log"
ssl-ca = "$T/ca.pem"
ssl-cert = "$T/w1.pem"
ssl-key = "$T/w1.key"
TOML
	{ echo 'source-id: "mysql-01"'; echo "from:"; db_block "$UP" "$tls"; } >"$d/source.yaml"
	dm_bg "master-$tag" "$B/dm-master" --config="$d/master.toml"
	MPID=$DM_BG_PID
	dm_bg "worker-$tag" "$B/dm-worker" --config="$d/worker.toml" --keepalive-ttl=3
	WPID=$DM_BG_PID
	wait_for_port "$MP" 20 && wait_for_port "$WP" 20 || return 1
	local ok=0
	for _ in $(seq 1 100); do
		ctl list-member --worker 2>/dev/null | grep -q '"w1"' && ok=1 && break
		sleep 0.1
	done
	((ok)) || { echo "the worker did not register"; return 1; }
	ctl operate-source create "$d/source.yaml" >"$d/source.out" 2>&1 || { cat "$d/source.out"; return 1; }
}

sums() { # NAME: "table rows checksum" per table
	local t n k
	for t in $TABLE_LIST; do
		n=$(mariadb_sql "$1" "SELECT COUNT(*) FROM $t" 2>/dev/null)
		k=$(mariadb_sql "$1" "CHECKSUM TABLE $t" 2>/dev/null | cut -f2)
		echo "$t ${n:-missing} ${k:-missing}"
	done
}
verify() { # DIR: the target equals the source, table by table
	sums down >"$1/target.sums"
	if ! diff "$T/source.sums" "$1/target.sums" >"$1/verify.diff"; then
		echo "verification FAILED (source < > target):"
		sed 's/^/    /' "$1/verify.diff"
		return 1
	fi
	echo "verified: $(wc -l <"$1/target.sums") tables, rows and CHECKSUM TABLE equal the source"
}
reset_target() {
	local db q=""
	for db in $DBS dm_meta; do q+="DROP DATABASE IF EXISTS \`$db\`; "; done
	mariadb_sql down "$q" || return 1
	quiesce
}

server_cpu() { # "up down" CPU seconds of the two servers so far
	local n
	for n in up down; do
		awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f ", ($14 + $15) / hz }' \
			"/proc/$(cat "$T/$n/mysqld.pid")/stat"
	done
}
server_cpu_since() { # "up down" from server_cpu
	local a b c d
	read -r a b <<<"$1"
	read -r c d <<<"$(server_cpu)"
	echo "upstream $(calc %.2f "$c - $a"), target $(calc %.2f "$d - $b")"
}
