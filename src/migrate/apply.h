/* An applier: one thread, one target connection, applying the row
 * changes the dispatcher routes to it, in the order it receives them.
 *
 * It groups several upstream transactions into one target transaction,
 * which also updates this applier's checkpoint row: a commit covers
 * exactly the changes before it. Within it, changes of a row fold into one
 * net change (compact.h) and become few statements, up to `batch` rows
 * each: multi-row INSERT, DELETE … WHERE key IN (…), and UPDATE joining a
 * derived table of new values.
 * It commits only at the end of an upstream transaction (a MARK): when its
 * queue has run dry and the target transaction is 30 ms old, after about
 * 5000 rows, and at every flush (when the dispatcher needs every applier
 * to have committed). Statements are sent in batches (multi-statement, one
 * round trip each); a batch never carries the COMMIT after row changes, so
 * a change that finds no row leaves the transaction to roll back.
 *
 * Changes of transactions that start before the applier's checkpoint are
 * dropped: they were committed before a restart. UPDATE and DELETE
 * must find their row (the connection counts found rows, not changed
 * ones): a missing row means the target diverged, and the applier stops
 * with an error rather than guess. In safe mode (DM's), INSERT is REPLACE,
 * UPDATE is DELETE + REPLACE when the new image is complete, and missing
 * rows are fine.
 *
 * Any error stops the applier (and, through the shared flag, the unit);
 * dm_applier_stop says whether it was transient (lost connection, deadlock,
 * lock wait timeout), in which case the unit restarts from its checkpoint.
 * Nothing is kept for a replay here, so memory does not grow with the size
 * of an upstream transaction. */
#ifndef DM_MIGRATE_APPLY_H
#define DM_MIGRATE_APPLY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"
#include "base/queue.h"
#include "migrate/change.h"
#include "migrate/schema.h"
#include "migrate/syncckpt.h"
#include "mysql/conn.h"

typedef struct dm_applier_opts {
	int id;
	const dm_db_config *target;
	const dm_syncckpt *ckpt;
	int batch;                /* rows per statement */
	const dm_binpos *applied; /* already committed up to here (copied) */
	dm_queue *acks;           /* gets (void *)(intptr_t)(id + 1) per FLUSH */
	atomic_bool *cancel;      /* shared stop flag; a failing applier sets it */
	dm_log *log;
} dm_applier_opts;

typedef struct dm_applier dm_applier;

/* Connects and starts the thread. */
int dm_applier_start(const dm_applier_opts *o, dm_applier **out, dm_err *err);

/* Hands an item over (the applier owns it from here); waits while the
 * queue is full. false when the applier has stopped (the item is freed). */
bool dm_applier_push(dm_applier *a, dm_apply_item *it);

/* Ends the thread (after what was pushed, or at once when cancelled),
 * then frees. When it failed, *err gets why, *transient whether trying
 * again may help, and -1 is returned. */
int dm_applier_stop(dm_applier *a, bool *transient, dm_err *err);

/* Where this applier has committed up to (copied into out, which must be
 * initialised); any thread. */
void dm_applier_committed(dm_applier *a, dm_binpos *out);

#endif
