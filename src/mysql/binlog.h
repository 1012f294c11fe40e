/* A binlog stream from one upstream (COM_BINLOG_DUMP over Connector/C).
 *
 * dm_binlog_open() connects with dm_mysql_connect() (so TLS and its
 * messages are the same as for every other link), tells the server what
 * this client understands (checksums, MariaDB GTID events), and asks for
 * the binlog from a file/position or a MariaDB GTID position. Events then
 * come one at a time from dm_binlog_next(); rows events are decoded with
 * mysql/rowdec.h.
 *
 * There is no internal retry: a caller that loses the stream reopens it
 * at its own transaction boundary (dm_binlog_error_transient() says
 * whether that may help), because only it knows which events it has
 * applied.
 *
 * Transactions (MariaDB): a GTID_EVENT opens one (event.gtid: domain,
 * sequence, flags; the server id is the event header's server_id);
 * XID_EVENT commits it; a GTID_EVENT with FL_STANDALONE is followed by a
 * single statement (DDL, a QUERY_EVENT) and has no XID. A QUERY_EVENT
 * "COMMIT" ends non-transactional groups (MyISAM). On MySQL upstreams a
 * QUERY_EVENT "BEGIN" opens the transaction instead. A position at which
 * it is safe to restart is the end of an XID (or of a standalone group):
 * dm_binlog_file()/dm_binlog_pos() right after that event was returned. */
#ifndef DM_MYSQL_BINLOG_H
#define DM_MYSQL_BINLOG_H

#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>
#include <mariadb_rpl.h>

#include "base/err.h"
#include "mysql/conn.h"

typedef struct dm_binlog_opts {
	const dm_db_config *source; /* copied by open; read_timeout may be raised (heartbeats) */
	const char *what;           /* "source mysql-01", names the link in messages */
	uint32_t server_id;         /* non-zero, unique per stream on that upstream */
	/* Start: file + pos (pos 0 means 4, the first event), or, with file
	 * NULL/"" and gtid set, after the MariaDB GTID position gtid. */
	const char *file;
	uint64_t pos;
	const char *gtid; /* "D-S-N[,D-S-N...]" or NULL */
	/* Milliseconds between heartbeats the server sends when idle; 0 = none.
	 * With heartbeats the read timeout is kept above 3 periods, so a
	 * silent upstream is noticed as an error, not as a hang. */
	int heartbeat_ms;
	/* The server ends the stream at the end of its binlog (dm_binlog_next
	 * returns 1) instead of waiting for new events. */
	bool stop_at_eof;
} dm_binlog_opts;

typedef struct dm_binlog dm_binlog;

/* Connects and sends the dump request. Errors about the position itself
 * (purged file, unknown GTID) come from the server with the first
 * dm_binlog_next(). On failure *out is untouched. */
int dm_binlog_open(const dm_binlog_opts *o, dm_binlog **out, dm_err *err);

/* 0: *ev is the next event. It belongs to the stream and is valid until
 * the next call (its memory is reused); copy what must survive (a table
 * map: dm_tmap_from_event()). 1: end of the binlog (stop_at_eof only).
 * -1: error, err says what happened and what to do; the stream is then
 * unusable except for dm_binlog_error_transient() and dm_binlog_free().
 *
 * Every event is returned, including the start-up ones the server sends
 * (a ROTATE naming the file, FORMAT_DESCRIPTION, GTID_LIST,
 * BINLOG_CHECKPOINT) and HEARTBEAT_LOG_EVENTs, which mean "idle, still
 * alive" and change no position. The CRC32 of each event is verified;
 * Connector/C leaves it out of the row data and metadata it exposes.
 * ROTATE events are re-read from the raw event (Connector/C 3.3 misreads
 * all but the first), so event.rotate is right. A QUERY_COMPRESSED_EVENT
 * (MariaDB log_bin_compress) has its statement inflated: read it like a
 * QUERY_EVENT; compressed rows events are inflated too. */
int dm_binlog_next(dm_binlog *b, MARIADB_RPL_EVENT **ev, dm_err *err);

/* After a -1 from next(): whether reopening (at the caller's last safe
 * position) may succeed — lost connection, server restart, timeout — as
 * opposed to conditions that need a person (purged binlog, duplicate
 * server id, missing privilege). */
bool dm_binlog_error_transient(const dm_binlog *b);

/* The bytes of ev after its common header, without the checksum: what
 * tells two TABLE_MAPs of one table apart. False when Connector/C kept
 * no raw event. Valid until the next dm_binlog_next. */
bool dm_binlog_event_body(const dm_binlog *b, const MARIADB_RPL_EVENT *ev,
                          const unsigned char **body, size_t *len);

/* The binlog file the last returned event came from (set by ROTATE
 * events, the first of which the server sends before anything else; ""
 * until then), and the end position of the last returned event, i.e.
 * where the next one starts. Start-up and artificial events (position 0
 * in their header, or flagged artificial) and heartbeats do not move it;
 * a ROTATE sets it to the position it names in the new file. */
const char *dm_binlog_file(const dm_binlog *b);
uint64_t dm_binlog_pos(const dm_binlog *b);

/* Closes the connection and frees everything, including the last event.
 * NULL is a no-op. */
void dm_binlog_free(dm_binlog *b);

#endif
