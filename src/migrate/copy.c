#include "migrate/copy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "base/par.h"
#include "base/queue.h"
#include "mysql/sql.h"

#define BLOCK_BYTES  (256 * 1024)
#define PIPE_BLOCKS  4
#define WAIT_MS      200
#define MAX_ATTEMPTS 5

typedef struct pipe {
	dm_queue *q; /* of dm_buf* blocks; closed by the reader at the end */
	const dm_chunk *chunk;
	atomic_bool abandoned; /* the writer gave up: the reader drops the rest */
	atomic_bool failed;    /* the reader failed: never commit this chunk */
	atomic_int refs;
	int64_t rows, bytes; /* written by the reader before it closes q */
} pipe_t;

typedef struct copy {
	const dm_copy_opts *o;
	atomic_size_t next;  /* next chunk of the plan to hand out */
	atomic_int inflight; /* chunks handed out and not yet committed */
	atomic_int running;  /* threads still running */
	atomic_int readers_left;
	atomic_int *attempts;   /* per chunk */
	dm_queue *retry;        /* dm_chunk* to read again */
	dm_queue *ready;        /* pipe_t* waiting for a writer */
	pthread_mutex_t err_mu; /* the only lock: the first fatal error */
	bool failed;
	dm_err err;
} copy_t;

static bool cancelled(copy_t *c)
{
	return atomic_load(c->o->cancel);
}

static void fail(copy_t *c, const dm_err *e)
{
	pthread_mutex_lock(&c->err_mu);
	if (!c->failed) {
		c->failed = true;
		c->err = *e;
	}
	pthread_mutex_unlock(&c->err_mu);
	atomic_store(c->o->cancel, true);
}

static void pipe_release(pipe_t *p)
{
	if (atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	void *b;
	while (dm_queue_pop(p->q, &b, 0) == DM_QUEUE_OK) {
		dm_buf_fini(b);
		free(b);
	}
	dm_queue_free(p->q);
	free(p);
}

/* ---- readers --------------------------------------------------------- */

typedef struct reader {
	copy_t *c;
	MYSQL *m;
	pipe_t *p;
	dm_buf *block;
} reader_t;

/* Hands the current block to the writer; false when the chunk is no
 * longer wanted (abandoned or cancelled). */
static bool flush_block(reader_t *r)
{
	if (r->block == NULL || r->block->len == 0)
		return !atomic_load(&r->p->abandoned);
	for (;;) {
		if (atomic_load(&r->p->abandoned) || cancelled(r->c))
			return false;
		if (dm_queue_push(r->p->q, r->block, WAIT_MS) == DM_QUEUE_OK)
			break;
	}
	r->block = dm_xcalloc(1, sizeof(dm_buf));
	return true;
}

/* The bytes LOAD DATA needs escaped, and the letter after the backslash. */
static const char escape_as[256] = {['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\0'] = '0'};

/* Appends a field escaped for LOAD DATA (\t between fields, \n after rows,
 * backslash escapes), splitting long values over blocks. Runs of bytes
 * that need no escape are copied whole. */
static bool put_escaped(reader_t *r, const char *v, unsigned long len)
{
	const unsigned char *p = (const unsigned char *)v, *end = p + len;
	while (p < end) {
		dm_buf *b = r->block;
		dm_buf_reserve(b, 2 * 4096);
		char *out = b->data + b->len;
		const unsigned char *seg = end - p > 4096 ? p + 4096 : end;
		while (p < seg) {
			const unsigned char *q = p;
			while (q < seg && !escape_as[*q])
				q++;
			memcpy(out, p, (size_t)(q - p));
			out += q - p;
			p = q;
			if (p < seg) {
				*out++ = '\\';
				*out++ = escape_as[*p++];
			}
		}
		b->len = (size_t)(out - b->data);
		b->data[b->len] = '\0';
		if (b->len >= BLOCK_BYTES && !flush_block(r))
			return false;
	}
	return true;
}

/* Appends one row; *bytes grows by its values' size. False when the chunk
 * is no longer wanted. */
static bool encode_row(reader_t *r, const dm_table *t, MYSQL_ROW row, const unsigned long *lens,
                       int64_t *bytes)
{
	for (size_t i = 0; i < t->ncols; i++)
		*bytes += (int64_t)lens[i];
	dm_buf *b = r->block;
	if (r->c->o->use_insert) {
		if (b->len)
			dm_buf_putc(b, ',');
		dm_buf_putc(b, '(');
		for (size_t i = 0; i < t->ncols; i++) {
			if (i)
				dm_buf_putc(b, ',');
			if (row[i] == NULL)
				dm_buf_puts(b, "NULL");
			else if (t->cols[i].kind == DM_COL_BYTES)
				dm_sql_hex(b, row[i], lens[i]);
			else
				dm_buf_append(b, row[i], lens[i]);
		}
		dm_buf_putc(b, ')');
		if (b->len >= r->c->o->statement_size)
			return flush_block(r);
		return true;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		if (i)
			dm_buf_putc(r->block, '\t');
		if (row[i] == NULL)
			dm_buf_puts(r->block, "\\N");
		else if (!put_escaped(r, row[i], lens[i]))
			return false;
	}
	dm_buf_putc(r->block, '\n');
	if (r->block->len >= BLOCK_BYTES)
		return flush_block(r);
	return true;
}

static char *select_sql(const dm_table *t, const dm_chunk *ch)
{
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "SELECT ");
	for (size_t i = 0; i < t->ncols; i++) {
		if (i)
			dm_buf_puts(&q, ", ");
		if (t->cols[i].kind == DM_COL_BIT) {
			dm_buf_puts(&q, "CAST(");
			dm_sql_ident(&q, t->cols[i].name);
			dm_buf_puts(&q, " AS UNSIGNED)");
		} else if (t->cols[i].kind == DM_COL_FLOAT) {
			/* a FLOAT prints with 6 digits; as a DOUBLE, exactly */
			dm_buf_puts(&q, "(");
			dm_sql_ident(&q, t->cols[i].name);
			dm_buf_puts(&q, " + 0e0)");
		} else {
			dm_sql_ident(&q, t->cols[i].name);
		}
	}
	dm_buf_puts(&q, " FROM ");
	dm_sql_table(&q, t->schema, t->name);
	if (ch->where)
		dm_buf_printf(&q, " WHERE %s", ch->where);
	return dm_buf_detach(&q);
}

/* Streams one chunk into a new pipe. -1 only for errors that end the copy
 * (the reader's connection or snapshot is unusable). */
static int read_chunk(reader_t *r, const dm_chunk *ch, dm_err *err)
{
	copy_t *c = r->c;
	const dm_table *t = &c->o->plan->tables[ch->table];
	char *sql = select_sql(t, ch);
	if (mysql_real_query(r->m, sql, strlen(sql)) != 0) {
		dm_mysql_error(r->m, sql, err);
		free(sql);
		return dm_err_prefix(err, "reading `%s`.`%s` chunk %d", t->schema, t->name, ch->id);
	}
	MYSQL_RES *res = mysql_use_result(r->m);
	if (res == NULL) {
		dm_mysql_error(r->m, sql, err);
		free(sql);
		return -1;
	}
	pipe_t *p = dm_xcalloc(1, sizeof(*p));
	p->q = dm_queue_new(PIPE_BLOCKS);
	p->chunk = ch;
	atomic_init(&p->refs, 2);
	r->p = p;
	r->block = dm_xcalloc(1, sizeof(dm_buf));
	bool handed = false;
	while (!cancelled(c)) {
		if (dm_queue_push(c->ready, p, WAIT_MS) == DM_QUEUE_OK) {
			handed = true;
			break;
		}
	}
	int64_t rows = 0, bytes = 0;
	MYSQL_ROW row;
	bool wanted = handed;
	while (wanted && (row = mysql_fetch_row(res)) != NULL) {
		unsigned long *lens = mysql_fetch_lengths(res);
		wanted = encode_row(r, t, row, lens, &bytes);
		rows++;
	}
	int rc = 0;
	if (wanted && mysql_errno(r->m) != 0) {
		dm_mysql_error(r->m, sql, err);
		dm_err_prefix(err, "reading `%s`.`%s` chunk %d", t->schema, t->name, ch->id);
		atomic_store(&p->failed, true);
		rc = -1;
	} else if (wanted) {
		wanted = flush_block(r);
	}
	mysql_free_result(res); /* reads what is left of an abandoned chunk */
	free(sql);
	if (r->block) {
		dm_buf_fini(r->block);
		free(r->block);
		r->block = NULL;
	}
	p->rows = rows;
	p->bytes = bytes;
	dm_queue_close(p->q);
	if (!handed)
		pipe_release(p); /* the writer's reference: it never got the pipe */
	pipe_release(p);
	r->p = NULL;
	if (rc == 0 && mysql_errno(r->m) != 0 && !cancelled(c)) {
		dm_mysql_error(r->m, "reading rows", err);
		return -1;
	}
	return rc;
}

/* Once every chunk was handed out and none is in flight, none can come
 * back for a retry: closing the retry queue lets the readers end at once
 * instead of at their next timeout. inflight counts a chunk before it is
 * taken, so it cannot read 0 while a taken chunk may still fail. */
static void maybe_all_done(copy_t *c)
{
	if (atomic_load(&c->inflight) == 0 && atomic_load(&c->next) >= c->o->plan->nchunks)
		dm_queue_close(c->retry);
}

/* The next chunk to read, NULL when there is none left at all. */
static const dm_chunk *take_chunk(copy_t *c)
{
	dm_plan *plan = c->o->plan;
	for (;;) {
		if (cancelled(c))
			return NULL;
		void *ch;
		int rc = dm_queue_pop(c->retry, &ch, 0);
		if (rc == DM_QUEUE_OK)
			return ch;
		if (rc == DM_QUEUE_CLOSED)
			return NULL;
		atomic_fetch_add(&c->inflight, 1);
		size_t i = atomic_fetch_add(&c->next, 1);
		if (i < plan->nchunks)
			return &plan->chunks[i];
		atomic_fetch_sub(&c->inflight, 1);
		maybe_all_done(c);
		/* a writer may still hand a chunk back */
		rc = dm_queue_pop(c->retry, &ch, WAIT_MS);
		if (rc == DM_QUEUE_OK)
			return ch;
		if (rc == DM_QUEUE_CLOSED)
			return NULL;
	}
}

static void *reader_main(void *arg)
{
	reader_t *r = arg;
	copy_t *c = r->c;
	const dm_chunk *ch;
	while ((ch = take_chunk(c)) != NULL) {
		dm_err err;
		if (read_chunk(r, ch, &err) < 0) {
			fail(c, &err);
			break;
		}
	}
	if (atomic_fetch_sub(&c->readers_left, 1) == 1)
		dm_queue_close(c->ready);
	atomic_fetch_sub(&c->running, 1);
	return NULL;
}

/* ---- writers --------------------------------------------------------- */

typedef struct writer {
	copy_t *c;
	int id;
	MYSQL *m;
	atomic_ulong conn_id; /* the server's id of m, 0 while reconnecting */
	pipe_t *p;            /* the pipe LOAD DATA reads */
	dm_buf *cur;          /* block being read */
	size_t off;
} writer_t;

static int infile_init(void **ptr, const char *filename, void *userdata)
{
	(void)filename;
	*ptr = userdata;
	return 0;
}

/* Feeds LOAD DATA from the pipe. Whatever file name the server asks for,
 * only the pipe is ever served: no local file can be read this way. */
static int infile_read(void *ptr, char *buf, unsigned int len)
{
	writer_t *w = ptr;
	while (w->cur == NULL || w->off == w->cur->len) {
		if (w->cur) {
			dm_buf_fini(w->cur);
			free(w->cur);
			w->cur = NULL;
		}
		if (w->p == NULL)
			return -1;
		void *b;
		int rc = dm_queue_pop(w->p->q, &b, WAIT_MS);
		if (rc == DM_QUEUE_TIMEOUT) {
			if (cancelled(w->c))
				return -1;
			continue;
		}
		if (rc == DM_QUEUE_CLOSED)
			return atomic_load(&w->p->failed) || cancelled(w->c) ? -1 : 0;
		w->cur = b;
		w->off = 0;
	}
	size_t n = w->cur->len - w->off;
	if (n > len)
		n = len;
	memcpy(buf, w->cur->data + w->off, n);
	w->off += n;
	return (int)n;
}

static void infile_end(void *ptr)
{
	writer_t *w = ptr;
	if (w->cur) {
		dm_buf_fini(w->cur);
		free(w->cur);
		w->cur = NULL;
	}
}

static int infile_error(void *ptr, char *msg, unsigned int len)
{
	(void)ptr;
	snprintf(msg, len, "the chunk's reader stopped (see the task's error)");
	return 2000;
}

int dm_copy_connect_writer(const dm_db_config *target, const char *what, bool local_infile,
                           unsigned long client_flags, MYSQL **ret, dm_err *err)
{
	dm_db_config c;
	dm_db_config_init(&c);
	dm_db_config_copy(&c, target);
	c.local_infile = local_infile;
	int rc = dm_mysql_connect_flags(&c, what, client_flags, ret, err);
	dm_db_config_fini(&c);
	if (rc < 0)
		return -1;
	if (dm_mysql_query(*ret,
	                   "SET SESSION time_zone = '+00:00', "
	                   "sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,"
	                   "NO_ENGINE_SUBSTITUTION', foreign_key_checks = 0, "
	                   "net_read_timeout = 3600, net_write_timeout = 3600",
	                   err) < 0 ||
	    /* dm only writes, by key: no gap locks between its own sessions */
	    dm_mysql_query(*ret, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", err) <
	            0) {
		mysql_close(*ret);
		*ret = NULL;
		return -1;
	}
	return 0;
}

static int writer_connect(writer_t *w, dm_err *err)
{
	const dm_copy_opts *o = w->c->o;
	if (dm_copy_connect_writer(o->target, o->what, !o->use_insert, 0, &w->m, err) < 0)
		return -1;
	atomic_store(&w->conn_id, mysql_thread_id(w->m));
	if (!o->use_insert)
		mysql_set_local_infile_handler(w->m, infile_init, infile_read, infile_end,
		                               infile_error, w);
	return 0;
}

/* dm_par_each's step: writers connect at once, a TLS handshake each. */
static int connect_one(void *arg, int i, dm_err *err)
{
	return writer_connect(&((writer_t *)arg)[i], err);
}

/* Fails the statement when the target changed or dropped anything. */
static int check_warnings(writer_t *w, dm_err *err)
{
	if (mysql_warning_count(w->m) == 0)
		return 0;
	MYSQL_RES *res;
	if (dm_mysql_store(w->m, "SHOW WARNINGS LIMIT 5", &res, err) < 0)
		return -1;
	dm_buf msg;
	dm_buf_init(&msg);
	MYSQL_ROW row;
	bool ignore_dups = strcmp(w->c->o->on_duplicate, "ignore") == 0;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (ignore_dups && row[1] && strcmp(row[1], "1062") == 0)
			continue;
		dm_buf_printf(&msg, "%s%s %s: %s", msg.len ? "; " : "", row[0], row[1], row[2]);
	}
	mysql_free_result(res);
	int rc = 0;
	if (msg.len)
		rc = dm_err_set(err, DM_EDB, "the target refused data: %s", msg.data);
	dm_buf_fini(&msg);
	return rc;
}

static void column_list(dm_buf *b, const dm_table *t, bool load)
{
	dm_buf_puts(b, " (");
	for (size_t i = 0; i < t->ncols; i++) {
		if (i)
			dm_buf_putc(b, ',');
		if (load && t->cols[i].kind == DM_COL_BIT)
			dm_buf_printf(b, "@dm_bit%zu", i);
		else
			dm_sql_ident(b, t->cols[i].name);
	}
	dm_buf_putc(b, ')');
	if (!load)
		return;
	bool first = true;
	for (size_t i = 0; i < t->ncols; i++) {
		if (t->cols[i].kind != DM_COL_BIT)
			continue;
		dm_buf_puts(b, first ? " SET " : ", ");
		first = false;
		dm_sql_ident(b, t->cols[i].name);
		dm_buf_printf(b, " = CAST(@dm_bit%zu AS UNSIGNED)", i);
	}
}

static int load_chunk(writer_t *w, const dm_table *t, dm_err *err)
{
	const char *dup = w->c->o->on_duplicate;
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_printf(&q, "LOAD DATA LOCAL INFILE 'dm-chunk' %s INTO TABLE ",
	              strcmp(dup, "replace") == 0 ? "REPLACE" : "IGNORE");
	dm_sql_table(&q, t->tschema, t->tname);
	dm_buf_puts(&q, " CHARACTER SET binary FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' "
	                "LINES TERMINATED BY '\\n'");
	column_list(&q, t, true);
	int rc = dm_mysql_query(w->m, q.data, err);
	dm_buf_fini(&q);
	return rc == 0 ? check_warnings(w, err) : rc;
}

static int insert_chunk(writer_t *w, const dm_table *t, dm_err *err)
{
	const char *dup = w->c->o->on_duplicate;
	dm_buf head;
	dm_buf_init(&head);
	dm_buf_puts(&head, strcmp(dup, "replace") == 0  ? "REPLACE INTO "
	                   : strcmp(dup, "ignore") == 0 ? "INSERT IGNORE INTO "
	                                                : "INSERT INTO ");
	dm_sql_table(&head, t->tschema, t->tname);
	column_list(&head, t, false);
	dm_buf_puts(&head, " VALUES ");
	int rc = 0;
	for (;;) {
		void *b;
		int qrc = dm_queue_pop(w->p->q, &b, WAIT_MS);
		if (qrc == DM_QUEUE_TIMEOUT) {
			if (cancelled(w->c)) {
				rc = dm_err_set(err, DM_ECONFLICT, "cancelled");
				break;
			}
			continue;
		}
		if (qrc == DM_QUEUE_CLOSED)
			break;
		dm_buf *blk = b;
		dm_buf stmt;
		dm_buf_init(&stmt);
		dm_buf_append(&stmt, head.data, head.len);
		dm_buf_append(&stmt, blk->data, blk->len);
		dm_buf_fini(blk);
		free(blk);
		if (mysql_real_query(w->m, stmt.data, stmt.len) != 0)
			rc = dm_mysql_error(w->m, head.data, err);
		dm_buf_fini(&stmt);
		if (rc == 0)
			rc = check_warnings(w, err);
		if (rc < 0)
			break;
	}
	dm_buf_fini(&head);
	return rc;
}

/* One chunk, one transaction: rows and checkpoint commit together. */
static int write_chunk(writer_t *w, dm_err *err)
{
	copy_t *c = w->c;
	pipe_t *p = w->p;
	const dm_chunk *ch = p->chunk;
	dm_table *t = &c->o->plan->tables[ch->table];
	int rc = dm_mysql_query(w->m, "START TRANSACTION", err);
	if (rc == 0)
		rc = c->o->use_insert ? insert_chunk(w, t, err) : load_chunk(w, t, err);
	if (rc == 0 && (atomic_load(&p->failed) || cancelled(c)))
		rc = dm_err_set(err, DM_ECONFLICT, "cancelled");
	if (rc == 0) {
		char *done = dm_ckpt_chunk_done_sql(c->o->ckpt, t, ch->id, p->rows, p->bytes);
		rc = dm_mysql_query(w->m, done, err);
		free(done);
	}
	if (rc == 0)
		rc = dm_mysql_query(w->m, "COMMIT", err);
	if (rc < 0) {
		if (err->code != DM_ECONFLICT)
			dm_err_prefix(err, "loading `%s`.`%s` chunk %d into `%s`.`%s`", t->schema,
			              t->name, ch->id, t->tschema, t->tname);
		if (mysql_errno(w->m) == 0 || !dm_mysql_is_transient(mysql_errno(w->m)))
			dm_mysql_query(w->m, "ROLLBACK", NULL);
		return -1;
	}
	atomic_fetch_add(&t->rows_done, p->rows);
	atomic_fetch_add(&t->bytes_done, p->bytes);
	int done = atomic_fetch_add(&t->chunks_done, 1) + 1;
	if (done != t->nchunks)
		return 0;
	dm_log_info(c->o->log, "table `%s`.`%s` copied into `%s`.`%s`: %lld rows", t->schema,
	            t->name, t->tschema, t->tname, (long long)atomic_load(&t->rows_done));
	dm_err terr;
	if (c->o->on_table_done &&
	    c->o->on_table_done(c->o->table_done_arg, ch->table, w->m, &terr) < 0 && !cancelled(c))
		fail(c, &terr); /* not the chunk's failure: it is committed */
	return 0;
}

/* Lets the reader of an abandoned pipe stop, and drops what it sent. */
static void abandon(pipe_t *p)
{
	atomic_store(&p->abandoned, true);
	for (;;) {
		void *b = NULL;
		int rc = dm_queue_pop(p->q, &b, WAIT_MS);
		if (rc == DM_QUEUE_CLOSED)
			break;
		if (rc == DM_QUEUE_OK) {
			dm_buf_fini(b);
			free(b);
		}
	}
}

static int reconnect(writer_t *w, dm_err *err)
{
	atomic_store(&w->conn_id, 0);
	if (w->m)
		mysql_close(w->m);
	w->m = NULL;
	int64_t delay = 500;
	for (int i = 0; i < 10; i++) {
		if (cancelled(w->c))
			return dm_err_set(err, DM_ECONFLICT, "cancelled");
		if (writer_connect(w, err) == 0)
			return 0;
		dm_log_warn(w->c->o->log, "writer %d: cannot reconnect to the target: %s", w->id,
		            err->msg);
		dm_clock_sleep_unless(delay, w->c->o->cancel);
		if (delay < 8000)
			delay *= 2;
	}
	return dm_err_prefix(err, "the target stayed unreachable");
}

static void *writer_main(void *arg)
{
	writer_t *w = arg;
	copy_t *c = w->c;
	for (;;) {
		void *pp;
		int qrc = dm_queue_pop(c->ready, &pp, WAIT_MS);
		if (qrc == DM_QUEUE_CLOSED)
			break;
		if (qrc == DM_QUEUE_TIMEOUT) {
			if (cancelled(c))
				break;
			continue;
		}
		w->p = pp;
		const dm_chunk *ch = w->p->chunk;
		dm_err err;
		if (write_chunk(w, &err) == 0) {
			atomic_fetch_sub(&c->inflight, 1);
			maybe_all_done(c);
		} else if (!cancelled(c)) {
			unsigned int no = mysql_errno(w->m);
			size_t idx = (size_t)(ch - c->o->plan->chunks);
			int attempt = atomic_fetch_add(&c->attempts[idx], 1) + 1;
			abandon(w->p);
			if (dm_mysql_is_transient(no) && attempt < MAX_ATTEMPTS) {
				const dm_table *t = &c->o->plan->tables[ch->table];
				dm_log_warn(
				        c->o->log,
				        "writer %d: `%s`.`%s` chunk %d failed (attempt %d), will "
				        "retry: %s",
				        w->id, t->schema, t->name, ch->id, attempt, err.msg);
				dm_err rerr;
				if (reconnect(w, &rerr) < 0) {
					fail(c, &err);
				} else {
					dm_queue_push(c->retry, (void *)ch, -1);
				}
			} else {
				fail(c, &err);
			}
		}
		pipe_release(w->p);
		w->p = NULL;
		if (cancelled(c))
			break;
	}
	/* Hand back pipes nobody will drain, so their readers can finish. */
	void *pp;
	while (cancelled(c) && dm_queue_pop(c->ready, &pp, 0) == DM_QUEUE_OK) {
		abandon(pp);
		pipe_release(pp);
	}
	atomic_fetch_sub(&c->running, 1);
	return NULL;
}

/* ---- the run --------------------------------------------------------- */

/* KILL QUERY each id on a fresh connection. A cancelled copy needs this
 * when a statement waits inside the server (a row lock held by someone
 * else, a long scan) and so never returns to our callbacks. Killing only
 * the statement keeps the outcome atomic: the chunk's transaction rolls
 * back whole. Best effort: a failure is logged, the copy still ends when
 * the statement does. */
static void kill_statements(const dm_db_config *cfg, const char *what, const unsigned long *ids,
                            int n, dm_log *log)
{
	MYSQL *m = NULL;
	dm_err err;
	if (dm_mysql_connect(cfg, what, &m, &err) < 0) {
		dm_log_warn(log, "cannot stop the copy's statements on the %s: %s", what, err.msg);
		return;
	}
	for (int i = 0; i < n; i++) {
		if (ids[i] == 0)
			continue;
		char sql[64];
		snprintf(sql, sizeof(sql), "KILL QUERY %lu", ids[i]);
		if (dm_mysql_query(m, sql, &err) < 0 && mysql_errno(m) != 1094 /* no such thread */)
			dm_log_warn(log, "cannot stop a copy statement on the %s: %s", what,
			            err.msg);
	}
	mysql_close(m);
}

/* Called once the copy has been cancelled for a second and threads still
 * run: they are waiting inside a server. */
static void stop_blocked(copy_t *c, writer_t *writers, const unsigned long *reader_ids)
{
	const dm_copy_opts *o = c->o;
	unsigned long *ids = dm_xcalloc((size_t)o->nwriters + 1, sizeof(*ids));
	for (int i = 0; i < o->nwriters; i++)
		ids[i] = atomic_load(&writers[i].conn_id);
	dm_log_info(o->log, "the copy is stopping: interrupting statements still running");
	kill_statements(o->target, o->what, ids, o->nwriters, o->log);
	if (o->source)
		kill_statements(o->source, o->source_what, reader_ids, o->nreaders, o->log);
	free(ids);
}

int dm_copy_run(const dm_copy_opts *o, dm_err *err)
{
	copy_t c = {.o = o};
	atomic_init(&c.next, 0);
	atomic_init(&c.inflight, 0);
	atomic_init(&c.running, 0);
	atomic_init(&c.readers_left, o->nreaders);
	pthread_mutex_init(&c.err_mu, NULL);
	c.attempts = dm_xcalloc(o->plan->nchunks + 1, sizeof(*c.attempts));
	c.retry = dm_queue_new(o->plan->nchunks + 1);
	c.ready = dm_queue_new((size_t)o->nwriters);
	reader_t *readers = dm_xcalloc((size_t)o->nreaders, sizeof(*readers));
	writer_t *writers = dm_xcalloc((size_t)o->nwriters, sizeof(*writers));
	pthread_t *threads = dm_xcalloc((size_t)(o->nreaders + o->nwriters), sizeof(*threads));
	int nthreads = 0, rc = 0;

	for (int i = 0; i < o->nwriters; i++) {
		writers[i].c = &c;
		writers[i].id = i;
	}
	if (dm_par_each(o->nwriters, connect_one, writers, err) < 0) {
		rc = -1;
		goto out;
	}
	for (int i = 0; i < o->nwriters; i++) {
		atomic_fetch_add(&c.running, 1);
		pthread_create(&threads[nthreads++], NULL, writer_main, &writers[i]);
	}
	for (int i = 0; i < o->nreaders; i++) {
		readers[i] = (reader_t){.c = &c, .m = o->readers[i]};
		atomic_fetch_add(&c.running, 1);
		pthread_create(&threads[nthreads++], NULL, reader_main, &readers[i]);
	}
	unsigned long *reader_ids = dm_xcalloc((size_t)o->nreaders + 1, sizeof(*reader_ids));
	for (int i = 0; i < o->nreaders; i++)
		reader_ids[i] = mysql_thread_id(o->readers[i]);
	int64_t last = dm_clock_mono_ms(), cancelled_at = 0;
	bool killed = false;
	while (atomic_load(&c.running) > 0) {
		nanosleep(&(struct timespec){.tv_nsec = 20 * 1000000L}, NULL);
		if (!killed && atomic_load(o->cancel)) {
			if (cancelled_at == 0)
				cancelled_at = dm_clock_mono_ms();
			else if (dm_clock_mono_ms() - cancelled_at >= 1000) {
				stop_blocked(&c, writers, reader_ids);
				killed = true;
			}
		}
		if (o->on_progress && dm_clock_mono_ms() - last >= 5000) {
			last = dm_clock_mono_ms();
			o->on_progress(o->progress_arg);
		}
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	free(reader_ids);
	if (c.failed) {
		*err = c.err;
		rc = -1;
	} else if (atomic_load(o->cancel)) {
		rc = dm_err_set(err, DM_ECONFLICT, "cancelled");
	}
out:
	for (int i = 0; i < o->nwriters; i++)
		if (writers[i].m)
			mysql_close(writers[i].m);
	free(readers);
	free(writers);
	free(threads);
	void *ch;
	while (dm_queue_pop(c.retry, &ch, 0) == DM_QUEUE_OK)
		;
	dm_queue_free(c.retry);
	dm_queue_free(c.ready);
	free(c.attempts);
	pthread_mutex_destroy(&c.err_mu);
	return rc;
}
