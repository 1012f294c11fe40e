#!/usr/bin/env bash
# TLS rolled on and off a running dm-cluster under a live `all` task, and
# certificates rotated, with no process restarted and no task interruption:
#   1. a plaintext cluster (1 master, 2 workers) from dm-cluster migrates a
#      MariaDB source (the DB links use TLS) with an `all` task: sysbench
#      tables copied, then a steady sysbench write load (oltp_write_only,
#      2 threads, --rate 40; tests/lib/sysbench.sh) synced;
#   2. `tls enable`: same pids, query-status Running in every sample taken
#      during the roll-out, plaintext refused on every daemon port,
#      list-member over https shows https members, a client certificate
#      with CN "other" refused;
#   3. `cert rotate`: new serials on every port; `rotate --ca` stopped after
#      its bundle phase (DM_CLUSTER_TEST_STOP_AFTER_PHASE) and resumed: a
#      new CA signs what every port serves; same pids, task Running;
#   4. `tls disable` stopped after its permissive phase and resumed: back to
#      plaintext, same pids; the load ran throughout, and after it every
#      table of the target equals the source's;
#   5. a failing `tls enable` (a bad certificate for one worker) rolls back
#      to plaintext, says so, and the task keeps running.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"
# shellcheck source=../../lib/migrate.sh
source "$here/../../lib/migrate.sh"
# shellcheck source=../../lib/sysbench.sh
source "$here/../../lib/sysbench.sh"

B=$DM_BUILD_DIR
mariadb_available || { echo "SKIP: MariaDB is not installed"; exit 77; }
sb_available || {
	echo "SKIP: sysbench is not installed (scripts/install-deps.sh installs it); it drives the write load"
	exit 77
}
for p in dm-cluster dm-master dm-worker dmctl tools/cert-issue; do
	[[ -x $B/$p ]] || { echo "SKIP: $B/$p is not built"; exit 77; }
done
dm_need_cmd jq curl openssl
dm_init cluster-tls

BG_PIDS=()
stop_bg() {
	local pid
	[[ -n $T ]] && : >"$T/stop-bg"
	for pid in "${BG_PIDS[@]}"; do
		local deadline=$((SECONDS + 20))
		while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && dm_stop "$pid" 5
		wait "$pid" 2>/dev/null
	done
	BG_PIDS=()
	return 0
}
stop_recorded() {
	local f pid
	for f in "$T"/deploy/dm-*/run/*.pid; do
		[[ -f $f ]] || continue
		pid=$(<"$f")
		[[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && dm_stop "$pid" 5
	done
	return 0
}
trap 'sb_stop_all; stop_bg; stop_recorded; mariadb_stop_all; _dm_cleanup' EXIT

migrate_setup || exit 1
export DM_CLUSTER_HOME=$T/home
unset DM_BIN_DIR DM_CLUSTER_TEST_STOP_AFTER_PHASE
DC=$B/dm-cluster
PKI=$T/home/c/pki
free_port CMP && free_port CW1 && free_port CW2 || exit 1
PORTS="$CMP $CW1 $CW2"
cat >topology.yaml <<YAML
global:
  deploy_dir: $T/deploy
master_servers:
  - host: 127.0.0.1
    port: $CMP
    name: m1
worker_servers:
  - host: 127.0.0.1
    port: $CW1
    name: w1
    config:
      keepalive-ttl: 3
  - host: 127.0.0.1
    port: $CW2
    name: w2
    config:
      keepalive-ttl: 3
YAML
ctl() { "$B/dmctl" --cluster c "$@"; }

# sysbench's tables, there before the task: its dump copies them, its sync
# then follows the load on them.
SB_TABLES=2 SB_ROWS=5000 SB_RATE=40
sb_prepare up k "$SB_TABLES" "$SB_ROWS" || exit 1
cat >task.yaml <<YAML
name: "tt"
task-mode: all
meta-schema: "dm_meta"
target-database:
$(db_block "$DOWN")
block-allow-list:
  bal:
    do-dbs: ["k"]
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
YAML

# One line per query-status sample: ok, BAD (an answer without the
# subtask Running) or ERR (dmctl got no answer: counted, not a task state;
# the client certificate may be replaced under it during a rotation).
poller() {
	local out
	while [[ ! -e $T/stop-bg ]]; do
		if out=$(ctl query-status tt 2>&1); then
			out=$(tr -d ' \n' <<<"$out")
			if [[ $out == *'"stage":"Running"'* && $out != *'"stage":"Paused"'* ]]; then
				echo ok
			else
				echo "BAD $out"
			fi
		else
			echo "ERR $(tr '\n' ' ' <<<"$out")"
		fi
		sleep 0.2
	done
}
start_load() {
	rm -f "$T/stop-bg" "$T/samples"
	sb_start up k "$SB_RATE" || return 1
	poller >"$T/samples" &
	BG_PIDS+=("$!")
}
samples_ok() { # every sample Running; no answer at most a few times
	local n bad err
	n=$(wc -l <samples) bad=$(grep -c '^BAD' samples) err=$(grep -c '^ERR' samples)
	echo "$n samples, $bad not Running, $err without an answer"
	grep -m3 -E '^(BAD|ERR)' samples
	((n > 5 && bad == 0 && err <= 5))
}
pids() { "$DC" display c --json | jq -r '[.instances[].pid] | map(tostring) | join(" ")'; }
serial() { # port -> serial of the certificate served there
	openssl s_client -connect "127.0.0.1:$1" -CAfile "$PKI/ca.pem" -cert "$PKI/m1.pem" \
		-key "$PKI/m1.key" </dev/null 2>/dev/null | openssl x509 -noout -serial
}
serials() { local p; for p in $PORTS; do serial "$p"; done | tr '\n' ' '; }
issuers() {
	local p
	for p in $PORTS; do
		openssl s_client -connect "127.0.0.1:$p" -CAfile "$PKI/ca.pem" -cert "$PKI/m1.pem" \
			-key "$PKI/m1.key" </dev/null 2>/dev/null | openssl x509 -noout -issuer
	done | sort -u
}
plain_refused() {
	local p
	for p in $PORTS; do
		curl -sf -m 3 "http://127.0.0.1:$p/status" -o /dev/null &&
			{ echo "port $p answered plaintext"; return 1; }
	done
	return 0
}
plain_answers() {
	curl -sf -m 3 "http://127.0.0.1:$CMP/api/v1/cluster/masters" >/dev/null &&
		curl -sf -m 3 "http://127.0.0.1:$CW1/status" >/dev/null &&
		curl -sf -m 3 "http://127.0.0.1:$CW2/status" >/dev/null
}
phase() { jq -r .tls.phase "$T/home/c/meta.json"; }

# 1. a plaintext cluster with a running task under load
step 'deploy a plaintext cluster' "$DC" deploy c topology.yaml --bin-dir "$B"
step 'start it' "$DC" start c
step 'source created' ctl operate-source create source.yaml
step 'start-task (all)' ctl start-task task.yaml
step 'the task syncs' eventually 90 '"stage":"Running","unit":"Sync"' ctl query-status tt
PIDS0=$(pids)
step "a sysbench write load at $SB_RATE tps on k.sbtest1..$SB_TABLES" start_load

# 2. TLS on
step 'tls enable: every phase, every instance' eval '"$DC" tls c enable >enable.out 2>&1 ||
	{ cat enable.out; false; }'
cat enable.out
step 'one progress line per phase and instance' eval '[[ $(grep -c "^Phase" enable.out) == 5 &&
	$(grep -c "reloaded, same pid" enable.out) == 9 ]]'
step 'the same pids' eval '[[ "$(pids)" == "$PIDS0" ]]'
step 'meta.json: strict, stable, every instance strict' jq -e '.tls.mode == "strict" and
	.tls.phase == "stable" and ([.instances[] | select(.tls_mode != "strict")] | length) == 0' \
	"$T/home/c/meta.json"
step 'plaintext refused on every daemon port' plain_refused
step 'dmctl --cluster list-member over https: every member https' eval 'ctl list-member >lm.out &&
	[[ $(grep -c "\"https://127.0.0.1" lm.out) -ge 4 ]] && ! grep -q "\"http://" lm.out'
cert_leaf_cluster() {
	"$B/tools/cert-issue" leaf --ca-cert "$PKI/ca.pem" --ca-key "$PKI/ca.key" --cn other \
		--san 127.0.0.1 --out-cert "$T/other.pem" --out-key "$T/other.key"
}
step 'a client certificate with CN "other" is refused' eval 'cert_leaf_cluster &&
	! "$B/dmctl" --master-addr "127.0.0.1:$CMP" --ssl-ca "$PKI/ca.pem" --ssl-cert "$T/other.pem" \
		--ssl-key "$T/other.key" list-member'
step 'the master logged the refused CN' \
	grep -q 'CN "other" is not in cert-allowed-cn' "$T/deploy/dm-master-$CMP/log/dm-master.log"
step 'the task ran through the roll-out' samples_ok

# 3. rotations
SER0=$(serials)
step 'cert rotate' "$DC" cert c rotate
SER1=$(serials)
echo "serials before: $SER0; after: $SER1"
step 'every port serves a new serial' eval 'for s in $SER1; do [[ $SER0 != *"$s"* ]] || exit 1; done &&
	[[ $(wc -w <<<"$SER1") == 3 ]]'
step 'the same pids after rotate' eval '[[ "$(pids)" == "$PIDS0" ]]'
FP0=$(openssl x509 -in "$PKI/ca.pem" -noout -fingerprint)
ISS0=$(issuers)
step 'rotate --ca stops after its bundle phase (test hook)' eval \
	'! DM_CLUSTER_TEST_STOP_AFTER_PHASE=bundle "$DC" cert c rotate --ca && [[ $(phase) == rotate-ca:leaves ]]'
step 'during the bundle phase ca.pem holds two CAs' \
	eval '[[ $(grep -c "BEGIN CERTIFICATE" "$PKI/ca.pem") == 2 ]]'
step 'rerun resumes at phase leaves and finishes' eval '"$DC" cert c rotate --ca >rot.out 2>&1 &&
	grep -q "Resuming" rot.out && [[ $(phase) == stable ]] || { cat rot.out; false; }'
FP1=$(openssl x509 -in "$PKI/ca.pem" -noout -fingerprint)
ISS1=$(issuers)
echo "CA $FP0 -> $FP1; issuers $ISS0 -> $ISS1"
step 'a new CA (one certificate, another fingerprint) signs what every port serves' eval \
	'[[ $FP0 != "$FP1" && $(grep -c "BEGIN CERTIFICATE" "$PKI/ca.pem") == 1 &&
	$(wc -l <<<"$ISS1") == 1 && $ISS1 != "$ISS0" ]]'
step 'the same pids after rotate --ca' eval '[[ "$(pids)" == "$PIDS0" ]]'
step 'dmctl still works with the new CA' ctl list-member
step 'the task ran through the rotations' samples_ok

# 4. TLS off, interrupted once
step 'tls disable stops after its permissive phase (test hook)' eval \
	'! DM_CLUSTER_TEST_STOP_AFTER_PHASE=permissive "$DC" tls c disable && [[ $(phase) == disable:clients ]]'
step 'rerun resumes and completes' eval '"$DC" tls c disable >dis.out 2>&1 &&
	grep -q "Resuming .tls disable. of cluster \"c\" at phase clients" dis.out || { cat dis.out; false; }'
step 'plaintext answers on every port again' plain_answers
step 'list-member: every member http' eval 'ctl list-member >lm2.out && ! grep -q "https://" lm2.out &&
	[[ $(grep -c "\"http://127.0.0.1" lm2.out) -ge 4 ]]'
step 'the same pids after disable' eval '[[ "$(pids)" == "$PIDS0" ]]'
step 'the task ran through the whole test' samples_ok
echo "# query-status samples: $(wc -l <samples) taken, $(grep -c '^ok' samples) Running"
stop_bg
step 'the sysbench load ran until stopped, without a fatal error' sb_stop
sed "s/^/# /" "$T/step-$DM_STEPS.log"
step 'after the load every table of the target equals the source (k.sbtest*)' converges 90 k

# 5. a failing roll-out rolls back
echo garbage >"$PKI/w2.pem"
step 'tls enable with a bad certificate for w2 fails and rolls back' eval \
	'! "$DC" tls c enable >bad.out 2>&1 && grep -q "failed in phase permissive: dm-worker w2" bad.out &&
	grep -q "Rolled back: every instance has tls-mode off again" bad.out || { cat bad.out; false; }'
step 'meta.json: stable, off' jq -e '.tls.mode == "off" and .tls.phase == "stable" and
	([.instances[] | select(.tls_mode != "off")] | length) == 0' "$T/home/c/meta.json"
step 'plaintext answers on every port after the rollback' plain_answers
step 'the task is still running' eventually 20 '"stage":"Running","unit":"Sync"' ctl query-status tt

# 6. dm-cluster killed (-9) in the middle of tls enable, then run again
step 'cert rotate replaces the broken certificate' "$DC" cert c rotate
"$DC" tls c enable >killed.out 2>&1 &
DCPID=$!
mid_phase() { [[ $(phase) == enable:* && $(phase) != enable:certs ]]; }
step 'tls enable gets past its first phase' eval 'for _ in $(seq 300); do mid_phase && break; sleep 0.05; done; mid_phase'
kill -KILL "$DCPID" 2>/dev/null
wait "$DCPID" 2>/dev/null
echo "# killed in phase $(phase)"
step 'meta.json still records the unfinished phase' mid_phase
step 'the rerun resumes and completes' eval '"$DC" tls c enable >resumed.out 2>&1 || { cat resumed.out; false; }'
step 'meta.json: strict, stable' jq -e '.tls.mode == "strict" and .tls.phase == "stable"' "$T/home/c/meta.json"
step 'plaintext refused on every daemon port after the resumed enable' plain_refused
step 'the task is still running' eventually 20 '"stage":"Running","unit":"Sync"' ctl query-status tt
step 'the same pids at the end' eval '[[ "$(pids)" == "$PIDS0" ]]'
step 'stop' "$DC" stop c
dm_done
