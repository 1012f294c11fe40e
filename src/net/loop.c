#include "net/loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/queue.h"

/* The offload pool. Threads and the loop share only the two queues and the
 * eventfd: a worker pops a job from work_q, runs it, pushes it to done_q
 * and writes the eventfd, whose read event runs done() in the loop thread.
 * An eventfd rather than event_active() from the workers, because that
 * needs evthread_use_pthreads(), a process-wide switch. Everything else is
 * the loop thread's alone. */
struct job {
	void (*work)(void *arg);
	void (*done)(void *arg);
	void *arg;
};

#define WORKERS_MAX 256

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
	/* Offload pool; workers == NULL until the first offload. */
	int nworkers_want;
	int queue_cap;
	pthread_t *workers;
	int nworkers;
	dm_queue *work_q;
	dm_queue *done_q;
	int wake_fd;
	struct event *wake_ev;
	size_t pending; /* offloaded, done() not run yet */
	bool ended;     /* dm_loop_run has returned: no new offloads */
	bool skipping;  /* inside the done() of a job whose work did not run */
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
	l->nworkers_want = DM_LOOP_WORKERS_DEFAULT;
	l->queue_cap = DM_LOOP_QUEUE_DEFAULT;
	l->wake_fd = -1;
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

static void pool_stop(dm_loop *l);

void dm_loop_free(dm_loop *l)
{
	if (l == NULL)
		return;
	l->ended = true; /* done() callbacks run below cannot offload more */
	pool_stop(l);
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

static void skip_waiting(dm_loop *l);

int dm_loop_run(dm_loop *l, dm_err *err)
{
	l->ended = false;
	int rc = event_base_dispatch(l->base);
	l->ended = true;
	skip_waiting(l);
	if (rc < 0)
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

void dm_loop_set_workers(dm_loop *l, int n)
{
	if (l->workers != NULL) {
		dm_log_warn(l->log, "offload threads already running: new count %d ignored", n);
		return;
	}
	l->nworkers_want = n <= 0 ? DM_LOOP_WORKERS_DEFAULT : n > WORKERS_MAX ? WORKERS_MAX : n;
}

void dm_loop_set_queue(dm_loop *l, int queue)
{
	if (l->workers != NULL) {
		dm_log_warn(l->log, "offload threads already running: new queue size %d ignored",
		            queue);
		return;
	}
	l->queue_cap = queue <= 0 ? DM_LOOP_QUEUE_DEFAULT : queue;
}

static void *worker_main(void *arg)
{
	dm_loop *l = arg;
	void *item;
	while (dm_queue_pop(l->work_q, &item, -1) == DM_QUEUE_OK) {
		struct job *j = item;
		j->work(j->arg);
		/* done_q is closed only after the threads are joined. */
		dm_queue_push(l->done_q, j, -1);
		uint64_t one = 1;
		/* Fails only when the counter would overflow: then a wake-up
		 * is pending anyway. */
		ssize_t n = write(l->wake_fd, &one, sizeof(one));
		(void)n;
	}
	return NULL;
}

static void finish(dm_loop *l, struct job *j, bool skipped)
{
	l->pending--;
	l->skipping = skipped;
	j->done(j->arg);
	l->skipping = false;
	free(j);
}

static void run_done(dm_loop *l)
{
	void *item;
	while (dm_queue_pop(l->done_q, &item, 0) == DM_QUEUE_OK)
		finish(l, item, false);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	dm_loop *l = arg;
	(void)what;
	uint64_t n;
	/* Read (reset) before popping: a job pushed after the last pop
	 * writes the eventfd again, so no wake-up is lost. */
	ssize_t r = read(fd, &n, sizeof(n));
	(void)r;
	run_done(l);
}

static int pool_start(dm_loop *l, dm_err *err)
{
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake_fd < 0)
		return dm_err_set(err, DM_EINTERNAL,
		                  "cannot start the offload threads: eventfd: %s", strerror(errno));
	l->wake_ev = event_new(l->base, l->wake_fd, EV_READ | EV_PERSIST, wake_cb, l);
	if (l->wake_ev == NULL || event_add(l->wake_ev, NULL) < 0) {
		if (l->wake_ev != NULL)
			event_free(l->wake_ev);
		l->wake_ev = NULL;
		close(l->wake_fd);
		l->wake_fd = -1;
		return dm_err_set(err, DM_EINTERNAL, "cannot start the offload threads: libevent");
	}
	l->work_q = dm_queue_new((size_t)l->queue_cap);
	/* Room for every job that can be out at once in the usual case, so
	 * workers rarely wait on the loop thread. */
	l->done_q = dm_queue_new((size_t)l->queue_cap + (size_t)l->nworkers_want);
	l->workers = dm_xcalloc((size_t)l->nworkers_want, sizeof(pthread_t));
	/* Signals go to the loop thread (libevent's signal events), and
	 * blocking calls in work() are not interrupted by them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = 0;
	for (int i = 0; i < l->nworkers_want; i++) {
		rc = pthread_create(&l->workers[l->nworkers], NULL, worker_main, l);
		if (rc != 0)
			break;
		l->nworkers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (l->nworkers == 0) {
		pool_stop(l);
		return dm_err_set(err, DM_EINTERNAL, "cannot start the offload threads: %s",
		                  strerror(rc));
	}
	if (l->nworkers < l->nworkers_want)
		dm_log_warn(l->log, "only %d of %d offload threads started: %s", l->nworkers,
		            l->nworkers_want, strerror(rc));
	return 0;
}

int dm_loop_offload(dm_loop *l, void (*work)(void *arg), void (*done)(void *arg), void *arg,
                    dm_err *err)
{
	if (work == NULL || done == NULL)
		return dm_err_set(err, DM_EINVAL, "offload: no work or done function given");
	if (l->ended)
		return dm_err_set(err, DM_ELIMIT, "the server is shutting down");
	if (l->workers == NULL && pool_start(l, err) < 0)
		return -1;
	struct job *j = dm_xmalloc(sizeof(*j));
	j->work = work;
	j->done = done;
	j->arg = arg;
	if (dm_queue_push(l->work_q, j, 0) != DM_QUEUE_OK) {
		free(j);
		return dm_err_set(err, DM_ELIMIT,
		                  "the server is busy: %d jobs are already waiting for its %d "
		                  "threads; try again later",
		                  l->queue_cap, l->nworkers);
	}
	l->pending++;
	return 0;
}

bool dm_loop_offload_skipped(const dm_loop *l)
{
	return l->skipping;
}

/* At the end of dm_loop_run: jobs not started are answered without their
 * work (the daemon is exiting; a MySQL check could take seconds each), and
 * a few non-blocking turns send what their done() replied. */
static void skip_waiting(dm_loop *l)
{
	if (l->workers == NULL)
		return;
	void *item;
	size_t n = 0;
	while (dm_queue_pop(l->work_q, &item, 0) == DM_QUEUE_OK) {
		finish(l, item, true);
		n++;
	}
	run_done(l);
	if (n > 0)
		dm_log_warn(l->log, "exiting: %zu queued jobs were not started", n);
	for (int i = 0; n > 0 && i < 3; i++)
		event_base_loop(l->base, EVLOOP_NONBLOCK);
}

static void pool_stop(dm_loop *l)
{
	if (l->work_q == NULL)
		return;
	dm_queue_close(l->work_q);
	void *item;
	while (dm_queue_pop(l->work_q, &item, 0) == DM_QUEUE_OK)
		finish(l, item, true);
	/* The rest are running or finished: wait for each one's done. */
	while (l->pending > 0 && dm_queue_pop(l->done_q, &item, -1) == DM_QUEUE_OK)
		finish(l, item, false);
	for (int i = 0; i < l->nworkers; i++)
		pthread_join(l->workers[i], NULL);
	free(l->workers);
	l->workers = NULL;
	l->nworkers = 0;
	dm_queue_free(l->work_q);
	dm_queue_free(l->done_q);
	l->work_q = l->done_q = NULL;
	if (l->wake_ev != NULL)
		event_free(l->wake_ev);
	l->wake_ev = NULL;
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	l->wake_fd = -1;
}
