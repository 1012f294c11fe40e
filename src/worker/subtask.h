/* One subtask (a task on this worker's source) running its units in its
 * own thread: full copy for task-mode full and all; incremental sync
 * arrives with the sync unit.
 *
 * The worker's loop thread owns the dm_subtask: it starts it, asks it to
 * stop, polls dm_subtask_done() on its supervision tick and frees it.
 * The runner thread only writes its result before setting done. */
#ifndef DM_WORKER_SUBTASK_H
#define DM_WORKER_SUBTASK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"

typedef struct dm_subtask dm_subtask;

/* Parses the task and source objects (as the master sends them, secrets
 * included) and starts the runner thread. On a bad configuration the
 * subtask still exists, already done, with the error: the operator sees
 * it in query-status. When the runner ends it adds 1 to the eventfd
 * done_fd (-1: none), so the loop need not wait for its next tick. */
dm_subtask *dm_subtask_start(const char *task, const char *source, const json_t *task_json,
                             const json_t *source_json, int64_t generation, int done_fd,
                             dm_log *log);
/* Asks the runner to stop at the next row block; does not wait. */
void dm_subtask_cancel(dm_subtask *s);
bool dm_subtask_done(const dm_subtask *s);
/* After done: whether it ended by cancellation, and its error ("" when it
 * succeeded). */
bool dm_subtask_cancelled(const dm_subtask *s);
const char *dm_subtask_error(const dm_subtask *s);
int64_t dm_subtask_generation(const dm_subtask *s);
const char *dm_subtask_task(const dm_subtask *s);
const char *dm_subtask_source(const dm_subtask *s);
/* "Load" while copying (DM's unit name for loading full data), "Sync"
 * later. */
const char *dm_subtask_unit(const dm_subtask *s);
/* The units' status objects (dm_full_status, dm_sync_status), new
 * references; NULL when the subtask has no such unit (yet). */
json_t *dm_subtask_load_status(dm_subtask *s);
json_t *dm_subtask_sync_status(dm_subtask *s);
/* Joins the thread (call after done, or it waits) and frees. */
void dm_subtask_free(dm_subtask *s);

#endif
