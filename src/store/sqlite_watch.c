/* Watch delivery for the SQLite store: one thread per watch reads the
 * event log from the watch's cursor and pushes into the caller's queue.
 *
 * Writers never wait for a watcher: they append to the log and broadcast
 * s->changed; the watch thread takes s->mu only to read a batch of events,
 * and pushes with the lock released. History and live changes come through
 * the same path (the log), so a watch started from an old revision needs no
 * separate replay step. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/sqlite_impl.h"

#define WATCH_BATCH   64  /* events read per lock hold */
#define WATCH_TICK_MS 100 /* how often a blocked delivery checks for cancel */

/* Owned by the caller's handle; cur_rev/cur_seq belong to the thread. */
struct sqlite_watch {
	dm_store_watcher base;
	struct sqlite_store *s;
	char *prefix;
	char *end; /* NULL: unbounded, use s->top */
	size_t end_len;
	dm_queue *q;
	int64_t cur_rev, cur_seq; /* everything <= (cur_rev, cur_seq) was read */
	atomic_bool stop;         /* set with s->mu held, so waits cannot miss it */
	pthread_t thread;
};

static dm_store_event *error_event(enum dm_err_code code, int64_t rev, const char *msg)
{
	dm_store_event *ev = dm_xcalloc(1, sizeof(*ev));
	ev->type = DM_STORE_EVENT_ERROR;
	ev->value = dm_xstrdup("");
	ev->mod_revision = rev;
	ev->error_code = code;
	ev->error = dm_xstrdup(msg);
	return ev;
}

/* Reads the next events after the cursor into batch and moves the cursor.
 * Caller holds s->mu. */
static int read_events(struct sqlite_watch *w, dm_store_event **batch, size_t *ret_n, dm_err *err)
{
	struct sqlite_store *s = w->s;
	sqlite3_stmt *st = s->st[ST_EVENTS];
	size_t n = 0;
	int rc = SQLITE_DONE;
	sqlite3_bind_int64(st, 1, w->cur_rev);
	sqlite3_bind_int64(st, 2, w->cur_seq);
	bind_key(st, 3, w->prefix);
	if (w->end != NULL)
		bind_bytes(st, 4, w->end, w->end_len);
	else
		bind_bytes(st, 4, s->top, DM_STORE_KEY_MAX + 1);
	while (n < WATCH_BATCH && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		dm_store_event *ev = dm_xcalloc(1, sizeof(*ev));
		w->cur_rev = ev->mod_revision = sqlite3_column_int64(st, 0);
		w->cur_seq = sqlite3_column_int64(st, 1);
		ev->type = sqlite3_column_int(st, 2) == DM_STORE_EVENT_DELETE
		                   ? DM_STORE_EVENT_DELETE
		                   : DM_STORE_EVENT_PUT;
		ev->key = col_dup(st, 3, NULL);
		ev->value = col_dup(st, 4, &ev->value_len);
		ev->create_revision = sqlite3_column_int64(st, 5);
		ev->version = sqlite3_column_int64(st, 6);
		batch[n++] = ev;
	}
	if (n < WATCH_BATCH && rc != SQLITE_DONE) {
		stmt_done(st);
		for (size_t i = 0; i < n; i++)
			dm_store_event_free(batch[i]);
		return dm_store_sqlite_error(s, rc, "watch cannot read the event log", err);
	}
	stmt_done(st);
	if (n < WATCH_BATCH) {
		/* Everything committed so far was read: skip to the head. */
		if (s->rev > w->cur_rev)
			w->cur_rev = s->rev;
		w->cur_seq = INT64_MAX;
	}
	*ret_n = n;
	return 0;
}

/* Pushes events in order, blocking on a full queue. On cancel or a closed
 * queue, frees what was not delivered and returns false. */
static bool deliver(struct sqlite_watch *w, dm_store_event **evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = DM_QUEUE_TIMEOUT;
		while (rc == DM_QUEUE_TIMEOUT && !atomic_load(&w->stop))
			rc = dm_queue_push(w->q, evs[i], WATCH_TICK_MS);
		if (rc != DM_QUEUE_OK) {
			for (; i < n; i++)
				dm_store_event_free(evs[i]);
			return false;
		}
	}
	return true;
}

/* The delivery thread of one watch: replays the event log from the cursor,
 * then sleeps on s->changed for new commits. Holds s->mu only while reading
 * the log, never while pushing. */
static void *watch_main(void *arg)
{
	struct sqlite_watch *w = arg;
	struct sqlite_store *s = w->s;
	dm_store_event *batch[WATCH_BATCH];
	pthread_mutex_lock(&s->mu);
	while (!atomic_load(&w->stop)) {
		size_t n = 0;
		dm_store_event *end = NULL;
		dm_err err = {0};
		if (w->cur_rev < s->compact_rev ||
		    (w->cur_rev == s->compact_rev && w->cur_seq != INT64_MAX)) {
			char msg[DM_ERR_MSG_MAX];
			snprintf(msg, sizeof(msg),
			         "store %s: watch on \"%.200s\" fell behind: the history after "
			         "revision %lld was compacted to %lld before it was delivered; "
			         "re-list and watch again",
			         s->path, w->prefix, (long long)w->cur_rev,
			         (long long)s->compact_rev);
			end = error_event(DM_ECONFLICT, s->compact_rev, msg);
		} else if (read_events(w, batch, &n, &err) < 0) {
			end = error_event(err.code, s->rev, err.msg);
		} else if (n == 0) {
			while (s->rev <= w->cur_rev && !atomic_load(&w->stop))
				pthread_cond_wait(&s->changed, &s->mu);
			continue;
		}
		pthread_mutex_unlock(&s->mu);
		bool alive = deliver(w, batch, n);
		if (end != NULL) {
			if (alive)
				deliver(w, &end, 1);
			else
				dm_store_event_free(end);
		}
		pthread_mutex_lock(&s->mu);
		if (!alive || end != NULL)
			break;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int dm_store_sqlite_watch(dm_store *base, const char *prefix, int64_t start_rev, dm_queue *q,
                          dm_store_watcher **ret, dm_err *err)
{
	struct sqlite_store *s = (struct sqlite_store *)base;
	pthread_mutex_lock(&s->mu);
	if (s->nwatches >= DM_STORE_WATCH_MAX) {
		pthread_mutex_unlock(&s->mu);
		return dm_err_set(err, DM_ELIMIT, "store %s: more than %d watches", s->path,
		                  DM_STORE_WATCH_MAX);
	}
	if (start_rev < s->compact_rev) {
		int64_t compact = s->compact_rev;
		pthread_mutex_unlock(&s->mu);
		return dm_err_set(
		        err, DM_ECONFLICT,
		        "store %s: cannot watch \"%.200s\" from revision %lld: that history "
		        "was compacted (compacted revision %lld); re-list and watch from "
		        "the revision the list returns",
		        s->path, prefix, (long long)start_rev, (long long)compact);
	}
	s->nwatches++;
	pthread_mutex_unlock(&s->mu);

	struct sqlite_watch *w = dm_xcalloc(1, sizeof(*w));
	w->base.store = base;
	w->s = s;
	w->prefix = dm_xstrdup(prefix);
	if (!dm_store_prefix_end(prefix, &w->end, &w->end_len))
		w->end = NULL;
	w->q = q;
	w->cur_rev = start_rev;
	w->cur_seq = INT64_MAX;
	atomic_init(&w->stop, false);
	int rc = pthread_create(&w->thread, NULL, watch_main, w);
	if (rc != 0) {
		pthread_mutex_lock(&s->mu);
		s->nwatches--;
		pthread_mutex_unlock(&s->mu);
		free(w->prefix);
		free(w->end);
		free(w);
		return dm_err_set(err, DM_ELIMIT, "store %s: cannot start a watch thread: %s",
		                  s->path, strerror(rc));
	}
	*ret = &w->base;
	return 0;
}

void dm_store_sqlite_watch_cancel(dm_store_watcher *base)
{
	struct sqlite_watch *w = (struct sqlite_watch *)base;
	struct sqlite_store *s = w->s;
	pthread_mutex_lock(&s->mu);
	atomic_store(&w->stop, true);
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_lock(&s->mu);
	s->nwatches--;
	pthread_mutex_unlock(&s->mu);
	free(w->prefix);
	free(w->end);
	free(w);
}
