#!/usr/bin/env bash
# A private MariaDB with require_secure_transport=ON and binlog on, started
# by tests/lib/mariadb.sh: a TLS client gets a cipher, a plaintext one is
# refused. Proves the shell library; the C side is tested in
# tests/unit/test_mysql_conn.c.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${DM_SOURCE_DIR:-$(cd "$here/../../.." && pwd)}
# shellcheck source-path=SCRIPTDIR source=../../lib/mariadb.sh
source "$src/tests/lib/mariadb.sh"

if ! mariadb_available; then
	echo "SKIP: mariadbd/mariadb-install-db not installed"
	exit 77
fi

work=$(mktemp -d /tmp/dm-it-mysql-tls-XXXXXX)
port=""
cleanup() {
	mariadb_stop_all
	[[ -n $port ]] && dm_port_release "$port"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

mk_test_pki "$work/pki" || fail "could not create test certificates"
pki=$work/pki
port=$(mariadb_free_port) || fail "no free port"

mariadb_start src "$work" "$port" --binlog --require-secure-transport \
	--ssl-ca "$pki/ca.pem" --ssl-cert "$pki/server.pem" --ssl-key "$pki/server.key" ||
	fail "could not start MariaDB"

mariadb_sql src "CREATE USER 'dm'@'127.0.0.1' IDENTIFIED BY 'it-secret' REQUIRE X509;
GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO 'dm'@'127.0.0.1';" ||
	fail "could not create user"

[[ $(mariadb_sql src "SELECT @@log_bin, @@binlog_format, @@require_secure_transport") == $'1\tROW\t1' ]] ||
	fail "server settings are not what mariadb_start was asked for"

client=(mariadb --no-defaults -h127.0.0.1 -P"$port" -udm -pit-secret --batch --skip-column-names)

# TLS with the server verified and a client certificate: a cipher is in use.
out=$("${client[@]}" --ssl-ca="$pki/ca.pem" --ssl-cert="$pki/client.pem" \
	--ssl-key="$pki/client.key" --ssl-verify-server-cert \
	-e 'SHOW STATUS LIKE "Ssl_cipher"' 2>&1) || fail "TLS client refused: $out"
cipher=$(awk '{print $2}' <<<"$out")
[[ -n $cipher ]] || fail "no cipher reported: $out"
echo "ok: TLS link, cipher $cipher"

# Plaintext: refused by require_secure_transport (error 1045 in MariaDB).
if out=$("${client[@]}" --skip-ssl -e 'SELECT 1' 2>&1); then
	fail "plaintext client was accepted: $out"
fi
[[ $out == *1045* || $out == *3159* ]] || fail "unexpected refusal text: $out"
echo "ok: plaintext refused ($out)"

# REQUIRE X509 without a client certificate: refused too.
if out=$("${client[@]}" --ssl-ca="$pki/ca.pem" -e 'SELECT 1' 2>&1); then
	fail "client without certificate was accepted for a REQUIRE X509 user: $out"
fi
echo "ok: TLS without client certificate refused"

mariadb_stop src
[[ ! -s $work/src/mysqld.pid ]] || fail "pid file left after stop"
echo "PASS"
