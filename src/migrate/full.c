#include "migrate/full.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "config/bind.h"
#include "migrate/checkpoint.h"
#include "migrate/copy.h"
#include "migrate/defer.h"
#include "migrate/plan.h"
#include "migrate/snapshot.h"
#include "mysql/sql.h"

#define INSERT_STATEMENT_BYTES (1024 * 1024)

enum phase { PH_START, PH_SNAPSHOT, PH_SCHEMA, PH_COPY, PH_DONE, PH_FAILED };
static const char *const phase_names[] = {"connecting", "snapshot", "schema",
                                          "copying",    "finished", "stopped"};

struct dm_full {
	char *task, *source_id, *meta;
	dm_db_config source, target;
	dm_rules *rules;
	dm_task_units units;
	dm_log *log;
	atomic_bool cancel;
	atomic_int phase;
	/* Written by the run thread before plan_ready is set, then only read
	 * (tables' counters are atomics). */
	atomic_bool plan_ready;
	dm_plan plan;
	dm_snapshot snap;
	bool resumed;
	int64_t rows_at_start, bytes_at_start;
	int64_t copy_started_ms;
	atomic_int_fast64_t copy_ended_ms;
};

dm_full *dm_full_new(const dm_full_opts *o)
{
	dm_full *f = dm_xcalloc(1, sizeof(*f));
	f->task = dm_xstrdup(o->task);
	f->source_id = dm_xstrdup(o->source_id);
	f->meta = dm_xstrdup(o->meta_schema);
	dm_db_config_init(&f->source);
	dm_db_config_copy(&f->source, o->source);
	dm_db_config_init(&f->target);
	dm_db_config_copy(&f->target, o->target);
	f->rules = o->rules;
	f->units = o->units;
	f->log = o->log;
	atomic_init(&f->cancel, false);
	atomic_init(&f->phase, PH_START);
	atomic_init(&f->plan_ready, false);
	atomic_init(&f->copy_ended_ms, 0);
	dm_plan_init(&f->plan);
	return f;
}

void dm_full_cancel(dm_full *f)
{
	atomic_store(&f->cancel, true);
}

void dm_full_free(dm_full *f)
{
	if (f == NULL)
		return;
	dm_plan_fini(&f->plan);
	dm_snapshot_fini(&f->snap);
	dm_rules_free(f->rules);
	dm_db_config_fini(&f->source);
	dm_db_config_fini(&f->target);
	free(f->task);
	free(f->source_id);
	free(f->meta);
	free(f);
}

/* ---- schema ---------------------------------------------------------- */

/* Skips a backquoted identifier at *p; returns the text after it. */
static const char *skip_ident(const char *p)
{
	if (*p != '`')
		return NULL;
	for (p++; *p; p++) {
		if (*p == '`') {
			if (p[1] != '`')
				return p + 1;
			p++;
		}
	}
	return NULL;
}

static int show_create(MYSQL *m, const char *what, const char *schema, const char *name, char **ret,
                       dm_err *err)
{
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_printf(&q, "SHOW CREATE %s ", what);
	dm_sql_table(&q, schema, name);
	MYSQL_RES *res;
	int rc = dm_mysql_store(m, q.data, &res, err);
	dm_buf_fini(&q);
	if (rc < 0)
		return -1;
	MYSQL_ROW row = mysql_fetch_row(res);
	*ret = row && row[1] ? dm_xstrdup(row[1]) : NULL;
	mysql_free_result(res);
	if (*ret == NULL)
		return dm_err_set(err, DM_ENOTFOUND, "SHOW CREATE %s `%s`.`%s` returned nothing",
		                  what, schema, name);
	return 0;
}

static int create_database(MYSQL *up, MYSQL *down, const char *schema, const char *tschema,
                           dm_err *err)
{
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
	                "information_schema.SCHEMATA WHERE SCHEMA_NAME = ");
	dm_sql_string(&q, schema);
	MYSQL_RES *res;
	int rc = dm_mysql_store(up, q.data, &res, err);
	dm_buf_fini(&q);
	if (rc < 0)
		return -1;
	MYSQL_ROW row = mysql_fetch_row(res);
	dm_buf_init(&q);
	dm_buf_puts(&q, "CREATE DATABASE IF NOT EXISTS ");
	dm_sql_ident(&q, tschema);
	if (row && row[0] && row[1])
		dm_buf_printf(&q, " CHARACTER SET %s COLLATE %s", row[0], row[1]);
	mysql_free_result(res);
	rc = dm_mysql_query(down, q.data, err);
	dm_buf_fini(&q);
	return rc;
}

/* Upstream tables some foreign key references, as schema, table pairs:
 * their indexes are never put off, since a referencing table needs them. */
static int referenced_tables(MYSQL *up, dm_strlist *out, dm_err *err)
{
	MYSQL_RES *res;
	if (dm_mysql_store(up,
	                   "SELECT DISTINCT unique_constraint_schema, referenced_table_name "
	                   "FROM information_schema.REFERENTIAL_CONSTRAINTS",
	                   &res, err) < 0)
		return dm_err_prefix(err, "listing the tables foreign keys reference");
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		dm_strlist_add(out, row[0]);
		dm_strlist_add(out, row[1]);
	}
	mysql_free_result(res);
	return 0;
}

static bool is_referenced(const dm_strlist *refs, const dm_table *t)
{
	for (size_t i = 0; i + 1 < refs->n; i += 2)
		if (strcmp(refs->items[i], t->schema) == 0 &&
		    strcmp(refs->items[i + 1], t->name) == 0)
			return true;
	return false;
}

static int target_has_table(MYSQL *down, const dm_table *t, bool *has, dm_err *err)
{
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "SELECT COUNT(*) FROM information_schema.TABLES WHERE table_schema = ");
	dm_sql_string(&q, t->tschema);
	dm_buf_puts(&q, " AND table_name = ");
	dm_sql_string(&q, t->tname);
	char *n = NULL;
	int rc = dm_mysql_query_value(down, q.data, &n, err);
	dm_buf_fini(&q);
	*has = rc == 0 && n && strcmp(n, "0") != 0;
	free(n);
	return rc;
}

/* Creates the table downstream unless it exists; one it creates gets its
 * plain secondary indexes after the copy (migrate/defer.h), recorded in
 * the checkpoint first. */
static int create_table(MYSQL *up, MYSQL *down, const dm_table *t, const dm_ckpt *ck,
                        const dm_strlist *refs, dm_err *err)
{
	char *ddl;
	if (show_create(up, "TABLE", t->schema, t->name, &ddl, err) < 0)
		return -1;
	static const char head[] = "CREATE TABLE ";
	const char *rest = strncmp(ddl, head, sizeof(head) - 1) == 0
	                           ? skip_ident(ddl + sizeof(head) - 1)
	                           : NULL;
	if (rest == NULL) {
		free(ddl);
		return dm_err_set(err, DM_EINTERNAL,
		                  "unexpected SHOW CREATE TABLE output for `%s`.`%s`", t->schema,
		                  t->name);
	}
	char *body = NULL;
	dm_defer later;
	dm_defer_init(&later);
	bool has = false;
	int rc = 0;
	if (!is_referenced(refs, t)) {
		dm_defer_split(rest, &body, &later);
		if (later.n > 0)
			rc = target_has_table(down, t, &has, err);
		if (rc == 0 && later.n > 0 && !has)
			rc = dm_defer_record(ck, down, t->tschema, t->tname, &later, err);
	}
	if (rc == 0) {
		dm_buf q;
		dm_buf_init(&q);
		dm_buf_puts(&q, "CREATE TABLE IF NOT EXISTS ");
		dm_sql_table(&q, t->tschema, t->tname);
		dm_buf_puts(&q, later.n > 0 && !has ? body : rest);
		rc = dm_mysql_query(down, q.data, err);
		dm_buf_fini(&q);
	}
	free(body);
	dm_defer_fini(&later);
	free(ddl);
	return rc;
}

/* The view's query with `schema`.`table` of every copied table replaced
 * by its downstream name (the server writes names fully qualified). */
static void route_view_body(dm_buf *out, const char *body, const dm_plan *p)
{
	dm_buf from;
	dm_buf_init(&from);
	for (const char *s = body; *s;) {
		bool hit = false;
		for (size_t i = 0; *s == '`' && i < p->ntables && !hit; i++) {
			const dm_table *t = &p->tables[i];
			dm_buf_reset(&from);
			dm_sql_table(&from, t->schema, t->name);
			if (strncmp(s, from.data, from.len) == 0) {
				dm_sql_table(out, t->tschema, t->tname);
				s += from.len;
				hit = true;
			}
		}
		if (!hit)
			dm_buf_putc(out, *s++);
	}
	dm_buf_fini(&from);
}

/* Views run as the invoker downstream, since the upstream definer may not
 * exist there; table names inside are routed like the tables. */
static int create_view(MYSQL *up, MYSQL *down, const dm_rules *rules, const dm_plan *p,
                       const char *schema, const char *view, dm_err *err)
{
	char *ddl;
	if (show_create(up, "VIEW", schema, view, &ddl, err) < 0)
		return -1;
	const char *v = strstr(ddl, " VIEW `");
	const char *rest = v ? skip_ident(v + 6) : NULL;
	if (rest && rest[0] == '.')
		rest = skip_ident(rest + 1); /* `schema`.`view` */
	if (rest == NULL || strncmp(rest, " AS ", 4) != 0) {
		free(ddl);
		return dm_err_set(err, DM_EINTERNAL,
		                  "unexpected SHOW CREATE VIEW output for `%s`.`%s`", schema, view);
	}
	char *ts, *tv;
	dm_rules_route(rules, schema, view, &ts, &tv);
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "CREATE OR REPLACE SQL SECURITY INVOKER VIEW ");
	dm_sql_table(&q, ts, tv);
	route_view_body(&q, rest, p);
	free(ddl);
	free(ts);
	free(tv);
	int rc = dm_mysql_query(down, q.data, err);
	dm_buf_fini(&q);
	return rc;
}

static int create_schema(dm_full *f, MYSQL *up, MYSQL *down, const dm_ckpt *ck, dm_err *err)
{
	const dm_plan *p = &f->plan;
	dm_strlist refs = {0};
	int rc = referenced_tables(up, &refs, err);
	for (size_t i = 0; i < p->ntables && rc == 0; i++) {
		const dm_table *t = &p->tables[i];
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(p->tables[j].tschema, t->tschema) == 0;
		if (!seen && create_database(up, down, t->schema, t->tschema, err) < 0)
			rc = dm_err_prefix(err, "creating database `%s` in the target", t->tschema);
		else if (create_table(up, down, t, ck, &refs, err) < 0)
			rc = dm_err_prefix(err, "creating table `%s`.`%s` in the target",
			                   t->tschema, t->tname);
	}
	dm_strlist_fini(&refs);
	if (rc < 0)
		return -1;
	for (size_t i = 0; i < p->nviews; i++) {
		const char *schema = p->views[i], *view = schema + strlen(schema) + 1;
		char *ts, *tv;
		dm_rules_route(f->rules, schema, view, &ts, &tv);
		int rc = create_database(up, down, schema, ts, err);
		free(ts);
		free(tv);
		if (rc < 0 || create_view(up, down, f->rules, p, schema, view, err) < 0)
			return dm_err_prefix(err, "creating view `%s`.`%s` in the target", schema,
			                     view);
	}
	return 0;
}

/* ---- progress -------------------------------------------------------- */

typedef struct totals {
	int64_t rows, rows_est, bytes, bytes_est;
	size_t tables_done;
} totals;

static totals sum(dm_full *f)
{
	totals s = {0};
	for (size_t i = 0; i < f->plan.ntables; i++) {
		dm_table *t = &f->plan.tables[i];
		int64_t r = atomic_load(&t->rows_done), b = atomic_load(&t->bytes_done);
		bool done = atomic_load(&t->chunks_done) >= t->nchunks;
		s.rows += r;
		s.bytes += b;
		s.rows_est += done || t->est_rows < r ? r : t->est_rows;
		s.bytes_est += done || t->est_bytes < b ? b : t->est_bytes;
		s.tables_done += done;
	}
	return s;
}

static double percent(int64_t done, int64_t total, bool finished)
{
	if (finished)
		return 100.0;
	if (total <= 0)
		return 0.0;
	double p = 100.0 * (double)done / (double)total;
	return p > 99.9 ? 99.9 : p;
}

json_t *dm_full_status(dm_full *f)
{
	int ph = atomic_load(&f->phase);
	json_t *o = json_pack("{s:s}", "phase", phase_names[ph]);
	if (!atomic_load(&f->plan_ready))
		return o;
	bool finished = ph == PH_DONE;
	totals s = sum(f);
	int64_t end = atomic_load(&f->copy_ended_ms);
	int64_t elapsed = (end ? end : dm_clock_mono_ms()) - f->copy_started_ms;
	double rate =
	        elapsed > 0 ? (double)(s.rows - f->rows_at_start) * 1000.0 / (double)elapsed : 0.0;
	/* DM's LoadStatus fields first, then dm's own. */
	char *pct = dm_xasprintf("%.2f %%", percent(s.rows, s.rows_est, finished));
	char *meta = dm_xasprintf("(%s, %llu)", f->snap.binlog_name,
	                          (unsigned long long)f->snap.binlog_pos);
	json_object_set_new(o, "finished_bytes", json_integer(s.bytes));
	json_object_set_new(o, "total_bytes", json_integer(s.bytes_est));
	json_object_set_new(o, "progress", json_string(pct));
	json_object_set_new(o, "meta_binlog", json_string(meta));
	json_object_set_new(o, "meta_binlog_gtid", json_string(f->snap.binlog_gtid));
	json_object_set_new(
	        o, "bps",
	        json_integer(elapsed > 0 ? (s.bytes - f->bytes_at_start) * 1000 / elapsed : 0));
	free(pct);
	free(meta);
	json_object_set_new(o, "consistency", json_string(f->snap.consistency));
	json_object_set_new(o, "binlog_name", json_string(f->snap.binlog_name));
	json_object_set_new(o, "binlog_pos", json_integer((json_int_t)f->snap.binlog_pos));
	json_object_set_new(o, "resumed", json_boolean(f->resumed));
	json_object_set_new(o, "tables_total", json_integer((json_int_t)f->plan.ntables));
	json_object_set_new(o, "tables_finished", json_integer((json_int_t)s.tables_done));
	json_object_set_new(o, "rows", json_integer(s.rows));
	json_object_set_new(o, "rows_total_est", json_integer(s.rows_est));
	json_object_set_new(o, "rows_per_second", json_integer((json_int_t)rate));
	if (!finished && rate > 0 && s.rows_est > s.rows)
		json_object_set_new(
		        o, "eta_seconds",
		        json_integer((json_int_t)((double)(s.rows_est - s.rows) / rate)));
	json_t *tables = json_array();
	for (size_t i = 0; i < f->plan.ntables && i < 1000; i++) {
		dm_table *t = &f->plan.tables[i];
		int64_t r = atomic_load(&t->rows_done);
		int done = atomic_load(&t->chunks_done);
		char *name = dm_xasprintf("`%s`.`%s`", t->schema, t->name);
		char *target = dm_xasprintf("`%s`.`%s`", t->tschema, t->tname);
		json_array_append_new(
		        tables, json_pack("{s:s, s:s, s:I, s:I, s:I, s:i, s:i, s:f}", "table", name,
		                          "target", target, "rows", (json_int_t)r, "rows_total_est",
		                          (json_int_t)(t->est_rows > r ? t->est_rows : r), "bytes",
		                          (json_int_t)atomic_load(&t->bytes_done), "chunks",
		                          t->nchunks, "chunks_done", done, "progress",
		                          percent(r, t->est_rows, done >= t->nchunks)));
		free(name);
		free(target);
	}
	json_object_set_new(o, "tables", tables);
	return o;
}

static void log_progress(void *arg)
{
	dm_full *f = arg;
	totals s = sum(f);
	int64_t elapsed = dm_clock_mono_ms() - f->copy_started_ms;
	double rate =
	        elapsed > 0 ? (double)(s.rows - f->rows_at_start) * 1000.0 / (double)elapsed : 0.0;
	double eta = rate > 0 && s.rows_est > s.rows ? (double)(s.rows_est - s.rows) / rate : 0;
	dm_log_info(f->log,
	            "task %s source %s: full copy %.1f%% (%lld of ~%lld rows, %.1f MiB, %zu/%zu "
	            "tables), %.0f rows/s, ETA %.0f s",
	            f->task, f->source_id,
	            percent(s.rows, s.rows_est, atomic_load(&f->phase) == PH_DONE),
	            (long long)s.rows, (long long)s.rows_est, (double)s.bytes / 1048576.0,
	            s.tables_done, f->plan.ntables, rate, eta);
}

/* ---- the run --------------------------------------------------------- */

static bool target_allows_local_infile(MYSQL *down)
{
	char *v = NULL;
	if (dm_mysql_query_value(down, "SELECT @@GLOBAL.local_infile", &v, NULL) < 0)
		return false;
	bool on = v && (strcmp(v, "1") == 0 || strcasecmp(v, "ON") == 0);
	free(v);
	return on;
}

static int64_t chunk_bytes(const char *filesize)
{
	int64_t mb = filesize ? strtoll(filesize, NULL, 10) : 0;
	return (mb > 0 ? mb : 64) * 1024 * 1024;
}

/* The writers add a table's deferred indexes as soon as every source table
 * routed into it is copied. Tables routed into one target table form a
 * group: lead is its first table in plan order, which holds the group's
 * one claim to add them; next links the group's tables. */
typedef struct indexing {
	dm_full *f;
	const dm_ckpt *ck;
	size_t *lead, *next;  /* per plan table; next is ntables at a group's end */
	atomic_bool *claimed; /* per plan table, used at leads */
} indexing;

static bool same_target(const dm_table *a, const dm_table *b)
{
	return strcmp(a->tschema, b->tschema) == 0 && strcmp(a->tname, b->tname) == 0;
}

/* By target name; one target's tables in plan order (their addresses). */
static int by_target(const void *a, const void *b)
{
	const dm_table *x = *(const dm_table *const *)a, *y = *(const dm_table *const *)b;
	int c = strcmp(x->tschema, y->tschema);
	if (c == 0)
		c = strcmp(x->tname, y->tname);
	return c ? c : (x > y) - (x < y);
}

static void indexing_init(indexing *x, dm_full *f, const dm_ckpt *ck)
{
	const dm_plan *p = &f->plan;
	size_t n = p->ntables;
	*x = (indexing){.f = f,
	                .ck = ck,
	                .lead = dm_xcalloc(n + 1, sizeof(size_t)),
	                .next = dm_xcalloc(n + 1, sizeof(size_t)),
	                .claimed = dm_xcalloc(n + 1, sizeof(atomic_bool))};
	const dm_table **order = dm_xcalloc(n + 1, sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = &p->tables[i];
	qsort(order, n, sizeof(*order), by_target);
	for (size_t k = 0; k < n; k++) {
		size_t i = (size_t)(order[k] - p->tables);
		bool starts = k == 0 || !same_target(order[k - 1], order[k]);
		x->lead[i] = starts ? i : x->lead[order[k - 1] - p->tables];
		bool more = k + 1 < n && same_target(order[k], order[k + 1]);
		x->next[i] = more ? (size_t)(order[k + 1] - p->tables) : n;
	}
	free(order);
}

static void indexing_fini(indexing *x)
{
	free(x->lead);
	free(x->next);
	free(x->claimed);
}

static int table_done(void *arg, size_t ti, MYSQL *m, dm_err *err)
{
	indexing *x = arg;
	const dm_plan *p = &x->f->plan;
	size_t lead = x->lead[ti];
	for (size_t j = lead; j < p->ntables; j = x->next[j])
		if (atomic_load(&p->tables[j].chunks_done) < p->tables[j].nchunks)
			return 0;
	if (atomic_exchange(&x->claimed[lead], true))
		return 0;
	const dm_table *t = &p->tables[lead];
	return dm_defer_apply(x->ck, m, t->tschema, t->tname, x->f->log, err);
}

/* Deferred indexes no writer added: tables copied before a restart, or
 * whose adding failed. */
static int add_remaining_indexes(indexing *x, MYSQL *down, dm_err *err)
{
	const dm_plan *p = &x->f->plan;
	for (size_t i = 0; i < p->ntables; i++) {
		if (x->lead[i] != i || atomic_load(&x->claimed[i]))
			continue;
		if (dm_defer_apply(x->ck, down, p->tables[i].tschema, p->tables[i].tname, x->f->log,
		                   err) < 0)
			return -1;
		atomic_store(&x->claimed[i], true);
	}
	return 0;
}

/* Adds the deferred indexes left and marks the copy finished. The target
 * may have restarted while the writers (which reconnect on their own)
 * finished the copy, so the control connection reconnects too, with
 * backoff, on transient errors. */
static int finish(dm_full *f, indexing *x, MYSQL **down, dm_err *err)
{
	int64_t delay = 500;
	for (int attempt = 1;; attempt++) {
		if (*down && add_remaining_indexes(x, *down, err) == 0 &&
		    dm_ckpt_finish(x->ck, *down, err) == 0)
			return 0;
		if (*down && !dm_mysql_is_transient(mysql_errno(*down)))
			return -1;
		if (attempt == 10 || atomic_load(&f->cancel))
			return dm_err_prefix(err, "marking the full copy finished");
		dm_log_warn(f->log, "task %s source %s: cannot mark the copy finished yet: %s",
		            f->task, f->source_id, err->msg);
		dm_clock_sleep_unless(delay, &f->cancel);
		delay = delay < 8000 ? delay * 2 : delay;
		if (*down)
			mysql_close(*down);
		*down = NULL;
		dm_copy_connect_writer(&f->target, "target", false, 0, down, err);
	}
}

int dm_full_run(dm_full *f, dm_err *err)
{
	MYSQL *down = NULL, *coord = NULL;
	int nreaders = f->units.dump_threads > 0 ? (int)f->units.dump_threads : 4;
	int nwriters = f->units.load_threads > 0 ? (int)f->units.load_threads : 16;
	MYSQL **readers = dm_xcalloc((size_t)nreaders, sizeof(*readers));
	char *what = dm_xasprintf("source %s", f->source_id);
	dm_ckpt ck;
	dm_ckpt_init(&ck, f->meta, f->task, f->source_id);
	int rc = -1;
	bool finished = false;

	if (dm_copy_connect_writer(&f->target, "target", false, 0, &down, err) < 0 ||
	    dm_ckpt_prepare(&ck, down, err) < 0)
		goto out;
	dm_snapshot stored;
	int found = dm_ckpt_read_snapshot(&ck, down, &stored, &finished, err);
	if (found < 0 && err->code != DM_ENOTFOUND)
		goto out;
	f->resumed = found == 0;
	if (f->resumed) {
		dm_snapshot_fini(&f->snap);
		f->snap = stored;
		if (dm_ckpt_load_plan(&ck, down, &f->plan, err) < 0)
			goto out;
		if (finished) {
			atomic_store(&f->plan_ready, true);
			atomic_store(&f->phase, PH_DONE);
			dm_log_info(f->log, "task %s source %s: full copy already finished",
			            f->task, f->source_id);
			rc = 0;
			goto out;
		}
	}
	if (dm_mysql_connect(&f->source, what, &coord, err) < 0)
		goto out;
	if (!f->resumed && dm_plan_tables(coord, f->rules, &f->plan, err) < 0)
		goto out;
	for (size_t i = 0; f->resumed && i < f->plan.nchunks; i++) {
		dm_table *t = &f->plan.tables[f->plan.chunks[i].table];
		if (t->ncols == 0 && dm_plan_table_columns(coord, t, err) < 0)
			goto out;
	}

	atomic_store(&f->phase, PH_SNAPSHOT);
	dm_snapshot snap;
	if (dm_snapshot_open(coord, &f->source, what, f->units.consistency, &f->plan, nreaders,
	                     readers, &snap, f->log, err) < 0)
		goto out;
	dm_log_info(f->log,
	            "task %s source %s: snapshot (%s) at %s:%llu (gtid %s), %d readers, %d writers",
	            f->task, f->source_id, snap.consistency, snap.binlog_name,
	            (unsigned long long)snap.binlog_pos, snap.binlog_gtid, nreaders, nwriters);
	if (f->resumed) {
		int recorded = dm_ckpt_record_resume(&ck, down, &snap, err);
		dm_snapshot_fini(&snap);
		if (recorded < 0)
			goto out;
		dm_log_info(f->log,
		            "task %s source %s: resuming the full copy, %zu chunks left; they are "
		            "read from a new snapshot",
		            f->task, f->source_id, f->plan.nchunks);
	} else {
		f->snap = snap;
		atomic_store(&f->phase, PH_SCHEMA);
		if (create_schema(f, coord, down, &ck, err) < 0 ||
		    dm_plan_chunks(readers[0], &f->plan, f->units.rows,
		                   chunk_bytes(f->units.chunk_filesize), err) < 0 ||
		    dm_ckpt_save_plan(&ck, down, &f->plan, &f->snap, err) < 0)
			goto out;
	}
	dm_plan_order(&f->plan);
	for (size_t i = 0; i < f->plan.ntables; i++) {
		f->rows_at_start += atomic_load(&f->plan.tables[i].rows_done);
		f->bytes_at_start += atomic_load(&f->plan.tables[i].bytes_done);
	}
	f->copy_started_ms = dm_clock_mono_ms();
	atomic_store(&f->plan_ready, true);
	atomic_store(&f->phase, PH_COPY);

	bool use_insert = !target_allows_local_infile(down);
	if (use_insert)
		dm_log_info(f->log, "the target does not allow LOAD DATA LOCAL INFILE "
		                    "(local_infile=OFF): loading with multi-row INSERT");
	const char *dup = f->units.on_duplicate ? f->units.on_duplicate : "replace";
	dm_copy_opts co = {.target = &f->target,
	                   .what = "target",
	                   .ckpt = &ck,
	                   .plan = &f->plan,
	                   .readers = readers,
	                   .nreaders = nreaders,
	                   .source = &f->source,
	                   .source_what = what,
	                   .nwriters = nwriters,
	                   .on_duplicate = dup,
	                   .statement_size = INSERT_STATEMENT_BYTES,
	                   .use_insert = use_insert,
	                   .log = f->log,
	                   .cancel = &f->cancel,
	                   .on_progress = log_progress,
	                   .progress_arg = f};
	indexing x;
	indexing_init(&x, f, &ck);
	co.on_table_done = table_done;
	co.table_done_arg = &x;
	int copied = dm_copy_run(&co, err);
	if (copied == 0)
		copied = finish(f, &x, &down, err);
	indexing_fini(&x);
	if (copied < 0)
		goto out;
	atomic_store(&f->copy_ended_ms, dm_clock_mono_ms());
	atomic_store(&f->phase, PH_DONE);
	log_progress(f);
	dm_log_info(f->log, "task %s source %s: full copy finished", f->task, f->source_id);
	rc = 0;
out:
	if (rc < 0) {
		atomic_store(&f->copy_ended_ms, dm_clock_mono_ms());
		atomic_store(&f->phase, PH_FAILED);
	}
	for (int i = 0; i < nreaders; i++)
		if (readers[i])
			mysql_close(readers[i]);
	free(readers);
	if (coord)
		mysql_close(coord);
	if (down)
		mysql_close(down);
	dm_ckpt_fini(&ck);
	free(what);
	return rc;
}
