#!/usr/bin/env bash
# dm's binlog stream and row decoder against a real upstream: a TLS
# MariaDB with a binlog (require_secure_transport, REQUIRE X509 user)
# takes inserts, updates of every column and deletes over a table per
# column-type family (schema.sql, dml.sql); tools/binlog-dump reads the
# binlog from the position recorded before them, over TLS, and its SQL
# applied to a second server holding the same empty schema must
# reproduce every table row for row and by CHECKSUM TABLE. Done for
# binlog_row_image FULL, MINIMAL and NOBLOB, binlog_row_metadata FULL,
# MINIMAL and NO_LOG (names, keys and signedness then come from
# information_schema), compressed rows events, and once from a GTID
# position. Then errors: an unknown binlog file, a bad GTID, a duplicate
# server id, an upstream restart under a waiting stream (heartbeats keep
# it alive until then), and a new stream after it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../../lib/common.sh
source "$here/../../lib/common.sh"
# shellcheck source=../../lib/mariadb.sh
source "$here/../../lib/mariadb.sh"
# shellcheck source=../../lib/migrate.sh
source "$here/../../lib/migrate.sh"

mariadb_available || { echo "SKIP: MariaDB is not installed"; exit 77; }
DUMP=$(dm_tool binlog-dump) || exit 77
dm_tool cert-issue >/dev/null || exit 77
dm_init binlog-decode
trap 'mariadb_stop_all; _dm_cleanup' EXIT

migrate_setup || exit 1
(umask 077 && printf '%s\n' "$PASS" >"$T/pw")
upcnf=$(mariadb_defaults up) && downcnf=$(mariadb_defaults down) || exit 1

dump() { # binlog-dump over TLS as the X509 user; extra arguments follow
	"$DUMP" --host 127.0.0.1 --port "$UP" --user dm --password-file "$T/pw" \
		--ssl-ca "$T/ca.pem" --ssl-cert "$T/dbclient.pem" --ssl-key "$T/dbclient.key" "$@"
}

TABLES=(t_int:id t_num:id t_str:id t_enum:id t_time:id t_old:id t_geo:id t_new:id
	"t_nokey:a,b,f,d,dc,t" "t_ckey:k1,k2" t_big:id)
all_same() { # every table of bd on `down` equals `up`
	local e rc=0
	for e in "${TABLES[@]}"; do
		same "bd.${e%%:*}" "bd.${e%%:*}" "${e#*:}" || rc=1
	done
	return "$rc"
}
differs() { ! same bd.t_int bd.t_int id >/dev/null 2>&1; }
exited() { # pid ends within 10 s
	local deadline=$((SECONDS + 10))
	while kill -0 "$1" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}
nonempty() { # the upstream really holds rows of every family
	local e n
	for e in "${TABLES[@]}"; do
		n=$(mariadb_sql up "SELECT COUNT(*) FROM bd.${e%%:*}") || return 1
		((n > 0)) || { echo "bd.${e%%:*} is empty"; return 1; }
	done
}

# phase NAME IMAGE METADATA COMPRESS START(pos|gtid)
phase() {
	local name=$1 image=$2 meta=$3 compress=$4 start=$5
	echo "# --- $name: binlog_row_image=$image binlog_row_metadata=$meta log_bin_compress=$compress, from $start ---"
	mariadb_sql up "SET GLOBAL binlog_row_image = '$image', binlog_row_metadata = '$meta',
		log_bin_compress = $compress, log_bin_compress_min_len = 10" || exit 1
	mariadb --defaults-file="$upcnf" -uroot <"$here/schema.sql" &&
		mariadb --defaults-file="$downcnf" -uroot <"$here/schema.sql" || exit 1
	local file pos gtid
	read -r file pos < <(mariadb_sql up "SHOW MASTER STATUS" | cut -f1,2)
	gtid=$(mariadb_sql up "SELECT @@GLOBAL.gtid_binlog_pos")
	# A new session picks up the global image; the metadata setting is global only.
	step "$name: a new writer session logs with $image / $meta" eval \
		'[[ $(mariadb_sql up "SELECT @@SESSION.binlog_row_image, @@GLOBAL.binlog_row_metadata") == "$image	$meta" ]]'
	step "$name: the changes commit upstream" eval \
		'mariadb --defaults-file="$upcnf" -uroot <"$here/dml.sql" && nonempty'
	local from=(--start-file "$file" --start-pos "$pos")
	[[ $start == gtid ]] && from=(--start-gtid "$gtid")
	step "$name: binlog-dump reads from $start ${from[*]:1} to the end over TLS" eval \
		'dump --server-id 4242 "${from[@]}" --stop-at-eof --database bd >"$T/$name.sql" 2>"$T/$name.err" ||
		 { cat "$T/$name.err"; false; }'
	step "$name: before the replay the target differs" differs
	step "$name: the replay applies cleanly" eval \
		'mariadb --defaults-file="$downcnf" -uroot <"$T/$name.sql" >"$T/$name.apply" 2>&1 || { cat "$T/$name.apply"; false; }'
	step "$name: every table equals the upstream (rows, CHECKSUM TABLE)" all_same
	step "$name: transactions carry their GTID and XID, across a binlog rotation" eval \
		'grep -q "^-- GTID 0-1-[0-9]* at binlog\.[0-9]*:[0-9]*$" "$T/$name.sql" &&
		 grep -q "^COMMIT; -- XID [0-9]*, end binlog\.[0-9]*:[0-9]*$" "$T/$name.sql" &&
		 (($(grep -o "^-- GTID .* at binlog\.[0-9]*" "$T/$name.sql" | awk "{print \$NF}" | sort -u | wc -l) == 2))'
	# NOBLOB logs like FULL for a table without blobs.
	case $image in
	FULL | NOBLOB) step "$name: a $image image updates every column, matched on the key" grep -qF \
		'UPDATE `bd`.`t_int` SET `id` = 104, `y` = 0, `tu` = 2, `ti` = -1, `si` = -1, `su` = 1, `mi` = -1, `mu` = 1, `i` = -1, `iu` = 1, `bi` = -1, `bu` = 1, `b1` = 1, `b8` = 128, `b13` = 4096, `b64` = 9223372036854775808, `bo` = 0 WHERE `id` <=> 4 LIMIT 1;' \
		"$T/$name.sql" ;;
	*) step "$name: a $image image updates the changed columns only" grep -qF \
		'UPDATE `bd`.`t_int` SET `id` = 104, `tu` = 2 WHERE `id` <=> 4 LIMIT 1;' "$T/$name.sql" ;;
	esac
	step "$name: a row without a key is matched on every logged column (exact floats)" grep -qE \
		'^DELETE FROM `bd`.`t_nokey` WHERE `a` <=> 4 AND `b` <=> 0x79 AND `f` <=> 2.5 AND `d` <=> -2.5 AND `dc` <=> 0.00 AND `t` <=> .9999-12-31 23:59:59.999. LIMIT 1;$' \
		"$T/$name.sql"
}

phase full-full FULL FULL OFF pos
phase minimal-full MINIMAL FULL OFF pos
phase full-minimal FULL MINIMAL OFF pos
phase minimal-minimal MINIMAL MINIMAL OFF pos
phase full-nolog FULL NO_LOG OFF pos
phase noblob-full NOBLOB FULL OFF pos
phase compressed FULL FULL ON pos
phase gtid FULL FULL OFF gtid
step 'the compressed phase did log compressed rows events (types 166-168)' eval \
	'mariadb-binlog --no-defaults "$(dirname "$(mariadb_sql up "SELECT @@GLOBAL.log_bin_basename")")"/binlog.0* >"$T/binlog.txt" 2>/dev/null;
	 grep -aqE "(Write|Update|Delete)_compressed_rows" "$T/binlog.txt"'

echo "# --- errors ---"
step 'an unknown binlog file: error 1236 with what to do' eval \
	'not dump --server-id 4243 --start-file binlog.999999 --start-pos 4 --stop-at-eof >/dev/null 2>"$T/e1.err" &&
	 grep -q "MySQL error 1236" "$T/e1.err" && grep -q "SHOW BINARY LOGS" "$T/e1.err" || { cat "$T/e1.err"; false; }'
step 'a malformed GTID position is refused before connecting' eval \
	'not dump --server-id 4243 --start-gtid "0-1-x" >/dev/null 2>"$T/e2.err" && grep -q "domain-server-sequence" "$T/e2.err"'
dm_bg first "$DUMP" --host 127.0.0.1 --port "$UP" --user dm --password-file "$T/pw" \
	--ssl-ca "$T/ca.pem" --ssl-cert "$T/dbclient.pem" --ssl-key "$T/dbclient.key" \
	--server-id 4250 --start-gtid "$(mariadb_sql up "SELECT @@GLOBAL.gtid_binlog_pos")" --heartbeat-ms 300
first=$DM_BG_PID
step 'a waiting stream stays up (heartbeats within its read timeout)' eval \
	'wait_for_file "$T/first.out" "^-- ROTATE" 10 && sleep 3 && kill -0 $first'
step 'a second stream with the same server id ends the first: 4052, what to do' eval \
	'dump --server-id 4250 --start-file binlog.000001 --start-pos 4 --stop-at-eof >/dev/null 2>&1;
	 wait_for_file "$T/first.out" "MySQL error 4052" 10 && grep -q "own server-id" "$T/first.out" &&
	 exited $first || { tail -3 "$T/first.out"; false; }'
gtid=$(mariadb_sql up "SELECT @@GLOBAL.gtid_binlog_pos")
dm_bg second "$DUMP" --host 127.0.0.1 --port "$UP" --user dm --password-file "$T/pw" \
	--ssl-ca "$T/ca.pem" --ssl-cert "$T/dbclient.pem" --ssl-key "$T/dbclient.key" \
	--server-id 4251 --start-gtid "$gtid" --heartbeat-ms 300
second=$DM_BG_PID
wait_for_file "$T/second.out" "^-- ROTATE" 10 >/dev/null
mariadb_stop up
step 'an upstream restart ends a waiting stream: lost or shut down, transient' eval \
	'exited $second && grep -Eq "shutting down|connection was lost" "$T/second.out" &&
	 grep -q "(transient: " "$T/second.out" || { tail -2 "$T/second.out"; false; }'
mariadb_start up "$T" "$UP" --binlog --require-secure-transport \
	--ssl-ca "$T/ca.pem" --ssl-cert "$T/db.pem" --ssl-key "$T/db.key" || exit 1
mariadb_sql up "INSERT INTO bd.t_ckey VALUES ('after restart', 1, 1)" || exit 1
step 'after the restart a new stream goes on from the last GTID it saw' eval \
	'dump --server-id 4251 --start-gtid "$gtid" --stop-at-eof >"$T/restart.sql" 2>&1 &&
	 grep -q "^INSERT INTO \`bd\`.\`t_ckey\` (\`k1\`, \`k2\`, \`v\`) VALUES (0x61667465722072657374617274, 1, 1);$" "$T/restart.sql" ||
	 { cat "$T/restart.sql"; false; }'
step 'no password in any output' eval '! grep -R -e "$PASS" "$T"/*.sql "$T"/*.err "$T"/*.out'
dm_done
