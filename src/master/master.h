/* dm-master's internals, shared by the files of src/master.
 *
 * Everything here runs in the event loop's thread: handlers, the liveness
 * timer, and the done() half of offloaded work. Only the work() half of
 * dm_loop_offload runs elsewhere, and it touches nothing but the job it was
 * given. So the worker table and the store need no locks of ours. */
#ifndef DM_MASTER_MASTER_H
#define DM_MASTER_MASTER_H

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
#include "store/store.h"
#include "tls/secret.h"

#define DM_MASTER_VERSION "0.1.0"

/* A registered worker as the master sees it. */
typedef struct dm_mworker {
	char *name;
	char *addr;
	/* "http" or "https" as the worker says it serves (its tls-mode);
	 * NULL until it says (an older worker): the master's own is shown. */
	char *scheme;
	int64_t ttl_ms;
	int64_t last_seen_ms; /* monotonic; 0 = not heard from since start */
	bool online;
	json_t *reported; /* array of {task, source, stage, error_msg}: actual stages */
} dm_mworker;

typedef struct dm_master {
	dm_master_config cfg;
	int argc;
	char **argv; /* borrowed from main: re-read on SIGHUP */
	dm_log *log;
	dm_store *store;
	dm_secret_key key;
	struct event_base *base;
	dm_loop *loop;
	dm_http_server *srv;
	dm_http_client *client; /* to workers */
	/* Clients replaced by a reload: push jobs in flight may still use
	 * them, so they live until the master ends. */
	dm_http_client **retired;
	size_t nretired;
	struct event *tick;
	dm_mworker *workers;
	size_t nworkers;
	int64_t started_ms;
	unsigned long reloads; /* SIGHUPs applied, shown by GET /api/v1/cluster/masters */
} dm_master;

/* master.c: life cycle. */
int dm_master_init(dm_master *m, int argc, char **argv, dm_err *err);
void dm_master_fini(dm_master *m);
int dm_master_run(dm_master *m, dm_err *err);

/* master.c: JSON values in the store. get fails with DM_ENOTFOUND. list
 * returns an object mapping each key's suffix (after prefix) to its value. */
int dm_master_get_json(dm_master *m, const char *key, json_t **ret, dm_err *err);
int dm_master_put_json(dm_master *m, const char *key, json_t *value, dm_err *err);
int dm_master_list_json(dm_master *m, const char *prefix, json_t **ret, dm_err *err);

/* master.c: secrets. Paths are dotted ("security.ssl_key_content");
 * missing or null fields are skipped. seal encrypts string fields in
 * place; unseal decrypts them (failing if a value is not ours). */
int dm_master_seal(dm_master *m, json_t *obj, const char *const *paths, dm_err *err);
int dm_master_unseal(dm_master *m, json_t *obj, const char *const *paths, dm_err *err);
extern const char *const dm_master_source_secrets[];
extern const char *const dm_master_task_secrets[];

/* master.c: the worker table. */
dm_mworker *dm_master_worker(dm_master *m, const char *name);
dm_mworker *dm_master_worker_add(dm_master *m, const char *name, const char *addr);
/* Records the scheme a worker advertises ("http", "https"); others are
 * ignored. */
void dm_master_worker_set_scheme(dm_mworker *w, const char *scheme);
void dm_master_worker_remove(dm_master *m, const char *name);

/* sched.c: binding and assignments. */
/* Worker a source is bound to now (malloc'd), or NULL. */
char *dm_master_bound_worker(dm_master *m, const char *source);
/* Source a worker is bound to now (malloc'd), or NULL. */
char *dm_master_bound_source(dm_master *m, const char *worker);
/* Binds every unbound source it can and pushes changed assignments. */
void dm_master_schedule(dm_master *m);
int dm_master_bind(dm_master *m, const char *source, const char *worker, dm_err *err);
int dm_master_unbind(dm_master *m, const char *source, dm_err *err);
/* The whole desired state of one worker (see docs/control-plane.md),
 * secrets decrypted. Caller decrefs. */
json_t *dm_master_assignment(dm_master *m, const char *worker, dm_err *err);
/* Sends the worker its assignment in the background; the answer's actual
 * stages are recorded when it arrives. No-op for an offline worker. */
void dm_master_push(dm_master *m, const char *worker);
/* Pushes to whichever worker holds source (if any). */
void dm_master_push_source(dm_master *m, const char *source);
void dm_master_start_tick(dm_master *m);
/* Reported actual stage of a subtask, or NULL. Borrowed. */
json_t *dm_master_reported(dm_master *m, const char *task, const char *source,
                           const char **ret_worker);

/* api_*.c and internal.c: routes. */
void dm_master_routes_sources(dm_master *m);
void dm_master_routes_tasks(dm_master *m);
void dm_master_routes_cluster(dm_master *m);
void dm_master_routes_internal(dm_master *m);

/* master.c: small pieces every API handler uses. */
/* Replies 200 with DM's list wrapper {"total": n, "data": data} (stolen). */
void dm_master_reply_list(dm_http_req *req, json_t *data);
/* A boolean query flag: "?force", "?force=true". */
bool dm_master_query_flag(dm_http_req *req, const char *name);

/* Names of sources, tasks and workers: they become store keys and paths. */
bool dm_master_name_ok(const char *name);

#endif
