#include "net/loop.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

struct dm_loop {
	struct event_base *base;
	dm_log *log;
	struct event *sig_term;
	struct event *sig_int;
	struct event *sig_hup;
	struct event *grace_ev;
	int grace_ms;
	bool shutting_down;
	dm_loop_fn on_shutdown;
	void *shutdown_arg;
	dm_loop_fn on_reload;
	void *reload_arg;
};

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	dm_loop *l = arg;
	(void)fd;
	(void)what;
	dm_log_warn(l->log, "grace period of %d ms over: exiting with work still in progress",
	            l->grace_ms);
	event_base_loopbreak(l->base);
}

static void begin_shutdown(dm_loop *l, const char *why)
{
	if (l->shutting_down) {
		dm_log_warn(l->log, "%s again: exiting now", why);
		event_base_loopbreak(l->base);
		return;
	}
	l->shutting_down = true;
	dm_log_info(l->log, "%s: shutting down (send it again to exit at once)", why);
	if (l->on_shutdown == NULL) {
		event_base_loopexit(l->base, NULL);
		return;
	}
	struct timeval tv = {l->grace_ms / 1000, (l->grace_ms % 1000) * 1000};
	evtimer_add(l->grace_ev, &tv);
	l->on_shutdown(l->shutdown_arg);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	dm_loop *l = arg;
	(void)what;
	if (sig == SIGHUP) {
		if (l->shutting_down)
			return;
		dm_log_info(l->log, "SIGHUP: reloading the configuration");
		if (l->on_reload != NULL)
			l->on_reload(l->reload_arg);
		return;
	}
	begin_shutdown(l, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

dm_loop *dm_loop_new(struct event_base *base, dm_log *log, dm_err *err)
{
	dm_loop *l = dm_xcalloc(1, sizeof(*l));
	l->base = base;
	l->log = log;
	l->grace_ms = DM_LOOP_GRACE_MS_DEFAULT;
	l->sig_term = evsignal_new(base, SIGTERM, signal_cb, l);
	l->sig_int = evsignal_new(base, SIGINT, signal_cb, l);
	l->sig_hup = evsignal_new(base, SIGHUP, signal_cb, l);
	l->grace_ev = evtimer_new(base, grace_cb, l);
	if (l->sig_term == NULL || l->sig_int == NULL || l->sig_hup == NULL ||
	    l->grace_ev == NULL || event_add(l->sig_term, NULL) < 0 ||
	    event_add(l->sig_int, NULL) < 0 || event_add(l->sig_hup, NULL) < 0) {
		dm_loop_free(l);
		dm_err_set(err, DM_EINTERNAL, "cannot install the signal handlers");
		return NULL;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return l;
}

void dm_loop_free(dm_loop *l)
{
	if (l == NULL)
		return;
	struct event *evs[] = {l->sig_term, l->sig_int, l->sig_hup, l->grace_ev};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (evs[i] != NULL)
			event_free(evs[i]);
	}
	free(l);
}

void dm_loop_on_shutdown(dm_loop *l, dm_loop_fn fn, void *arg)
{
	l->on_shutdown = fn;
	l->shutdown_arg = arg;
}

void dm_loop_on_reload(dm_loop *l, dm_loop_fn fn, void *arg)
{
	l->on_reload = fn;
	l->reload_arg = arg;
}

void dm_loop_set_grace_ms(dm_loop *l, int ms)
{
	l->grace_ms = ms > 0 ? ms : DM_LOOP_GRACE_MS_DEFAULT;
}

int dm_loop_run(dm_loop *l, dm_err *err)
{
	if (event_base_dispatch(l->base) < 0)
		return dm_err_set(err, DM_EINTERNAL, "the event loop failed");
	return 0;
}

void dm_loop_exit(dm_loop *l)
{
	event_base_loopexit(l->base, NULL);
}

void dm_loop_shutdown(dm_loop *l)
{
	begin_shutdown(l, "shutdown requested");
}
