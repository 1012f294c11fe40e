/* A daemon's main loop: an event_base plus the signals every dm daemon
 * handles the same way.
 *
 *   SIGTERM, SIGINT  first: the shutdown callback runs (stop accepting,
 *                    finish requests), then the loop ends when the daemon
 *                    calls dm_loop_exit() or after the grace period;
 *                    second: the loop ends at once.
 *   SIGHUP           the reload callback runs (re-read the config, swap
 *                    TLS with dm_http_server_set_tls, reopen the log).
 *
 * Callbacks run in the loop's thread, between events, never inside a
 * signal handler. Only one dm_loop per process handles signals (libevent
 * delivers a signal to one event_base).
 *
 * The loop also owns a small pool of worker threads for blocking work that
 * handlers must not do themselves (dm_loop_offload). */
#ifndef DM_NET_LOOP_H
#define DM_NET_LOOP_H

#include <stdbool.h>

#include <event2/event.h>

#include "base/err.h"
#include "base/log.h"

#define DM_LOOP_GRACE_MS_DEFAULT 10000
#define DM_LOOP_WORKERS_DEFAULT  4  /* offload threads */
#define DM_LOOP_QUEUE_DEFAULT    64 /* offloaded jobs waiting for a thread */

typedef struct dm_loop dm_loop;
typedef void (*dm_loop_fn)(void *arg);

/* base and log are borrowed. Installs the signal events and ignores
 * SIGPIPE for the process: a peer closing its end must be a write error,
 * not the daemon's death. */
dm_loop *dm_loop_new(struct event_base *base, dm_log *log, dm_err *err);
/* Stops the offload pool, then removes the signal events (the signals'
 * previous dispositions come back). Offloaded jobs not started get their
 * done() with dm_loop_offload_skipped() true, jobs running are waited for
 * (so a work function needs its own timeouts) and get their done(), and
 * the threads are joined. Call it from the loop's thread, after dm_loop_run, before
 * freeing what done() callbacks use (an HTTP reply to a server already
 * freed is dropped, which is fine). NULL is a no-op. */
void dm_loop_free(dm_loop *l);

void dm_loop_on_shutdown(dm_loop *l, dm_loop_fn fn, void *arg);
void dm_loop_on_reload(dm_loop *l, dm_loop_fn fn, void *arg);
/* How long the loop waits after the shutdown callback before it ends
 * anyway; <= 0 means DM_LOOP_GRACE_MS_DEFAULT. */
void dm_loop_set_grace_ms(dm_loop *l, int ms);

/* Runs until dm_loop_exit(), the end of the grace period after a
 * shutdown signal, or a second signal. Offloaded jobs still waiting for a
 * thread then get their done() without their work (see dm_loop_offload)
 * and the loop turns a few more times without blocking so their replies
 * are sent. 0, or -1 when libevent fails. */
int dm_loop_run(dm_loop *l, dm_err *err);
/* Ends dm_loop_run() after the current callback; e.g. from the
 * dm_http_server_on_drained() callback. */
void dm_loop_exit(dm_loop *l);
/* Starts the same graceful shutdown as SIGTERM (for an API call or a
 * test). */
void dm_loop_shutdown(dm_loop *l);

/* Offload pool size: n threads (<= 0 means DM_LOOP_WORKERS_DEFAULT) and
 * up to queue jobs waiting for one (<= 0 means DM_LOOP_QUEUE_DEFAULT).
 * Effective until the first dm_loop_offload(), which starts the threads;
 * later calls are logged and ignored. */
void dm_loop_set_workers(dm_loop *l, int n);
void dm_loop_set_queue(dm_loop *l, int queue);

/* Runs work(arg) on one of the pool's threads, then done(arg) in the
 * loop's thread, where it may use libevent and reply to a deferred HTTP
 * request:
 *
 *     dm_http_req_defer(req);
 *     if (dm_loop_offload(loop, check_work, check_done, job, &err) < 0) {
 *             check_free(job);
 *             dm_http_reply_error(req, 503, 503, "%s", err.msg);
 *     }
 *
 * work must not touch the event_base or anything the loop thread uses
 * without a hand-over; arg is the hand-over. Call from the loop's thread
 * (before dm_loop_run, the thread that will run it). Jobs start in order;
 * with several threads they may finish in any order.
 *
 * Fails with DM_ELIMIT, running nothing, when the queue of waiting jobs is
 * full (the caller answers 503) or after dm_loop_run has returned; with
 * DM_EINTERNAL when no thread can be started. Otherwise done(arg) is
 * called exactly once: after work(arg), or, for a job still waiting when
 * dm_loop_run returns, without it (see dm_loop_offload_skipped), so that
 * requests still get an answer and arg is freed. */
int dm_loop_offload(dm_loop *l, void (*work)(void *arg), void (*done)(void *arg), void *arg,
                    dm_err *err);
/* Inside a done() callback: true when its work() never ran because the
 * loop was ending (answer 503 and free the job). */
bool dm_loop_offload_skipped(const dm_loop *l);

#endif
