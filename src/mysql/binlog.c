/* Binlog stream: connection set-up, the dump request, events one by one,
 * positions, and errors that say what to do. */
#include "mysql/binlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "mysql/sql.h"

/* COM_BINLOG_DUMP carries a 4-byte position. */
#define DM_BINLOG_POS_MAX 0xFFFFFFFFu
/* A GTID position is "D-S-N" per domain; a few hundred domains at most. */
#define DM_BINLOG_GTID_MAX 8192

struct dm_binlog {
	MYSQL *m;
	MARIADB_RPL *rpl;
	MARIADB_RPL_EVENT *ev; /* last event, reused by the next fetch */
	char *link;            /* "source mysql-01 127.0.0.1:3306" */
	char *file;            /* current binlog file name */
	uint64_t pos;          /* end of the last event returned */
	char *start;           /* "binlog.000003:4" or "GTID 0-1-5", for messages */
	unsigned int read_timeout;
	uint32_t server_id;
	bool crc; /* events end with a CRC32 */
	bool stop_at_eof;
	bool transient;
	bool started; /* an event arrived: position errors are not about the start */
};

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static char *link_of(const dm_db_config *c, const char *what)
{
	const char *host = is_set(c->host) ? c->host : "(no host)";
	unsigned int port = c->port != 0 ? c->port : DM_DB_DEFAULT_PORT;
	if (strchr(host, ':') != NULL)
		return dm_xasprintf("%s [%s]:%u", what, host, port);
	return dm_xasprintf("%s %s:%u", what, host, port);
}

/* Only what a MariaDB GTID position can contain, so the text can go into
 * a SET statement and a typo is reported here rather than as a server
 * error far from the setting. */
static bool gtid_valid(const char *g)
{
	size_t n = strlen(g);
	if (n == 0 || n > DM_BINLOG_GTID_MAX)
		return false;
	for (const char *p = g; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '-' || *p == ',' || *p == ' '))
			return false;
	return true;
}

static int check_opts(const dm_binlog_opts *o, const char *what, dm_err *err)
{
	if (o->source == NULL)
		return dm_err_set(err, DM_EINVAL, "%s: no upstream connection settings", what);
	if (o->server_id == 0)
		return dm_err_set(err, DM_EINVAL,
		                  "%s: server-id 0 is not allowed for a binlog stream (the "
		                  "upstream would end the stream at its last event); set a "
		                  "non-zero server-id that no replica of this upstream uses",
		                  what);
	if (o->heartbeat_ms < 0)
		return dm_err_set(err, DM_EINVAL, "%s: heartbeat interval %d ms is negative", what,
		                  o->heartbeat_ms);
	if (is_set(o->file)) {
		if (o->pos > DM_BINLOG_POS_MAX)
			return dm_err_set(err, DM_EINVAL,
			                  "%s: binlog position %llu is beyond 4 GiB, which the "
			                  "binlog protocol cannot address",
			                  what, (unsigned long long)o->pos);
		if (o->pos != 0 && o->pos < 4)
			return dm_err_set(err, DM_EINVAL,
			                  "%s: binlog position %llu is inside the file header; "
			                  "the first event is at 4",
			                  what, (unsigned long long)o->pos);
		return 0;
	}
	if (o->gtid == NULL)
		return dm_err_set(err, DM_EINVAL,
		                  "%s: no start position: give a binlog file and position, or "
		                  "a GTID position",
		                  what);
	if (!gtid_valid(o->gtid))
		return dm_err_set(err, DM_EINVAL,
		                  "%s: GTID position '%.100s' is not of the form "
		                  "domain-server-sequence[,...] (e.g. 0-1-42)",
		                  what, o->gtid);
	return 0;
}

/* Session variables the dump thread reads before it sends anything. */
static int set_session(dm_binlog *b, const dm_binlog_opts *o, dm_err *err)
{
	char *v = NULL;
	if (dm_mysql_query_value(b->m, "SELECT @@GLOBAL.log_bin", &v, err) < 0)
		return dm_err_prefix(err, "%s: cannot read log_bin", b->link);
	bool on = v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "ON") == 0);
	free(v);
	if (!on)
		return dm_err_set(err, DM_EINVAL,
		                  "%s: the upstream does not write a binlog (log_bin is OFF); "
		                  "start it with log-bin and binlog_format=ROW",
		                  b->link);

	dm_buf q;
	dm_buf_init(&q);
	/* Without the checksum variable the server refuses a checksumming
	 * binlog (error 1236) and sends a truncated first ROTATE; without
	 * capability 4 it turns GTID events into dummy queries. */
	dm_buf_puts(&q, "SET @master_binlog_checksum = @@GLOBAL.binlog_checksum, "
	                "@mariadb_slave_capability = 4");
	if (o->heartbeat_ms > 0)
		dm_buf_printf(&q, ", @master_heartbeat_period = %llu",
		              (unsigned long long)o->heartbeat_ms * 1000000ULL);
	if (!is_set(o->file)) {
		dm_buf_puts(&q, ", @slave_connect_state = ");
		dm_sql_string(&q, o->gtid);
		dm_buf_puts(&q, ", @slave_gtid_strict_mode = 1");
	}
	int rc = dm_mysql_query(b->m, dm_buf_str(&q), err);
	dm_buf_fini(&q);
	if (rc < 0)
		return dm_err_prefix(err, "%s: preparing the binlog session", b->link);
	/* What the server will append to every event, ROTATEs included. */
	if (dm_mysql_query_value(b->m, "SELECT @master_binlog_checksum", &v, err) < 0)
		return dm_err_prefix(err, "%s: reading the binlog checksum", b->link);
	b->crc = v != NULL && strcmp(v, "NONE") != 0;
	free(v);
	return 0;
}

static int start_dump(dm_binlog *b, const dm_binlog_opts *o, dm_err *err)
{
	b->rpl = mariadb_rpl_init(b->m);
	if (b->rpl == NULL)
		return dm_err_set(err, DM_EINTERNAL, "%s: mariadb_rpl_init failed: %s", b->link,
		                  mysql_error(b->m));
	const char *file = is_set(o->file) ? o->file : "";
	unsigned long start = is_set(o->file) && o->pos != 0 ? (unsigned long)o->pos : 4;
	unsigned int flags = o->stop_at_eof ? MARIADB_RPL_BINLOG_DUMP_NON_BLOCK : 0;
	int rc = 0;
	rc |= mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_FILENAME, file, strlen(file));
	rc |= mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_START, start);
	rc |= mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_SERVER_ID, (unsigned int)o->server_id);
	rc |= mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_FLAGS, flags);
	rc |= mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_VERIFY_CHECKSUM, (uint32_t)1);
	/* MariaDB's log_bin_compress: inflate statements too (rows events
	 * always are), so a QUERY_COMPRESSED_EVENT reads like a QUERY_EVENT. */
	rc |= mariadb_rpl_optionsv(b->rpl, MARIADB_RPL_UNCOMPRESS, (uint32_t)1);
	if (rc != 0)
		return dm_err_set(err, DM_EINTERNAL, "%s: Connector/C refused a binlog option",
		                  b->link);
	if (mariadb_rpl_open(b->rpl) != 0) {
		unsigned int no = mysql_errno(b->m);
		b->transient = no == 0 || dm_mysql_is_transient(no);
		return dm_err_set(err, b->transient ? DM_ENET : DM_EDB,
		                  "%s: sending the binlog dump request failed (MySQL error %u: %s)",
		                  b->link, no, no != 0 ? mysql_error(b->m) : "no detail");
	}
	return 0;
}

int dm_binlog_open(const dm_binlog_opts *o, dm_binlog **out, dm_err *err)
{
	const char *what = o->what != NULL ? o->what : "source";
	if (check_opts(o, what, err) < 0)
		return -1;
	dm_db_config cfg;
	dm_db_config_init(&cfg);
	dm_db_config_copy(&cfg, o->source);
	if (o->heartbeat_ms > 0) {
		/* Three missed heartbeats, at least 2 s: an idle but alive
		 * upstream never trips it, a dead one does. */
		unsigned int need = (unsigned int)(((uint64_t)o->heartbeat_ms * 3 + 999) / 1000);
		if (need < 2)
			need = 2;
		if (cfg.read_timeout == 0 || cfg.read_timeout < need)
			cfg.read_timeout = need;
	}

	dm_binlog *b = dm_xcalloc(1, sizeof(*b));
	b->link = link_of(&cfg, what);
	b->file = dm_xstrdup(is_set(o->file) ? o->file : "");
	b->pos = is_set(o->file) && o->pos != 0 ? o->pos : 4;
	b->start = is_set(o->file) ? dm_xasprintf("%s:%llu", o->file, (unsigned long long)b->pos)
	                           : dm_xasprintf("GTID position %s", o->gtid);
	b->read_timeout = cfg.read_timeout;
	b->server_id = o->server_id;
	b->stop_at_eof = o->stop_at_eof;

	int rc = dm_mysql_connect(&cfg, what, &b->m, err);
	dm_db_config_fini(&cfg);
	if (rc < 0 || set_session(b, o, err) < 0 || start_dump(b, o, err) < 0) {
		dm_binlog_free(b);
		return -1;
	}
	*out = b;
	return 0;
}

/* Where the failure happened, for messages. */
static void where(const dm_binlog *b, dm_buf *w)
{
	if (b->started)
		dm_buf_printf(w, "%s:%llu", b->file, (unsigned long long)b->pos);
	else
		dm_buf_puts(w, b->start);
}

static int fetch_error(dm_binlog *b, int64_t waited_ms, dm_err *err)
{
	unsigned int no = mysql_errno(b->m);
	const char *text = mysql_error(b->m);
	if (no == 0 && mariadb_rpl_errno(b->rpl) != 0) {
		no = mariadb_rpl_errno(b->rpl);
		text = mariadb_rpl_error(b->rpl);
	}
	dm_buf w;
	dm_buf_init(&w);
	where(b, &w);
	const char *at = dm_buf_str(&w);
	int rc = -1;
	b->transient = false;
	switch (no) {
	case 0:
		b->transient = true;
		dm_err_set(err, DM_ENET,
		           "%s: the upstream ended the binlog stream at %s without an error (or "
		           "Connector/C dropped an event it could not parse); reopen the stream",
		           b->link, at);
		break;
	case ER_MASTER_FATAL_ERROR_READING_BINLOG:
		dm_err_set(err, DM_EDB,
		           "%s: the upstream cannot send its binlog from %s (MySQL error 1236: %s) "
		           "— if those binlog files were purged (PURGE BINARY LOGS, "
		           "binlog_expire_logs_seconds, expire_logs_days), the changes since "
		           "then are gone: start the task again with a full copy; otherwise check "
		           "the position against SHOW BINARY LOGS and @@gtid_binlog_pos",
		           b->link, at, text);
		break;
	case ER_SLAVE_SAME_ID:
		dm_err_set(err, DM_ECONFLICT,
		           "%s: the upstream closed this binlog stream because another replica "
		           "or stream connected with the same server id %u (MySQL error 4052: "
		           "%s) — give every dm task and every replica of this upstream its own "
		           "server-id",
		           b->link, b->server_id, text);
		break;
	case ER_SPECIFIC_ACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_ERROR:
	case ER_DBACCESS_DENIED_ERROR:
		dm_err_set(err, DM_EDB,
		           "%s: the user may not read the binlog (MySQL error %u: %s) — GRANT "
		           "REPLICATION SLAVE ON *.* to it",
		           b->link, no, text);
		break;
	case ER_SERVER_SHUTDOWN:
	case ER_CONNECTION_KILLED:
		b->transient = true;
		dm_err_set(err, DM_ENET,
		           "%s: the upstream is shutting down or killed the binlog connection at "
		           "%s (MySQL error %u: %s); reopen the stream when it is back",
		           b->link, at, no, text);
		break;
	case CR_ERR_CHECKSUM_VERIFICATION_ERROR:
		b->transient = true;
		dm_err_set(err, DM_EIO,
		           "%s: an event after %s failed its CRC32 check (%s) — damaged in the "
		           "upstream's binlog file or on the way; reopen the stream, and if it "
		           "fails again at the same place, the binlog file is damaged",
		           b->link, at, text);
		break;
	case CR_UNKNOWN_BINLOG_EVENT:
		dm_err_set(err, DM_EINVAL,
		           "%s: the upstream sent an event type this client cannot read after %s "
		           "(%s) — on MySQL, set binlog_transaction_compression=OFF and "
		           "binlog_row_value_options='' (compressed transactions and partial "
		           "JSON updates are not supported)",
		           b->link, at, text);
		break;
	case CR_SERVER_LOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST_EXTENDED:
	case CR_SSL_CONNECTION_ERROR:
		b->transient = true;
		if (b->read_timeout > 0 && waited_ms >= (int64_t)b->read_timeout * 1000 - 200) {
			dm_err_set(
			        err, DM_ETIMEOUT,
			        "%s: nothing arrived on the binlog stream for %us (read timeout) "
			        "after %s — the upstream or the network hangs; reopen the stream",
			        b->link, b->read_timeout, at);
			break;
		}
		dm_err_set(err, DM_ENET,
		           "%s: the binlog connection was lost after %s (MySQL error %u: %s) — "
		           "the upstream restarted or was stopped, or the network failed; "
		           "reopen the stream from the last applied transaction",
		           b->link, at, no, text);
		break;
	default:
		b->transient = dm_mysql_is_transient(no);
		dm_err_set(err, b->transient ? DM_ENET : DM_EDB,
		           "%s: reading the binlog after %s failed (MySQL error %u: %s)", b->link,
		           at, no, text);
		break;
	}
	dm_buf_fini(&w);
	return rc;
}

bool dm_binlog_event_body(const dm_binlog *b, const MARIADB_RPL_EVENT *ev,
                          const unsigned char **body, size_t *len)
{
	size_t crc = b->crc ? 4 : 0, hdr = 19;
	if (ev->raw_data == NULL || ev->raw_data_ofs > ev->raw_data_size ||
	    ev->raw_data_size - ev->raw_data_ofs < hdr + crc)
		return false;
	*body = ev->raw_data + ev->raw_data_ofs + hdr;
	*len = ev->raw_data_size - ev->raw_data_ofs - hdr - crc;
	return true;
}

/* Connector/C 3.3 reads a ROTATE's position from after its post-header
 * once it knows the post-header length (after the first format
 * description), i.e. from the file name: every ROTATE is read again here
 * from the raw event (position, then the name up to the checksum), and
 * the event is corrected in place for the caller. */
static int parse_rotate(dm_binlog *b, MARIADB_RPL_EVENT *e, dm_err *err)
{
	const unsigned char *p;
	size_t n;
	if (!dm_binlog_event_body(b, e, &p, &n) || n < 8 + 1)
		return dm_err_set(err, DM_EINVAL,
		                  "%s: the upstream sent a ROTATE event too short "
		                  "to name a file",
		                  b->link);
	uint64_t pos = 0;
	for (int i = 7; i >= 0; i--)
		pos = pos << 8 | p[i];
	e->event.rotate.position = pos;
	e->event.rotate.filename.str = (char *)(p + 8);
	e->event.rotate.filename.length = n - 8;
	return 0;
}

static void track(dm_binlog *b, const MARIADB_RPL_EVENT *e)
{
	b->started = true;
	if (e->event_type == ROTATE_EVENT) {
		const MARIADB_STRING *f = &e->event.rotate.filename;
		if (f->str != NULL && f->length > 0) {
			free(b->file);
			b->file = dm_xstrndup(f->str, f->length);
		}
		/* Real or the server's start-up one: either way it names
		 * where the next event of the (new) file is. */
		b->pos = e->event.rotate.position;
		return;
	}
	if (e->event_type == HEARTBEAT_LOG_EVENT)
		return;
	/* Events the server makes up at start-up (format description when
	 * starting mid-file, GTID list) have position 0 or the artificial
	 * flag: they are not at a place in the file. */
	if (e->next_event_pos == 0 || (e->flags & LOG_EVENT_ARTIFICIAL_F) != 0)
		return;
	b->pos = e->next_event_pos;
}

int dm_binlog_next(dm_binlog *b, MARIADB_RPL_EVENT **ev, dm_err *err)
{
	int64_t t0 = dm_clock_mono_ms();
	MARIADB_RPL_EVENT *e = mariadb_rpl_fetch(b->rpl, b->ev);
	if (e == NULL) {
		/* Connector/C freed the event it was given on every NULL path. */
		b->ev = NULL;
		if (b->stop_at_eof && mysql_errno(b->m) == 0 && mariadb_rpl_errno(b->rpl) == 0)
			return 1;
		return fetch_error(b, dm_clock_mono_ms() - t0, err);
	}
	b->ev = e;
	if (e->event_type == ROTATE_EVENT && parse_rotate(b, e, err) < 0)
		return -1;
	track(b, e);
	*ev = e;
	return 0;
}

bool dm_binlog_error_transient(const dm_binlog *b)
{
	return b->transient;
}

const char *dm_binlog_file(const dm_binlog *b)
{
	return b->file;
}

uint64_t dm_binlog_pos(const dm_binlog *b)
{
	return b->pos;
}

void dm_binlog_free(dm_binlog *b)
{
	if (b == NULL)
		return;
	mariadb_free_rpl_event(b->ev);
	if (b->rpl != NULL)
		mariadb_rpl_close(b->rpl);
	if (b->m != NULL)
		mysql_close(b->m);
	free(b->link);
	free(b->file);
	free(b->start);
	free(b);
}
