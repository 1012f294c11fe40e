/* dm-worker's internals. Like the master, everything runs in the event
 * loop's thread except the work() half of offloaded calls to the master. */
#ifndef DM_WORKER_WORKER_H
#define DM_WORKER_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <jansson.h>

#include "base/err.h"
#include "base/log.h"
#include "config/daemon.h"
#include "net/client.h"
#include "net/loop.h"
#include "net/server.h"
#include "worker/subtask.h"

#define DM_WORKER_VERSION "0.1.0"

typedef struct dm_worker {
	dm_worker_config cfg;
	int argc;
	char **argv;
	dm_log *log;
	struct event_base *base;
	dm_loop *loop;
	dm_http_server *srv;
	dm_http_client *client; /* to the masters */
	dm_http_client **retired;
	size_t nretired;
	struct event *timer;
	int done_fd;        /* eventfd the subtask runners add to when they end */
	struct event *done; /* its read event: a supervision tick at once */
	bool registered;
	unsigned long reloads;  /* SIGHUPs applied, shown by GET /status */
	unsigned long calls_ok; /* calls the master answered 200, ditto */
	bool call_inflight;
	bool master_reachable; /* for logging state changes once */
	int64_t applied_revision;
	char *source;       /* bound source name, NULL when free */
	json_t *source_cfg; /* its Source object, secrets included: memory only */
	json_t *wanted; /* the assignment's subtasks: {task, source, stage, generation, task_config}
	                 */
	json_t *subtasks; /* the report: {task, source, stage, unit, error_msg, load_status} */
	struct dm_subtask **runners; /* running or finished units, one per subtask */
	size_t nrunners;
	int64_t last_call_ms; /* when the last register/keepalive was sent */
	bool report_now;      /* a stage changed: tell the master at the next tick */
} dm_worker;

int dm_worker_init(dm_worker *w, int argc, char **argv, dm_err *err);
int dm_worker_run(dm_worker *w, dm_err *err);
void dm_worker_fini(dm_worker *w);

/* Applies an assignment from the master (docs/control-plane.md); returns
 * false when it is older than the one applied. */
bool dm_worker_apply(dm_worker *w, json_t *assignment);
/* Starts, stops and reaps subtask runners to match the assignment, and
 * rebuilds the report. Runs on every supervision tick. */
void dm_worker_reconcile(dm_worker *w);
/* Actual subtask stages with each unit's progress, a new reference. */
json_t *dm_worker_report(dm_worker *w);

#endif
