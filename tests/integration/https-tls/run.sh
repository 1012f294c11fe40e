#!/usr/bin/env bash
# dm's HTTPS server (src/net, run as tools/https_echo.c) against the real
# curl and openssl command-line clients over loopback:
#   - client certificates: CN allow-list, no certificate, foreign CA, and the
#     server log line naming each refusal;
#   - tls-mode strict refuses plaintext, permissive serves both on one port;
#   - replacing the server certificate, then the CA, on disk takes effect on
#     the next connection without a restart, while an established keep-alive
#     connection keeps working;
#   - SIGHUP switches strict -> permissive -> strict; a bad config on SIGHUP
#     keeps the running settings; SIGTERM exits cleanly.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "${DM_SOURCE_DIR:-$here/../../..}/tests/lib/common.sh"

dm_need_cmd curl openssl mkfifo
ECHO=$(dm_tool https-echo) || exit 77
dm_tool cert-issue >/dev/null || exit 77
dm_init https-tls

cert_ca ca dm-ca >/dev/null || exit 1
cert_ca ca2 other-ca >/dev/null || exit 1
cert_leaf ca server dm-server >/dev/null || exit 1
cert_leaf ca master dm-master >/dev/null || exit 1
cert_leaf ca other other >/dev/null || exit 1
cert_leaf ca2 rogue dm-master >/dev/null || exit 1

# The files the server reads; replaced below while it runs.
cp ca.pem live-ca.pem
cp server.pem live.pem
cp server.key live.key

write_config() { # tls-mode [ssl-cert path]
	cat >echo.toml.tmp <<EOF
ssl-ca = "$T/live-ca.pem"
ssl-cert = "${2:-$T/live.pem}"
ssl-key = "$T/live.key"
cert-allowed-cn = ["dm-master"]
tls-mode = "$1"
EOF
	mv echo.toml.tmp echo.toml
}

write_config strict
free_port PORT || exit 1
dm_bg echo "$ECHO" --config="$T/echo.toml" --addr="127.0.0.1:$PORT" --log-file="$T/echo.log" \
	--log-level=debug
ECHO_PID=$DM_BG_PID
if ! wait_for_file echo.out "^listening on 127.0.0.1:$PORT\$" 10; then
	cat echo.out echo.log 2>/dev/null
	exit 1
fi

# tls CA CLIENT PATH [curl args]: HTTPS with CLIENT's certificate (none when
# CLIENT is "-"), trusting CA; prints the status, body in $T/body.
tls() {
	local ca=$1 who=$2 path=$3
	shift 3
	local cert=()
	[[ $who != - ]] && cert=(--cert "$T/$who.pem" --key "$T/$who.key")
	curl -sS --max-time 5 --cacert "$T/$ca.pem" "${cert[@]}" -o "$T/body" -w '%{http_code}' \
		"$@" "https://127.0.0.1:$PORT$path"
}

plain() { # PATH [curl args]
	local path=$1
	shift
	curl -sS --max-time 5 -o "$T/body" -w '%{http_code}' "$@" "http://127.0.0.1:$PORT$path"
}

# expect STATUS BODY-REGEX CMD...: CMD prints STATUS and the body matches.
expect() {
	local want=$1 re=$2 got
	shift 2
	got=$("$@") || {
		echo "request failed (status '$got')"
		return 1
	}
	echo "status $got, body: $(cat "$T/body")"
	[[ $got == "$want" ]] && grep -Eq -- "$re" "$T/body"
}

# log_has REGEX: the server has logged a matching line (it may take a moment).
log_has() {
	wait_for_file "$T/echo.log" "$1" 5 || {
		tail -n 5 "$T/echo.log"
		return 1
	}
	grep -E -- "$1" "$T/echo.log" | tail -n 1
}

step 'strict: client CN dm-master gets 200 over TLS' \
	expect 200 '"peer_cn":"dm-master".*"tls":true' tls ca master /status
step 'strict: POST /echo returns the JSON body' \
	expect 200 '^\{"task":"t1","n":\[1,2\]\}$' tls ca master /echo \
	-H 'Content-Type: application/json' -d '{"task":"t1","n":[1,2]}'
step 'client CN "other" is refused with a 403 that says why' \
	expect 403 'CN \\"other\\" is not in cert-allowed-cn' tls ca other /status
step 'server log names the refused CN "other" and the peer' \
	log_has 'WARN.*refused TLS client 127\.0\.0\.1:[0-9]+: client certificate CN "other" is not in cert-allowed-cn \[dm-master\]'
step 'client without a certificate is refused' not tls ca - /status
step 'server log says the client sent no certificate' \
	log_has 'TLS handshake with 127\.0\.0\.1:[0-9]+ failed: peer did not return a certificate'
step 'client certificate from another CA is refused' not tls ca rogue /status
step 'server log says the client certificate did not verify' \
	log_has 'TLS handshake with 127\.0\.0\.1:[0-9]+ failed: certificate verify failed'
step 'a client that does not trust the server CA fails' not tls ca2 master /status
step 'strict: plaintext is refused' not plain /status
step 'server log says plaintext reached a TLS-only port' \
	log_has 'TLS handshake with 127\.0\.0\.1:[0-9]+ failed: http request'

serial_of_conn() { # serial the server presents on a new connection
	openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$T/$1.pem" -cert "$T/$2.pem" \
		-key "$T/$2.key" </dev/null 2>/dev/null | openssl x509 -noout -serial
}
serial_of_file() {
	openssl x509 -in "$1" -noout -serial
}
same_serial() { # ca client certfile
	local a b
	a=$(serial_of_conn "$1" "$2")
	b=$(serial_of_file "$3")
	echo "connection: $a; $3: $b"
	[[ -n $a && $a == "$b" ]]
}

# A keep-alive connection opened before the replacement (openssl s_client
# fed through a FIFO, so requests can be sent on it later).
mkfifo ka.in
openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile ca.pem -cert master.pem \
	-key master.key <ka.in >ka.out 2>ka.err &
KA_PID=$!
DM_BG_PIDS+=("$KA_PID")
exec 7>ka.in
ka_request() {
	printf 'GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&7
}
ka_responses() { # N: wait until N responses have arrived on the connection
	local deadline=$((SECONDS + 5))
	while ((SECONDS < deadline)); do
		# Bodies end without a newline: count matches, not lines.
		(($(grep -o 'HTTP/1.1 200 OK' ka.out | wc -l) >= $1)) && return 0
		sleep 0.05
	done
	cat ka.out ka.err
	return 1
}
ka_request
step 'keep-alive connection: first request answered' ka_responses 1

step 'the server presents server.pem' same_serial ca master server.pem
cert_leaf ca server2 dm-server >/dev/null
# Key first, then the certificate, each with an atomic rename.
cp server2.key live.key.tmp && mv live.key.tmp live.key
cp server2.pem live.pem.tmp && mv live.pem.tmp live.pem
step 'after replacing cert+key on disk, the next connection presents the new serial' \
	same_serial ca master server2.pem
step 'new connections after the replacement get 200' \
	expect 200 '"peer_cn":"dm-master"' tls ca master /status
ka_request
step 'the keep-alive connection opened before the replacement keeps working' ka_responses 2

# A new CA: the server's ssl-ca, certificate and key are all replaced; the
# client uses the new CA and a leaf it signed.
cert_ca ca3 dm-ca-3 >/dev/null
cert_leaf ca3 server3 dm-server >/dev/null
cert_leaf ca3 master3 dm-master >/dev/null
cert_leaf ca3 other3 other >/dev/null
cp ca3.pem live-ca.pem.tmp && mv live-ca.pem.tmp live-ca.pem
cp server3.key live.key.tmp && mv live.key.tmp live.key
cp server3.pem live.pem.tmp && mv live.pem.tmp live.pem
step 'after replacing the CA, a client with the new CA and leaf gets 200 (no restart)' \
	expect 200 '"peer_cn":"dm-master"' tls ca3 master3 /status
step 'after replacing the CA, a leaf of the old CA is refused' not tls ca3 master /status
step 'the same server process served all of it' kill -0 "$ECHO_PID"
exec 7>&-

write_config permissive
kill -HUP "$ECHO_PID"
step 'SIGHUP: the server reloads into permissive' log_has 'reloaded: tls-mode permissive'
step 'permissive: plaintext gets 200 (tls false)' \
	expect 200 '"peer_cn":null,"tls":false' plain /status
step 'permissive: TLS gets 200 on the same port' \
	expect 200 '"peer_cn":"dm-master","tls":true' tls ca3 master3 /status
refusals() {
	grep -c 'refused TLS client .*CN "other" is not in cert-allowed-cn' "$T/echo.log"
}
before=$(refusals)
step 'permissive: a CN outside cert-allowed-cn is still refused' \
	expect 403 'cert-allowed-cn' tls ca3 other3 /status
more_refusals() {
	local deadline=$((SECONDS + 5))
	while ((SECONDS < deadline)); do
		(($(refusals) > before)) && return 0
		sleep 0.05
	done
	return 1
}
step 'permissive: and the refusal is logged' more_refusals

write_config strict
kill -HUP "$ECHO_PID"
step 'SIGHUP: back to strict' log_has 'reloaded: tls-mode strict'
step 'strict again: plaintext is refused' not plain /status

write_config permissive "$T/missing.pem"
kill -HUP "$ECHO_PID"
step 'SIGHUP with a missing ssl-cert: reload refused, reason logged' \
	log_has 'reload failed, keeping the running settings: .*missing\.pem'
step 'the running strict settings stay after the failed reload' not plain /status
step 'and TLS still works' expect 200 '"tls":true' tls ca3 master3 /status

stop_echo() {
	dm_stop "$ECHO_PID" 10
	local rc=$?
	echo "exit status $rc"
	[[ $rc == 0 ]] && grep -q 'SIGTERM: shutting down' echo.log && grep -q 'stopped' echo.log
}
step 'SIGTERM: graceful exit with status 0' stop_echo
step 'no key material in the server log' not grep -q 'PRIVATE KEY' echo.log

dm_done
