#include "base/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "base/mem.h"

/* mu protects every field below it; not_full/not_empty are signalled on
 * the matching transitions and broadcast on close. */
struct dm_queue {
	pthread_mutex_t mu;
	pthread_cond_t not_full;
	pthread_cond_t not_empty;
	void **items;
	size_t cap, head, len;
	bool closed;
};

dm_queue *dm_queue_new(size_t cap)
{
	dm_queue *q = dm_xcalloc(1, sizeof(*q));
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->not_full, &ca);
	pthread_cond_init(&q->not_empty, &ca);
	pthread_condattr_destroy(&ca);
	q->cap = cap ? cap : 1;
	q->items = dm_xcalloc(q->cap, sizeof(void *));
	return q;
}

void dm_queue_free(dm_queue *q)
{
	if (q == NULL)
		return;
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->mu);
	free(q->items);
	free(q);
}

static void deadline(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

/* Waits on cv until ready() or closed; returns DM_QUEUE_TIMEOUT on expiry. */
static int wait_for(dm_queue *q, pthread_cond_t *cv, bool (*ready)(dm_queue *), int64_t timeout_ms)
{
	struct timespec ts;
	bool have_deadline = false; /* read the clock only when waiting */
	while (!ready(q) && !q->closed) {
		if (timeout_ms == 0)
			return DM_QUEUE_TIMEOUT;
		if (timeout_ms > 0 && !have_deadline) {
			deadline(&ts, timeout_ms);
			have_deadline = true;
		}
		if (timeout_ms < 0) {
			pthread_cond_wait(cv, &q->mu);
		} else if (pthread_cond_timedwait(cv, &q->mu, &ts) == ETIMEDOUT) {
			if (!ready(q) && !q->closed)
				return DM_QUEUE_TIMEOUT;
		}
	}
	return DM_QUEUE_OK;
}

static bool has_room(dm_queue *q)
{
	return q->len < q->cap;
}

static bool has_item(dm_queue *q)
{
	return q->len > 0;
}

int dm_queue_push(dm_queue *q, void *item, int64_t timeout_ms)
{
	pthread_mutex_lock(&q->mu);
	int rc = wait_for(q, &q->not_full, has_room, timeout_ms);
	if (rc == DM_QUEUE_OK && q->closed)
		rc = DM_QUEUE_CLOSED;
	if (rc == DM_QUEUE_OK) {
		q->items[(q->head + q->len) % q->cap] = item;
		q->len++;
		pthread_cond_signal(&q->not_empty);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

int dm_queue_pop(dm_queue *q, void **ret_item, int64_t timeout_ms)
{
	pthread_mutex_lock(&q->mu);
	int rc = wait_for(q, &q->not_empty, has_item, timeout_ms);
	if (rc == DM_QUEUE_OK && q->len == 0)
		rc = DM_QUEUE_CLOSED;
	if (rc == DM_QUEUE_OK) {
		*ret_item = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void dm_queue_close(dm_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->not_full);
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

size_t dm_queue_len(dm_queue *q)
{
	pthread_mutex_lock(&q->mu);
	size_t n = q->len;
	pthread_mutex_unlock(&q->mu);
	return n;
}
