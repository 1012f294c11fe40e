#include "migrate/sync.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "migrate/apply.h"
#include "migrate/copy.h"
#include "migrate/ddl.h"
#include "migrate/dispatch.h"
#include "migrate/schema.h"
#include "migrate/syncckpt.h"
#include "migrate/syncddl.h"
#include "mysql/binlog.h"
#include "mysql/gtid.h"
#include "mysql/rowdec.h"
#include "mysql/sql.h"

/* Idle appliers record the last position every TICK_MS, and query-status
 * refreshes positions every STATUS_MS: together they bound how stale
 * `syncerBinlog` and `synced` are (a second or two made every catch-up
 * look that much slower). */
#define TICK_MS       200
#define STATUS_MS     500
#define HEARTBEAT_MS  1000
#define MAX_BACKOFF_S 30

struct dm_sync {
	dm_sync_opts o; /* strings below are our copies */
	dm_db_config source, target;
	dm_log *log;
	atomic_bool cancel; /* asked to stop */
	atomic_bool stop;   /* this run ends: cancel, or an applier failed */
	dm_syncckpt ck;

	atomic_llong events, rows, txns;
	atomic_uint last_event_ts; /* upstream timestamp of the last event read */
	int64_t started_ms;
	pthread_mutex_t mu; /* the positions below, for query-status */
	dm_binpos master, syncer;
	bool safe_now;
	char *restart_reason;
	/* counters at the previous status refresh, and the rates since */
	int64_t sample_ms;
	long long sample[3];
	double recent[3]; /* events, rows, transactions per second */
};

dm_sync *dm_sync_new(const dm_sync_opts *o)
{
	dm_sync *s = dm_xcalloc(1, sizeof(*s));
	s->o = *o;
	s->o.task = dm_xstrdup(o->task);
	s->o.source_id = dm_xstrdup(o->source_id);
	s->o.meta_schema = dm_xstrdup(o->meta_schema);
	s->o.start_name = o->start_name ? dm_xstrdup(o->start_name) : NULL;
	s->o.start_gtid = dm_xstrdup(o->start_gtid ? o->start_gtid : "");
	s->o.safe_until_name = dm_xstrdup(o->safe_until_name ? o->safe_until_name : "");
	dm_db_config_init(&s->source);
	dm_db_config_copy(&s->source, o->source);
	dm_db_config_init(&s->target);
	dm_db_config_copy(&s->target, o->target);
	s->log = o->log;
	if (s->o.workers < 1)
		s->o.workers = 1;
	if (s->o.workers > 64)
		s->o.workers = 64;
	if (s->o.batch < 1)
		s->o.batch = 100;
	atomic_init(&s->cancel, false);
	atomic_init(&s->stop, false);
	dm_syncckpt_init(&s->ck, o->meta_schema, o->task, o->source_id);
	pthread_mutex_init(&s->mu, NULL);
	dm_binpos_init(&s->master);
	dm_binpos_init(&s->syncer);
	return s;
}

void dm_sync_cancel(dm_sync *s)
{
	atomic_store(&s->cancel, true);
	atomic_store(&s->stop, true);
}

void dm_sync_free(dm_sync *s)
{
	if (s == NULL)
		return;
	free((char *)s->o.task);
	free((char *)s->o.source_id);
	free((char *)s->o.meta_schema);
	free((char *)s->o.start_name);
	free((char *)s->o.start_gtid);
	free((char *)s->o.safe_until_name);
	dm_rules_free(s->o.rules);
	dm_filter_free(s->o.filter);
	dm_db_config_fini(&s->source);
	dm_db_config_fini(&s->target);
	dm_syncckpt_fini(&s->ck);
	dm_binpos_fini(&s->master);
	dm_binpos_fini(&s->syncer);
	free(s->restart_reason);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* ---- one run: from the checkpoint until stopped --------------------------- */

/* A table as the stream sees it: its map, where its rows go, and how its
 * columns line up with the target's. */
typedef struct binding {
	dm_tmap *m;
	const dm_tinfo *t;  /* NULL: filtered out */
	int *to;            /* binlog column -> target column, -1: none */
	bool drop[4];       /* by DM_CH_*: the binlog filters drop these changes */
	unsigned char *raw; /* the TABLE_MAP's body: a repeat of it reuses all this */
	size_t rawlen;
} binding;

/* Table maps kept from one transaction to the next (every DDL or other
 * statement forgets them); past this many they go at the next commit, so
 * that looking one up stays a short scan. */
#define MAP_CACHE 64

typedef struct run {
	dm_sync *s;
	MYSQL *down; /* DDL, checkpoint set-up, schema reads */
	dm_schema *schema;
	dm_applier **ap;
	int nap;
	dm_queue *acks;
	dm_dispatch *d;
	dm_binlog *bl;
	dm_gtid_set *gtid; /* after the last transaction read */
	dm_binpos max_applied;
	dm_binpos safe_until;
	binding *maps;
	size_t nmaps, capmaps;
	bool standalone; /* the open transaction is one statement (DDL) */
	/* the reader's position names the place in the binlog: not before
	 * the first transaction of a stream started by GTID (a jump) */
	bool pos_exact;
	bool transient; /* why the run ended: worth retrying */
	char *gtid_text;
	/* on_rows' scratch, kept between events (ncols_cap columns): the
	 * literals of a row, and per target column where its literal starts in
	 * lit (or NONE), then a pointer to it */
	dm_buf lit;
	size_t *off[2];
	char **img[2];
	size_t ncols_cap;
} run_t;

static void clear_maps(run_t *r)
{
	for (size_t i = 0; i < r->nmaps; i++) {
		dm_tmap_free(r->maps[i].m);
		free(r->maps[i].to);
		free(r->maps[i].raw);
	}
	r->nmaps = 0;
}

static binding *find_map(run_t *r, uint64_t table_id)
{
	for (size_t i = 0; i < r->nmaps; i++)
		if (r->maps[i].m->table_id == table_id)
			return &r->maps[i];
	return NULL;
}

static const char *pos_text(const dm_binpos *p, char *buf, size_t n)
{
	snprintf(buf, n, "%s:%" PRIu64, p->name, p->pos);
	return buf;
}

/* Columns by name when the map has names (binlog_row_metadata=FULL),
 * else by position; signedness from the target when the map lacks it. */
static int bind_columns(binding *b, dm_err *err)
{
	const dm_tinfo *t = b->t;
	dm_tmap *m = b->m;
	b->to = dm_xcalloc(m->ncols + 1, sizeof(int));
	if (!m->has_names && m->ncols != t->ncols)
		return dm_err_set(err, DM_EINVAL,
		                  "`%s`.`%s` has %u columns in the binlog but %s has %zu on the "
		                  "target, and the binlog carries no column names to match them: "
		                  "set binlog_row_metadata=FULL upstream, or make the tables agree",
		                  m->schema, m->table, m->ncols, t->qname, t->ncols);
	for (uint32_t i = 0; i < m->ncols; i++) {
		int j = m->has_names ? dm_tinfo_col(t, m->cols[i].name) : (int)i;
		if (j < 0)
			return dm_err_set(
			        err, DM_EINVAL,
			        "column `%s` of `%s`.`%s` is not in %s on the target: add "
			        "it there (or let the DDL through the filters)",
			        m->cols[i].name, m->schema, m->table, t->qname);
		b->to[i] = j;
		if (!m->has_signedness && t->unsig[j])
			dm_tmap_set_unsigned(m, i, true);
		/* without charsets in the map (binlog_row_metadata=NO_LOG) a
		 * BINARY(n) would lose the trailing zero bytes it pads with */
		if (m->cols[i].charset == 0 && !t->text[j])
			m->cols[i].charset = 63;
	}
	return 0;
}

static int on_table_map(run_t *r, const MARIADB_RPL_EVENT *ev, dm_err *err)
{
	const unsigned char *raw = NULL;
	size_t rawlen = 0;
	bool have_raw = dm_binlog_event_body(r->bl, ev, &raw, &rawlen);
	binding *old = find_map(r, ev->event.table_map.table_id);
	if (old && have_raw && old->raw && old->rawlen == rawlen &&
	    memcmp(old->raw, raw, rawlen) == 0)
		return 0;
	dm_tmap *m;
	if (dm_tmap_from_event(ev, &m, err) < 0)
		return -1;
	if (old) {
		dm_tmap_free(old->m);
		free(old->to);
		free(old->raw);
		*old = r->maps[--r->nmaps];
	}
	if (r->nmaps == r->capmaps) {
		r->capmaps = r->capmaps ? r->capmaps * 2 : 8;
		r->maps = dm_xrealloc(r->maps, r->capmaps * sizeof(*r->maps));
	}
	binding *b = &r->maps[r->nmaps++];
	*b = (binding){.m = m};
	if (have_raw) {
		b->raw = dm_xmalloc(rawlen ? rawlen : 1);
		memcpy(b->raw, raw, rawlen);
		b->rawlen = rawlen;
	}
	if (!dm_rules_table_allowed(r->s->o.rules, m->schema, m->table))
		return 0;
	static const char *const events[4] = {"", "insert", "update", "delete"};
	for (int k = DM_CH_INSERT; k <= DM_CH_DELETE; k++)
		b->drop[k] =
		        dm_filter_drops(r->s->o.filter, m->schema, m->table, events[k], NULL, 0);
	char *ts, *tt;
	dm_rules_route(r->s->o.rules, m->schema, m->table, &ts, &tt);
	int rc = dm_schema_get(r->schema, r->down, ts, tt, &b->t, err);
	free(ts);
	free(tt);
	if (rc < 0 || bind_columns(b, err) < 0) {
		/* not to be reused: the next map of the table tries again */
		free(b->raw);
		b->raw = NULL;
		return -1;
	}
	return 0;
}

/* A row's literals are rendered into one scratch buffer (each ends with
 * a NUL) and copied once, into the dm_rowchange. */
typedef struct rows_ctx {
	run_t *r; /* its lit, off and img are the scratch */
	binding *b;
	int op;
} rows_ctx;

#define NONE SIZE_MAX

static void render(rows_ctx *x, int which, const dm_row *row)
{
	const binding *b = x->b;
	size_t *off = x->r->off[which];
	for (size_t j = 0; j < b->t->ncols; j++)
		off[j] = NONE;
	for (uint32_t i = 0; i < row->ncols && i < b->m->ncols; i++) {
		const dm_value *v = &row->v[i];
		if (!v->present)
			continue;
		off[b->to[i]] = x->r->lit.len;
		dm_value_sql(&x->r->lit, &b->m->cols[i], v);
		dm_buf_putc(&x->r->lit, '\0');
	}
}

/* After rendering (the buffer no longer moves): pointers into it. */
static char **resolve(rows_ctx *x, int which)
{
	for (size_t j = 0; j < x->b->t->ncols; j++)
		x->r->img[which][j] =
		        x->r->off[which][j] == NONE ? NULL : x->r->lit.data + x->r->off[which][j];
	return x->r->img[which];
}

static int on_row(void *arg, const dm_row *before, const dm_row *after)
{
	rows_ctx *x = arg;
	dm_buf_reset(&x->r->lit);
	if (before)
		render(x, 0, before);
	if (after)
		render(x, 1, after);
	dm_rowchange *c = dm_rowchange_new(x->op, x->b->t, before ? resolve(x, 0) : NULL,
	                                   after ? resolve(x, 1) : NULL);
	atomic_fetch_add(&x->r->s->rows, 1);
	return dm_dispatch_row(x->r->d, c);
}

static int on_rows(run_t *r, const MARIADB_RPL_EVENT *ev, int op, dm_err *err)
{
	binding *b = find_map(r, ev->event.rows.table_id);
	if (b == NULL)
		return dm_err_set(err, DM_EINVAL,
		                  "a rows event names table id %" PRIu64 " that no TABLE_MAP "
		                  "announced; the binlog is damaged or was cut",
		                  (uint64_t)ev->event.rows.table_id);
	if (b->t == NULL || b->drop[op])
		return 0;
	if (!dm_dispatch_in_txn(r->d))
		return dm_err_set(err, DM_EINVAL, "row changes outside a transaction");
	size_t n = b->t->ncols + 1;
	if (r->ncols_cap < n) {
		r->ncols_cap = n;
		for (int k = 0; k < 2; k++) {
			r->off[k] = dm_xrealloc(r->off[k], n * sizeof(size_t));
			r->img[k] = dm_xrealloc(r->img[k], n * sizeof(char *));
		}
	}
	rows_ctx x = {.r = r, .b = b, .op = op};
	err->msg[0] = '\0';
	/* a non-zero from on_row (the dispatcher stopped) comes back as is */
	int rc = dm_rows_decode(b->m, ev, on_row, &x, err);
	if (rc != 0 && err->msg[0] == '\0')
		rc = dm_err_set(err, DM_ECONFLICT, "stopped");
	return rc;
}

/* A transaction starts at `start`, where the event that opens it begins. */
static void begin_txn(run_t *r, uint64_t start)
{
	const char *file = dm_binlog_file(r->bl);
	dm_binpos at;
	dm_binpos_init(&at);
	dm_binpos_set(&at, file, start, "");
	bool safe = r->s->o.safe_mode || dm_binpos_cmp(&at, &r->safe_until) < 0;
	dm_binpos_fini(&at);
	dm_txnpos *tp = dm_txnpos_new(file, start, NULL, safe);
	dm_dispatch_begin(r->d, tp);
	dm_txnpos_unref(tp);
}

/* The transaction's end: position after ev, GTID set including it. */
static int end_txn(run_t *r, dm_err *err)
{
	free(r->gtid_text);
	r->gtid_text = dm_gtid_format(r->gtid);
	dm_txnpos *tp = dm_dispatch_open(r->d);
	dm_binpos_set(&tp->end, dm_binlog_file(r->bl), dm_binlog_pos(r->bl), r->gtid_text);
	r->pos_exact = true;
	atomic_fetch_add(&r->s->txns, 1);
	if (r->nmaps > MAP_CACHE)
		clear_maps(r);
	r->standalone = false;
	if (dm_dispatch_commit(r->d) < 0)
		return dm_err_set(err, DM_ECONFLICT, "stopped");
	return 0;
}

/* Past the last transaction with none open (a ROTATE, a GTID list, a
 * binlog checkpoint): the place is passed on as an empty transaction, so that an idle task's
 * checkpoint follows the upstream into its new binlog file and query-status can say synced. */
static int pass_idle_events(run_t *r)
{
	if (!r->pos_exact)
		return 0;
	const dm_binpos *last = dm_dispatch_last_end(r->d);
	dm_binpos cur;
	dm_binpos_init(&cur);
	dm_binpos_set(&cur, dm_binlog_file(r->bl), dm_binlog_pos(r->bl), last->gtid);
	int rc = 0;
	if (dm_binpos_cmp(&cur, last) > 0) {
		dm_txnpos *tp = dm_txnpos_new(last->name, last->pos, NULL, false);
		dm_binpos_copy(&tp->end, &cur);
		dm_dispatch_begin(r->d, tp);
		dm_txnpos_unref(tp);
		rc = dm_dispatch_commit(r->d);
	}
	dm_binpos_fini(&cur);
	return rc;
}

/* ---- statements: BEGIN/COMMIT, DDL ------------------------------------- */

static int run_ddl(run_t *r, const char *sql, dm_err *err)
{
	/* Everything before it is on the target first, and nothing that
	 * holds the old table shape is in flight. */
	if (dm_dispatch_flush(r->d) < 0)
		return dm_err_set(err, DM_ECONFLICT, "stopped");
	dm_binpos end;
	dm_binpos_init(&end);
	dm_binpos_set(&end, dm_binlog_file(r->bl), dm_binlog_pos(r->bl), "");
	bool done_before = dm_binpos_cmp(&end, &r->max_applied) <= 0;
	dm_binpos_fini(&end);
	if (done_before) {
		dm_log_info(r->s->log,
		            "task %s source %s: DDL already applied before the restart: %s",
		            r->s->o.task, r->s->o.source_id, sql);
		return 0;
	}
	if (mysql_query(r->down, sql) != 0) {
		unsigned int no = mysql_errno(r->down);
		if (!dm_syncddl_already_applied(no)) {
			r->transient = dm_mysql_is_transient(no);
			return dm_mysql_error(r->down, sql, err);
		}
		dm_log_warn(r->s->log,
		            "task %s source %s: DDL had already taken effect on the target (%u: "
		            "%s); going on: %s",
		            r->s->o.task, r->s->o.source_id, no, mysql_error(r->down), sql);
	} else {
		dm_log_info(r->s->log, "task %s source %s: DDL applied: %s", r->s->o.task,
		            r->s->o.source_id, sql);
	}
	return 0;
}

static int on_query(run_t *r, const MARIADB_RPL_EVENT *ev, uint64_t start, dm_err *err)
{
	const char *q = ev->event.query.statement.str;
	size_t n = ev->event.query.statement.length;
	if (dm_syncddl_is(q, n, "BEGIN")) {
		if (!dm_dispatch_in_txn(r->d))
			begin_txn(r, start);
		return 0;
	}
	if (dm_syncddl_is(q, n, "COMMIT"))
		return dm_dispatch_in_txn(r->d) ? end_txn(r, err) : 0;
	if (dm_syncddl_is(q, n, "ROLLBACK")) {
		dm_dispatch_abort(r->d);
		clear_maps(r);
		return 0;
	}
	/* a DDL may change what a table id stands for, or the target's table */
	clear_maps(r);
	bool own_txn = r->standalone || !dm_dispatch_in_txn(r->d);
	if (!dm_dispatch_in_txn(r->d))
		begin_txn(r, start);
	char *db = ev->event.query.database.length
	                   ? dm_xasprintf("%.*s", (int)ev->event.query.database.length,
	                                  ev->event.query.database.str)
	                   : NULL;
	dm_ddl d;
	int rc = dm_ddl_parse(q, n, db, &d, err);
	free(db);
	if (rc < 0)
		return dm_err_prefix(err, "reading a DDL");
	if (d.kind == DM_DDL_OTHER || d.temporary) {
		dm_ddl_fini(&d);
		if (dm_syncddl_is(q, n, "INSERT") || dm_syncddl_is(q, n, "UPDATE") ||
		    dm_syncddl_is(q, n, "DELETE") || dm_syncddl_is(q, n, "REPLACE") ||
		    dm_syncddl_is(q, n, "LOAD"))
			return dm_err_set(
			        err, DM_EINVAL,
			        "the upstream logged a row change as a statement "
			        "(binlog_format is not ROW): set binlog_format=ROW upstream; "
			        "statement: %.*s",
			        (int)(n < 200 ? n : 200), q);
		return own_txn ? end_txn(r, err) : 0;
	}
	err->msg[0] = '\0';
	char *sql = dm_syncddl_for_target(r->s->o.rules, r->s->o.filter, q, n, &d, err);
	if (sql == NULL && err->msg[0]) {
		dm_ddl_fini(&d);
		return -1;
	}
	rc = 0;
	if (sql) {
		rc = run_ddl(r, sql, err);
		dm_syncddl_forget(r->schema, r->s->o.rules, &d);
		if (rc == 0 && d.kind == DM_DDL_RENAME_TABLE)
			dm_schema_invalidate(r->schema, NULL, NULL);
	}
	free(sql);
	dm_ddl_fini(&d);
	if (rc < 0)
		return -1;
	rc = end_txn(r, err);
	/* every applier records the position after the DDL */
	if (rc == 0 && dm_dispatch_flush(r->d) < 0)
		rc = dm_err_set(err, DM_ECONFLICT, "stopped");
	return rc;
}

/* ---- the event loop ------------------------------------------------------ */

static void refresh_status(run_t *r, MYSQL *coord)
{
	dm_sync *s = r->s;
	dm_binpos low;
	dm_binpos_init(&low);
	for (int i = 0; i < r->nap; i++) {
		dm_binpos p;
		dm_binpos_init(&p);
		dm_applier_committed(r->ap[i], &p);
		if (i == 0 || dm_binpos_cmp(&p, &low) < 0)
			dm_binpos_copy(&low, &p);
		dm_binpos_fini(&p);
	}
	MYSQL_RES *res = NULL;
	char *gtid = NULL;
	dm_err err;
	if (coord && dm_mysql_store(coord, "SHOW MASTER STATUS", &res, &err) == 0) {
		MYSQL_ROW row = mysql_fetch_row(res);
		pthread_mutex_lock(&s->mu);
		if (row && row[0])
			dm_binpos_set(&s->master, row[0], strtoull(row[1], NULL, 10),
			              s->master.gtid);
		pthread_mutex_unlock(&s->mu);
		mysql_free_result(res);
		if (dm_mysql_query_value(coord, "SELECT @@GLOBAL.gtid_binlog_pos", &gtid, &err) ==
		    0) {
			pthread_mutex_lock(&s->mu);
			dm_binpos_set(&s->master, s->master.name, s->master.pos, gtid ? gtid : "");
			pthread_mutex_unlock(&s->mu);
		}
		free(gtid);
	}
	int64_t now = dm_clock_mono_ms();
	long long c[3] = {atomic_load(&s->events), atomic_load(&s->rows), atomic_load(&s->txns)};
	pthread_mutex_lock(&s->mu);
	dm_binpos_copy(&s->syncer, &low);
	if (s->sample_ms > 0 && now > s->sample_ms)
		for (int i = 0; i < 3; i++)
			s->recent[i] = (double)(c[i] - s->sample[i]) * 1000.0 /
			               (double)(now - s->sample_ms);
	s->sample_ms = now;
	memcpy(s->sample, c, sizeof(c));
	pthread_mutex_unlock(&s->mu);
	dm_binpos_fini(&low);
}

static int loop(run_t *r, MYSQL *coord, dm_err *err)
{
	dm_sync *s = r->s;
	int64_t last_tick = dm_clock_mono_ms(), last_status = 0;
	while (!atomic_load(&s->stop)) {
		uint64_t start = dm_binlog_pos(r->bl);
		MARIADB_RPL_EVENT *ev;
		int rc = dm_binlog_next(r->bl, &ev, err);
		if (rc < 0) {
			r->transient = dm_binlog_error_transient(r->bl);
			return -1;
		}
		if (rc == 1)
			return 0;
		/* Where the event begins, from its own header: a stream started
		 * by GTID jumps from the head of the file to the transaction, so
		 * the end of the previous event is not it. */
		if (ev->next_event_pos >= ev->event_length + 4 &&
		    (ev->flags & LOG_EVENT_ARTIFICIAL_F) == 0)
			start = ev->next_event_pos - ev->event_length;
		int64_t now = dm_clock_mono_ms();
		if (ev->event_type != HEARTBEAT_LOG_EVENT) {
			atomic_fetch_add(&s->events, 1);
			if (ev->timestamp)
				atomic_store(&s->last_event_ts, ev->timestamp);
		}
		switch (ev->event_type) {
		case GTID_EVENT:
			begin_txn(r, start);
			r->standalone = (ev->event.gtid.flags & FL_STANDALONE) != 0;
			rc = dm_gtid_add_mariadb(r->gtid, ev->event.gtid.domain_id, ev->server_id,
			                         ev->event.gtid.sequence_nr, err);
			break;
		case QUERY_EVENT: rc = on_query(r, ev, start, err); break;
		case TABLE_MAP_EVENT: rc = on_table_map(r, ev, err); break;
		case WRITE_ROWS_EVENT_V1:
		case WRITE_ROWS_EVENT:
		case WRITE_ROWS_COMPRESSED_EVENT_V1:
		case WRITE_ROWS_COMPRESSED_EVENT: rc = on_rows(r, ev, DM_CH_INSERT, err); break;
		case UPDATE_ROWS_EVENT_V1:
		case UPDATE_ROWS_EVENT:
		case UPDATE_ROWS_COMPRESSED_EVENT_V1:
		case UPDATE_ROWS_COMPRESSED_EVENT: rc = on_rows(r, ev, DM_CH_UPDATE, err); break;
		case DELETE_ROWS_EVENT_V1:
		case DELETE_ROWS_EVENT:
		case DELETE_ROWS_COMPRESSED_EVENT_V1:
		case DELETE_ROWS_COMPRESSED_EVENT: rc = on_rows(r, ev, DM_CH_DELETE, err); break;
		case XID_EVENT: rc = dm_dispatch_in_txn(r->d) ? end_txn(r, err) : 0; break;
		default: break;
		}
		if (rc < 0) {
			if (atomic_load(&s->stop))
				return -1;
			char at[300];
			snprintf(at, sizeof(at), "%s:%" PRIu64, dm_binlog_file(r->bl), start);
			return dm_err_prefix(err, "at binlog %s", at);
		}
		if (!dm_dispatch_in_txn(r->d) && now - last_tick >= TICK_MS) {
			if (pass_idle_events(r) < 0)
				return -1;
			dm_dispatch_tick(r->d);
			last_tick = now;
		}
		if (now - last_status >= STATUS_MS) {
			refresh_status(r, coord);
			last_status = now;
		}
	}
	return -1;
}

/* Where to start, per applier, and up to where to be safe. */
static int plan_start(run_t *r, MYSQL *coord, dm_binpos *start, dm_binpos *applied, dm_err *err)
{
	dm_sync *s = r->s;
	dm_syncckpt_state st;
	if (dm_syncckpt_load(&s->ck, r->down, &st, err) < 0)
		return -1;
	int n = r->nap, rc = 0;
	char a[300], b[300];
	if (st.workers == n) {
		dm_binpos_copy(start, &st.flush);
		for (int i = 0; i < n; i++)
			dm_binpos_copy(&applied[i], &st.applied[i]);
		dm_binpos_copy(&r->safe_until, &st.safe_until);
		dm_log_info(s->log,
		            "task %s source %s: resuming from the checkpoint, reading from %s",
		            s->o.task, s->o.source_id, pos_text(start, a, sizeof(a)));
	} else if (st.workers > 0) {
		/* The routing of the last run cannot be replayed: redo from the
		 * oldest flush point to the furthest applier in safe mode. */
		dm_binpos_copy(start, &st.flush);
		dm_binpos_copy(&r->safe_until, &st.safe_until);
		for (int i = 0; i < st.workers; i++)
			if (dm_binpos_cmp(&st.applied[i], &r->safe_until) > 0)
				dm_binpos_copy(&r->safe_until, &st.applied[i]);
		for (int i = 0; i < n; i++)
			dm_binpos_copy(&applied[i], start);
		dm_log_warn(s->log,
		            "task %s source %s: worker-count changed from %d to %d, so the "
		            "exactly-once "
		            "replay does not hold: replaying %s to %s in safe mode (REPLACE, "
		            "DELETE+REPLACE)",
		            s->o.task, s->o.source_id, st.workers, n, pos_text(start, a, sizeof(a)),
		            pos_text(&r->safe_until, b, sizeof(b)));
		rc = dm_syncckpt_reset(&s->ck, r->down, n, start, &r->safe_until, err);
	} else {
		if (s->o.start_name && s->o.start_name[0]) {
			dm_binpos_set(start, s->o.start_name, s->o.start_pos, s->o.start_gtid);
		} else if (s->o.start_gtid[0]) {
			dm_binpos_set(start, "", 0, s->o.start_gtid);
		} else {
			MYSQL_RES *res;
			if (dm_mysql_store(coord, "SHOW MASTER STATUS", &res, err) < 0) {
				dm_syncckpt_state_fini(&st);
				return -1;
			}
			MYSQL_ROW row = mysql_fetch_row(res);
			if (row == NULL) {
				mysql_free_result(res);
				dm_syncckpt_state_fini(&st);
				return dm_err_set(
				        err, DM_EINVAL,
				        "the upstream has no binlog (SHOW MASTER STATUS is "
				        "empty): start it with log-bin and binlog_format=ROW");
			}
			dm_binpos_set(start, row[0], strtoull(row[1], NULL, 10), "");
			mysql_free_result(res);
		}
		if (s->o.safe_until_name[0])
			dm_binpos_set(&r->safe_until, s->o.safe_until_name, s->o.safe_until_pos,
			              "");
		for (int i = 0; i < n; i++)
			dm_binpos_copy(&applied[i], start);
		dm_log_info(s->log, "task %s source %s: sync starts at %s (gtid %s)", s->o.task,
		            s->o.source_id, pos_text(start, a, sizeof(a)), start->gtid);
		rc = dm_syncckpt_reset(&s->ck, r->down, n, start, &r->safe_until, err);
	}
	for (int i = 0; i < n; i++)
		if (dm_binpos_cmp(&applied[i], &r->max_applied) > 0)
			dm_binpos_copy(&r->max_applied, &applied[i]);
	dm_syncckpt_state_fini(&st);
	return rc;
}

static uint32_t server_id_of(const dm_sync *s)
{
	if (s->o.server_id)
		return s->o.server_id;
	uint32_t h = 2166136261u; /* stable per task and source, away from small ids */
	for (const char *p = s->o.task; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	for (const char *p = s->o.source_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return 400000000u + h % 100000000u;
}

static int run_once(dm_sync *s, bool *transient, dm_err *err)
{
	run_t r = {.s = s, .nap = s->o.workers};
	dm_buf_init(&r.lit);
	MYSQL *coord = NULL;
	dm_binpos start;
	dm_binpos_init(&start);
	dm_binpos_init(&r.max_applied);
	dm_binpos_init(&r.safe_until);
	dm_binpos *applied = dm_xcalloc((size_t)r.nap, sizeof(dm_binpos));
	for (int i = 0; i < r.nap; i++)
		dm_binpos_init(&applied[i]);
	r.ap = dm_xcalloc((size_t)r.nap, sizeof(dm_applier *));
	r.acks = dm_queue_new((size_t)r.nap + 1);
	r.schema = dm_schema_new();
	atomic_store(&s->stop, atomic_load(&s->cancel));
	int rc = -1;
	char *what = dm_xasprintf("source %s", s->o.source_id);

	if (dm_copy_connect_writer(&s->target, "target", false, 0, &r.down, err) < 0 ||
	    dm_syncckpt_prepare(&s->ck, r.down, err) < 0 ||
	    dm_mysql_connect(&s->source, what, &coord, err) < 0 ||
	    plan_start(&r, coord, &start, applied, err) < 0) {
		r.transient = r.down == NULL || coord == NULL ||
		              dm_mysql_is_transient(mysql_errno(coord ? coord : r.down));
		goto out;
	}
	if (dm_gtid_parse(start.gtid, &r.gtid, err) < 0)
		goto out;
	for (int i = 0; i < r.nap; i++) {
		dm_applier_opts ao = {.id = i,
		                      .target = &s->target,
		                      .ckpt = &s->ck,
		                      .batch = s->o.batch,
		                      .applied = &applied[i],
		                      .acks = r.acks,
		                      .cancel = &s->stop,
		                      .log = s->log};
		if (dm_applier_start(&ao, &r.ap[i], err) < 0) {
			r.transient = true;
			goto out;
		}
	}
	dm_txnpos *at = dm_txnpos_new(start.name, start.pos, NULL, false);
	dm_binpos_copy(&at->end, &start);
	r.d = dm_dispatch_new(r.ap, r.nap, r.acks, at, &s->stop);
	dm_txnpos_unref(at);
	/* enable-gtid reads by GTID wherever the start has one, so the stream
	 * does not depend on the upstream's binlog file names. */
	bool by_gtid = start.name[0] == '\0' || (s->o.enable_gtid && start.gtid[0]);
	r.pos_exact = !by_gtid;
	if (by_gtid)
		dm_log_info(s->log, "task %s source %s: reading the binlog after GTID %s",
		            s->o.task, s->o.source_id, start.gtid);
	dm_binlog_opts bo = {.source = &s->source,
	                     .what = what,
	                     .server_id = server_id_of(s),
	                     .file = by_gtid ? NULL : start.name,
	                     .pos = start.pos,
	                     .gtid = by_gtid ? start.gtid : NULL,
	                     .heartbeat_ms = HEARTBEAT_MS};
	if (dm_binlog_open(&bo, &r.bl, err) < 0) {
		r.transient = true; /* the error says otherwise when it is not */
		goto out;
	}
	pthread_mutex_lock(&s->mu);
	s->safe_now = s->o.safe_mode || r.safe_until.name[0] != '\0';
	pthread_mutex_unlock(&s->mu);
	rc = loop(&r, coord, err);
out:
	if (r.d && rc == 0)
		dm_dispatch_flush(r.d);
	atomic_store(&s->stop, true);
	dm_dispatch_free(r.d);
	for (int i = 0; i < r.nap; i++) {
		if (r.ap[i] == NULL)
			continue;
		bool t = false;
		dm_err aerr;
		if (dm_applier_stop(r.ap[i], &t, &aerr) < 0 && !atomic_load(&s->cancel)) {
			/* the applier's error is the cause; ours is only "stopped" */
			*err = aerr;
			r.transient = t;
			rc = -1;
		}
	}
	dm_binlog_free(r.bl);
	dm_gtid_free(r.gtid);
	clear_maps(&r);
	free(r.maps);
	free(r.gtid_text);
	dm_buf_fini(&r.lit);
	for (int k = 0; k < 2; k++) {
		free(r.off[k]);
		free(r.img[k]);
	}
	dm_schema_free(r.schema);
	void *p;
	while (dm_queue_pop(r.acks, &p, 0) == DM_QUEUE_OK)
		;
	dm_queue_free(r.acks);
	free(r.ap);
	for (int i = 0; i < s->o.workers; i++)
		dm_binpos_fini(&applied[i]);
	free(applied);
	dm_binpos_fini(&start);
	dm_binpos_fini(&r.max_applied);
	dm_binpos_fini(&r.safe_until);
	if (coord)
		mysql_close(coord);
	if (r.down)
		mysql_close(r.down);
	free(what);
	*transient = r.transient;
	return rc;
}

int dm_sync_run(dm_sync *s, dm_err *err)
{
	s->started_ms = dm_clock_mono_ms();
	int backoff = 1;
	for (;;) {
		bool transient = false;
		int rc = run_once(s, &transient, err);
		if (atomic_load(&s->cancel))
			return dm_err_set(err, DM_ECONFLICT, "cancelled");
		if (rc == 0)
			return 0;
		if (!transient)
			return -1;
		dm_log_warn(s->log,
		            "task %s source %s: sync interrupted (%s); restarting from the "
		            "checkpoint in %d s",
		            s->o.task, s->o.source_id, err->msg, backoff);
		pthread_mutex_lock(&s->mu);
		free(s->restart_reason);
		s->restart_reason = dm_xstrdup(err->msg);
		pthread_mutex_unlock(&s->mu);
		dm_clock_sleep_unless(backoff * 1000, &s->cancel);
		backoff = backoff * 2 > MAX_BACKOFF_S ? MAX_BACKOFF_S : backoff * 2;
	}
}

/* ---- query-status -------------------------------------------------------- */

static char *pos_pair(const dm_binpos *p)
{
	return dm_xasprintf("(%s, %" PRIu64 ")", p->name, p->pos);
}

json_t *dm_sync_status(dm_sync *s)
{
	pthread_mutex_lock(&s->mu);
	char *mb = pos_pair(&s->master), *sb = pos_pair(&s->syncer);
	bool synced = s->master.name[0] && dm_binpos_cmp(&s->master, &s->syncer) == 0;
	json_t *o =
	        json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "master_binlog", mb, "master_binlog_gtid",
	                  s->master.gtid, "syncer_binlog", sb, "syncer_binlog_gtid", s->syncer.gtid,
	                  "synced", synced, "safe_mode", s->safe_now);
	if (s->restart_reason)
		json_object_set_new(o, "last_restart", json_string(s->restart_reason));
	json_object_set_new(o, "recent_events_per_second", json_integer((long long)s->recent[0]));
	json_object_set_new(o, "recent_rps", json_integer((long long)s->recent[1]));
	json_object_set_new(o, "recent_tps", json_integer((long long)s->recent[2]));
	pthread_mutex_unlock(&s->mu);
	free(mb);
	free(sb);
	int64_t secs = (dm_clock_mono_ms() - s->started_ms) / 1000;
	long long events = atomic_load(&s->events), txns = atomic_load(&s->txns);
	unsigned ts = atomic_load(&s->last_event_ts);
	long long behind = synced || ts == 0 ? 0 : (long long)time(NULL) - (long long)ts;
	json_object_set_new(o, "total_events", json_integer(events));
	json_object_set_new(o, "total_rows", json_integer(atomic_load(&s->rows)));
	json_object_set_new(o, "total_transactions", json_integer(txns));
	json_object_set_new(o, "total_tps", json_integer(secs > 0 ? txns / secs : txns));
	long long rows = atomic_load(&s->rows);
	json_object_set_new(o, "total_rps", json_integer(secs > 0 ? rows / secs : rows));
	json_object_set_new(o, "seconds_behind_master", json_integer(behind < 0 ? 0 : behind));
	json_object_set_new(o, "binlog_type", json_string("remote"));
	json_object_set_new(o, "workers", json_integer(s->o.workers));
	return o;
}
