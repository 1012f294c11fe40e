/* The sync unit's dispatcher: upstream transactions in, row changes out to
 * appliers, ordered per row, with flushes at points fixed by the events
 * alone (see sync.h for why that makes restarts exact).
 *
 * A transaction's changes are held until its commit, then routed: each
 * change to the applier already holding one of its keys (since the last
 * flush), else to hash(key) % n. A change's keys are its row key and the
 * values of every other unique index of the target table (those without
 * NULL), in its before and after images: a row that frees a unique value
 * and the row that takes it later share a key. A change whose keys are
 * held by two appliers is a conflict: flush, then the whole transaction
 * goes to one applier. A change whose image lacks a unique index's column
 * (binlog_row_image MINIMAL) might collide with any row: its transaction
 * goes to one applier between two flushes. Transactions of more than
 * DM_DISPATCH_HOLD changes are streamed to applier 0 between two flushes
 * instead of held. Every 20,000 transactions, or when the key map grows
 * past its bound, it flushes too.
 *
 * Single-threaded: the stream reader calls everything. */
#ifndef DM_MIGRATE_DISPATCH_H
#define DM_MIGRATE_DISPATCH_H

#include <stdatomic.h>
#include <stdbool.h>

#include "base/err.h"
#include "base/queue.h"
#include "migrate/apply.h"

#define DM_DISPATCH_HOLD 20000

typedef struct dm_dispatch dm_dispatch;

/* appliers: borrowed, n of them; acks: the queue they ack FLUSHes on;
 * at: where reading starts (a flush point; a reference is taken). */
dm_dispatch *dm_dispatch_new(dm_applier **appliers, int n, dm_queue *acks, dm_txnpos *at,
                             atomic_bool *cancel);
void dm_dispatch_free(dm_dispatch *d);

/* A transaction starts (a reference on tp is taken). */
void dm_dispatch_begin(dm_dispatch *d, dm_txnpos *tp);
bool dm_dispatch_in_txn(const dm_dispatch *d);
/* The open transaction's position (borrowed), to fill in its end. */
dm_txnpos *dm_dispatch_open(dm_dispatch *d);
/* A change of the open transaction (owned from here). -1: stopped. */
int dm_dispatch_row(dm_dispatch *d, dm_rowchange *c);
/* The open transaction committed; its tp->end must be filled in. */
int dm_dispatch_commit(dm_dispatch *d);
/* The open transaction is dropped (ROLLBACK, or a restart mid-way). */
void dm_dispatch_abort(dm_dispatch *d);
/* Every applier commits up to the last committed transaction; waits. */
int dm_dispatch_flush(dm_dispatch *d);
/* Lets idle appliers record the last committed position. */
void dm_dispatch_tick(dm_dispatch *d);
/* Where the last transaction committed here ends (the start at first). */
const dm_binpos *dm_dispatch_last_end(const dm_dispatch *d);

#endif
