#!/usr/bin/env bash
# Full-migration benchmark (docs/benchmarks.md). One run prepares the same
# upstream data once — sysbench oltp tables plus one table with every column
# type family and LONGBLOBs of 64 KiB..16 MiB — then times, each into an
# emptied target, with the same reader/writer counts:
#   dm        dm full migration over TLS (start-task -> stage Finished)
#   mydumper  mydumper (to disk) + myloader, over TLS
#   loaddata  parallel LOAD DATA LOCAL INFILE of pre-made files over TLS: the
#             target's ingestion limit (only the load is timed)
#   dm-plain  dm with TLS off on both MariaDB sides (master/worker keep TLS)
# Every copy is verified (row count + CHECKSUM TABLE per table equal the
# source), else its figure is void and the script exits 1. Timings and the
# issue's targets are printed, never judged.
#
# Knobs (environment; defaults are the issue's scale):
#   BENCH_TABLES=4 BENCH_ROWS=250000   sysbench tables x rows per table
#   BENCH_BLOB_ROWS=36                 rows of benchtypes.t_types
#   BENCH_BLOB_MIN=65536 BENCH_BLOB_MAX=16777216   LONGBLOB sizes (doubling)
#   BENCH_THREADS=4                    readers = writers for every tool
#   BENCH_CHUNK_ROWS=BENCH_ROWS/4      rows per mydumper chunk / LOAD DATA file
#   BENCH_DM_ROWS=0                    mydumpers.rows of the dm task (0: dm picks)
#   BENCH_RUNS="dm mydumper loaddata dm-plain"   which runs, in this order
#   BENCH_REPEAT=1                     rounds of BENCH_RUNS; the fastest counts
#   BENCH_BUFFER_POOL_MB=1024          innodb_buffer_pool_size of both servers
#   BENCH_TIMEOUT=7200                 seconds before a run is declared failed
#   DM_BUILD_DIR=build-release         dm-master, dm-worker, dmctl, tools/cert-issue
#   DM_KEEP_TMP=1                      keep the scratch directory (/tmp/dm-it-bench-*)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
source "$root/bench/lib.sh"

TABLES=${BENCH_TABLES:-4}
ROWS=${BENCH_ROWS:-250000}
BLOB_ROWS=${BENCH_BLOB_ROWS:-36}
BLOB_MIN=${BENCH_BLOB_MIN:-65536}
BLOB_MAX=${BENCH_BLOB_MAX:-16777216}
THREADS=${BENCH_THREADS:-4}
CHUNK_ROWS=${BENCH_CHUNK_ROWS:-$(((ROWS + 3) / 4))}
DM_ROWS=${BENCH_DM_ROWS:-0}
RUNS=${BENCH_RUNS:-dm mydumper loaddata dm-plain}
REPEAT=${BENCH_REPEAT:-1}
# shellcheck disable=SC2034 # POOL_MB and DBS are read by bench/lib.sh
POOL_MB=${BENCH_BUFFER_POOL_MB:-1024}
TIMEOUT=${BENCH_TIMEOUT:-7200}
PASS='bench-Pw-9'
# shellcheck disable=SC2034
DBS="sbtest benchtypes"
((CHUNK_ROWS > 0)) || CHUNK_ROWS=1

B=$DM_BUILD_DIR
bench_need sysbench mydumper myloader mariadb-dump jq || exit 1

dm_init bench-full
trap 'stop_dm; mariadb_stop_all; _dm_cleanup' EXIT
say "bench/full.sh in $T: $TABLES x $ROWS sysbench rows, $BLOB_ROWS all-types rows" \
	"(LONGBLOB $BLOB_MIN..$BLOB_MAX bytes), $THREADS readers/$THREADS writers, runs: $RUNS" \
	"x $REPEAT, dm from $B"

# ---- servers, certificates, users -----------------------------------------
bench_certs || exit 1
free_port UP && free_port DOWN || exit 1
bench_server up "$UP" 1 --binlog && bench_server down "$DOWN" 2 || exit 1

# ---- data -----------------------------------------------------------------
say "preparing upstream data (sysbench prepare, all-types table)"
mariadb_sql up "CREATE DATABASE sbtest; CREATE DATABASE benchtypes" || exit 1
st=$(now)
sysbench oltp_read_write --db-driver=mysql --mysql-socket="$(mariadb_socket up)" \
	--mysql-user=root --mysql-password= --mysql-db=sbtest --tables="$TABLES" \
	--table-size="$ROWS" --threads="$(((TABLES < $(nproc)) ? TABLES : $(nproc)))" prepare \
	>"$T/sysbench.log" 2>&1 || {
	tail -n 20 "$T/sysbench.log"
	exit 1
}
sizes=()
for ((s = BLOB_MIN; s <= BLOB_MAX; s *= 2)); do sizes+=("$s"); done
((${sizes[-1]} != BLOB_MAX && BLOB_MAX > BLOB_MIN)) && sizes+=("$BLOB_MAX")
size_list=$(
	IFS=,
	echo "${sizes[*]}"
)
# Every column type family; values printed exactly by the server (FLOAT
# multiples of 1/4) so text-based tools can copy them too.
mariadb_sql up "SET NAMES utf8mb4; USE benchtypes;
CREATE TABLE benchtypes.t_types (
  id INT PRIMARY KEY,
  ti TINYINT, su SMALLINT UNSIGNED, mi MEDIUMINT, bi BIGINT, bu BIGINT UNSIGNED,
  dc DECIMAL(65,30), f FLOAT, d DOUBLE, bt BIT(13), y YEAR,
  dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(6),
  c CHAR(10), v VARCHAR(255), tx TEXT, bn BINARY(8), vb VARBINARY(64),
  e ENUM('a','b','c d'), s SET('x','y','z'), j JSON, g GEOMETRY, p POINT,
  lb LONGBLOB
) DEFAULT CHARSET utf8mb4;
INSERT INTO benchtypes.t_types
SELECT seq, seq % 256 - 128, seq * 1021 % 65536, seq * 7919 % 16777216 - 8388608,
  seq * 1000003 - 9223372036854775807, 18446744073709551615 - seq,
  IF(seq % 2, -1, 1) * CAST(CONCAT(seq, '.', LPAD(seq * 37, 30, '7')) AS DECIMAL(65,30)),
  seq * 0.25, seq / 3e0, seq * 613 % 8192, 1901 + seq % 255,
  DATE '2000-01-01' + INTERVAL seq DAY,
  TIMESTAMP '2020-02-29 12:34:56.123456' + INTERVAL seq * 3601 SECOND,
  IF(seq % 7 = 0, NULL, TIMESTAMP '2021-01-01 00:00:00.250' + INTERVAL seq HOUR),
  SEC_TO_TIME(seq * 3599 % 6000000 - 3000000 + 0.5),
  LEFT(CONCAT('c', seq, 'é'), 10), CONCAT('héllo 😀 wörld ', seq, ' ', REPEAT('ab', seq % 50)),
  IF(seq % 5 = 0, NULL, REPEAT(CONCAT('text ', seq, '\\t\\\\ \\n'), 100)),
  UNHEX(LPAD(HEX(seq * 2654435761 % 18446744073709551615), 16, '0')),
  UNHEX(SHA2(CONCAT('vb', seq), 256)),
  ELT(seq % 3 + 1, 'a', 'b', 'c d'), ELT(seq % 4 + 1, '', 'x', 'y,z', 'x,y,z'),
  JSON_OBJECT('id', seq, 'name', CONCAT('n', seq), 'tags', JSON_ARRAY(seq, 'é', NULL)),
  ST_GeomFromText(CONCAT('LINESTRING(0 0, ', seq, ' ', seq * 2, ')')), POINT(seq * 1.5, -seq),
  LEFT(REPEAT(UNHEX(SHA2(CONCAT('blob', seq), 512)),
    ELT((seq - 1) % ${#sizes[@]} + 1, $size_list) DIV 64 + 1),
    ELT((seq - 1) % ${#sizes[@]} + 1, $size_list))
FROM (SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_$BLOB_ROWS) AS n;" || exit 1
TABLE_LIST=""
for ((i = 1; i <= TABLES; i++)); do TABLE_LIST+="sbtest.sbtest$i "; done
TABLE_LIST+="benchtypes.t_types"
mariadb_sql up "ANALYZE TABLE ${TABLE_LIST// /, }" >/dev/null || exit 1
DATA_BYTES=$(mariadb_sql up "SELECT SUM(data_length) FROM information_schema.TABLES
  WHERE table_schema IN ('sbtest', 'benchtypes')")
BLOB_BYTES=$(mariadb_sql up "SELECT SUM(LENGTH(lb)) FROM benchtypes.t_types")

sums up >"$T/source.sums" || exit 1
TOTAL_ROWS=$(awk '{ n += $2 } END { print n }' "$T/source.sums")
say "upstream ready in $(elapsed "$st" "$(now)") s: $TOTAL_ROWS rows," \
	"data_length $(calc %.1f "$DATA_BYTES / 1048576") MiB (LONGBLOBs $(calc %.1f "$BLOB_BYTES / 1048576") MiB)"

# ---- dm ------------------------------------------------------------------
# run_dm DIR TLS: prints "seconds rss_kib" on fd 3
run_dm() {
	local d=$1 tls=$2
	cat >"$d/task.yaml" <<YAML
name: "bench"
task-mode: full
meta-schema: "dm_meta"
target-database:
$(db_block "$DOWN" "$tls")
block-allow-list:
  bal:
    do-dbs: ["sbtest", "benchtypes"]
mydumpers:
  dump:
    threads: $THREADS
    rows: $DM_ROWS
loaders:
  load:
    pool-size: $THREADS
mysql-instances:
  - source-id: "mysql-01"
    block-allow-list: "bal"
    mydumper-config-name: "dump"
    loader-config-name: "load"
YAML
	bench_dm_start "$d" "$tls" || return 1
	local before t0 t1 c0 stage=""
	before=$(ssl_accepts)
	c0=$(server_cpu)
	t0=$(now)
	ctl start-task "$d/task.yaml" >"$d/start.out" 2>&1 || { cat "$d/start.out"; return 1; }
	local ts
	ts=$(now)
	# query-status (a dmctl process and jq) costs CPU the copy would use:
	# it is asked every 2 s, and every 0.05 s once the worker logged the
	# subtask's end, until it shows that end too.
	local deadline=$((SECONDS + TIMEOUT)) n=0
	while ((SECONDS < deadline)); do
		if grep -q -- "-> \(Finished\|Paused\)" "$d/worker.log" 2>/dev/null || ((n++ % 40 == 0)); then
			ctl query-status bench >"$d/status.json" 2>&1
			stage=$(jq -r '[.sources[]?.subTaskStatus[]?.stage] | unique | join(" ")' "$d/status.json" 2>/dev/null)
			[[ $stage == Finished ]] && break
			[[ $stage == *Paused* || $stage == *Stopped* ]] && break
		fi
		sleep 0.05
	done
	t1=$(now)
	local rss cpu scpu
	scpu=$(server_cpu_since "$c0")
	rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$WPID/status" 2>/dev/null)
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$WPID/stat" 2>/dev/null)
	if [[ $stage != Finished ]]; then
		echo "the task did not finish (stages: ${stage:-none}); query-status:"
		tail -c 3000 "$d/status.json"
		return 1
	fi
	ctl stop-task bench >/dev/null 2>&1
	stop_dm
	check_tls "$tls" "$before" || return 1
	grep -h "LOAD DATA\|INSERT" "$d/worker.log" | sed 's/^/worker log: /'
	jq -r '.sources[].subTaskStatus[].load | "dm reports: \(.rows) rows, \(.finishedBytes) bytes,
 \(.tablesFinished)/\(.tablesTotal) tables, consistency \(.consistency)"' "$d/status.json" | tr -d '\n'
	echo
	# the copy as the worker saw it: subtask Running -> full copy finished
	local w0 w1
	w0=$(grep -m1 -- "-> Running" "$d/worker.log" | sed -E 's/^\[([^]]+)\].*/\1/')
	w1=$(grep -m1 "full copy finished" "$d/worker.log" | sed -E 's/^\[([^]]+)\].*/\1/')
	if [[ -n $w0 && -n $w1 ]]; then
		w0=$(date -d "${w0//\//-}" +%s.%N 2>/dev/null) w1=$(date -d "${w1//\//-}" +%s.%N 2>/dev/null)
	fi
	local copy=-
	[[ -n $w0 && -n $w1 ]] && copy=$(elapsed "$w0" "$w1")
	echo "start-task took $(elapsed "$t0" "$ts") s; the worker copied for $copy s" \
		"(subtask Running -> full copy finished, from its log)"
	echo "worker: peak RSS (VmHWM) $((rss / 1024)) MiB, CPU ${cpu} s; servers' CPU s: $scpu"
	echo "$(elapsed "$t0" "$t1") $rss $copy" >&3
}

# ---- mydumper + myloader --------------------------------------------------
run_mydumper() {
	local d=$1 t0 t1 t2 c0 before
	local conn=(--host 127.0.0.1 --user dm --password "$PASS" --ssl --ca "$T/ca.pem"
		--cert "$T/dbclient.pem" --key "$T/dbclient.key" --threads "$THREADS" --verbose 3)
	before=$(ssl_accepts)
	c0=$(server_cpu)
	t0=$(now)
	mydumper "${conn[@]}" --port "$UP" --outputdir "$d/dump" --regex '^(sbtest|benchtypes)\.' \
		--rows "$CHUNK_ROWS" >"$d/mydumper.log" 2>&1 || {
		tail -n 20 "$d/mydumper.log"
		return 1
	}
	t1=$(now)
	myloader "${conn[@]}" --port "$DOWN" --directory "$d/dump" >"$d/myloader.log" 2>&1 || {
		tail -n 20 "$d/myloader.log"
		return 1
	}
	t2=$(now)
	echo "servers' CPU s: $(server_cpu_since "$c0")"
	# myloader exits 0 after some errors; they are in its log
	if grep -E "CRITICAL|ERROR" "$d/myloader.log" "$d/mydumper.log" | head -n 5 | grep .; then
		return 1
	fi
	check_tls on "$before" || return 1
	echo "dump $(elapsed "$t0" "$t1") s ($(du -sm "$d/dump" | cut -f1) MiB in" \
		"$(find "$d/dump" -name '*.sql' | wc -l) files), load $(elapsed "$t1" "$t2") s"
	rm -rf "$d/dump"
	echo "$(elapsed "$t0" "$t2") - -" >&3
}

# ---- LOAD DATA LOCAL INFILE: files made once, untimed -----------------------
OUTDIR=$T/outfile
make_outfiles() {
	mkdir -p "$OUTDIR" && chmod 777 "$OUTDIR" || return 1
	local t db tb n max lo hi i=0 sel cols set col typ
	for t in $TABLE_LIST; do
		db=${t%.*} tb=${t#*.}
		# BIT is written as a number and cast back; everything else as bytes.
		sel="" cols="" set=""
		while IFS=$'\t' read -r col typ; do
			if [[ $typ == bit ]]; then
				sel+="${sel:+, }\`$col\` + 0" cols+="${cols:+, }@v_$col"
				set+="${set:+, }\`$col\` = CAST(@v_$col AS UNSIGNED)"
			else
				sel+="${sel:+, }\`$col\`" cols+="${cols:+, }\`$col\`"
			fi
		done < <(mariadb_sql up "SELECT column_name, data_type FROM information_schema.COLUMNS
  WHERE table_schema = '$db' AND table_name = '$tb' ORDER BY ordinal_position")
		max=$(mariadb_sql up "SELECT MAX(id) FROM $t")
		n=$CHUNK_ROWS
		[[ $db == benchtypes ]] && n=$(((BLOB_ROWS + THREADS - 1) / THREADS))
		for ((lo = 1; lo <= max; lo += n)); do
			hi=$((lo + n - 1)) i=$((i + 1))
			mariadb_sql up "SET time_zone = '+00:00';
SELECT $sel FROM $t WHERE id BETWEEN $lo AND $hi
  INTO OUTFILE '$OUTDIR/$i.tsv' CHARACTER SET binary" || return 1
			printf '%s\n' "SET time_zone = '+00:00', foreign_key_checks = 0;" \
				"LOAD DATA LOCAL INFILE '$OUTDIR/$i.tsv' INTO TABLE $t CHARACTER SET binary ($cols)${set:+ SET $set};" \
				>"$OUTDIR/$i.sql"
		done
	done
	cat >"$T/load-one.sh" <<SH
#!/bin/sh
exec mariadb --no-defaults -h 127.0.0.1 -P $DOWN -u dm -p'$PASS' --ssl-ca '$T/ca.pem' \\
	--ssl-cert '$T/dbclient.pem' --ssl-key '$T/dbclient.key' --local-infile=1 \\
	--max-allowed-packet=1G --batch <"\$1"
SH
	chmod +x "$T/load-one.sh"
	echo "# $i files, $(du -sm "$OUTDIR" | cut -f1) MiB (SELECT ... INTO OUTFILE)"
}
run_loaddata() {
	local d=$1 t0 t1 c0 before
	# the same DDL as the source, untimed
	mariadb-dump --defaults-file="$(mariadb_defaults up)" -uroot --no-data --skip-triggers \
		--databases $DBS 2>"$d/ddl.err" | mariadb --defaults-file="$(mariadb_defaults down)" -uroot \
		2>>"$d/ddl.err" || { cat "$d/ddl.err"; return 1; }
	before=$(ssl_accepts)
	c0=$(server_cpu)
	t0=$(now)
	# largest files first, THREADS loads at a time
	find "$OUTDIR" -name '*.tsv' -printf '%s %p\n' | sort -rn | awk '{ sub(/\.tsv$/, ".sql", $2); print $2 }' |
		xargs -P "$THREADS" -n 1 "$T/load-one.sh" >"$d/load.log" 2>&1 || {
		tail -n 20 "$d/load.log"
		return 1
	}
	t1=$(now)
	echo "servers' CPU s: $(server_cpu_since "$c0")"
	check_tls on "$before" target || return 1
	echo "$(elapsed "$t0" "$t1") - -" >&3
}

# ---- the runs --------------------------------------------------------------
declare -A BEST ALL MAX_RSS COPY
failed=0
for r in $RUNS; do
	case $r in dm | mydumper | loaddata | dm-plain) ;; *)
		echo "bench: unknown run '$r' in BENCH_RUNS" >&2
		exit 1
		;;
	esac
done
if [[ " $RUNS " == *" loaddata "* ]]; then
	say "making LOAD DATA files (untimed)"
	make_outfiles || exit 1
fi
reset_target || exit 1
for ((rep = 1; rep <= REPEAT; rep++)); do
	for r in $RUNS; do
		d=$T/$r-$rep
		mkdir -p "$d"
		tls=on
		[[ $r == dm-plain ]] && tls=off
		set_tls "$tls" || exit 1
		say "run $r ($rep/$REPEAT), MariaDB TLS $tls"
		case $r in
		dm | dm-plain) fn=run_dm ;;
		mydumper) fn=run_mydumper ;;
		loaddata) fn=run_loaddata ;;
		esac
		if "$fn" "$d" "$tls" 3>"$d/result" >"$d/run.log" 2>&1 && verify "$d" >>"$d/run.log" 2>&1; then
			read -r secs rss copy <"$d/result"
			sed 's/^/    /' "$d/run.log"
			say "run $r: $secs s"
			ALL[$r]+="$secs "
			if [[ -z ${BEST[$r]:-} ]] || awk -v a="$secs" -v b="${BEST[$r]}" 'BEGIN { exit !(a < b) }'; then
				BEST[$r]=$secs
			fi
			if [[ $copy != - ]] && { [[ -z ${COPY[$r]:-} ]] ||
				awk -v a="$copy" -v b="${COPY[$r]}" 'BEGIN { exit !(a < b) }'; }; then
				COPY[$r]=$copy
			fi
			if [[ $rss != - ]] && ((rss > ${MAX_RSS[$r]:-0})); then MAX_RSS[$r]=$rss; fi
		else
			failed=$((failed + 1))
			say "run $r FAILED:"
			sed 's/^/    /' "$d/run.log"
			for f in "$d"/*.log "$d"/*.out; do
				[[ -f $f && $f != "$d/run.log" ]] || continue
				echo "    --- last lines of $f"
				tail -n 15 "$f" | sed 's/^/    /'
			done
		fi
		stop_dm
		reset_target || exit 1
	done
done

# ---- report ----------------------------------------------------------------
MIB=$(calc %.1f "$DATA_BYTES / 1048576")
echo
echo "== full-migration benchmark: $TABLES x $ROWS sysbench rows + $BLOB_ROWS all-types rows" \
	"(LONGBLOB $BLOB_MIN..$BLOB_MAX B), $TOTAL_ROWS rows, $MIB MiB (data_length)," \
	"$THREADS readers/$THREADS writers, $(nproc) CPUs, best of $REPEAT"
printf '%-30s %8s %10s %7s %8s %11s  %s\n' run seconds rows/s MiB/s "copy s" "worker RSS" "all runs (s)"
label() {
	case $1 in
	dm) echo "dm, TLS" ;;
	mydumper) echo "mydumper + myloader, TLS" ;;
	loaddata) echo "LOAD DATA LOCAL (limit), TLS" ;;
	dm-plain) echo "dm, MariaDB links plaintext" ;;
	esac
}
for r in $RUNS; do
	s=${BEST[$r]:-}
	if [[ -z $s ]]; then
		printf '%-30s %8s\n' "$(label "$r")" FAILED
		continue
	fi
	rss=-
	[[ ${MAX_RSS[$r]:-} ]] && rss="$((MAX_RSS[$r] / 1024)) MiB"
	printf '%-30s %8.2f %10.0f %7.1f %8s %11s  %s\n' "$(label "$r")" "$s" \
		"$(calc %.3f "$TOTAL_ROWS / $s")" "$(calc %.3f "$DATA_BYTES / 1048576 / $s")" \
		"${COPY[$r]:--}" "$rss" "${ALL[$r]}"
done
echo
printf '%-42s %10s   %s\n' ratio value "issue's target"
ratio() { # label a b fmt target
	if [[ -n $2 && -n $3 ]]; then
		printf '%-42s %10s   %s\n' "$1" "$(calc "$4" "$2 / $3")" "$5"
	else
		printf '%-42s %10s   %s\n' "$1" n/a "$5"
	fi
}
ratio "dm speedup over mydumper+myloader" "${BEST[mydumper]:-}" "${BEST[dm]:-}" '%.2fx' ">= 1.5x"
ratio "dm throughput / LOAD DATA limit" "${BEST[loaddata]:-}" "${BEST[dm]:-}" '%.2fx' ">= 0.8x"
tls_cost() { # label tls plain
	if [[ -n $2 && -n $3 ]]; then
		printf '%-42s %10s   %s\n' "$1" "$(calc '%+.1f%%' "($2 / $3 - 1) * 100")" "<= 5%"
	else
		printf '%-42s %10s   %s\n' "$1" n/a "<= 5%"
	fi
}
tls_cost "TLS cost (dm end to end, TLS vs plain)" "${BEST[dm]:-}" "${BEST[dm-plain]:-}"
tls_cost "TLS cost (worker copy time only)" "${COPY[dm]:-}" "${COPY[dm-plain]:-}"
peak=0
for r in dm dm-plain; do ((${MAX_RSS[$r]:-0} > peak)) && peak=${MAX_RSS[$r]}; done
printf '%-42s %10s   %s\n' "dm-worker peak RSS (VmHWM, dm runs)" \
	"$( ((peak > 0)) && echo "$((peak / 1024)) MiB" || echo n/a)" "<= 64 MiB"
echo
if ((failed > 0)); then
	echo "# $failed run(s) failed or did not verify: their figures are void"
	exit 1
fi
echo "# every run finished and verified"
exit 0
