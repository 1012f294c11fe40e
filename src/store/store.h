/* Key-value store the master keeps cluster state in (sources, tasks,
 * members, bindings).
 *
 * One interface, several backends: SQLite in one file (the single-node
 * default, below) and etcd v3 (HA, later). The master only ever sees this
 * header, so it cannot depend on which backend it runs on.
 *
 * Semantics follow etcd v3 so that the etcd backend is a translation, not a
 * reimplementation:
 * - the store has one int64 revision, 0 when empty, increased by exactly one
 *   by every write that changes at least one key (a put, a delete of an
 *   existing key, a successful txn with effect). Reads, failed compares and
 *   deletes of absent keys do not move it;
 * - every key carries create_revision (the revision that created it since its
 *   last deletion), mod_revision (the revision of its last write) and version
 *   (1 on creation, +1 per put, reset by deletion);
 * - the changes of the last revisions are kept as events, so a watcher can
 *   resume from a revision; older history is compacted away.
 *
 * Keys are non-empty C strings of at most DM_STORE_KEY_MAX bytes, compared
 * bytewise (memcmp). Values are byte strings of at most DM_STORE_VALUE_MAX.
 *
 * Every call is thread-safe. Functions that can fail return 0 or -1 and fill
 * err; out-parameters are not written on failure.
 *
 * Leases (etcd's TTL-bound keys, for member keepalive) are not implemented.
 * Room is left for them: a `lease` id field in dm_store_op and dm_kv, plus
 * dm_store_lease_grant / _keepalive / _revoke entries in the backend ops. The
 * SQLite backend would then expire keys from a timer as ordinary deletes. */
#ifndef DM_STORE_STORE_H
#define DM_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/queue.h"

/* Limits, chosen to fit etcd's defaults (1.5 MiB requests, 128 txn ops) so a
 * state that works on SQLite also works on etcd. Exceeding one is DM_ELIMIT. */
#define DM_STORE_KEY_MAX     4096
#define DM_STORE_VALUE_MAX   (1024 * 1024)
#define DM_STORE_TXN_MAX_OPS 128
#define DM_STORE_WATCH_MAX   256 /* live watches per store */

/* Default number of revisions whose events are kept for watchers. */
#define DM_STORE_HISTORY_DEFAULT 10000

typedef struct dm_store dm_store;
/* A running watch; dm_store_watch() starts one, dm_store_watch_cancel() ends
 * it. (The type cannot share the function's name in C.) */
typedef struct dm_store_watcher dm_store_watcher;

typedef struct dm_kv {
	char *key;
	char *value; /* value_len bytes plus a NUL, for string values */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
} dm_kv;

/* Frees a kv returned by dm_store_get. NULL is a no-op. */
void dm_kv_free(dm_kv *kv);

typedef struct dm_kv_list {
	dm_kv *items; /* sorted by key */
	size_t len;
} dm_kv_list;

/* Frees the items of a list filled by dm_store_range and leaves it empty.
 * The list struct itself belongs to the caller (usually on its stack). */
void dm_kv_list_free(dm_kv_list *list);

/* Opens (creating if needed) the store in one SQLite file, mode 0600 when
 * created. The file must not be in use by another process: the connection
 * holds an exclusive lock for as long as the store is open. Fails with
 * DM_EINVAL for a file of a newer dm or a SQLite file that is not a store,
 * DM_EIO for I/O or lock problems. The caller frees with dm_store_close. */
dm_store *dm_store_open_sqlite(const char *path, dm_err *err);

typedef struct dm_store_sqlite_opts {
	int64_t history;         /* revisions of events kept; 0: the default */
	int64_t busy_timeout_ms; /* wait for a lock held by another process; 0: 5000 */
} dm_store_sqlite_opts;

/* As dm_store_open_sqlite, with explicit options (opts may be NULL). */
dm_store *dm_store_open_sqlite_opts(const char *path, const dm_store_sqlite_opts *opts,
                                    dm_err *err);

/* Closes the store. Every watch must have been cancelled first: closing
 * under a live watch is a bug and aborts. NULL is a no-op. */
void dm_store_close(dm_store *s);

/* Name of the backend, e.g. "sqlite". */
const char *dm_store_backend(const dm_store *s);

/* Reads one key into a new kv the caller frees with dm_kv_free. An absent
 * key is DM_ENOTFOUND. */
int dm_store_get(dm_store *s, const char *key, dm_kv **ret, dm_err *err);

/* Writes key = value[0..len) and returns the new store revision in *ret_rev
 * (may be NULL). value may be NULL when len is 0. */
int dm_store_put(dm_store *s, const char *key, const void *value, size_t len, int64_t *ret_rev,
                 dm_err *err);

/* Deletes key. Deleting an absent key succeeds without writing anything:
 * *ret_rev (may be NULL) is the revision of the deletion, or 0 when the key
 * did not exist, which is how callers tell the two apart. */
int dm_store_delete(dm_store *s, const char *key, int64_t *ret_rev, dm_err *err);

/* Lists every key starting with prefix ("" lists everything), sorted by key,
 * into *ret (free with dm_kv_list_free), with the store revision the list
 * was read at in *ret_rev (may be NULL): watching from that revision sees
 * exactly the changes after the list. */
int dm_store_range(dm_store *s, const char *prefix, dm_kv_list *ret, int64_t *ret_rev, dm_err *err);

/* Deletes every key starting with prefix in one revision. *ret_deleted (may
 * be NULL) is the number of keys deleted; *ret_rev (may be NULL) the
 * revision of the deletion, or 0 when nothing matched. */
int dm_store_delete_prefix(dm_store *s, const char *prefix, size_t *ret_deleted, int64_t *ret_rev,
                           dm_err *err);

enum dm_store_cmp_target {
	DM_STORE_CMP_MOD_REVISION,    /* 0 means "the key must not exist" */
	DM_STORE_CMP_CREATE_REVISION, /* 0 likewise */
	DM_STORE_CMP_VERSION,         /* 0 likewise */
	DM_STORE_CMP_VALUE,           /* never holds for an absent key */
};

/* One compare of a txn; the only relation is equality (as the master needs
 * nothing else; etcd's other relations can be added as a field later). */
typedef struct dm_store_cmp {
	const char *key;
	enum dm_store_cmp_target target;
	int64_t number;    /* for the revision and version targets */
	const void *value; /* for DM_STORE_CMP_VALUE */
	size_t value_len;
} dm_store_cmp;

enum dm_store_op_type {
	DM_STORE_OP_PUT,
	DM_STORE_OP_DELETE, /* of one key; absent keys are skipped */
};

typedef struct dm_store_op {
	enum dm_store_op_type type;
	const char *key;
	const void *value; /* PUT only */
	size_t value_len;
} dm_store_op;

/* Compare-and-swap: if every compare holds, applies every op atomically in
 * one revision, and *ret_succeeded is true; otherwise nothing is written and
 * *ret_succeeded is false (not an error: the caller re-reads and retries).
 * *ret_rev (may be NULL) is the store revision after the txn: the revision of
 * its writes, or the unchanged current one. A key may appear in at most one
 * op (as in etcd); ncmp and nops are at most DM_STORE_TXN_MAX_OPS. */
int dm_store_txn(dm_store *s, const dm_store_cmp *cmps, size_t ncmp, const dm_store_op *ops,
                 size_t nops, bool *ret_succeeded, int64_t *ret_rev, dm_err *err);

/* Drops the events of revisions <= rev (rev <= current revision). Watches
 * from before rev then fail. Compacting below an earlier compaction is a
 * no-op. Backends also compact on their own, keeping the last history
 * revisions. */
int dm_store_compact(dm_store *s, int64_t rev, dm_err *err);

enum dm_store_event_type {
	DM_STORE_EVENT_PUT,
	DM_STORE_EVENT_DELETE,
	/* The watch ended: error_code and error say why; no event follows.
	 * DM_ECONFLICT means the watcher fell behind compaction (mod_revision
	 * holds the compacted revision): re-list, then watch again. */
	DM_STORE_EVENT_ERROR,
};

typedef struct dm_store_event {
	enum dm_store_event_type type;
	char *key;   /* NULL for ERROR */
	char *value; /* PUT: value_len bytes plus a NUL; else "" */
	size_t value_len;
	int64_t mod_revision;        /* the revision of the change */
	int64_t create_revision;     /* PUT only, else 0 */
	int64_t version;             /* PUT only, else 0 */
	enum dm_err_code error_code; /* ERROR only */
	char *error;                 /* ERROR only: a sentence, else NULL */
} dm_store_event;

/* NULL is a no-op. */
void dm_store_event_free(dm_store_event *ev);

/* Watches every key starting with prefix, delivering a dm_store_event * for
 * each change with mod_revision > start_rev, in revision order, into q. The
 * caller owns q (it must outlive the watch) and every event it pops.
 *
 * History since start_rev is replayed first, so "range, then watch from the
 * range's revision" misses nothing. start_rev below the compacted revision
 * fails with DM_ECONFLICT ("compacted"): re-list and use the new revision.
 *
 * Delivery policy: each watch has its own thread that reads the event log
 * and pushes into q, blocking while q is full. Writers never touch q, so a
 * slow consumer never slows a writer. A consumer so slow that the history
 * it has not received is compacted away gets one DM_STORE_EVENT_ERROR
 * (DM_ECONFLICT) and the watch ends. Closing q also ends delivery.
 *
 * The handle is freed by dm_store_watch_cancel, also after an ERROR event. */
int dm_store_watch(dm_store *s, const char *prefix, int64_t start_rev, dm_queue *q,
                   dm_store_watcher **ret, dm_err *err);

/* Stops the watch and frees it: once it returns, nothing more is pushed
 * into the queue, and events already there are the caller's to drain and
 * free. Takes at most ~100 ms when the delivery thread waits on a full
 * queue. NULL is a no-op. */
void dm_store_watch_cancel(dm_store_watcher *w);

#endif
