/* Bounded multi-producer / multi-consumer queue of pointers.
 *
 * The one way threads hand work to each other. Bounded so that a slow
 * consumer slows its producers instead of growing memory. The queue never
 * owns items: whoever pops an item owns it; items left when the queue is
 * freed must be drained by the caller first. */
#ifndef DM_BASE_QUEUE_H
#define DM_BASE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

typedef struct dm_queue dm_queue;

enum {
	DM_QUEUE_OK = 0,
	DM_QUEUE_CLOSED = -1,  /* closed: push refused; pop has nothing left */
	DM_QUEUE_TIMEOUT = -2, /* the wait ran out */
};

/* cap >= 1. Never NULL. */
dm_queue *dm_queue_new(size_t cap);
void dm_queue_free(dm_queue *q);

/* timeout_ms < 0 waits forever, 0 does not wait. */
int dm_queue_push(dm_queue *q, void *item, int64_t timeout_ms);
int dm_queue_pop(dm_queue *q, void **ret_item, int64_t timeout_ms);

/* After close, pushes fail and pops return the remaining items, then
 * DM_QUEUE_CLOSED. Wakes every waiter. Idempotent. */
void dm_queue_close(dm_queue *q);
size_t dm_queue_len(dm_queue *q);

#endif
