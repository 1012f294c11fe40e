/* The sync unit: the upstream's binlog applied to the target, exactly once.
 *
 *   binlog stream ─▶ decode, filter, route ─▶ dispatcher ─▶ N appliers ─▶ target
 *
 * One thread reads the stream (src/mysql/binlog.c), decodes rows with our
 * own decoder (src/mysql/rowdec.c), drops what the block-allow-list leaves
 * out, routes names, and renders each change as SQL literals. A
 * transaction's changes are buffered until its commit is read, then routed
 * to appliers by the hash of their key (PK, else a NOT NULL unique key;
 * before and after values of an UPDATE) and of their values in the
 * table's other unique indexes: changes to the same row, or to rows that
 * hand a unique value on, always go to the same applier, in order. A
 * change whose keys are already held by two different appliers is a
 * conflict: everything before the transaction is committed first (a flush)
 * and the transaction goes to one applier. Tables without a usable key,
 * or whose key compares through a collation, go to one applier per table,
 * as do the rows of a table whose unique index values compare through a
 * collation. DDL flushes, then runs once on the target.
 *
 * Exactly once: see src/migrate/syncckpt.h. Routing depends only on the
 * events since the last flush, flushes happen at points fixed by the
 * events (conflicts, DDL, every few thousand transactions, big
 * transactions), so a restart from the oldest flush point routes every
 * change to the applier it went to before, and that applier skips what it
 * had committed.
 *
 * Transient errors (upstream or target lost, deadlock) restart the unit
 * from its checkpoint with backoff; anything else ends dm_sync_run with
 * the error, the binlog position and the statement. */
#ifndef DM_MIGRATE_SYNC_H
#define DM_MIGRATE_SYNC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"
#include "migrate/filter.h"
#include "migrate/rules.h"
#include "mysql/conn.h"

typedef struct dm_sync_opts {
	const char *task;
	const char *source_id;
	const char *meta_schema;
	const dm_db_config *source; /* copied */
	const dm_db_config *target; /* copied */
	dm_rules *rules;            /* owned by the unit from dm_sync_new on */
	dm_filter *filter;          /* binlog event filters; may be NULL; owned too */
	int workers;                /* appliers (worker-count) */
	int batch;                  /* rows per statement */
	bool safe_mode;             /* always */
	uint32_t server_id;         /* of the binlog stream; non-zero */
	bool enable_gtid;           /* read the binlog by GTID whenever one is known */
	/* Where to start when the target has no checkpoint yet; start_name
	 * NULL: the upstream's current position. */
	const char *start_name;
	uint64_t start_pos;
	const char *start_gtid;
	/* Replay in safe mode up to here (a resumed full copy's position). */
	const char *safe_until_name;
	uint64_t safe_until_pos;
	dm_log *log;
} dm_sync_opts;

typedef struct dm_sync dm_sync;

dm_sync *dm_sync_new(const dm_sync_opts *o);
/* Runs until dm_sync_cancel (DM_ECONFLICT "cancelled") or an error that
 * retrying will not mend. */
int dm_sync_run(dm_sync *s, dm_err *err);
void dm_sync_cancel(dm_sync *s);
/* query-status's sync object (DM's SyncStatus keys). New reference. */
json_t *dm_sync_status(dm_sync *s);
void dm_sync_free(dm_sync *s);

#endif
