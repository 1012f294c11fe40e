/* The store in one SQLite file.
 *
 * Tables: kv (the current keys), events (one row per changed key per
 * revision, the watch history, trimmed to the last `history` revisions) and
 * meta (schema_version, revision, compact_revision). Every write is one
 * SQLite transaction that changes kv, appends its events and stores the new
 * revision, so a crash at any instant leaves all three consistent.
 * Watch delivery lives in sqlite_watch.c; what both share, in sqlite_impl.h.
 *
 * Durability: WAL with synchronous=FULL. In WAL mode NORMAL already survives
 * a crash of the process, but may lose the last commits on power loss or a
 * kernel crash; the master answers API calls after the commit, so an
 * acknowledged change must be on disk. The cost (one fsync per write) is
 * irrelevant at control-plane rates.
 *
 * The connection runs in locking_mode=EXCLUSIVE: it holds the file's lock
 * while open, so a second dm-master on the same file fails at open instead
 * of silently forking the revision counter, and no -shm file is needed. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "store/sqlite_impl.h"
#include "store/store_impl.h"

#define SCHEMA_VERSION  1
#define BUSY_TIMEOUT_MS 5000

/* Key ranges are always [?lo, ?hi): an unbounded range binds `top` as hi (see
 * struct sqlite_store), so each statement has one form and uses the index. */
static const char *const stmt_sql[ST_COUNT] = {
        [ST_GET] = "SELECT value, create_rev, mod_rev, version FROM kv WHERE key = ?1",
        [ST_RANGE] = "SELECT key, value, create_rev, mod_rev, version FROM kv"
                     " WHERE key >= ?1 AND key < ?2 ORDER BY key",
        [ST_PUT] = "INSERT INTO kv (key, value, create_rev, mod_rev, version)"
                   " VALUES (?1, ?2, ?3, ?3, 1) ON CONFLICT (key) DO UPDATE SET"
                   " value = excluded.value, mod_rev = excluded.mod_rev, version = version + 1"
                   " RETURNING create_rev, version",
        [ST_DEL] = "DELETE FROM kv WHERE key = ?1",
        [ST_EVENT] = "INSERT INTO events (rev, seq, type, key, value, create_rev, version)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        [ST_DEL_RANGE_EVENTS] =
                "INSERT INTO events (rev, seq, type, key, value, create_rev, version)"
                " SELECT ?3, row_number() OVER (ORDER BY key) - 1, 1, key, NULL, 0, 0"
                " FROM kv WHERE key >= ?1 AND key < ?2",
        [ST_DEL_RANGE] = "DELETE FROM kv WHERE key >= ?1 AND key < ?2",
        [ST_SET_META] = "UPDATE meta SET value = ?2 WHERE name = ?1",
        [ST_COMPACT] = "DELETE FROM events WHERE rev <= ?1",
        [ST_EVENTS] = "SELECT rev, seq, type, key, value, create_rev, version FROM events"
                      " WHERE (rev, seq) > (?1, ?2) AND key >= ?3 AND key < ?4"
                      " ORDER BY rev, seq",
        [ST_BEGIN] = "BEGIN IMMEDIATE",
        [ST_COMMIT] = "COMMIT",
        [ST_ROLLBACK] = "ROLLBACK",
};

/* events.type holds enum dm_store_event_type (0 put, 1 delete); a delete's
 * value is NULL and its create_rev and version 0, as in etcd. */
static const char schema_sql[] =
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB NOT NULL,"
        " create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, version INTEGER NOT NULL)"
        " WITHOUT ROWID;"
        "CREATE TABLE events (rev INTEGER NOT NULL, seq INTEGER NOT NULL, type INTEGER NOT NULL,"
        " key BLOB NOT NULL, value BLOB, create_rev INTEGER NOT NULL, version INTEGER NOT NULL,"
        " PRIMARY KEY (rev, seq)) WITHOUT ROWID;"
        "INSERT INTO meta VALUES ('schema_version', 1), ('revision', 0)," /* SCHEMA_VERSION */
        " ('compact_revision', 0);";

int dm_store_sqlite_error(struct sqlite_store *s, int rc, const char *what, dm_err *err)
{
	const char *hint = "";
	int primary = rc & 0xff;
	if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
		hint = " (is another dm-master using this file?)";
	else if (primary == SQLITE_FULL)
		hint = " (free some disk space)";
	return dm_err_set(err, DM_EIO, "store %s: %s: %s%s", s->path, what, sqlite3_errmsg(s->db),
	                  hint);
}

/* Binds [prefix, end) at i and i+1; *ret_end must be freed after the
 * statement is reset. */
static void bind_prefix(struct sqlite_store *s, sqlite3_stmt *st, int i, const char *prefix,
                        char **ret_end)
{
	size_t n;
	bind_key(st, i, prefix);
	*ret_end = NULL;
	if (dm_store_prefix_end(prefix, ret_end, &n))
		bind_bytes(st, i + 1, *ret_end, n);
	else
		bind_bytes(st, i + 1, s->top, DM_STORE_KEY_MAX + 1);
}

/* Runs a statement that returns no rows. */
static int run(struct sqlite_store *s, sqlite3_stmt *st, const char *what, dm_err *err)
{
	int rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE)
		return dm_store_sqlite_error(s, rc, what, err);
	return 0;
}

static int set_meta(struct sqlite_store *s, const char *name, int64_t v, dm_err *err)
{
	sqlite3_stmt *st = s->st[ST_SET_META];
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	return run(s, st, "cannot update meta", err);
}

/* Undoes the open write transaction, if SQLite has not already. */
static void write_abort(struct sqlite_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		run(s, s->st[ST_ROLLBACK], "rollback", NULL);
}

/* Stores new_rev, trims the history, commits and publishes the revision.
 * Caller holds mu inside a write transaction; on failure it is rolled back. */
static int write_commit(struct sqlite_store *s, int64_t new_rev, dm_err *err)
{
	int64_t compact = new_rev - s->history;
	if (set_meta(s, "revision", new_rev, err) < 0)
		goto fail;
	if (compact > s->compact_rev) {
		if (set_meta(s, "compact_revision", compact, err) < 0)
			goto fail;
		sqlite3_bind_int64(s->st[ST_COMPACT], 1, compact);
		if (run(s, s->st[ST_COMPACT], "cannot compact the event log", err) < 0)
			goto fail;
	}
	if (run(s, s->st[ST_COMMIT], "cannot commit", err) < 0)
		goto fail;
	s->rev = new_rev;
	if (compact > s->compact_rev)
		s->compact_rev = compact;
	pthread_cond_broadcast(&s->changed);
	return 0;
fail:
	write_abort(s);
	return -1;
}

static int sq_get(dm_store *base, const char *key, dm_kv **ret, dm_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	pthread_mutex_lock(&s->mu);
	sqlite3_stmt *st = s->st[ST_GET];
	bind_key(st, 1, key);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		dm_kv *kv = dm_xcalloc(1, sizeof(*kv));
		kv->key = dm_xstrdup(key);
		kv->value = col_dup(st, 0, &kv->value_len);
		kv->create_revision = sqlite3_column_int64(st, 1);
		kv->mod_revision = sqlite3_column_int64(st, 2);
		kv->version = sqlite3_column_int64(st, 3);
		*ret = kv;
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = dm_err_set(err, DM_ENOTFOUND, "store key \"%.200s\" not found", key);
	} else {
		rc = dm_store_sqlite_error(s, rc, "cannot read a key", err);
	}
	stmt_done(st);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int sq_range(dm_store *base, const char *prefix, dm_kv_list *ret, int64_t *ret_rev,
                    dm_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	dm_kv_list list = {0};
	size_t cap = 0;
	char *end;
	pthread_mutex_lock(&s->mu);
	sqlite3_stmt *st = s->st[ST_RANGE];
	bind_prefix(s, st, 1, prefix, &end);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (list.len == cap) {
			cap = cap ? cap * 2 : 16;
			list.items = dm_xrealloc(list.items, cap * sizeof(*list.items));
		}
		dm_kv *kv = &list.items[list.len++];
		kv->key = col_dup(st, 0, NULL);
		kv->value = col_dup(st, 1, &kv->value_len);
		kv->create_revision = sqlite3_column_int64(st, 2);
		kv->mod_revision = sqlite3_column_int64(st, 3);
		kv->version = sqlite3_column_int64(st, 4);
	}
	stmt_done(st);
	free(end);
	int64_t rev = s->rev;
	if (rc != SQLITE_DONE) {
		dm_store_sqlite_error(s, rc, "cannot list keys", err);
		pthread_mutex_unlock(&s->mu);
		dm_kv_list_free(&list);
		return -1;
	}
	pthread_mutex_unlock(&s->mu);
	*ret = list;
	if (ret_rev != NULL)
		*ret_rev = rev;
	return 0;
}

/* Evaluates one compare inside the write transaction. */
static int eval_cmp(struct sqlite_store *s, const dm_store_cmp *c, bool *ret_ok, dm_err *err)
{
	sqlite3_stmt *st = s->st[ST_GET];
	bind_key(st, 1, c->key);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		dm_store_sqlite_error(s, rc, "cannot read a key", err);
		stmt_done(st);
		return -1;
	}
	bool exists = rc == SQLITE_ROW;
	bool ok = false;
	switch (c->target) {
	case DM_STORE_CMP_MOD_REVISION:
		ok = c->number == (exists ? sqlite3_column_int64(st, 2) : 0);
		break;
	case DM_STORE_CMP_CREATE_REVISION:
		ok = c->number == (exists ? sqlite3_column_int64(st, 1) : 0);
		break;
	case DM_STORE_CMP_VERSION:
		ok = c->number == (exists ? sqlite3_column_int64(st, 3) : 0);
		break;
	case DM_STORE_CMP_VALUE:
		if (exists) {
			const void *v = sqlite3_column_blob(st, 0);
			size_t n = (size_t)sqlite3_column_bytes(st, 0);
			ok = n == c->value_len && (n == 0 || memcmp(v, c->value, n) == 0);
		}
		break;
	}
	stmt_done(st);
	*ret_ok = ok;
	return 0;
}

static int add_event(struct sqlite_store *s, int64_t rev, int64_t seq, int type, const char *key,
                     const void *value, size_t len, int64_t create_rev, int64_t version,
                     dm_err *err)
{
	sqlite3_stmt *st = s->st[ST_EVENT];
	sqlite3_bind_int64(st, 1, rev);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int(st, 3, type);
	bind_key(st, 4, key);
	if (type == DM_STORE_EVENT_PUT)
		bind_bytes(st, 5, value, len);
	sqlite3_bind_int64(st, 6, create_rev);
	sqlite3_bind_int64(st, 7, version);
	return run(s, st, "cannot append to the event log", err);
}

/* Applies one op at revision rev as event number *seq; *seq moves on when
 * the op changed something. */
static int apply_op(struct sqlite_store *s, const dm_store_op *o, int64_t rev, int64_t *seq,
                    dm_err *err)
{
	if (o->type == DM_STORE_OP_DELETE) {
		bind_key(s->st[ST_DEL], 1, o->key);
		if (run(s, s->st[ST_DEL], "cannot delete a key", err) < 0)
			return -1;
		if (sqlite3_changes(s->db) == 0)
			return 0;
		return add_event(s, rev, (*seq)++, DM_STORE_EVENT_DELETE, o->key, NULL, 0, 0, 0,
		                 err);
	}
	sqlite3_stmt *st = s->st[ST_PUT];
	bind_key(st, 1, o->key);
	bind_bytes(st, 2, o->value, o->value_len);
	sqlite3_bind_int64(st, 3, rev);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		stmt_done(st);
		return dm_store_sqlite_error(s, rc, "cannot write a key", err);
	}
	int64_t create_rev = sqlite3_column_int64(st, 0);
	int64_t version = sqlite3_column_int64(st, 1);
	/* RETURNING rows are all computed by the first step; finishing the
	 * statement before the next one keeps the write complete. */
	rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE)
		return dm_store_sqlite_error(s, rc, "cannot write a key", err);
	return add_event(s, rev, (*seq)++, DM_STORE_EVENT_PUT, o->key, o->value, o->value_len,
	                 create_rev, version, err);
}

static int sq_txn(dm_store *base, const dm_store_cmp *cmps, size_t ncmp, const dm_store_op *ops,
                  size_t nops, bool *ret_succeeded, int64_t *ret_rev, bool *ret_changed,
                  dm_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	bool ok = true;
	int64_t seq = 0;
	pthread_mutex_lock(&s->mu);
	int64_t new_rev = s->rev + 1;
	if (run(s, s->st[ST_BEGIN], "cannot begin a transaction", err) < 0)
		goto fail;
	for (size_t i = 0; i < ncmp && ok; i++)
		if (eval_cmp(s, &cmps[i], &ok, err) < 0)
			goto fail_txn;
	for (size_t i = 0; i < nops && ok; i++)
		if (apply_op(s, &ops[i], new_rev, &seq, err) < 0)
			goto fail_txn;
	if (seq == 0) {
		/* A failed compare or only deletes of absent keys: no
		 * revision, as in etcd. */
		write_abort(s);
		new_rev = s->rev;
	} else if (write_commit(s, new_rev, err) < 0) {
		goto fail;
	}
	pthread_mutex_unlock(&s->mu);
	*ret_succeeded = ok;
	*ret_rev = new_rev;
	*ret_changed = seq > 0;
	return 0;
fail_txn:
	write_abort(s);
fail:
	pthread_mutex_unlock(&s->mu);
	return -1;
}

static int sq_delete_prefix(dm_store *base, const char *prefix, size_t *ret_deleted,
                            int64_t *ret_rev, dm_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	char *end = NULL;
	int64_t n = 0;
	pthread_mutex_lock(&s->mu);
	int64_t new_rev = s->rev + 1;
	if (run(s, s->st[ST_BEGIN], "cannot begin a transaction", err) < 0)
		goto fail;
	bind_prefix(s, s->st[ST_DEL_RANGE_EVENTS], 1, prefix, &end);
	sqlite3_bind_int64(s->st[ST_DEL_RANGE_EVENTS], 3, new_rev);
	if (run(s, s->st[ST_DEL_RANGE_EVENTS], "cannot append to the event log", err) < 0)
		goto fail_txn;
	n = sqlite3_changes64(s->db);
	free(end);
	end = NULL;
	if (n == 0) {
		write_abort(s);
		new_rev = 0;
	} else {
		bind_prefix(s, s->st[ST_DEL_RANGE], 1, prefix, &end);
		if (run(s, s->st[ST_DEL_RANGE], "cannot delete keys", err) < 0)
			goto fail_txn;
		if (write_commit(s, new_rev, err) < 0)
			goto fail;
	}
	pthread_mutex_unlock(&s->mu);
	free(end);
	if (ret_deleted != NULL)
		*ret_deleted = (size_t)n;
	if (ret_rev != NULL)
		*ret_rev = new_rev;
	return 0;
fail_txn:
	write_abort(s);
fail:
	pthread_mutex_unlock(&s->mu);
	free(end);
	return -1;
}

static int sq_compact(dm_store *base, int64_t rev, dm_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	int rc = 0;
	pthread_mutex_lock(&s->mu);
	if (rev > s->rev) {
		rc = dm_err_set(err, DM_EINVAL,
		                "store %s: cannot compact to revision %lld, beyond the current "
		                "revision %lld",
		                s->path, (long long)rev, (long long)s->rev);
	} else if (rev > s->compact_rev) {
		sqlite3_bind_int64(s->st[ST_COMPACT], 1, rev);
		if (run(s, s->st[ST_BEGIN], "cannot begin a transaction", err) < 0)
			rc = -1;
		else if (set_meta(s, "compact_revision", rev, err) < 0 ||
		         run(s, s->st[ST_COMPACT], "cannot compact the event log", err) < 0 ||
		         run(s, s->st[ST_COMMIT], "cannot commit", err) < 0)
			rc = -1;
		stmt_done(s->st[ST_COMPACT]);
		if (rc < 0)
			write_abort(s);
		else
			s->compact_rev = rev;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void sq_close(dm_store *base)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	if (s->nwatches != 0) {
		fprintf(stderr, "dm: store %s closed with %zu live watches (a bug)\n", s->path,
		        s->nwatches);
		abort();
	}
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->mu);
	free(s->top);
	free(s->path);
	free(s);
}

static const dm_store_ops sqlite_ops = {
        .name = "sqlite",
        .get = sq_get,
        .range = sq_range,
        .txn = sq_txn,
        .delete_prefix = sq_delete_prefix,
        .compact = sq_compact,
        .watch = dm_store_sqlite_watch,
        .watch_cancel = dm_store_sqlite_watch_cancel,
        .close = sq_close,
};

/* Runs a one-row, one-column query; *ret is 0 when there is no row. */
static int query_int(struct sqlite_store *s, const char *sql, const char *name, int64_t *ret,
                     bool *ret_found, dm_err *err)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return dm_store_sqlite_error(s, rc, "cannot read the schema", err);
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (ret_found != NULL)
		*ret_found = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return dm_store_sqlite_error(s, rc, "cannot read the schema", err);
	return 0;
}

static int read_meta(struct sqlite_store *s, const char *name, int64_t *ret, dm_err *err)
{
	bool found;
	if (query_int(s, "SELECT value FROM meta WHERE name = ?1", name, ret, &found, err) < 0)
		return -1;
	if (!found)
		return dm_err_set(err, DM_EINVAL,
		                  "store %s: meta.%s is missing; the file is damaged", s->path,
		                  name);
	return 0;
}

/* Creates the schema in an empty file, or checks an existing one. */
static int init_schema(struct sqlite_store *s, dm_err *err)
{
	int64_t n, version;
	if (query_int(s,
	              "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'",
	              NULL, &n, NULL, err) < 0)
		return -1;
	if (n == 0) {
		if (query_int(s, "SELECT count(*) FROM sqlite_schema", NULL, &n, NULL, err) < 0)
			return -1;
		if (n > 0)
			return dm_err_set(
			        err, DM_EINVAL,
			        "store %s is a SQLite database but not a dm store (no meta "
			        "table); refusing to use it",
			        s->path);
		int rc = sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return dm_store_sqlite_error(s, rc, "cannot create the schema", err);
		return 0;
	}
	if (read_meta(s, "schema_version", &version, err) < 0)
		return -1;
	if (version > SCHEMA_VERSION)
		return dm_err_set(
		        err, DM_EINVAL,
		        "store %s was written by a newer dm (schema version %lld; this dm "
		        "knows up to %d): upgrade dm, or point it at another file",
		        s->path, (long long)version, SCHEMA_VERSION);
	if (version < 1)
		return dm_err_set(err, DM_EINVAL, "store %s: invalid schema version %lld", s->path,
		                  (long long)version);
	if (read_meta(s, "revision", &s->rev, err) < 0 ||
	    read_meta(s, "compact_revision", &s->compact_rev, err) < 0)
		return -1;
	return 0;
}

static int configure(struct sqlite_store *s, int64_t busy_ms, dm_err *err)
{
	bool wal = false;
	sqlite3_busy_timeout(s->db, (int)busy_ms);
	/* locking_mode must precede the switch to WAL for the WAL index to
	 * live in heap memory and the exclusive lock to be taken. */
	int rc = sqlite3_exec(s->db, "PRAGMA locking_mode = EXCLUSIVE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return dm_store_sqlite_error(s, rc, "cannot set the locking mode", err);
	sqlite3_stmt *st;
	rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		wal = rc == SQLITE_ROW &&
		      strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
		rc = rc == SQLITE_ROW ? SQLITE_OK : rc;
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_OK)
		return dm_store_sqlite_error(s, rc, "cannot switch to WAL", err);
	if (!wal)
		return dm_err_set(err, DM_EIO, "store %s: SQLite refused WAL mode", s->path);
	rc = sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return dm_store_sqlite_error(s, rc, "cannot set synchronous mode", err);
	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return dm_store_sqlite_error(s, rc, "cannot lock the file", err);
	if (init_schema(s, err) < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return dm_store_sqlite_error(s, rc, "cannot create the schema", err);
	for (int i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                        &s->st[i], NULL);
		if (rc != SQLITE_OK)
			return dm_store_sqlite_error(s, rc, "cannot prepare a statement", err);
	}
	return 0;
}

dm_store *dm_store_open_sqlite_opts(const char *path, const dm_store_sqlite_opts *opts, dm_err *err)
{
	if (path == NULL || path[0] == '\0') {
		dm_err_set(err, DM_EINVAL, "store path must not be empty");
		return NULL;
	}
	/* Create the file ourselves: SQLite would apply the umask, and the
	 * store will hold (encrypted) secrets. SQLite gives the WAL the same
	 * mode as the database. */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		dm_err_set(err, DM_EIO, "store %s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);

	struct sqlite_store *s = dm_xcalloc(1, sizeof(*s));
	s->base.ops = &sqlite_ops;
	s->path = dm_xstrdup(path);
	s->history = opts != NULL && opts->history > 0 ? opts->history : DM_STORE_HISTORY_DEFAULT;
	s->top = dm_xmalloc(DM_STORE_KEY_MAX + 1);
	memset(s->top, 0xff, DM_STORE_KEY_MAX + 1);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->changed, NULL);
	int64_t busy =
	        opts != NULL && opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : BUSY_TIMEOUT_MS;
	int rc = sqlite3_open_v2(
	        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
	        NULL);
	if (rc != SQLITE_OK) {
		if (s->db == NULL)
			dm_err_set(err, DM_EIO, "store %s: cannot open: %s", path,
			           sqlite3_errstr(rc));
		else
			dm_store_sqlite_error(s, rc, "cannot open", err);
		sq_close(&s->base);
		return NULL;
	}
	if (configure(s, busy, err) < 0) {
		sq_close(&s->base);
		return NULL;
	}
	return &s->base;
}

dm_store *dm_store_open_sqlite(const char *path, dm_err *err)
{
	return dm_store_open_sqlite_opts(path, NULL, err);
}
