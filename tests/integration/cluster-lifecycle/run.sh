#!/usr/bin/env bash
# dm-cluster on loopback: deploy, start, display, stop/start/restart and
# destroy a plaintext cluster (1 master, 2 workers) and a TLS one; dmctl
# --cluster over http and https; the PKI's files and modes; `cert init` on
# a running plaintext cluster, `cert check` (expired certificates fail it),
# an imported CA; bad topologies and a mismatched CA key refused with
# nothing left behind.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"

B=$DM_BUILD_DIR
for p in dm-cluster dm-master dm-worker dmctl tools/cert-issue; do
	[[ -x $B/$p ]] || { echo "SKIP: $B/$p is not built"; exit 77; }
done
dm_need_cmd jq curl
dm_init cluster-lifecycle

# Every instance dm-cluster starts records its pid under the deploy dirs:
# stop whatever is still running there, by pid, before the scratch dir goes.
stop_recorded() {
	local f pid
	for f in "$T"/deploy*/dm-*/run/*.pid; do
		[[ -f $f ]] || continue
		pid=$(<"$f")
		[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && dm_stop "$pid" 5
	done
	return 0
}
trap 'stop_recorded; _dm_cleanup' EXIT

export DM_CLUSTER_HOME=$T/home
unset DM_BIN_DIR
DC=$B/dm-cluster
free_port MP && free_port W1P && free_port W2P || exit 1
free_port MP2 && free_port W1P2 && free_port W2P2 || exit 1

topology() { # file deploy-dir tls mport w1port w2port
	cat >"$1" <<YAML
global:
  deploy_dir: $2
  enable_tls: $3
master_servers:
  - host: 127.0.0.1
    port: $4
    name: m1
worker_servers:
  - host: 127.0.0.1
    port: $5
    name: w1
    config:
      keepalive-ttl: 3
  - host: localhost
    port: $6
    name: w2
    config:
      keepalive-ttl: 3
YAML
}
topology plain.yaml "$T/deploy1" false "$MP" "$W1P" "$W2P"
topology tls.yaml "$T/deploy2" true "$MP2" "$W1P2" "$W2P2"

pids_of() { # cluster -> "pid pid pid" from display --json
	"$DC" display "$1" --json | jq -r '[.instances[].pid] | map(tostring) | join(" ")'
}
all_dead() {
	local p
	for p in "$@"; do
		# A zombie waiting for init to reap it has stopped running.
		ps -o stat= -p "$p" | grep -qv '^Z' && { echo "pid $p still runs"; return 1; }
	done
	return 0
}
# A command fails, says what and does not leave the named cluster behind.
refused() { # name regex cmd...
	local name=$1 re=$2
	shift 2
	"$@" >refused.out 2>&1 && { echo "succeeded:"; cat refused.out; return 1; }
	cat refused.out
	grep -Eq -- "$re" refused.out || { echo "message does not match /$re/"; return 1; }
	[[ ! -e $DM_CLUSTER_HOME/$name ]] || { echo "$DM_CLUSTER_HOME/$name was left behind"; return 1; }
	return 0
}

# ---- a plaintext cluster ---------------------------------------------
step 'deploy a plaintext cluster (1 master, 2 workers)' "$DC" deploy c1 plain.yaml
step 'its metadata dir is 0700 and meta.json says tls off' eval '
	[[ $(stat -c %a "$T/home") == 700 && $(stat -c %a "$T/home/c1") == 700 ]] &&
	jq -e ".tls.mode == \"off\" and .tls.pki == false and (.instances | length) == 3" \
		"$T/home/c1/meta.json" && cmp plain.yaml "$T/home/c1/topology.yaml"'
step 'instance dirs and configs are written' eval '
	[[ -f $T/deploy1/dm-master-$MP/conf/dm-master.toml && -d $T/deploy1/dm-master-$MP/data ]] &&
	grep -q "join = \"127.0.0.1:$MP\"" "$T/deploy1/dm-worker-$W2P/conf/dm-worker.toml" &&
	grep -q "keepalive-ttl = 3" "$T/deploy1/dm-worker-$W1P/conf/dm-worker.toml"'
step 'start waits until every instance is healthy' "$DC" start c1
step 'display shows every instance up with its pid' eval '
	"$DC" display c1 >display.out && cat display.out &&
	[[ $(grep -cE "^dm-(master|worker) .* up +[0-9]+ +off +http" display.out) == 3 ]] &&
	grep -qE "m1 .*127.0.0.1:$MP .* up +$(<"$T/deploy1/dm-master-$MP/run/dm-master.pid") " display.out'
step 'dmctl --cluster lists the members' eval '
	"$B/dmctl" --cluster c1 list-member >members.out && cat members.out &&
	grep -q "\"name\": \"w1\"" members.out && grep -q "\"name\": \"w2\"" members.out &&
	grep -q "http://127.0.0.1:$MP" members.out'
step 'start again leaves the running instances alone' eval '
	before=$(pids_of c1) && "$DC" start c1 >again.out && grep -q "already running" again.out &&
	[[ $(pids_of c1) == "$before" ]]'
PIDS1=$(pids_of c1)
step 'stop stops every instance and removes the pid files' eval '
	"$DC" stop c1 && all_dead $PIDS1 &&
	! ls "$T"/deploy1/*/run/*.pid 2>/dev/null'
step 'display after stop says down' eval '
	"$DC" display c1 --json | jq -e "[.instances[] | select(.status == \"down\" and .pid == null)] | length == 3"'
step 'start after stop brings it back' "$DC" start c1
step 'display --json: all up, plaintext, pids, urls' eval '
	"$DC" display c1 --json >c1.json && jq -e "
		.name == \"c1\" and .tls.mode == \"off\" and (.instances | length) == 3 and
		all(.instances[]; .status == \"up\" and (.pid | type) == \"number\" and
			.scheme == \"http\" and .tls_mode == \"off\" and .cert == null) and
		.instances[0].role == \"dm-master\" and .instances[0].url == \"http://127.0.0.1:$MP\"
		" c1.json'
OLD=$(pids_of c1)
step 'restart gives new processes' eval '
	"$DC" restart c1 && all_dead $OLD && new=$(pids_of c1) && [[ $new != *null* && $new != "$OLD" ]]'
step 'a dm-worker that dies shows as down' eval '
	p=$(<"$T/deploy1/dm-worker-$W1P/run/dm-worker.pid") && dm_stop "$p" 5;
	"$DC" display c1 --json | jq -e ".instances[] | select(.name == \"w1\") | .status == \"down\""'
step 'start restarts only the missing worker' eval '
	"$DC" start c1 >partial.out && cat partial.out && grep -q "Started dm-worker w1" partial.out &&
	! grep -q "Started dm-master" partial.out'

# ---- a cluster with TLS ------------------------------------------------
step 'deploy a cluster with enable_tls: true' "$DC" deploy c2 tls.yaml --days 400
P=$T/home/c2/pki
step 'keys are 0600, certificates exist for the CA, client and every instance' eval '
	for f in ca client m1 w1 w2; do [[ -f $P/$f.pem && $(stat -c %a "$P/$f.key") == 600 ]] || exit 1; done &&
	for d in "$T"/deploy2/dm-*; do
		[[ -f $d/tls/ca.pem && -f $d/tls/cert.pem && $(stat -c %a "$d/tls/key.pem") == 600 ]] || exit 1
	done'
step 'the CA key is nowhere under the deploy dir' eval '
	! find "$T/deploy2" -name "ca.key" | grep -q . &&
	! find "$T/deploy2" -type f -exec cmp -s "$P/ca.key" {} \; -print | grep -q .'
step 'configs are strict with the allowed CNs' eval '
	c=$T/deploy2/dm-master-$MP2/conf/dm-master.toml &&
	grep -q "tls-mode = \"strict\"" "$c" &&
	grep -q "cert-allowed-cn = \\[\"dm-master\", \"dm-worker\", \"dm-client\"\\]" "$c" &&
	grep -q "cert-allowed-cn = \\[\"dm-master\"\\]" "$T/deploy2/dm-worker-$W1P2/conf/dm-worker.toml"'
step 'start the TLS cluster' "$DC" start c2
step 'dmctl --cluster c2 works over https' eval '
	"$B/dmctl" --cluster c2 list-member >m2.out && cat m2.out &&
	grep -q "https://127.0.0.1:$W1P2" m2.out && grep -q "\"name\": \"w2\"" m2.out'
step 'plaintext to the master is refused' \
	not curl -sf -m 5 "http://127.0.0.1:$MP2/api/v1/cluster/masters"
step 'the client certificate reaches the master with curl' \
	curl -sf -m 5 --cacert "$P/ca.pem" --cert "$P/client.pem" --key "$P/client.key" \
	"https://127.0.0.1:$MP2/api/v1/cluster/masters"
step 'display --json shows TLS, CNs, serials and expiry' eval '
	"$DC" display c2 --json >c2.json && jq -e "
		.tls.mode == \"strict\" and .tls.pki == true and
		.tls.ca_cert == \"$P/ca.pem\" and .tls.client_cert == \"$P/client.pem\" and
		all(.instances[]; .status == \"up\" and .scheme == \"https\" and
			.tls_mode == \"strict\" and (.cert.serial | length) > 0 and
			.cert.days_left >= 398 and .cert.days_left <= 400) and
		([.instances[].cert.cn] == [\"dm-master\", \"dm-worker\", \"dm-worker\"])
		" c2.json'
step 'cert check passes' eval '"$DC" cert c2 check >check.out && cat check.out &&
	[[ $(grep -c " ok " check.out) == 5 ]]'
step 'list shows both clusters' eval '"$DC" list >list.out && cat list.out &&
	grep -qE "^c1 .* off " list.out && grep -qE "^c2 .* strict " list.out &&
	"$DC" list --json | jq -e "[.[].name] == [\"c1\", \"c2\"]"'

# ---- certificates for the running plaintext cluster -----------------------
step 'cert init on a plaintext cluster installs certificates, tls stays off' eval '
	"$DC" cert init c1 && [[ -f $T/deploy1/dm-master-$MP/tls/cert.pem ]] &&
	jq -e ".tls.pki == true and .tls.mode == \"off\"" "$T/home/c1/meta.json" &&
	"$B/dmctl" --cluster c1 list-member >/dev/null'
step 'cert init twice is refused' eval '
	not "$DC" cert init c1 >twice.out 2>&1 && cat twice.out && grep -q "already has certificates" twice.out'
step 'an expired instance certificate fails cert check' eval '
	"$B/tools/cert-issue" leaf --ca-cert "$T/home/c1/pki/ca.pem" --ca-key "$T/home/c1/pki/ca.key" \
		--cn dm-worker --not-before-days -10 --days 5 \
		--out-cert "$T/deploy1/dm-worker-$W2P/tls/cert.pem" --out-key "$T/deploy1/dm-worker-$W2P/tls/key.pem" &&
	not "$DC" cert c1 check >exp.out 2>&1 && cat exp.out &&
	grep -q "EXPIRED" exp.out && grep -q "1 certificate of cluster \"c1\" is expired" exp.out'

# ---- bad inputs: refused, nothing written ---------------------------------
cat >dup.yaml <<YAML
global:
  deploy_dir: $T/deploy3
master_servers:
  - {host: 127.0.0.1, port: $MP}
worker_servers:
  - {host: 127.0.0.1, port: 40001, name: a}
  - {host: 127.0.0.1, port: 40001, name: b}
YAML
step 'a duplicate port is refused' refused c3 'dup.yaml:7:.*port 40001 is already used' \
	"$DC" deploy c3 dup.yaml
sed 's/^  deploy_dir:.*/&\n  colour: blue/; s/40001, name: b/40002, name: b/' dup.yaml >unknown.yaml
step 'an unknown key is refused' refused c3 'unknown.yaml:3:.*unknown key "colour"' \
	"$DC" deploy c3 unknown.yaml
sed 's/40001, name: b/40002, name: b/; s/host: 127.0.0.1, port: 40001/host: 192.0.2.7, port: 40001/' \
	dup.yaml >remote.yaml
step 'a remote host is refused' refused c3 'host 192.0.2.7: remote hosts are not supported yet' \
	"$DC" deploy c3 remote.yaml
sed 's/40001, name: b/40002, name: b/; s/^  deploy_dir:.*/&\n  enable_tls: true/' dup.yaml >ok3.yaml
cert_ca ca_a "other CA A" && cert_ca ca_b "other CA B" || exit 1
step 'a CA key that does not match the CA certificate is refused' \
	refused c3 'ca-key .*ca_b.key does not match ca-cert .*ca_a.pem' \
	"$DC" deploy c3 ok3.yaml --ca-cert "$T/ca_a.pem" --ca-key "$T/ca_b.key"
step 'nothing was written under the deploy dir' not test -e "$T/deploy3"
step 'a cluster name in use is refused' eval '
	not "$DC" deploy c1 ok3.yaml >inuse.out 2>&1 && grep -q "already exists" inuse.out'
step 'an imported CA signs the certificates' eval '
	"$DC" deploy c3 ok3.yaml --ca-cert "$T/ca_a.pem" --ca-key "$T/ca_a.key" &&
	cmp "$T/ca_a.pem" "$T/home/c3/pki/ca.pem" &&
	"$B/tools/cert-issue" info --cert "$T/deploy3/dm-worker-40001/tls/cert.pem" | grep -q "issuer=other CA A" &&
	jq -e ".tls.ca_imported == true" "$T/home/c3/meta.json"'
step 'help answers for every command' eval '
	for c in deploy start stop restart display destroy list cert; do
		"$DC" $c --help | grep -q "dm-cluster $c" || exit 1
	done; "$DC" --help | grep -q DM_CLUSTER_HOME'

cat >busy.yaml <<YAML
global:
  deploy_dir: $T/deploy4
master_servers:
  - {host: 127.0.0.1, port: $MP, name: busy}
YAML
step 'a master that cannot start is reported with its log' eval '
	"$DC" deploy c4 busy.yaml && not "$DC" start c4 --timeout 10 >busy.out 2>&1 && cat busy.out &&
	grep -q "dm-master busy (127.0.0.1:$MP)" busy.out &&
	grep -q "see its log $T/deploy4/dm-master-$MP/log/dm-master.log" busy.out &&
	"$DC" display c4 --json | jq -e ".instances[0].status == \"down\"" &&
	"$DC" destroy c4 --yes'

# ---- destroy ---------------------------------------------------------------
ALL=$(pids_of c1; pids_of c2)
step 'destroy without --yes deletes nothing' eval 'not "$DC" destroy c2 && [[ -d $T/home/c2 && -d $T/deploy2 ]]'
step 'destroy removes processes, instance dirs and metadata' eval '
	for c in c1 c2 c3; do "$DC" destroy $c --yes || exit 1; done &&
	all_dead $ALL && [[ ! -e $T/deploy1 && ! -e $T/deploy2 && ! -e $T/deploy3 ]] &&
	[[ -z $(ls -A "$T/home") ]] && [[ $("$DC" list --json) == "[]" ]]'

dm_done
