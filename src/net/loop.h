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
 * delivers a signal to one event_base). */
#ifndef DM_NET_LOOP_H
#define DM_NET_LOOP_H

#include <event2/event.h>

#include "base/err.h"
#include "base/log.h"

#define DM_LOOP_GRACE_MS_DEFAULT 10000

typedef struct dm_loop dm_loop;
typedef void (*dm_loop_fn)(void *arg);

/* base and log are borrowed. Installs the signal events and ignores
 * SIGPIPE for the process: a peer closing its end must be a write error,
 * not the daemon's death. */
dm_loop *dm_loop_new(struct event_base *base, dm_log *log, dm_err *err);
/* Removes the signal events (the signals' previous dispositions come
 * back). NULL is a no-op. */
void dm_loop_free(dm_loop *l);

void dm_loop_on_shutdown(dm_loop *l, dm_loop_fn fn, void *arg);
void dm_loop_on_reload(dm_loop *l, dm_loop_fn fn, void *arg);
/* How long the loop waits after the shutdown callback before it ends
 * anyway; <= 0 means DM_LOOP_GRACE_MS_DEFAULT. */
void dm_loop_set_grace_ms(dm_loop *l, int ms);

/* Runs until dm_loop_exit(), the end of the grace period after a
 * shutdown signal, or a second signal. 0, or -1 when libevent fails. */
int dm_loop_run(dm_loop *l, dm_err *err);
/* Ends dm_loop_run() after the current callback; e.g. from the
 * dm_http_server_on_drained() callback. */
void dm_loop_exit(dm_loop *l);
/* Starts the same graceful shutdown as SIGTERM (for an API call or a
 * test). */
void dm_loop_shutdown(dm_loop *l);

#endif
