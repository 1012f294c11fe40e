#include "migrate/apply.h"

#include <mysql.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "migrate/compact.h"
#include "migrate/copy.h"

#define QUEUE_ITEMS  4096
#define COMMIT_ROWS  5000
#define IDLE_SAVE_MS 1000
#define POP_WAIT_MS  100
/* A target transaction stays open this long for more upstream
 * transactions to join it: one commit (two round trips) then covers many,
 * which is most of the throughput; it adds at most this much lag. */
#define COMMIT_WAIT_MS 30
#define SQL_IN_ERRORS  400 /* bytes of a failed statement shown to the user */
/* Statements go to the target in batches of up to this many bytes or
 * statements, one round trip each (up to the target's max_allowed_packet,
 * 16 MiB by default, with room to spare). */
#define PIPE_BYTES (1u << 20)
#define PIPE_STMTS 512
/* Changes wait in the compaction window until it holds this much (also
 * the bound on what an applier keeps of a huge transaction), the queue
 * runs dry, or a commit. Its statements are sent then, so the target works
 * while the binlog is read; a bigger window folds and batches more but
 * leaves more to do at the commit, when the dispatcher may be waiting. */
#define WINDOW_ROWS  1000
#define WINDOW_BYTES (4u << 20)
/* While busy (the window drained less than this ago), how long a change
 * may wait in the window for others to fold with when the queue runs
 * dry. Without it, with many appliers each one sees a trickle, drains a
 * row or two per statement, and the extra statements and wake-ups slow
 * the reader that makes the trickle (worker-count 16 ran at half the
 * speed of 4). An idle applier sends a lone change at once. */
#define WINDOW_WAIT_MS 20

/* ---- the applier ------------------------------------------------------- */

struct dm_applier {
	dm_applier_opts o;
	dm_binpos applied; /* committed up to here */
	dm_queue *q;
	pthread_t thread;
	MYSQL *m;
	atomic_bool stopped; /* the thread has ended */
	bool failed;
	bool failed_transient;
	dm_err err;
	pthread_mutex_t status_mu; /* guards committed, for query-status only */
	dm_binpos committed;

	/* the open target transaction */
	bool in_txn;
	bool partial; /* holds rows of a transaction whose MARK has not come */
	size_t txn_rows;
	dm_txnpos *last;    /* the newest position seen (held) */
	dm_txnpos *flushed; /* the last FLUSH's position: a flush point too */
	int64_t last_save_ms;
	int64_t txn_start_ms; /* when the open target transaction began */
	int64_t win_start_ms; /* when the window took its oldest change */
	int64_t drained_ms;   /* when the window last went to the target */
	bool dirty;           /* last is newer than what is committed */

	/* statements sent together in one round trip (multi-statement):
	 * their text, where each starts, and how many rows each must find */
	dm_buf pipe;
	size_t *pipe_off;
	int64_t *pipe_want;
	size_t pipe_n, pipe_cap;

	/* the statement being built, at the end of pipe from stmt_off */
	size_t stmt_off;
	int stmt_kind; /* 0 none, DM_CH_INSERT, DM_CH_DELETE */
	const dm_tinfo *stmt_t;
	bool stmt_replace;
	bool *stmt_mask; /* which columns the statement writes */
	size_t stmt_cap;
	size_t stmt_rows;

	dm_compact *win; /* changes not yet turned into statements */
	bool tvc;        /* the target takes VALUES (…), (…) in a UNION */
};

static bool cancelled(const dm_applier *a)
{
	return atomic_load(a->o.cancel);
}

static int connect_target(dm_applier *a, dm_err *err)
{
	/* Found rows, not changed rows: an UPDATE that sets what is already
	 * there still proves the row exists. */
	if (dm_copy_connect_writer(a->o.target, "target", false,
	                           CLIENT_FOUND_ROWS | CLIENT_MULTI_STATEMENTS, &a->m, err) < 0)
		return -1;
	a->tvc = dm_mysql_is_mariadb(a->m) && mysql_get_server_version(a->m) >= 100303;
	return 0;
}

static void fail(dm_applier *a, const dm_err *e)
{
	a->failed = true;
	a->failed_transient = a->m == NULL || dm_mysql_is_transient(mysql_errno(a->m));
	a->err = *e;
	atomic_store(a->o.cancel, true);
}

/* A statement that did not find the rows it changes. */
static int not_found(const char *sql, size_t len, int64_t want, int64_t got, dm_err *err)
{
	return dm_err_set(err, DM_ECONFLICT,
	                  "%lld of %lld rows to change were not found on the target: "
	                  "it no longer matches the upstream (changed by someone else, "
	                  "or the task started from a wrong position); fix the rows, or "
	                  "resume with safe-mode: true; statement: %.*s",
	                  (long long)(want - got), (long long)want,
	                  (int)(len < SQL_IN_ERRORS ? len : SQL_IN_ERRORS), sql);
}

/* Sends the queued statements in one round trip and checks each one's
 * found rows. A failing statement ends the batch (the server runs none
 * after it); the results left are drained so the connection stays usable
 * for the ROLLBACK. COMMIT is never queued behind row statements, so a
 * missing row always leaves the transaction open to roll back. */
static int send_pipe(dm_applier *a, dm_err *err)
{
	if (a->pipe_n == 0)
		return 0;
	size_t failed = SIZE_MAX; /* the statement the server refused */
	int rc = 0;
	if (mysql_real_query(a->m, a->pipe.data, a->pipe.len) != 0) {
		failed = 0;
	} else {
		for (size_t i = 0;; i++) {
			MYSQL_RES *res = mysql_store_result(a->m);
			if (res)
				mysql_free_result(res);
			int64_t want = a->pipe_want[i];
			int64_t got = (int64_t)mysql_affected_rows(a->m);
			if (rc == 0 && want >= 0 && got < want) {
				size_t end =
				        i + 1 < a->pipe_n ? a->pipe_off[i + 1] - 1 : a->pipe.len;
				rc = not_found(a->pipe.data + a->pipe_off[i], end - a->pipe_off[i],
				               want, got, err);
			}
			int next = mysql_next_result(a->m);
			if (next > 0)
				failed = i + 1;
			if (next != 0)
				break;
		}
	}
	if (failed != SIZE_MAX && rc == 0) {
		if (failed >= a->pipe_n)
			failed = 0;
		if (failed + 1 < a->pipe_n) /* show that statement alone */
			a->pipe.data[a->pipe_off[failed + 1] - 1] = '\0';
		rc = dm_mysql_error(a->m, a->pipe.data + a->pipe_off[failed], err);
	}
	dm_buf_reset(&a->pipe);
	a->pipe_n = 0;
	return rc;
}

/* Starts a statement at the end of the batch: statements are written
 * straight into it, never copied. */
static dm_buf *stmt_open(dm_applier *a)
{
	if (a->pipe_n > 0)
		dm_buf_putc(&a->pipe, ';');
	a->stmt_off = a->pipe.len;
	return &a->pipe;
}

/* Ends the statement stmt_open started; for UPDATE/DELETE, `want` rows
 * must be found (-1: any). Sends the batch once it is full. */
static int stmt_close(dm_applier *a, int64_t want, dm_err *err)
{
	if (a->pipe_n == a->pipe_cap) {
		a->pipe_cap = a->pipe_cap ? a->pipe_cap * 2 : 64;
		a->pipe_off = dm_xrealloc(a->pipe_off, a->pipe_cap * sizeof(size_t));
		a->pipe_want = dm_xrealloc(a->pipe_want, a->pipe_cap * sizeof(int64_t));
	}
	a->pipe_off[a->pipe_n] = a->stmt_off;
	a->pipe_want[a->pipe_n++] = want;
	if (a->pipe.len >= PIPE_BYTES || a->pipe_n >= PIPE_STMTS)
		return send_pipe(a, err);
	return 0;
}

static int exec(dm_applier *a, const char *sql, int64_t want, dm_err *err)
{
	dm_buf_puts(stmt_open(a), sql);
	return stmt_close(a, want, err);
}

static bool same_mask(const bool *mask, char **img, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (mask[i] != (img[i] != NULL))
			return false;
	return true;
}

static void set_mask(dm_applier *a, char **img, size_t n)
{
	if (a->stmt_cap < n + 1) {
		a->stmt_cap = n + 1;
		a->stmt_mask = dm_xrealloc(a->stmt_mask, a->stmt_cap * sizeof(bool));
	}
	for (size_t i = 0; i < n; i++)
		a->stmt_mask[i] = img[i] != NULL;
}

/* Columns an INSERT writes: in the image and not generated. */
static bool writes(const dm_tinfo *t, char **img, size_t i)
{
	return img[i] != NULL && !t->generated[i];
}

static bool has_key(const dm_tinfo *t, char **img)
{
	if (t->nkey == 0)
		return false;
	for (size_t k = 0; k < t->nkey; k++)
		if (img[t->key[k]] == NULL)
			return false;
	return true;
}

static bool is_key(const dm_tinfo *t, size_t i)
{
	for (size_t k = 0; k < t->nkey; k++)
		if (t->key[k] == i)
			return true;
	return false;
}

/* A value a WHERE compares with column i (see dm_tinfo.flt). */
static void put_cmp(dm_buf *b, const dm_tinfo *t, size_t i, const char *lit)
{
	if (!t->flt[i]) {
		dm_buf_puts(b, lit);
		return;
	}
	dm_buf_puts(b, "CAST(");
	dm_buf_puts(b, lit);
	dm_buf_puts(b, " AS FLOAT)");
}

/* WHERE for one row: the key when the image has it, else every column in
 * the image (NULL-safe). */
static void where_row(dm_buf *b, const dm_tinfo *t, char **img)
{
	bool key = has_key(t, img);
	size_t n = key ? t->nkey : t->ncols;
	bool first = true;
	for (size_t j = 0; j < n; j++) {
		size_t i = key ? t->key[j] : j;
		if (img[i] == NULL)
			continue;
		dm_buf_puts(b, first ? " WHERE " : " AND ");
		/* key columns are NOT NULL: plain = is what every index serves */
		dm_buf_printf(b, key ? "%s = " : "%s <=> ", t->qcols[i]);
		put_cmp(b, t, i, img[i]);
		first = false;
	}
	if (first)
		dm_buf_puts(b, " WHERE 1 = 0");
}

static int flush_stmt(dm_applier *a, dm_err *err)
{
	if (a->stmt_kind == 0)
		return 0;
	int64_t want = -1;
	if (a->stmt_kind == DM_CH_DELETE) {
		if (a->stmt_t->nkey == 1)
			dm_buf_putc(&a->pipe, ')');
		if (!a->stmt_replace)
			want = (int64_t)a->stmt_rows;
	}
	a->stmt_kind = 0;
	a->stmt_rows = 0;
	return stmt_close(a, want, err);
}

static void insert_head(dm_buf *b, const dm_tinfo *t, char **img, bool replace)
{
	dm_buf_printf(b, "%s INTO %s (", replace ? "REPLACE" : "INSERT", t->qname);
	bool first = true;
	for (size_t i = 0; i < t->ncols; i++) {
		if (!writes(t, img, i))
			continue;
		dm_buf_printf(b, "%s%s", first ? "" : ", ", t->qcols[i]);
		first = false;
	}
	dm_buf_puts(b, ") VALUES ");
}

static void insert_values(dm_buf *b, const dm_tinfo *t, char **img)
{
	dm_buf_putc(b, '(');
	bool first = true;
	for (size_t i = 0; i < t->ncols; i++) {
		if (!writes(t, img, i))
			continue;
		if (!first)
			dm_buf_puts(b, ", ");
		dm_buf_puts(b, img[i]);
		first = false;
	}
	dm_buf_putc(b, ')');
}

/* Adds a row to a multi-row INSERT/REPLACE, starting one when needed. */
static int add_insert(dm_applier *a, const dm_tinfo *t, char **img, bool replace, dm_err *err)
{
	if (a->stmt_kind != DM_CH_INSERT || a->stmt_t != t || a->stmt_replace != replace ||
	    a->stmt_rows >= (size_t)a->o.batch || !same_mask(a->stmt_mask, img, t->ncols)) {
		if (flush_stmt(a, err) < 0)
			return -1;
		insert_head(stmt_open(a), t, img, replace);
		a->stmt_kind = DM_CH_INSERT;
		a->stmt_t = t;
		a->stmt_replace = replace;
		set_mask(a, img, t->ncols);
	} else {
		dm_buf_puts(&a->pipe, ", ");
	}
	insert_values(&a->pipe, t, img);
	a->stmt_rows++;
	return 0;
}

/* DELETE for rows whose image has the key: WHERE k IN (…) for a one-column
 * key, else WHERE (k1 = … AND k2 = …) OR (…). MariaDB serves a row
 * constructor (k1, k2) IN ((…)) of one row with no index: it reads and
 * locks the whole table, and the other appliers deadlock on it. */
static int add_delete(dm_applier *a, const dm_tinfo *t, char **img, bool safe, dm_err *err)
{
	if (!has_key(t, img)) {
		if (flush_stmt(a, err) < 0)
			return -1;
		dm_buf *b = stmt_open(a);
		dm_buf_printf(b, "DELETE FROM %s", t->qname);
		where_row(b, t, img);
		dm_buf_puts(b, " LIMIT 1");
		return stmt_close(a, safe ? -1 : 1, err);
	}
	dm_buf *b = &a->pipe;
	if (a->stmt_kind != DM_CH_DELETE || a->stmt_t != t || a->stmt_replace != safe ||
	    a->stmt_rows >= (size_t)a->o.batch) {
		if (flush_stmt(a, err) < 0)
			return -1;
		dm_buf_printf(stmt_open(a), "DELETE FROM %s WHERE ", t->qname);
		if (t->nkey == 1)
			dm_buf_printf(b, "%s IN (", t->qcols[t->key[0]]);
		a->stmt_kind = DM_CH_DELETE;
		a->stmt_t = t;
		a->stmt_replace = safe; /* for DELETE: whether missing rows are fine */
	} else {
		dm_buf_puts(b, t->nkey == 1 ? ", " : " OR ");
	}
	if (t->nkey == 1) {
		put_cmp(b, t, t->key[0], img[t->key[0]]);
	} else {
		dm_buf_putc(b, '(');
		for (size_t k = 0; k < t->nkey; k++) {
			dm_buf_printf(b, "%s%s = ", k ? " AND " : "", t->qcols[t->key[k]]);
			put_cmp(b, t, t->key[k], img[t->key[k]]);
		}
		dm_buf_putc(b, ')');
	}
	a->stmt_rows++;
	return 0;
}

static bool complete(const dm_tinfo *t, char **img)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (img[i] == NULL && !t->generated[i])
			return false;
	return true;
}

static int do_update(dm_applier *a, const dm_tinfo *t, char **before, char **after, bool safe,
                     dm_err *err)
{
	if (safe && complete(t, after)) {
		if (add_delete(a, t, before, true, err) < 0 || flush_stmt(a, err) < 0)
			return -1;
		return add_insert(a, t, after, true, err);
	}
	bool any = false;
	for (size_t i = 0; i < t->ncols && !any; i++)
		any = writes(t, after, i);
	if (!any)
		return 0;
	if (flush_stmt(a, err) < 0)
		return -1;
	dm_buf *b = stmt_open(a);
	dm_buf_printf(b, "UPDATE %s SET ", t->qname);
	bool first = true;
	for (size_t i = 0; i < t->ncols; i++) {
		if (!writes(t, after, i))
			continue;
		dm_buf_printf(b, "%s%s = %s", first ? "" : ", ", t->qcols[i], after[i]);
		first = false;
	}
	where_row(b, t, before);
	dm_buf_puts(b, " LIMIT 1");
	return stmt_close(a, safe ? -1 : 1, err);
}

/* A plain integer: a key the derived table of a batched UPDATE carries
 * as a number, so the join finds rows through the key's index. */
static bool int_literal(const char *s)
{
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == '\0';
}

/* Whether an UPDATE may join a batch: integer key, and it sets a column
 * besides the key (the key itself never changes in a batch). */
static bool batchable_update(const dm_netchange *u)
{
	const dm_tinfo *t = u->t;
	for (size_t k = 0; k < t->nkey; k++)
		if (!int_literal(u->before[t->key[k]]))
			return false;
	for (size_t i = 0; i < t->ncols; i++)
		if (writes(t, u->after, i) && !is_key(t, i))
			return true;
	return false;
}

/* How many updates from u on can share one statement with u. */
static size_t update_run(const dm_netchange *u, size_t n, size_t max)
{
	size_t k = 1;
	while (k < n && k < max && u[k].op == DM_CH_UPDATE && u[k].t == u[0].t &&
	       batchable_update(&u[k])) {
		bool same = true;
		for (size_t i = 0; i < u[0].t->ncols && same; i++)
			same = (u[k].after[i] != NULL) == (u[0].after[i] != NULL);
		if (!same)
			break;
		k++;
	}
	return k;
}

/* The value an UPDATE of a batch gives column i: the key from the old
 * image, the rest from the new one. */
static const char *batch_value(const dm_netchange *u, size_t i)
{
	const dm_tinfo *t = u->t;
	return is_key(t, i) ? u->before[i] : writes(t, u->after, i) ? u->after[i] : NULL;
}

/* A derived table's column takes one type for all its rows: integers of
 * 2^63 and more beside smaller ones make it DECIMAL, which a SET column
 * converts through a double (2^62 + 1 becomes 2^62). Such a column is
 * cast to BIGINT UNSIGNED, exact for every value it holds. */
static bool needs_unsigned(const dm_netchange *u, size_t n, size_t i)
{
	bool big = false;
	for (size_t r = 0; r < n; r++) {
		const char *v = batch_value(&u[r], i);
		if (v == NULL || strcmp(v, "NULL") == 0)
			continue;
		if (*v == '-' || !int_literal(v))
			return false;
		size_t len = strlen(v);
		if (len > 20 || (len == 20 && strcmp(v, "18446744073709551615") > 0))
			return false; /* a DECIMAL column's: stays DECIMAL */
		if (len == 20 || (len == 19 && strcmp(v, "9223372036854775808") >= 0))
			big = true;
	}
	return big;
}

/* n updates of one table setting the same columns, as one statement that
 * joins a derived table of the new values with the table:
 *   UPDATE (SELECT 1 AS dm_0, 'x' AS dm_2 UNION ALL VALUES (2, 'y'), …) AS dm_v
 *   STRAIGHT_JOIN t AS dm_t FORCE INDEX (PRIMARY) ON dm_t.id = dm_v.dm_0
 *   SET dm_t.c = dm_v.dm_2
 * The first row names the columns; the rest are a table value constructor
 * where the target has one (MariaDB 10.3.3+), else more UNION ALL SELECTs,
 * which the target parses into one SELECT each: a third more CPU per row
 * updated (docs/incremental.md).
 * It is still an UPDATE (no insert, no delete, the target's triggers and
 * cascades see what they would), and the found-rows count still proves
 * that every row was there. */
static int update_batch(dm_applier *a, const dm_netchange *u, size_t n, dm_err *err)
{
	const dm_tinfo *t = u[0].t;
	if (flush_stmt(a, err) < 0)
		return -1;
	if (a->stmt_cap < t->ncols + 1) {
		a->stmt_cap = t->ncols + 1;
		a->stmt_mask = dm_xrealloc(a->stmt_mask, a->stmt_cap * sizeof(bool));
	}
	bool *cast = a->stmt_mask; /* free while no statement is open */
	for (size_t i = 0; i < t->ncols; i++)
		cast[i] = needs_unsigned(u, n, i);
	dm_buf *b = stmt_open(a);
	dm_buf_puts(b, "UPDATE (");
	for (size_t r = 0; r < n; r++) {
		if (r == 0)
			dm_buf_puts(b, "SELECT ");
		else if (a->tvc)
			dm_buf_puts(b, r == 1 ? " UNION ALL VALUES (" : "), (");
		else
			dm_buf_puts(b, " UNION ALL SELECT ");
		bool first = true;
		for (size_t i = 0; i < t->ncols; i++) {
			const char *v = batch_value(&u[r], i);
			if (v == NULL)
				continue;
			if (!first)
				dm_buf_puts(b, ", ");
			if (cast[i]) {
				dm_buf_puts(b, "CAST(");
				dm_buf_puts(b, v);
				dm_buf_puts(b, " AS UNSIGNED)");
			} else {
				dm_buf_puts(b, v);
			}
			if (r == 0)
				dm_buf_printf(b, " AS dm_%zu", i);
			first = false;
		}
	}
	if (a->tvc && n > 1)
		dm_buf_putc(b, ')');
	/* the new values drive, each finding its row through the key: with
	 * a few rows the optimizer would rather scan, locking rows the other
	 * appliers may be changing */
	dm_buf_printf(b, ") AS dm_v STRAIGHT_JOIN %s AS dm_t FORCE INDEX (%s) ON ", t->qname,
	              t->qkey_index);
	for (size_t k = 0; k < t->nkey; k++)
		dm_buf_printf(b, "%sdm_t.%s = dm_v.dm_%zu", k ? " AND " : "", t->qcols[t->key[k]],
		              t->key[k]);
	dm_buf_puts(b, " SET ");
	bool first = true;
	for (size_t i = 0; i < t->ncols; i++) {
		if (!writes(t, u[0].after, i) || is_key(t, i))
			continue;
		dm_buf_printf(b, "%sdm_t.%s = dm_v.dm_%zu", first ? "" : ", ", t->qcols[i], i);
		first = false;
	}
	return stmt_close(a, (int64_t)n, err);
}

/* Turns the window's net changes into statements. */
static int drain(dm_applier *a, dm_err *err)
{
	if (dm_compact_rows(a->win) == 0)
		return 0;
	const dm_netchange *net;
	size_t n = dm_compact_net(a->win, &net);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n;) {
		const dm_netchange *c = &net[i];
		if (c->op == DM_CH_INSERT) {
			rc = add_insert(a, c->t, c->after, false, err);
		} else if (c->op == DM_CH_DELETE) {
			rc = add_delete(a, c->t, c->before, false, err);
		} else if (batchable_update(c)) {
			size_t k = update_run(c, n - i, (size_t)a->o.batch);
			if (k > 1) {
				rc = update_batch(a, c, k, err);
				i += k;
				continue;
			}
			rc = do_update(a, c->t, c->before, c->after, false, err);
		} else {
			rc = do_update(a, c->t, c->before, c->after, false, err);
		}
		i++;
	}
	/* the statements hold copies: the window's changes can go */
	dm_compact_reset(a->win);
	return rc;
}

static int apply_row(dm_applier *a, const dm_apply_item *it, dm_err *err)
{
	const dm_rowchange *c = it->row;
	bool safe = it->at->safe;
	switch (c->op) {
	case DM_CH_INSERT: return add_insert(a, c->t, c->after, safe, err);
	case DM_CH_DELETE: return add_delete(a, c->t, c->before, safe, err);
	default: return do_update(a, c->t, c->before, c->after, safe, err);
	}
}

static int drain_send(dm_applier *a, dm_err *err)
{
	a->drained_ms = dm_clock_mono_ms();
	if (drain(a, err) < 0 || flush_stmt(a, err) < 0)
		return -1;
	return send_pipe(a, err);
}

/* Into the window when compaction allows, else in order after it. */
static int take_row(dm_applier *a, dm_apply_item *it, dm_err *err)
{
	bool was_empty = dm_compact_rows(a->win) == 0;
	if (it->at->safe || !dm_compact_add(a->win, it->row)) {
		/* after the window, in order; an empty window takes any change
		 * that may be reordered at all */
		if (drain(a, err) < 0)
			return -1;
		was_empty = true;
		if (it->at->safe || !dm_compact_add(a->win, it->row))
			return apply_row(a, it, err);
	}
	it->row = NULL; /* the window holds it */
	if (was_empty)
		a->win_start_ms = dm_clock_mono_ms();
	if (dm_compact_rows(a->win) >= WINDOW_ROWS || dm_compact_bytes(a->win) >= WINDOW_BYTES)
		return drain_send(a, err);
	return 0;
}

static void note_position(dm_applier *a, dm_txnpos *at)
{
	if (a->last == at)
		return;
	dm_txnpos_unref(a->last);
	a->last = dm_txnpos_ref(at);
	a->dirty = true;
}

static int begin(dm_applier *a, dm_err *err)
{
	if (a->in_txn)
		return 0;
	if (exec(a, "START TRANSACTION", -1, err) < 0)
		return -1;
	a->in_txn = true;
	a->txn_start_ms = dm_clock_mono_ms();
	return 0;
}

/* Statement, checkpoint, COMMIT. */
static int commit(dm_applier *a, dm_err *err)
{
	if (!a->dirty && !a->in_txn)
		return 0;
	if (drain(a, err) < 0 || flush_stmt(a, err) < 0 || send_pipe(a, err) < 0)
		return -1;
	/* never backwards: after a restart the dispatcher replays positions
	 * this applier is past */
	const dm_binpos *ap = &a->applied;
	if (a->last && dm_binpos_cmp(&a->last->end, ap) > 0)
		ap = &a->last->end;
	/* the newest flush point known: where the dispatcher last had
	 * nothing in flight */
	const dm_txnpos *f = NULL;
	if (a->last)
		f = a->last->flush ? a->last->flush : a->last;
	if (a->flushed && (f == NULL || dm_binpos_cmp(&a->flushed->end, &f->end) > 0))
		f = a->flushed;
	if (a->dirty && f) {
		dm_buf b;
		dm_buf_init(&b);
		dm_syncckpt_save_sql(a->o.ckpt, &b, a->o.id, ap, &f->end);
		int rc = exec(a, b.data, -1, err);
		dm_buf_fini(&b);
		if (rc < 0)
			return -1;
	}
	/* the checkpoint and COMMIT: one more round trip */
	if ((a->in_txn && exec(a, "COMMIT", -1, err) < 0) || send_pipe(a, err) < 0)
		return -1;
	a->in_txn = false;
	if (ap != &a->applied)
		dm_binpos_copy(&a->applied, ap);
	a->dirty = false;
	a->txn_rows = 0;
	a->last_save_ms = dm_clock_mono_ms();
	pthread_mutex_lock(&a->status_mu);
	dm_binpos_copy(&a->committed, &a->applied);
	pthread_mutex_unlock(&a->status_mu);
	return 0;
}

static int handle(dm_applier *a, dm_apply_item *it, dm_err *err)
{
	switch (it->kind) {
	case DM_ITEM_ROW: {
		if (dm_binpos_cmp(&it->at->start, &a->applied) < 0) {
			dm_apply_item_free(it); /* committed before a restart */
			return 0;
		}
		int rc = begin(a, err);
		if (rc == 0)
			rc = take_row(a, it, err);
		a->partial = true;
		a->txn_rows++;
		dm_apply_item_free(it);
		return rc;
	}
	case DM_ITEM_MARK:
		if (dm_binpos_cmp(&it->at->end, &a->applied) > 0)
			note_position(a, it->at);
		dm_apply_item_free(it);
		a->partial = false;
		if (a->txn_rows >= COMMIT_ROWS ||
		    (a->in_txn && dm_queue_len(a->q) == 0 &&
		     dm_clock_mono_ms() - a->txn_start_ms >= COMMIT_WAIT_MS))
			return commit(a, err);
		return 0;
	default: { /* FLUSH: always written, so the flush point stays recent */
		if (a->last == NULL || dm_binpos_cmp(&it->at->end, &a->applied) > 0)
			note_position(a, it->at);
		dm_txnpos_unref(a->flushed);
		a->flushed = dm_txnpos_ref(it->at);
		a->dirty = true;
		dm_apply_item_free(it);
		a->partial = false;
		int rc = commit(a, err);
		if (rc == 0)
			dm_queue_push(a->o.acks, (void *)(intptr_t)(a->o.id + 1), -1);
		return rc;
	}
	}
}

static void *run(void *arg)
{
	dm_applier *a = arg;
	dm_err err;
	for (;;) {
		void *p;
		int wait = POP_WAIT_MS;
		if (a->in_txn && !a->partial) {
			int64_t left = COMMIT_WAIT_MS - (dm_clock_mono_ms() - a->txn_start_ms);
			wait = left < 1 ? 1 : (int)left;
		}
		/* nothing more to fold for now: let the target start on it,
		 * when busy once the window's oldest change has waited
		 * WINDOW_WAIT_MS; until then sleep rather than wake for every
		 * change pushed */
		if (dm_compact_rows(a->win) > 0 && dm_queue_len(a->q) == 0) {
			int64_t now = dm_clock_mono_ms();
			int64_t left = now - a->drained_ms >= WINDOW_WAIT_MS
			                       ? 0
			                       : WINDOW_WAIT_MS - (now - a->win_start_ms);
			if (left > 0 && !cancelled(a)) {
				dm_clock_sleep_ms(left);
				continue;
			}
			if (drain_send(a, &err) < 0) {
				fail(a, &err);
				break;
			}
		}
		int rc = dm_queue_pop(a->q, &p, wait);
		if (cancelled(a)) {
			if (rc == DM_QUEUE_OK)
				dm_apply_item_free(p);
			break;
		}
		int hrc = 0;
		bool closed = rc == DM_QUEUE_CLOSED;
		if (closed) {
			if (!a->partial)
				hrc = commit(a, &err); /* stopped after the last item: keep it */
		} else if (rc == DM_QUEUE_TIMEOUT) {
			bool idle_save =
			        a->dirty && dm_clock_mono_ms() - a->last_save_ms >= IDLE_SAVE_MS;
			if (!a->partial && (a->in_txn || idle_save))
				hrc = commit(a, &err);
		} else {
			hrc = handle(a, p, &err);
		}
		if (hrc < 0) {
			if (!a->failed)
				fail(a, &err);
			break;
		}
		if (closed)
			break;
	}
	if (a->in_txn && a->m)
		mysql_query(a->m, "ROLLBACK");
	atomic_store(&a->stopped, true);
	return NULL;
}

int dm_applier_start(const dm_applier_opts *o, dm_applier **out, dm_err *err)
{
	dm_applier *a = dm_xcalloc(1, sizeof(*a));
	a->o = *o;
	dm_binpos_init(&a->applied);
	dm_binpos_copy(&a->applied, o->applied);
	dm_buf_init(&a->pipe);
	atomic_init(&a->stopped, false);
	pthread_mutex_init(&a->status_mu, NULL);
	dm_binpos_init(&a->committed);
	dm_binpos_copy(&a->committed, o->applied);
	a->last_save_ms = dm_clock_mono_ms();
	if (connect_target(a, err) < 0) {
		dm_buf_fini(&a->pipe);
		dm_binpos_fini(&a->applied);
		dm_binpos_fini(&a->committed);
		pthread_mutex_destroy(&a->status_mu);
		free(a);
		return -1;
	}
	a->q = dm_queue_new(QUEUE_ITEMS);
	a->win = dm_compact_new();
	pthread_create(&a->thread, NULL, run, a);
	*out = a;
	return 0;
}

bool dm_applier_push(dm_applier *a, dm_apply_item *it)
{
	for (;;) {
		if (atomic_load(&a->stopped) || cancelled(a)) {
			dm_apply_item_free(it);
			return false;
		}
		if (dm_queue_push(a->q, it, POP_WAIT_MS) == DM_QUEUE_OK)
			return true;
	}
}

int dm_applier_stop(dm_applier *a, bool *transient, dm_err *err)
{
	dm_queue_close(a->q);
	pthread_join(a->thread, NULL);
	void *p;
	while (dm_queue_pop(a->q, &p, 0) == DM_QUEUE_OK)
		dm_apply_item_free(p);
	int rc = 0;
	*transient = false;
	if (a->failed) {
		*err = a->err;
		*transient = a->failed_transient;
		rc = -1;
	}
	dm_txnpos_unref(a->last);
	dm_txnpos_unref(a->flushed);
	if (a->m)
		mysql_close(a->m);
	dm_queue_free(a->q);
	dm_compact_free(a->win);
	dm_buf_fini(&a->pipe);
	free(a->pipe_off);
	free(a->pipe_want);
	free(a->stmt_mask);
	dm_binpos_fini(&a->applied);
	dm_binpos_fini(&a->committed);
	pthread_mutex_destroy(&a->status_mu);
	free(a);
	return rc;
}

void dm_applier_committed(dm_applier *a, dm_binpos *out)
{
	pthread_mutex_lock(&a->status_mu);
	dm_binpos_copy(out, &a->committed);
	pthread_mutex_unlock(&a->status_mu);
}
