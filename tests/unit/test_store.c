#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/mem.h"
#include "base/queue.h"
#include "store/store.h"

/* Every test gets its own scratch directory, passed through *state. */
static int setup(void **state)
{
	char *dir = dm_xstrdup("/tmp/dm-test-store-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	char *cmd = dm_xasprintf("rm -rf '%s'", (char *)*state);
	int rc = system(cmd);
	free(cmd);
	free(*state);
	return rc;
}

static char *db_path(void **state)
{
	return dm_xasprintf("%s/store.db", (char *)*state);
}

static dm_store *open_store(void **state, int64_t history)
{
	char *path = db_path(state);
	dm_store_sqlite_opts opts = {.history = history};
	dm_err err = {0};
	dm_store *s = dm_store_open_sqlite_opts(path, &opts, &err);
	if (s == NULL)
		fail_msg("open %s: %s", path, err.msg);
	free(path);
	return s;
}

static int64_t put(dm_store *s, const char *key, const char *value)
{
	int64_t rev = -1;
	dm_err err = {0};
	if (dm_store_put(s, key, value, strlen(value), &rev, &err) < 0)
		fail_msg("put %s: %s", key, err.msg);
	return rev;
}

static dm_store_event *pop(dm_queue *q)
{
	void *item = NULL;
	assert_int_equal(dm_queue_pop(q, &item, 5000), DM_QUEUE_OK);
	return item;
}

static void expect_event(dm_queue *q, enum dm_store_event_type type, const char *key,
                         const char *value, int64_t rev)
{
	dm_store_event *ev = pop(q);
	assert_int_equal(ev->type, type);
	assert_string_equal(ev->key, key);
	assert_string_equal(ev->value, value);
	assert_int_equal(ev->mod_revision, rev);
	dm_store_event_free(ev);
}

static void drain(dm_queue *q)
{
	void *item;
	while (dm_queue_pop(q, &item, 0) == DM_QUEUE_OK)
		dm_store_event_free(item);
}

static void test_put_get_versions(void **state)
{
	dm_store *s = open_store(state, 0);
	dm_err err = {0};
	dm_kv *kv = (dm_kv *)0x1;
	assert_string_equal(dm_store_backend(s), "sqlite");

	assert_int_equal(dm_store_get(s, "a", &kv, &err), -1);
	assert_int_equal(err.code, DM_ENOTFOUND);
	assert_ptr_equal(kv, (dm_kv *)0x1);

	assert_int_equal(put(s, "a", "one"), 1);
	assert_int_equal(put(s, "b", "x"), 2);
	assert_int_equal(put(s, "a", "two"), 3);
	assert_int_equal(dm_store_get(s, "a", &kv, &err), 0);
	assert_string_equal(kv->key, "a");
	assert_string_equal(kv->value, "two");
	assert_int_equal(kv->value_len, 3);
	assert_int_equal(kv->create_revision, 1);
	assert_int_equal(kv->mod_revision, 3);
	assert_int_equal(kv->version, 2);
	dm_kv_free(kv);

	/* Binary values keep embedded NULs; empty values are allowed. */
	int64_t rev;
	assert_int_equal(dm_store_put(s, "bin", "x\0y", 3, &rev, &err), 0);
	assert_int_equal(rev, 4);
	assert_int_equal(dm_store_get(s, "bin", &kv, &err), 0);
	assert_int_equal(kv->value_len, 3);
	assert_memory_equal(kv->value, "x\0y", 4);
	dm_kv_free(kv);
	assert_int_equal(dm_store_put(s, "empty", NULL, 0, NULL, &err), 0);
	assert_int_equal(dm_store_get(s, "empty", &kv, &err), 0);
	assert_int_equal(kv->value_len, 0);
	assert_string_equal(kv->value, "");
	dm_kv_free(kv);

	/* Bad input is refused before it reaches the backend. */
	assert_int_equal(dm_store_put(s, "", "v", 1, NULL, &err), -1);
	assert_int_equal(err.code, DM_EINVAL);
	char *big = dm_xmalloc(DM_STORE_KEY_MAX + 2);
	memset(big, 'k', DM_STORE_KEY_MAX + 1);
	big[DM_STORE_KEY_MAX + 1] = '\0';
	assert_int_equal(dm_store_put(s, big, "v", 1, NULL, &err), -1);
	assert_int_equal(err.code, DM_ELIMIT);
	free(big);
	assert_int_equal(dm_store_put(s, "k", "v", DM_STORE_VALUE_MAX + 1, NULL, &err), -1);
	assert_int_equal(err.code, DM_ELIMIT);
	dm_store_close(s);
}

static void test_range_prefix(void **state)
{
	dm_store *s = open_store(state, 0);
	dm_err err = {0};
	const char *keys[] = {"a0", "a/2", "b", "a", "a/1", "a/1/x", "\xff\xff", "\xff"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		put(s, keys[i], keys[i]);

	dm_kv_list l = {0};
	int64_t rev = 0;
	assert_int_equal(dm_store_range(s, "a/", &l, &rev, &err), 0);
	assert_int_equal(rev, 8);
	assert_int_equal(l.len, 3);
	assert_string_equal(l.items[0].key, "a/1");
	assert_string_equal(l.items[1].key, "a/1/x");
	assert_string_equal(l.items[2].key, "a/2");
	assert_string_equal(l.items[2].value, "a/2");
	assert_int_equal(l.items[2].mod_revision, 2);
	dm_kv_list_free(&l);
	assert_null(l.items);

	assert_int_equal(dm_store_range(s, "", &l, NULL, &err), 0);
	assert_int_equal(l.len, 8);
	for (size_t i = 1; i < l.len; i++)
		assert_true(strcmp(l.items[i - 1].key, l.items[i].key) < 0);
	dm_kv_list_free(&l);

	/* A prefix ending in 0xff has no etcd-style end key: unbounded. */
	assert_int_equal(dm_store_range(s, "\xff", &l, NULL, &err), 0);
	assert_int_equal(l.len, 2);
	dm_kv_list_free(&l);
	assert_int_equal(dm_store_range(s, "zzz", &l, NULL, &err), 0);
	assert_int_equal(l.len, 0);
	dm_kv_list_free(&l);
	dm_store_close(s);
}

static void test_delete(void **state)
{
	dm_store *s = open_store(state, 0);
	dm_err err = {0};
	dm_kv *kv;
	int64_t rev = -1;
	put(s, "k", "1");
	put(s, "k", "2");
	assert_int_equal(dm_store_delete(s, "k", &rev, &err), 0);
	assert_int_equal(rev, 3);
	assert_int_equal(dm_store_get(s, "k", &kv, &err), -1);
	assert_int_equal(err.code, DM_ENOTFOUND);

	/* Absent: success, ret_rev 0, and the revision does not move. */
	assert_int_equal(dm_store_delete(s, "k", &rev, &err), 0);
	assert_int_equal(rev, 0);
	assert_int_equal(put(s, "k", "3"), 4);

	/* Recreated: a new life, version back to 1. */
	assert_int_equal(dm_store_get(s, "k", &kv, &err), 0);
	assert_int_equal(kv->create_revision, 4);
	assert_int_equal(kv->version, 1);
	dm_kv_free(kv);

	put(s, "p/1", "x");
	put(s, "p/2", "x");
	put(s, "p0", "x");
	size_t n = 0;
	assert_int_equal(dm_store_delete_prefix(s, "p/", &n, &rev, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rev, 8);
	assert_int_equal(dm_store_delete_prefix(s, "p/", &n, &rev, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rev, 0);
	dm_kv_list l;
	assert_int_equal(dm_store_range(s, "p", &l, &rev, &err), 0);
	assert_int_equal(l.len, 1);
	assert_string_equal(l.items[0].key, "p0");
	assert_int_equal(rev, 8);
	dm_kv_list_free(&l);
	dm_store_close(s);
}

static void test_txn(void **state)
{
	dm_store *s = open_store(state, 0);
	dm_err err = {0};
	bool ok = false;
	int64_t rev = -1;

	/* Create-if-absent, twice: only the first wins. */
	dm_store_cmp absent = {.key = "lock", .target = DM_STORE_CMP_MOD_REVISION, .number = 0};
	dm_store_op take[] = {
	        {.type = DM_STORE_OP_PUT, .key = "lock", .value = "me", .value_len = 2},
	        {.type = DM_STORE_OP_PUT, .key = "owner", .value = "me", .value_len = 2},
	};
	assert_int_equal(dm_store_txn(s, &absent, 1, take, 2, &ok, &rev, &err), 0);
	assert_true(ok);
	assert_int_equal(rev, 1);
	assert_int_equal(dm_store_txn(s, &absent, 1, take, 2, &ok, &rev, &err), 0);
	assert_false(ok);
	assert_int_equal(rev, 1);

	/* Both ops share one revision. */
	dm_kv *kv;
	assert_int_equal(dm_store_get(s, "owner", &kv, &err), 0);
	assert_int_equal(kv->mod_revision, 1);
	dm_kv_free(kv);

	/* CAS race: two writers read mod_revision 1; the first wins. */
	dm_store_cmp at1 = {.key = "lock", .target = DM_STORE_CMP_MOD_REVISION, .number = 1};
	dm_store_op w1 = {.type = DM_STORE_OP_PUT, .key = "lock", .value = "w1", .value_len = 2};
	dm_store_op w2 = {.type = DM_STORE_OP_PUT, .key = "lock", .value = "w2", .value_len = 2};
	assert_int_equal(dm_store_txn(s, &at1, 1, &w1, 1, &ok, &rev, &err), 0);
	assert_true(ok);
	assert_int_equal(rev, 2);
	assert_int_equal(dm_store_txn(s, &at1, 1, &w2, 1, &ok, &rev, &err), 0);
	assert_false(ok);
	assert_int_equal(rev, 2);
	assert_int_equal(dm_store_get(s, "lock", &kv, &err), 0);
	assert_string_equal(kv->value, "w1");
	assert_int_equal(kv->version, 2);
	dm_kv_free(kv);

	/* Value and version compares; an absent key's value never matches. */
	dm_store_cmp cmps[] = {
	        {.key = "lock", .target = DM_STORE_CMP_VALUE, .value = "w1", .value_len = 2},
	        {.key = "lock", .target = DM_STORE_CMP_VERSION, .number = 2},
	        {.key = "lock", .target = DM_STORE_CMP_CREATE_REVISION, .number = 1},
	};
	dm_store_op del = {.type = DM_STORE_OP_DELETE, .key = "owner"};
	assert_int_equal(dm_store_txn(s, cmps, 3, &del, 1, &ok, &rev, &err), 0);
	assert_true(ok);
	assert_int_equal(rev, 3);
	dm_store_cmp nothing = {
	        .key = "none", .target = DM_STORE_CMP_VALUE, .value = "", .value_len = 0};
	assert_int_equal(dm_store_txn(s, &nothing, 1, &w1, 1, &ok, &rev, &err), 0);
	assert_false(ok);

	/* A key twice in one txn is refused, as etcd does. */
	dm_store_op twice[] = {w1, w2};
	assert_int_equal(dm_store_txn(s, NULL, 0, twice, 2, &ok, &rev, &err), -1);
	assert_int_equal(err.code, DM_EINVAL);
	dm_store_close(s);
}

enum { RACERS = 8 };

struct race {
	dm_store *s;
	pthread_barrier_t go;
	int wins;
	pthread_mutex_t mu;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	dm_err err = {0};
	dm_kv *kv;
	bool ok;
	assert_int_equal(dm_store_get(r->s, "leader", &kv, &err), 0);
	dm_store_cmp c = {
	        .key = "leader", .target = DM_STORE_CMP_MOD_REVISION, .number = kv->mod_revision};
	dm_kv_free(kv);
	dm_store_op op = {.type = DM_STORE_OP_PUT, .key = "leader", .value = "me", .value_len = 2};
	pthread_barrier_wait(&r->go);
	assert_int_equal(dm_store_txn(r->s, &c, 1, &op, 1, &ok, NULL, &err), 0);
	pthread_mutex_lock(&r->mu);
	r->wins += ok;
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Racers that read the same mod_revision: exactly one CAS succeeds. */
static void test_txn_race_threads(void **state)
{
	struct race r = {.s = open_store(state, 0)};
	pthread_barrier_init(&r.go, NULL, RACERS);
	pthread_mutex_init(&r.mu, NULL);
	put(r.s, "leader", "none");
	pthread_t t[RACERS];
	for (int i = 0; i < RACERS; i++)
		pthread_create(&t[i], NULL, racer, &r);
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(r.wins, 1);
	pthread_barrier_destroy(&r.go);
	pthread_mutex_destroy(&r.mu);
	dm_store_close(r.s);
}

static void test_watch_history(void **state)
{
	dm_store *s = open_store(state, 0);
	dm_err err = {0};
	dm_queue *q = dm_queue_new(4);
	dm_store_watcher *w;
	put(s, "t/a", "1");                    /* 1 */
	put(s, "other", "x");                  /* 2 */
	put(s, "t/b", "2");                    /* 3 */
	dm_store_delete(s, "t/a", NULL, &err); /* 4 */

	/* From 0: the whole history of the prefix, in order, then live. */
	assert_int_equal(dm_store_watch(s, "t/", 0, q, &w, &err), 0);
	expect_event(q, DM_STORE_EVENT_PUT, "t/a", "1", 1);
	expect_event(q, DM_STORE_EVENT_PUT, "t/b", "2", 3);
	expect_event(q, DM_STORE_EVENT_DELETE, "t/a", "", 4);
	put(s, "t/c", "3");
	dm_store_event *ev = pop(q);
	assert_string_equal(ev->key, "t/c");
	assert_int_equal(ev->create_revision, 5);
	assert_int_equal(ev->version, 1);
	dm_store_event_free(ev);
	dm_store_watch_cancel(w);

	/* From a later revision: only what came after it. A txn's events
	 * share its revision and come in op order. */
	assert_int_equal(dm_store_watch(s, "t/", 3, q, &w, &err), 0);
	expect_event(q, DM_STORE_EVENT_DELETE, "t/a", "", 4);
	expect_event(q, DM_STORE_EVENT_PUT, "t/c", "3", 5);
	dm_store_op ops[] = {
	        {.type = DM_STORE_OP_PUT, .key = "t/z", .value = "z", .value_len = 1},
	        {.type = DM_STORE_OP_DELETE, .key = "t/b"},
	};
	bool ok;
	assert_int_equal(dm_store_txn(s, NULL, 0, ops, 2, &ok, NULL, &err), 0);
	expect_event(q, DM_STORE_EVENT_PUT, "t/z", "z", 6);
	expect_event(q, DM_STORE_EVENT_DELETE, "t/b", "", 6);
	size_t n;
	assert_int_equal(dm_store_delete_prefix(s, "t/", &n, NULL, &err), 0);
	assert_int_equal(n, 2);
	expect_event(q, DM_STORE_EVENT_DELETE, "t/c", "", 7);
	expect_event(q, DM_STORE_EVENT_DELETE, "t/z", "", 7);

	/* After cancel nothing more arrives. */
	dm_store_watch_cancel(w);
	put(s, "t/after", "x");
	void *item;
	assert_int_equal(dm_queue_pop(q, &item, 200), DM_QUEUE_TIMEOUT);

	/* From a future revision: waits for it. */
	assert_int_equal(dm_store_watch(s, "t/", 9, q, &w, &err), 0);
	put(s, "t/9", "x");
	put(s, "t/10", "x");
	expect_event(q, DM_STORE_EVENT_PUT, "t/10", "x", 10);
	dm_store_watch_cancel(w);
	dm_queue_free(q);
	dm_store_close(s);
}

enum { LIVE_PUTS = 300 };

static void *live_writer(void *arg)
{
	dm_store *s = arg;
	for (int i = 0; i < LIVE_PUTS; i++) {
		char key[32];
		snprintf(key, sizeof(key), i % 2 ? "w/%d" : "noise/%d", i);
		put(s, key, "v");
	}
	return NULL;
}

/* Another thread's writes reach the watcher through a queue much smaller
 * than the traffic, in revision order, none lost; cancel while the
 * delivery thread is blocked on the full queue returns promptly. */
static void test_watch_live_from_thread(void **state)
{
	dm_store *s = open_store(state, 0);
	dm_err err = {0};
	dm_queue *q = dm_queue_new(2);
	dm_store_watcher *w;
	assert_int_equal(dm_store_watch(s, "w/", 0, q, &w, &err), 0);
	pthread_t t;
	pthread_create(&t, NULL, live_writer, s);
	int64_t last = 0;
	for (int i = 0; i < LIVE_PUTS / 2; i++) {
		dm_store_event *ev = pop(q);
		assert_int_equal(ev->type, DM_STORE_EVENT_PUT);
		assert_int_equal(strncmp(ev->key, "w/", 2), 0);
		assert_true(ev->mod_revision > last);
		assert_int_equal(ev->mod_revision % 2, 0);
		last = ev->mod_revision;
		dm_store_event_free(ev);
	}
	pthread_join(t, NULL);
	assert_int_equal(last, LIVE_PUTS);

	dm_store_watcher *w2;
	assert_int_equal(dm_store_watch(s, "", 0, q, &w2, &err), 0);
	dm_clock_sleep_ms(100); /* let it fill the queue and block */
	/* a watcher blocked on a full queue must still be cancellable (or
	 * these calls never return) */
	dm_store_watch_cancel(w2);
	dm_store_watch_cancel(w);
	assert_int_equal(dm_queue_len(q), 2);
	drain(q);
	dm_queue_free(q);
	dm_store_close(s);
}

static void test_compaction(void **state)
{
	dm_store *s = open_store(state, 5);
	dm_err err = {0};
	dm_queue *q = dm_queue_new(64);
	dm_store_watcher *w = NULL;
	for (int i = 0; i < 20; i++)
		put(s, "c/k", "v");

	/* The last 5 revisions are kept: 15 is the compacted revision. */
	assert_int_equal(dm_store_watch(s, "c/", 14, q, &w, &err), -1);
	assert_int_equal(err.code, DM_ECONFLICT);
	assert_non_null(strstr(err.msg, "compacted"));
	assert_null(w);
	assert_int_equal(dm_store_watch(s, "c/", 15, q, &w, &err), 0);
	expect_event(q, DM_STORE_EVENT_PUT, "c/k", "v", 16);
	dm_store_watch_cancel(w);
	drain(q);

	/* Explicit compaction; below an earlier one is a no-op; beyond the
	 * head is an error. */
	assert_int_equal(dm_store_compact(s, 18, &err), 0);
	assert_int_equal(dm_store_compact(s, 3, &err), 0);
	assert_int_equal(dm_store_compact(s, 21, &err), -1);
	assert_int_equal(err.code, DM_EINVAL);
	assert_int_equal(dm_store_watch(s, "c/", 17, q, &w, &err), -1);
	assert_int_equal(err.code, DM_ECONFLICT);
	assert_int_equal(dm_store_watch(s, "c/", 18, q, &w, &err), 0);
	expect_event(q, DM_STORE_EVENT_PUT, "c/k", "v", 19);
	expect_event(q, DM_STORE_EVENT_PUT, "c/k", "v", 20);
	dm_store_watch_cancel(w);
	dm_queue_free(q);
	dm_store_close(s);
}

/* A consumer that does not pop while more than `history` revisions are
 * written falls behind: it gets what was read, then one ERROR event. */
static void test_slow_watcher_gets_compacted(void **state)
{
	dm_store *s = open_store(state, 5);
	dm_err err = {0};
	dm_queue *q = dm_queue_new(1);
	dm_store_watcher *w;
	assert_int_equal(dm_store_watch(s, "", 0, q, &w, &err), 0);
	put(s, "k", "v");
	while (dm_queue_len(q) == 0)
		dm_clock_sleep_ms(1);
	for (int i = 0; i < 30; i++)
		put(s, "k", "v");
	int64_t last = 0;
	dm_store_event *ev;
	for (;;) {
		ev = pop(q);
		if (ev->type == DM_STORE_EVENT_ERROR)
			break;
		assert_true(ev->mod_revision > last);
		last = ev->mod_revision;
		dm_store_event_free(ev);
	}
	assert_int_equal(ev->error_code, DM_ECONFLICT);
	assert_non_null(strstr(ev->error, "compacted"));
	/* The compacted revision when the watcher looked: at most 31 - 5. */
	assert_true(ev->mod_revision > last);
	assert_true(ev->mod_revision <= 26);
	dm_store_event_free(ev);
	void *item;
	assert_int_equal(dm_queue_pop(q, &item, 200), DM_QUEUE_TIMEOUT);
	dm_store_watch_cancel(w);
	dm_queue_free(q);
	dm_store_close(s);
}

static void test_reopen_and_schema(void **state)
{
	char *path = db_path(state);
	dm_err err = {0};
	dm_store *s = open_store(state, 5);
	for (int i = 0; i < 10; i++)
		put(s, i % 2 ? "r/odd" : "r/even", "v");

	/* The file is locked while open. */
	dm_store_sqlite_opts quick = {.busy_timeout_ms = 50};
	assert_null(dm_store_open_sqlite_opts(path, &quick, &err));
	assert_int_equal(err.code, DM_EIO);
	assert_non_null(strstr(err.msg, "another dm-master"));
	dm_store_close(s);

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	s = open_store(state, 5);
	dm_kv_list l;
	int64_t rev;
	assert_int_equal(dm_store_range(s, "r/", &l, &rev, &err), 0);
	assert_int_equal(rev, 10);
	assert_int_equal(l.len, 2);
	assert_string_equal(l.items[0].key, "r/even");
	assert_int_equal(l.items[0].version, 5);
	assert_int_equal(l.items[0].mod_revision, 9);
	assert_int_equal(l.items[1].create_revision, 2);
	dm_kv_list_free(&l);
	/* The compacted revision and the history survive too. */
	dm_store_watcher *w;
	dm_queue *q = dm_queue_new(8);
	assert_int_equal(dm_store_watch(s, "r/", 4, q, &w, &err), -1);
	assert_int_equal(dm_store_watch(s, "r/", 5, q, &w, &err), 0);
	expect_event(q, DM_STORE_EVENT_PUT, "r/odd", "v", 6);
	dm_store_watch_cancel(w);
	drain(q);
	dm_queue_free(q);
	assert_int_equal(put(s, "r/odd", "v"), 11);
	dm_store_close(s);

	/* A file from a newer dm is refused, and left alone. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "UPDATE meta SET value = 99 WHERE name = 'schema_version'",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_null(dm_store_open_sqlite(path, &err));
	assert_int_equal(err.code, DM_EINVAL);
	assert_non_null(strstr(err.msg, "newer"));
	free(path);

	/* A SQLite file that is not a store is refused. */
	path = dm_xasprintf("%s/other.db", (char *)*state);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(dm_store_open_sqlite(path, &err));
	assert_int_equal(err.code, DM_EINVAL);
	assert_non_null(strstr(err.msg, "not a dm store"));
	free(path);

	path = dm_xasprintf("%s/missing-dir/x.db", (char *)*state);
	assert_null(dm_store_open_sqlite(path, &err));
	assert_int_equal(err.code, DM_EIO);
	free(path);
}

/* kill -9 in the middle of a stream of writes: the reopened file is
 * consistent. Every put added exactly one version and one event, so the
 * versions and the replayed history both add up to the revision. */
static void test_crash_leaves_consistent_state(void **state)
{
	char *path = db_path(state);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dm_store_sqlite_opts opts = {.history = INT32_MAX};
		dm_store *s = dm_store_open_sqlite_opts(path, &opts, NULL);
		for (int i = 0; s != NULL; i++) {
			char key[32];
			snprintf(key, sizeof(key), "crash/%d", i % 7);
			dm_store_put(s, key, "v", 1, NULL, NULL);
		}
		_exit(3);
	}
	dm_clock_sleep_ms(300);
	kill(pid, SIGKILL);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	free(path);

	dm_store *s = open_store(state, 0);
	dm_err err = {0};
	dm_kv_list l;
	int64_t rev, versions = 0, max_mod = 0;
	assert_int_equal(dm_store_range(s, "crash/", &l, &rev, &err), 0);
	assert_true(rev > 0);
	for (size_t i = 0; i < l.len; i++) {
		versions += l.items[i].version;
		if (l.items[i].mod_revision > max_mod)
			max_mod = l.items[i].mod_revision;
	}
	dm_kv_list_free(&l);
	assert_int_equal(versions, rev);
	assert_int_equal(max_mod, rev);

	dm_queue *q = dm_queue_new(16);
	dm_store_watcher *w;
	assert_int_equal(dm_store_watch(s, "", 0, q, &w, &err), 0);
	for (int64_t i = 1; i <= rev; i++) {
		dm_store_event *ev = pop(q);
		assert_int_equal(ev->mod_revision, i);
		dm_store_event_free(ev);
	}
	assert_int_equal(put(s, "crash/0", "v"), rev + 1);
	dm_store_event *ev = pop(q);
	assert_int_equal(ev->mod_revision, rev + 1);
	dm_store_event_free(ev);
	dm_store_watch_cancel(w);
	drain(q);
	dm_queue_free(q);
	dm_store_close(s);
}

enum { WRITERS = 4, PUTS_EACH = 500 };

struct writer {
	dm_store *s;
	int id;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	for (int i = 0; i < PUTS_EACH; i++) {
		char key[32], value[32];
		snprintf(key, sizeof(key), "mt/%d", w->id);
		snprintf(value, sizeof(value), "%d", i);
		put(w->s, key, value);
	}
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	dm_store *s = open_store(state, 0);
	dm_err err = {0};
	struct writer w[WRITERS];
	pthread_t t[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct writer){.s = s, .id = i};
		pthread_create(&t[i], NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	dm_kv_list l;
	int64_t rev;
	assert_int_equal(dm_store_range(s, "mt/", &l, &rev, &err), 0);
	assert_int_equal(rev, WRITERS * PUTS_EACH);
	assert_int_equal(l.len, WRITERS);
	for (size_t i = 0; i < l.len; i++) {
		assert_int_equal(l.items[i].version, PUTS_EACH);
		assert_string_equal(l.items[i].value, "499");
	}
	dm_kv_list_free(&l);
	dm_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_put_get_versions, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_range_prefix, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_txn, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_txn_race_threads, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_watch_history, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_watch_live_from_thread, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_slow_watcher_gets_compacted, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reopen_and_schema, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_crash_leaves_consistent_state, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
