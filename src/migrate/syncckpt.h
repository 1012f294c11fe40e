/* The sync unit's checkpoint: `<meta-schema>.<task>_syncer_checkpoint`,
 * one row per applier of a source.
 *
 * An applier's row says: every row change this applier was given, of
 * every upstream transaction that ends at or before `binlog_name:pos`, is
 * committed on the target. The row is updated in the same target
 * transaction as the changes it covers, so it is never ahead of or behind
 * them, whenever the worker dies.
 *
 * `flush_*` is where the dispatcher last had nothing in flight (all
 * appliers committed up to there). Routing of rows to appliers depends only
 * on the events since that point and on the applier count, so a restart
 * re-reads from the oldest flush point and each applier skips what its own
 * row says it has: nothing is lost or applied twice. When the applier count
 * changed, that proof does not hold: the unit replays in safe mode up to
 * the furthest position any applier had reached (`safe_until_*`, kept so a
 * crash inside that window still knows it). */
#ifndef DM_MIGRATE_SYNCCKPT_H
#define DM_MIGRATE_SYNCCKPT_H

#include <mysql.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

typedef struct dm_binpos {
	char *name; /* binlog file; "" when unknown */
	uint64_t pos;
	char *gtid; /* GTID set after the position; "" when unknown */
	/* name's sequence number (binlog.000042: 42), read once for
	 * dm_binpos_cmp, which appliers call for every row */
	unsigned long long seq;
} dm_binpos;

void dm_binpos_init(dm_binpos *p);
void dm_binpos_fini(dm_binpos *p);
void dm_binpos_set(dm_binpos *p, const char *name, uint64_t pos, const char *gtid);
void dm_binpos_copy(dm_binpos *dst, const dm_binpos *src);
/* Binlog order: file sequence number, then position. */
int dm_binpos_cmp(const dm_binpos *a, const dm_binpos *b);

typedef struct dm_syncckpt {
	char *meta;  /* the meta schema */
	char *table; /* quoted `meta`.`task_syncer_checkpoint` */
	char *source;
} dm_syncckpt;

/* What a start finds. */
typedef struct dm_syncckpt_state {
	int workers;        /* applier count of the rows; 0: no rows */
	dm_binpos *applied; /* [workers] */
	dm_binpos flush;    /* the oldest flush point: reading starts here */
	dm_binpos safe_until;
} dm_syncckpt_state;

void dm_syncckpt_init(dm_syncckpt *c, const char *meta, const char *task, const char *source);
void dm_syncckpt_fini(dm_syncckpt *c);

int dm_syncckpt_prepare(const dm_syncckpt *c, MYSQL *target, dm_err *err);

/* Reads this source's rows into st (dm_syncckpt_state_fini frees). */
int dm_syncckpt_load(const dm_syncckpt *c, MYSQL *target, dm_syncckpt_state *st, dm_err *err);
void dm_syncckpt_state_fini(dm_syncckpt_state *st);

/* Replaces this source's rows by `workers` rows at `at` (applied and
 * flush), with safe_until (may be NULL). One transaction. */
int dm_syncckpt_reset(const dm_syncckpt *c, MYSQL *target, int workers, const dm_binpos *at,
                      const dm_binpos *safe_until, dm_err *err);

/* The UPDATE an applier runs inside its transaction. */
void dm_syncckpt_save_sql(const dm_syncckpt *c, dm_buf *out, int applier, const dm_binpos *applied,
                          const dm_binpos *flush);

#endif
