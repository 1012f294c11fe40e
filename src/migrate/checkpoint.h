/* The full copy's checkpoints, kept in the target next to the data they
 * describe (docs/full-migration.md):
 *
 *   <meta>.<task>_snapshot         one row per source: consistency used,
 *                                  binlog position and GTID set of the
 *                                  snapshot, copying/finished, and where a
 *                                  resumed run read its own snapshot
 *   <meta>.<task>_load_checkpoint  one row per chunk: key range (SQL),
 *                                  pending/done, rows and bytes copied
 *   <meta>.<task>_load_index       secondary indexes still to add to the
 *                                  tables the copy created (its rows are
 *                                  migrate/defer.c's)
 *
 * A chunk's rows and its "done" are committed in one target transaction,
 * so after a crash a chunk is either entirely there and marked done, or not
 * there at all. */
#ifndef DM_MIGRATE_CHECKPOINT_H
#define DM_MIGRATE_CHECKPOINT_H

#include <mysql.h>
#include <stdbool.h>

#include "base/err.h"
#include "migrate/plan.h"
#include "migrate/snapshot.h"

typedef struct dm_ckpt {
	char *meta; /* meta schema */
	char *task;
	char *source;         /* source-id */
	char *snapshot_table; /* `meta`.`task_snapshot`, quoted */
	char *chunk_table;    /* `meta`.`task_load_checkpoint`, quoted */
	char *index_table;    /* `meta`.`task_load_index`, quoted */
} dm_ckpt;

void dm_ckpt_init(dm_ckpt *c, const char *meta, const char *task, const char *source);
void dm_ckpt_fini(dm_ckpt *c);

/* CREATE DATABASE/TABLE IF NOT EXISTS for the three tables. */
int dm_ckpt_prepare(const dm_ckpt *c, MYSQL *target, dm_err *err);

/* The stored snapshot: DM_ENOTFOUND when this source has none (a fresh
 * start). *finished tells whether every chunk was done. */
int dm_ckpt_read_snapshot(const dm_ckpt *c, MYSQL *target, dm_snapshot *out, bool *finished,
                          dm_err *err);

/* Stores the plan (every chunk pending) and the snapshot in one
 * transaction. */
int dm_ckpt_save_plan(const dm_ckpt *c, MYSQL *target, const dm_plan *p, const dm_snapshot *s,
                      dm_err *err);

/* Rebuilds a plan from the checkpoint: every table with the progress of
 * its done chunks, and only the pending chunks. */
int dm_ckpt_load_plan(const dm_ckpt *c, MYSQL *target, dm_plan *p, dm_err *err);

/* Records the snapshot a resumed run reads its pending chunks from. */
int dm_ckpt_record_resume(const dm_ckpt *c, MYSQL *target, const dm_snapshot *s, dm_err *err);

/* The statement marking a chunk done, to run inside the chunk's
 * transaction. Caller frees. */
char *dm_ckpt_chunk_done_sql(const dm_ckpt *c, const dm_table *t, int chunk, int64_t rows,
                             int64_t bytes);

/* The last resumed snapshot's position (name "" when the copy never
 * resumed): rows copied after a resume are as of it, so the sync replays
 * up to there in safe mode. *name is malloc'd. */
int dm_ckpt_read_resumed(const dm_ckpt *c, MYSQL *target, char **name, uint64_t *pos, dm_err *err);

int dm_ckpt_finish(const dm_ckpt *c, MYSQL *target, dm_err *err);

#endif
