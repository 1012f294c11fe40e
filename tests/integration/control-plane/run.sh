#!/usr/bin/env bash
# The control plane as an operator runs it, with mutual TLS everywhere:
# a real MariaDB (require_secure_transport, REQUIRE X509), dm-master, two
# dm-workers and dmctl. Sources with every TLS combination, tasks through
# their stages, refusals of wrong CNs and plaintext, failover when a worker
# dies, transfer-source, secrets kept out of storage and output, SIGHUP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"

mariadb_available || { echo "SKIP: MariaDB is not installed"; exit 77; }
B=$DM_BUILD_DIR
for p in dm-master dm-worker dmctl tools/cert-issue; do
	[[ -x $B/$p ]] || { echo "SKIP: $B/$p is not built"; exit 77; }
done
dm_need_cmd curl
dm_init control-plane
trap 'mariadb_stop_all; _dm_cleanup' EXIT

PASS='Up-Str3am!pw'
cert_ca ca "dm test CA" && cert_leaf ca master dm-master && cert_leaf ca w1 dm-worker &&
	cert_leaf ca w2 dm-worker && cert_leaf ca client dm-client && cert_leaf ca other other &&
	cert_leaf ca db localhost && cert_leaf ca dbclient dm &&
	cert_ca rogue "rogue CA" && cert_leaf rogue rogue dm-client || exit 1

free_port DBP && free_port MP && free_port W1P && free_port W2P || exit 1
mariadb_start up "$T" "$DBP" --binlog --require-secure-transport \
	--ssl-ca "$T/ca.pem" --ssl-cert "$T/db.pem" --ssl-key "$T/db.key" || exit 1
mariadb_sql up "CREATE USER 'dm'@'127.0.0.1' IDENTIFIED BY '$PASS' REQUIRE X509;
CREATE USER 'dmssl'@'127.0.0.1' IDENTIFIED BY '$PASS' REQUIRE SSL;
GRANT ALL ON *.* TO 'dm'@'127.0.0.1'; GRANT ALL ON *.* TO 'dmssl'@'127.0.0.1';
CREATE DATABASE cp_src; CREATE TABLE cp_src.t (id INT PRIMARY KEY, v VARCHAR(10));
INSERT INTO cp_src.t VALUES (1, 'a'), (2, NULL), (3, '');" || exit 1

cat >dm-master.toml <<TOML
name = "master1"
master-addr = "127.0.0.1:$MP"
data-dir = "$T/master"
log-file = "$T/master.log"
ssl-ca = "$T/ca.pem"
ssl-cert = "$T/master.pem"
ssl-key = "$T/master.key"
cert-allowed-cn = ["dm-master", "dm-worker", "dm-client"]
TOML
for w in w1 w2; do
	port=$W1P
	[[ $w == w2 ]] && port=$W2P
	cat >"dm-worker-$w.toml" <<TOML
name = "$w"
worker-addr = "127.0.0.1:$port"
join = "127.0.0.1:$MP"
keepalive-ttl = 2
log-file = "$T/$w.log"
ssl-ca = "$T/ca.pem"
ssl-cert = "$T/$w.pem"
ssl-key = "$T/$w.key"
TOML
done

source_yaml() { # file name user [ca] [cert] [key]
	{
		echo "source-id: \"$2\""
		echo "from:"
		echo "  host: 127.0.0.1"
		echo "  port: $DBP"
		echo "  user: $3"
		echo "  password: \"${PW:-$PASS}\""
		if [[ -n ${4:-}${5:-} ]]; then
			echo "  security:"
			[[ -n ${4:-} ]] && echo "    ssl-ca: \"$4\""
			[[ -n ${5:-} ]] && echo "    ssl-cert: \"$5\""
			[[ -n ${6:-} ]] && echo "    ssl-key: \"$6\""
		fi
	} >"$1"
}
source_yaml src-full.yaml mysql-01 dm "$T/ca.pem" "$T/dbclient.pem" "$T/dbclient.key"
source_yaml src-ca.yaml mysql-ca dmssl "$T/ca.pem"
source_yaml src-plain.yaml mysql-plain dmssl
source_yaml src-rogue.yaml mysql-rogue dmssl "$T/rogue.pem"
PW=Bad-Pw-73x source_yaml src-badpw.yaml mysql-bad dm "$T/ca.pem" "$T/dbclient.pem" "$T/dbclient.key"
cat >task.yaml <<YAML
name: "t1"
task-mode: full
block-allow-list:
  only-cp:
    do-dbs: ["cp_src"]
routes:
  to-dst:
    schema-pattern: "cp_src"
    target-schema: "cp_dst"
target-database:
  host: "127.0.0.1"
  port: $DBP
  user: "dm"
  password: "$PASS"
  security:
    ssl-ca: "$T/ca.pem"
    ssl-cert: "$T/dbclient.pem"
    ssl-key: "$T/dbclient.key"
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "only-cp"
    route-rules: ["to-dst"]
YAML

dm_bg master "$B/dm-master" --config="$T/dm-master.toml"
MPID=$DM_BG_PID
dm_bg w1 "$B/dm-worker" --config="$T/dm-worker-w1.toml"
W1PID=$DM_BG_PID
dm_bg w2 "$B/dm-worker" --config="$T/dm-worker-w2.toml"
W2PID=$DM_BG_PID
wait_for_port "$MP" && wait_for_port "$W1P" && wait_for_port "$W2P" || exit 1

ctl() { "$B/dmctl" --master-addr="127.0.0.1:$MP" --ssl-ca "$T/ca.pem" --ssl-cert "$T/client.pem" \
	--ssl-key "$T/client.key" "$@"; }
ctl_as() { local who=$1; shift; "$B/dmctl" --master-addr="127.0.0.1:$MP" --ssl-ca "$T/ca.pem" \
	--ssl-cert "$T/$who.pem" --ssl-key "$T/$who.key" "$@"; }
# until CMD's output matches REGEX, for up to SECS
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
bound_worker() { # source -> worker name
	ctl list-member --worker | tr -d ' \n' | grep -o "\"name\":\"w[12]\"[^}]*\"source\":\"$1\"" |
		grep -o 'w[12]' | head -1
}

step 'both workers register and are listed as free, over https' \
	eventually 10 '"name":"w1","addr":"https://127.0.0.1:[0-9]+","stage":"free".*"name":"w2"' \
	ctl list-member --worker
step 'dmctl with a certificate of CN "other" is refused, and told why' \
	eval 'not ctl_as other list-member >other.out 2>&1 && grep -q "CN .*other.* is not in cert-allowed-cn" other.out'
step 'the master log names the refused CN' wait_for_file "$T/master.log" 'CN "other"' 5
step 'dmctl with a certificate from another CA is refused' not ctl_as rogue list-member
step 'dmctl without a client certificate is refused' \
	not "$B/dmctl" --master-addr="127.0.0.1:$MP" --ssl-ca "$T/ca.pem" list-member
step 'plaintext to the master is refused' not curl -sf "http://127.0.0.1:$MP/api/v1/sources"
step 'a worker admits the master CN' curl -sf --cacert ca.pem --cert master.pem --key master.key \
	"https://127.0.0.1:$W1P/status"
step 'a worker refuses the operator CN dm-client (only masters may call it)' \
	not curl -sf --cacert ca.pem --cert client.pem --key client.key "https://127.0.0.1:$W1P/status"

step 'source with TLS CA only (server verified, no client cert) is accepted' \
	ctl operate-source create src-ca.yaml
step 'and removed again' ctl operate-source stop mysql-ca
step 'source without TLS is refused, naming the password and TLS causes' \
	eval 'not ctl operate-source create src-plain.yaml >plain.out 2>&1 && grep -qi "password" plain.out && grep -qiE "tls|ssl|secure" plain.out'
step 'source whose CA did not sign the server is refused with a TLS verification message' \
	eval 'not ctl operate-source create src-rogue.yaml >rogue.out 2>&1 && grep -qiE "verif|certificate" rogue.out'
step 'source with a wrong password is refused without printing the password' \
	eval 'not ctl operate-source create src-badpw.yaml >bad.out 2>&1 && grep -q "1045" bad.out && ! grep -q "Bad-Pw-73x" bad.out'
step 'source with CA + client certificate (REQUIRE X509) is created and bound' \
	eval 'ctl operate-source create src-full.yaml >full.out && grep -q "\"worker\": *\"w[12]\"" full.out'
step 'a second source on the same upstream is refused (same server_id)' \
	eval 'sed s/mysql-ca/mysql-ca2/ src-ca.yaml >src-ca2.yaml; not ctl operate-source create src-ca2.yaml'
step 'operate-source show lists the source without secrets' \
	eval 'ctl operate-source show >show.out && grep -q mysql-01 show.out && ! grep -q "$PASS" show.out && ! grep -q "PRIVATE" show.out'
step 'start-task creates and starts the task' ctl start-task task.yaml
step 'the subtask runs on a worker and finishes the copy over TLS' \
	eventually 30 '"stage":"Finished","unit":"Load"' ctl query-status t1
step 'the rows arrived in the routed schema' \
	eval '[[ $(mariadb_sql up "SELECT COUNT(*) FROM cp_dst.t") == 3 ]]'

KEYLINE=$(sed -n 2p dbclient.key)
step 'neither the password nor the client key is stored in plain text' \
	eval '! grep -rqa -e "$PASS" -e "$KEYLINE" master/'
step 'no password or key in any log' eval '! grep -qa -e "$PASS" -e "PRIVATE KEY" -e "$KEYLINE" master.log w1.log w2.log'
step 'no password or key in any API response' eval '(for p in sources sources/mysql-01 tasks tasks/t1 \
	"sources?with_status=true" "tasks?with_status=true" tasks/t1/status cluster/workers; do
	curl -sf --cacert ca.pem --cert client.pem --key client.key "https://127.0.0.1:$MP/api/v1/$p" || exit 1; done) >api.out &&
	grep -q mysql-01 api.out && ! grep -qa -e "$PASS" -e "PRIVATE KEY" -e "$KEYLINE" api.out'
step 'config task shows no secrets' eval 'ctl config task t1 >cfg.out && grep -q t1 cfg.out && ! grep -q "$PASS" cfg.out'
step 'encrypt gives a ciphertext that is not the input' \
	eval 'ctl encrypt "$PASS" >enc.out && ! grep -q "$PASS" enc.out && [[ -s enc.out ]]'

first=$(bound_worker mysql-01)
if [[ $first == w1 ]]; then victim=$W1PID other=w2; else victim=$W2PID other=w1; fi
kill -KILL "$victim"
step "worker $first killed: the source moves to $other within the keepalive TTL" \
	eventually 15 "\"name\":\"$other\"[^}]*\"stage\":\"bound\",\"source\":\"mysql-01\"" \
	ctl list-member --worker
step "the subtask is picked up on $other (finished, from the target's checkpoint)" \
	eventually 10 "\"worker\":\"$other\".*\"stage\":\"Finished\"" \
	ctl query-status t1
step "$first is listed offline" eventually 5 "\"name\":\"$first\"[^}]*\"stage\":\"offline\"" \
	ctl list-member --worker
dm_bg "$first-again" "$B/dm-worker" --config="$T/dm-worker-$first.toml"
step "$first restarted and is free" eventually 10 "\"name\":\"$first\"[^}]*\"stage\":\"free\"" \
	ctl list-member --worker
step "transfer-source moves the source back to $first" ctl transfer-source mysql-01 "$first"
step "the subtask is on $first again" \
	eventually 10 "\"worker\":\"$first\".*\"stage\":\"Finished\"" ctl query-status t1

dm_stop "$MPID"
dm_bg master-again "$B/dm-master" --config="$T/dm-master.toml"
MPID=$DM_BG_PID
wait_for_port "$MP"
step 'after a master restart the source is still bound to the same worker' \
	eventually 10 "\"name\":\"$first\"[^}]*\"stage\":\"bound\",\"source\":\"mysql-01\"" \
	ctl list-member --worker
step 'and the task and its stage are still there' \
	eventually 10 "\"worker\":\"$first\".*\"stage\":\"Finished\"" ctl query-status t1

cert_leaf ca dbclient2 dm >/dev/null
source_yaml src-full2.yaml mysql-01 dm "$T/ca.pem" "$T/dbclient2.pem" "$T/dbclient2.key"
step 'operate-source update with a new client certificate' ctl operate-source update src-full2.yaml

step 'SIGHUP reloads the master in place' eval 'sed -i "s/^name/log-level = \"debug\"\nname/" dm-master.toml &&
	kill -HUP $MPID && wait_for_file master.log "reloaded: tls-mode strict, log-level debug" 5 && kill -0 $MPID'

step 'stop-task removes the task' eval 'ctl stop-task t1 && not ctl query-status t1'
step 'operate-source stop removes the source' eval 'ctl operate-source stop mysql-01 &&
	ctl operate-source show >show-after.out && ! grep -q mysql-01 show-after.out'
step 'the master exits cleanly on SIGTERM' dm_stop "$MPID"
dm_done
