# shellcheck shell=bash
# A TLS-on-every-link migration rig for scenarios that move data: two
# private MariaDB instances (`up` with a binlog, `down`), both with
# require_secure_transport and a `dm` user that must show a certificate,
# plus a TLS dm-master and one dm-worker. Needs common.sh and mariadb.sh
# sourced first, and dm_init done.
#
#   migrate_setup            certs, both servers, master.toml, w1.toml,
#                            source.yaml; sets UP DOWN MP W1P PASS
#   migrate_start_up         (re)starts `up` with the same options
#   migrate_start_down       (re)starts `down` with the same options
#   migrate_start_cluster    dm-master + dm-worker w1 (W1_PID)
#   db_block PORT            the YAML host/port/user/password/security block
#   ctl ARGS...              dmctl over mutual TLS
#   eventually SECS RE CMD.. until CMD's output (spaces and newlines removed)
#                            matches RE
#   digest NAME TABLE ORDER  md5 of every row, raw bytes, in ORDER
#   same UP_TABLE DOWN_TABLE ORDER  rows and CHECKSUM TABLE equal
#   same_ddl UP_TABLE DOWN_TABLE     SHOW CREATE TABLE equal, names and
#                            AUTO_INCREMENT aside (indexes included)
#   hold NAME SQL            runs SQL as root on `down` in a session kept
#                            open (its transaction uncommitted) until
#   unhold NAME              ends that session: the transaction rolls back
#   lock_waits               how many `down` transactions wait for a lock
#   stop_writers             stops the loads whose PIDs are in WRITER_PIDS
#   all_same SCHEMA [EXCEPT] every table but EXCEPT equal on both sides
#   converges SECS SCHEMA [EXCEPT]  all_same within SECS seconds

PASS='mig-Pw-7'

# Skips the scenario (exit 77) unless MariaDB and dm's binaries are there.
migrate_need() {
	mariadb_available || { echo "SKIP: MariaDB is not installed"; exit 77; }
	local p
	for p in dm-master dm-worker dmctl tools/cert-issue; do
		[[ -x $DM_BUILD_DIR/$p ]] || { echo "SKIP: $p is not built"; exit 77; }
	done
}

migrate_setup() {
	cert_ca ca "dm test CA" && cert_leaf ca master dm-master && cert_leaf ca w1 dm-worker &&
		cert_leaf ca client dm-client && cert_leaf ca db localhost &&
		cert_leaf ca dbclient dm || return 1
	free_port UP && free_port DOWN && free_port MP && free_port W1P || return 1
	migrate_start_up && migrate_start_down || return 1
	local db
	for db in up down; do
		mariadb_sql "$db" "CREATE USER 'dm'@'127.0.0.1' IDENTIFIED BY '$PASS' REQUIRE X509;
GRANT ALL ON *.* TO 'dm'@'127.0.0.1';" || return 1
	done
	local w addr_key port
	for w in master w1; do
		addr_key=master-addr port=$MP
		[[ $w == w1 ]] && addr_key=worker-addr port=$W1P
		cat >"$T/$w.toml" <<TOML
name = "$w"
$addr_key = "127.0.0.1:$port"
ssl-ca = "$T/ca.pem"
ssl-cert = "$T/$w.pem"
ssl-key = "$T/$w.key"
TOML
	done
	echo "data-dir = \"$T/master-data\"" >>"$T/master.toml"
	echo "join = \"127.0.0.1:$MP\"" >>"$T/w1.toml"
	echo 'cert-allowed-cn = ["dm-client", "dm-worker"]' >>"$T/master.toml"
	{
		echo 'source-id: "mysql-01"'
		echo "from:"
		db_block "$UP"
	} >"$T/source.yaml"
}

migrate_start_up() {
	mariadb_start up "$T" "$UP" --binlog --require-secure-transport \
		--ssl-ca "$T/ca.pem" --ssl-cert "$T/db.pem" --ssl-key "$T/db.key"
}

migrate_start_down() {
	mariadb_start down "$T" "$DOWN" --require-secure-transport \
		--ssl-ca "$T/ca.pem" --ssl-cert "$T/db.pem" --ssl-key "$T/db.key"
}

migrate_start_cluster() {
	dm_bg master "$DM_BUILD_DIR/dm-master" --config="$T/master.toml"
	dm_bg w1 "$DM_BUILD_DIR/dm-worker" --config="$T/w1.toml" --keepalive-ttl=3
	W1_PID=$DM_BG_PID
	wait_for_port "$MP" && wait_for_port "$W1P"
}

db_block() {
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

ctl() {
	"$DM_BUILD_DIR/dmctl" --master-addr="127.0.0.1:$MP" --ssl-ca "$T/ca.pem" \
		--ssl-cert "$T/client.pem" --ssl-key "$T/client.key" "$@"
}

eventually() {
	local secs=$1 re=$2
	shift 2
	local deadline=$((SECONDS + secs))
	while ((SECONDS < deadline)); do
		"$@" 2>&1 | tr -d ' \n' | grep -Eq -- "$re" && return 0
		sleep 0.3
	done
	echo "output never matched /$re/:"
	"$@" 2>&1 | tail -c 3000
	return 1
}

digest() {
	local cnf
	cnf=$(mariadb_defaults "$1") || return 1
	mariadb --defaults-file="$cnf" -uroot --batch --raw --skip-column-names \
		-e "SELECT * FROM $2 ORDER BY $3" | md5sum
}

same() {
	local a b c d
	a=$(digest up "$1" "$3") && b=$(digest down "$2" "$3") || return 1
	c=$(mariadb_sql up "CHECKSUM TABLE $1" | cut -f2)
	d=$(mariadb_sql down "CHECKSUM TABLE $2" | cut -f2)
	[[ $a == "$b" && $c == "$d" && -n $c ]] || {
		echo "$1 ($a $c) != $2 ($b $d)"
		return 1
	}
}

same_ddl() {
	local a b
	a=$(mariadb_sql up "SHOW CREATE TABLE $1" | cut -f2- | sed -E 's/^CREATE TABLE `[^`]+`//; s/ AUTO_INCREMENT=[0-9]+//') &&
		b=$(mariadb_sql down "SHOW CREATE TABLE $2" | cut -f2- | sed -E 's/^CREATE TABLE `[^`]+`//; s/ AUTO_INCREMENT=[0-9]+//') || return 1
	[[ -n $a && $a == "$b" ]] || {
		diff <(echo "$a") <(echo "$b")
		return 1
	}
}

hold() {
	local cnf fd
	cnf=$(mariadb_defaults down) || return 1
	rm -f "$T/$1.fifo" && mkfifo "$T/$1.fifo" || return 1
	mariadb --defaults-file="$cnf" -uroot <"$T/$1.fifo" >"$T/$1.hold.out" 2>&1 &
	printf -v "HOLD_PID_$1" '%s' "$!"
	exec {fd}>"$T/$1.fifo"
	printf -v "HOLD_FD_$1" '%s' "$fd"
	echo "$2" >&"$fd"
}

unhold() {
	local fdv=HOLD_FD_$1 pidv=HOLD_PID_$1
	[[ -n ${!fdv:-} ]] || return 0
	eval "exec ${!fdv}>&-"
	wait "${!pidv}" 2>/dev/null
	unset "$fdv" "$pidv"
	return 0
}

lock_waits() {
	mariadb_sql down "SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'"
}

# Background writer loads: start one with `writer_cmd | mariadb ... &` and
# add its PID to WRITER_PIDS; they loop until $T/stop-writers exists.
WRITER_PIDS=()
stop_writers() {
	local pid
	[[ -n ${T:-} ]] && : >"$T/stop-writers"
	for pid in "${WRITER_PIDS[@]}"; do
		local deadline=$((SECONDS + 20))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && dm_stop "$pid" 5
		wait "$pid" 2>/dev/null
	done
	WRITER_PIDS=()
	return 0
}

# tables_of DB SCHEMA [EXCEPT]: the schema's table names, sorted
tables_of() {
	mariadb_sql "$1" "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '$2' AND TABLE_NAME <> '${3:-}' ORDER BY 1" | tr '\n' ' '
}

# all_same SCHEMA [EXCEPT]: the same tables on both sides, each with the
# same rows (raw bytes, in the order of all their columns) and checksum
all_same() {
	local a b t cols
	a=$(tables_of up "$1" "${2:-}") && b=$(tables_of down "$1" "${2:-}") || return 1
	[[ $a == "$b" ]] || { echo "tables differ: up [$a] down [$b]"; return 1; }
	for t in $a; do
		cols=$(mariadb_sql up "SELECT GROUP_CONCAT(CONCAT('\`', COLUMN_NAME, '\`') ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$1' AND TABLE_NAME = '$t'")
		same "$1.$t" "$1.$t" "$cols" || return 1
	done
}

# converges SECS SCHEMA [EXCEPT]: all_same holds within SECS seconds
converges() {
	local deadline=$(($1 + SECONDS))
	while ((SECONDS < deadline)); do
		all_same "$2" "${3:-}" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	all_same "$2" "${3:-}"
}
