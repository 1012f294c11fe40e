# shellcheck shell=bash
# Private MariaDB instances for integration tests (see TESTENV.md).
#
# Source this file, then:
#   mk_test_pki DIR
#   mariadb_start NAME DIR PORT [--binlog] [--require-secure-transport]
#                 [--server-id N] [--ssl-ca F --ssl-cert F --ssl-key F]
#   mariadb_sql NAME "SQL"          # root over the Unix socket, tab-separated output
#   mariadb_stop NAME               # by pid file; waits for the process to exit
#   mariadb_stop_all                # every instance this shell started (for traps)
#
# Each instance lives in DIR/NAME with its own defaults file, so /etc/mysql
# is never read and scenarios do not see each other. Nothing here depends on
# the other files in tests/lib.

# shellcheck source=tests/lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

MARIADB_START_TIMEOUT=${MARIADB_START_TIMEOUT:-30}
MARIADB_STOP_TIMEOUT=${MARIADB_STOP_TIMEOUT:-30}

# NAME -> instance directory. A plain array of "NAME=DIR" keeps this usable
# from bash without declare -g quirks in sourced files.
_MARIADB_INSTANCES=()

_mariadb_die() {
	echo "mariadb.sh: $*" >&2
	return 1
}

_mariadb_dir() {
	local name=$1 entry
	for entry in "${_MARIADB_INSTANCES[@]}"; do
		if [[ ${entry%%=*} == "$name" ]]; then
			echo "${entry#*=}"
			return 0
		fi
	done
	_mariadb_die "no instance named '$name' was started by this shell"
}

_mariadb_abs() {
	# ssl paths must be absolute: the server fails to start with relative ones.
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

# Whether mariadbd and its tools are installed (callers exit 77 if not).
mariadb_available() {
	command -v mariadbd >/dev/null 2>&1 || [[ -x /usr/sbin/mariadbd ]] || return 1
	command -v mariadb-install-db >/dev/null 2>&1 && command -v mariadb >/dev/null 2>&1 &&
		command -v mariadb-admin >/dev/null 2>&1
}

_mariadbd_bin() {
	command -v mariadbd 2>/dev/null || echo /usr/sbin/mariadbd
}

# Defaults file of an instance, for clients: mariadb --defaults-file=$(mariadb_defaults NAME).
mariadb_defaults() {
	local dir
	dir=$(_mariadb_dir "$1") || return 1
	echo "$dir/my.cnf"
}

mariadb_socket() {
	local dir
	dir=$(_mariadb_dir "$1") || return 1
	echo "$dir/mysqld.sock"
}

mariadb_start() {
	if (($# < 3)); then
		_mariadb_die "usage: mariadb_start NAME DIR PORT [--binlog] [--require-secure-transport] [--server-id N] [--ssl-ca F --ssl-cert F --ssl-key F]"
		return 1
	fi
	local name=$1 base=$2 port=$3
	shift 3
	local binlog=0 rst=0 server_id=1 ssl_ca="" ssl_cert="" ssl_key=""
	while (($#)); do
		case $1 in
		--binlog) binlog=1 ;;
		--require-secure-transport) rst=1 ;;
		--server-id) server_id=$2; shift ;;
		--ssl-ca) ssl_ca=$(_mariadb_abs "$2"); shift ;;
		--ssl-cert) ssl_cert=$(_mariadb_abs "$2"); shift ;;
		--ssl-key) ssl_key=$(_mariadb_abs "$2"); shift ;;
		*) _mariadb_die "mariadb_start: unknown option '$1'"; return 1 ;;
		esac
		shift
	done
	if [[ -n $ssl_cert && -z $ssl_key ]] || [[ -z $ssl_cert && -n $ssl_key ]]; then
		_mariadb_die "mariadb_start $name: --ssl-cert and --ssl-key go together"
		return 1
	fi
	if ((rst)) && [[ -z $ssl_cert ]]; then
		_mariadb_die "mariadb_start $name: --require-secure-transport needs --ssl-cert/--ssl-key"
		return 1
	fi
	local dir
	dir=$(_mariadb_abs "$base")/$name
	mkdir -p "$dir/data" || return 1
	local cnf=$dir/my.cnf
	{
		echo "[client-server]"
		echo "socket=$dir/mysqld.sock"
		echo "port=$port"
		echo
		echo "[mysqld]"
		echo "datadir=$dir/data"
		echo "pid-file=$dir/mysqld.pid"
		echo "log-error=$dir/error.log"
		echo "bind-address=127.0.0.1"
		echo "skip-name-resolve"
		echo "server-id=$server_id"
		# Small and fast: tests do not need durability across power loss.
		echo "innodb-buffer-pool-size=32M"
		echo "innodb-flush-log-at-trx-commit=2"
		echo "sync-binlog=0"
		if ((binlog)); then
			echo "log-bin=$dir/data/binlog"
			echo "binlog-format=ROW"
			echo "binlog-row-image=FULL"
			echo "binlog-row-metadata=FULL"
			echo "binlog-annotate-row-events=ON"
			echo "gtid-strict-mode=ON"
		fi
		[[ -n $ssl_ca ]] && echo "ssl-ca=$ssl_ca"
		[[ -n $ssl_cert ]] && echo "ssl-cert=$ssl_cert"
		[[ -n $ssl_key ]] && echo "ssl-key=$ssl_key"
		((rst)) && echo "require-secure-transport=ON"
	} >"$cnf"

	local user_opt=()
	[[ $(id -u) == 0 ]] && user_opt=(--user=root)

	if [[ ! -d $dir/data/mysql ]]; then
		if ! mariadb-install-db --defaults-file="$cnf" "${user_opt[@]}" \
			--auth-root-authentication-method=normal --skip-test-db \
			>"$dir/install.log" 2>&1; then
			_mariadb_die "mariadb-install-db for '$name' failed; last lines of $dir/install.log:"
			tail -n 20 "$dir/install.log" >&2
			return 1
		fi
	fi

	_MARIADB_INSTANCES+=("$name=$dir")
	# Same process group as the test: an interrupted run takes the server with it.
	"$(_mariadbd_bin)" --defaults-file="$cnf" "${user_opt[@]}" \
		>>"$dir/stdout.log" 2>&1 </dev/null &
	local pid=$!
	echo "$pid" >"$dir/launcher.pid"

	local deadline=$((SECONDS + MARIADB_START_TIMEOUT))
	while ((SECONDS < deadline)); do
		if mariadb-admin --defaults-file="$cnf" -uroot --connect-timeout=1 ping \
			>/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			_mariadb_die "mariadbd '$name' (port $port) exited during start-up; last lines of $dir/error.log:"
			tail -n 30 "$dir/error.log" >&2 2>/dev/null
			return 1
		fi
		sleep 0.1
	done
	_mariadb_die "mariadbd '$name' (port $port) not ready after ${MARIADB_START_TIMEOUT}s; last lines of $dir/error.log:"
	tail -n 30 "$dir/error.log" >&2 2>/dev/null
	return 1
}

# Runs SQL as root over the socket (always allowed, even with
# require_secure_transport, because a socket is a secure transport).
mariadb_sql() {
	local cnf
	cnf=$(mariadb_defaults "$1") || return 1
	mariadb --defaults-file="$cnf" -uroot --batch --skip-column-names -e "$2"
}

mariadb_stop() {
	local name=$1 dir pid=""
	dir=$(_mariadb_dir "$name") || return 1
	[[ -s $dir/mysqld.pid ]] && pid=$(<"$dir/mysqld.pid")
	[[ -z $pid && -s $dir/launcher.pid ]] && pid=$(<"$dir/launcher.pid")
	if [[ -z $pid ]] || ! kill -0 "$pid" 2>/dev/null; then
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null
	local deadline=$((SECONDS + MARIADB_STOP_TIMEOUT))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			echo "mariadb.sh: mariadbd '$name' (pid $pid) did not stop in ${MARIADB_STOP_TIMEOUT}s; killing it" >&2
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	# Reap it if it is our child, so no zombie holds the pid.
	wait "$pid" 2>/dev/null
	return 0
}

mariadb_stop_all() {
	local entry
	for entry in "${_MARIADB_INSTANCES[@]}"; do
		mariadb_stop "${entry%%=*}"
	done
}

# A free TCP port on 127.0.0.1, reserved for this run (tests/lib/ports.sh).
mariadb_free_port() {
	local p
	dm_port_pick p || _mariadb_die "no free port found"
	echo "$p"
}

# Test certificates in DIR: ca.pem/ca.key, server.pem/server.key (CN
# localhost, SAN 127.0.0.1 + localhost), client.pem/client.key (CN dm),
# other-client.pem/.key (CN other), and an unrelated CA other-ca.pem/.key
# with bad-client.pem/.key signed by it. Uses build/tools/cert-issue (dm's
# own PKI code) when it is built, else openssl with the same profile
# (ECDSA P-256, SHA-256, the extensions of TESTENV.md).
mk_test_pki() {
	local dir=$1 tool=""
	mkdir -p "$dir" || return 1
	if [[ -n ${DM_BUILD_DIR:-} && -x $DM_BUILD_DIR/tools/cert-issue ]]; then
		tool=$DM_BUILD_DIR/tools/cert-issue
	fi
	local log=$dir/pki.log
	: >"$log"
	_mk_ca() { # name cn
		if [[ -n $tool ]]; then
			"$tool" ca --cn "$2" --out-cert "$dir/$1.pem" --out-key "$dir/$1.key" >>"$log" 2>&1
		else
			(umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$1.key") >>"$log" 2>&1 &&
				openssl req -new -x509 -key "$dir/$1.key" -out "$dir/$1.pem" -days 3650 -sha256 \
					-subj "/CN=$2" \
					-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
					-addext "keyUsage=critical,keyCertSign,cRLSign" \
					-addext "subjectKeyIdentifier=hash" >>"$log" 2>&1
		fi
	}
	_mk_leaf() { # ca name cn
		if [[ -n $tool ]]; then
			"$tool" leaf --ca-cert "$dir/$1.pem" --ca-key "$dir/$1.key" --cn "$3" \
				--san 127.0.0.1,localhost --days 30 \
				--out-cert "$dir/$2.pem" --out-key "$dir/$2.key" >>"$log" 2>&1
		else
			local ext=$dir/$2.ext
			printf '%s\n' "basicConstraints=CA:FALSE" \
				"keyUsage=digitalSignature,keyEncipherment" \
				"extendedKeyUsage=serverAuth,clientAuth" \
				"subjectAltName=IP:127.0.0.1,DNS:localhost" \
				"authorityKeyIdentifier=keyid" >"$ext"
			(umask 077 && openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$2.key") >>"$log" 2>&1 &&
				openssl req -new -key "$dir/$2.key" -subj "/CN=$3" -out "$dir/$2.csr" >>"$log" 2>&1 &&
				openssl x509 -req -in "$dir/$2.csr" -CA "$dir/$1.pem" -CAkey "$dir/$1.key" \
					-CAcreateserial -days 30 -sha256 -extfile "$ext" -out "$dir/$2.pem" >>"$log" 2>&1 &&
				rm -f "$dir/$2.csr" "$ext"
		fi
	}
	if ! { _mk_ca ca "dm test CA" &&
		_mk_leaf ca server localhost &&
		_mk_leaf ca client dm &&
		_mk_leaf ca other-client other &&
		_mk_ca other-ca "unrelated test CA" &&
		_mk_leaf other-ca bad-client dm; }; then
		_mariadb_die "mk_test_pki $dir failed (${tool:-openssl}); see $log:"
		tail -n 20 "$log" >&2
		return 1
	fi
	chmod 600 "$dir"/*.key
	return 0
}
