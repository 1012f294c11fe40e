/* The full migration unit of one subtask (task-mode full, and the first
 * half of all): snapshot, schema, chunk plan, copy, checkpoints
 * (docs/full-migration.md).
 *
 * dm_full_run() blocks its caller's thread (the subtask runner's) until
 * the copy is done, fails or is cancelled; dm_full_status() and
 * dm_full_cancel() may be called from any other thread meanwhile. */
#ifndef DM_MIGRATE_FULL_H
#define DM_MIGRATE_FULL_H

#include <jansson.h>
#include <stdbool.h>

#include "base/err.h"
#include "base/log.h"
#include "config/task.h"
#include "migrate/rules.h"
#include "mysql/conn.h"

typedef struct dm_full_opts {
	const char *task;
	const char *source_id;
	const char *meta_schema;
	const dm_db_config *source; /* copied by dm_full_new */
	const dm_db_config *target;
	dm_rules *rules; /* owned by the unit from dm_full_new on */
	dm_task_units units;
	dm_log *log; /* borrowed; thread-safe */
} dm_full_opts;

typedef struct dm_full dm_full;

/* Never fails; nothing is connected until dm_full_run. */
dm_full *dm_full_new(const dm_full_opts *o);
/* 0 when every chunk is copied (also when a previous run had finished);
 * DM_ECONFLICT "cancelled" after dm_full_cancel. */
int dm_full_run(dm_full *f, dm_err *err);
void dm_full_cancel(dm_full *f);
/* Progress as query-status shows it (docs/full-migration.md). New
 * reference. */
json_t *dm_full_status(dm_full *f);
/* After dm_full_run has returned. NULL is a no-op. */
void dm_full_free(dm_full *f);

#endif
