/* Internals shared by the SQLite backend's files (sqlite.c: the store and
 * its writes; sqlite_watch.c: watch delivery). Only those two include it. */
#ifndef DM_STORE_SQLITE_IMPL_H
#define DM_STORE_SQLITE_IMPL_H

#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#include "base/mem.h"
#include "store/store_impl.h"

enum stmt_id {
	ST_GET,
	ST_RANGE,
	ST_PUT,
	ST_DEL,
	ST_EVENT,
	ST_DEL_RANGE_EVENTS,
	ST_DEL_RANGE,
	ST_SET_META,
	ST_COMPACT,
	ST_EVENTS,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

/* mu protects db, st, rev, compact_rev and nwatches: every use of the
 * connection, by callers and by watch threads, happens with mu held, so the
 * connection is opened SQLITE_OPEN_NOMUTEX. `changed` is broadcast (mu held)
 * after every commit that moved rev and on every watch cancel. */
struct sqlite_store {
	dm_store base;
	pthread_mutex_t mu;
	pthread_cond_t changed;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int64_t rev;         /* == meta.revision */
	int64_t compact_rev; /* == meta.compact_revision; events <= it are gone */
	int64_t history;
	size_t nwatches;
	char *path;
	/* DM_STORE_KEY_MAX + 1 bytes of 0xff: greater (memcmp) than any valid
	 * key, the upper bound of an unbounded range. Never written after open. */
	unsigned char *top;
};

/* Fills err with what failed, SQLite's message and a hint; returns -1. */
int dm_store_sqlite_error(struct sqlite_store *s, int rc, const char *what, dm_err *err);

static inline void bind_bytes(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	/* A NULL pointer would bind SQL NULL; "" binds an empty blob. */
	sqlite3_bind_blob64(st, i, n > 0 ? p : "", n, SQLITE_STATIC);
}

static inline void bind_key(sqlite3_stmt *st, int i, const char *key)
{
	bind_bytes(st, i, key, strlen(key));
}

/* Resets a statement for its next use, dropping the bound pointers. */
static inline void stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* A column as a malloc'd, NUL-terminated copy. */
static inline char *col_dup(sqlite3_stmt *st, int i, size_t *ret_len)
{
	const void *p = sqlite3_column_blob(st, i);
	size_t n = (size_t)sqlite3_column_bytes(st, i);
	char *out = dm_xmalloc(n + 1);
	if (n > 0)
		memcpy(out, p, n);
	out[n] = '\0';
	if (ret_len != NULL)
		*ret_len = n;
	return out;
}

/* The watch ops of the backend (sqlite_watch.c). */
int dm_store_sqlite_watch(dm_store *base, const char *prefix, int64_t start_rev, dm_queue *q,
                          dm_store_watcher **ret, dm_err *err);
void dm_store_sqlite_watch_cancel(dm_store_watcher *base);

#endif
