#include "worker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/mem.h"

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static json_t *find_subtask(json_t *list, const char *task, const char *source)
{
	size_t i;
	json_t *st;
	json_array_foreach(list, i, st)
	{
		if (strcmp(jstr(st, "task"), task) == 0 && strcmp(jstr(st, "source"), source) == 0)
			return st;
	}
	return NULL;
}

static dm_subtask *find_runner(dm_worker *w, const char *task, const char *source, size_t *idx)
{
	for (size_t i = 0; i < w->nrunners; i++) {
		const char *t = dm_subtask_task(w->runners[i]),
		           *s = dm_subtask_source(w->runners[i]);
		if (strcmp(t, task) == 0 && strcmp(s, source) == 0) {
			if (idx)
				*idx = i;
			return w->runners[i];
		}
	}
	return NULL;
}

json_t *dm_worker_report(dm_worker *w)
{
	/* Progress is read only here, when a report is sent, not on every
	 * supervision tick. */
	json_t *out = json_deep_copy(w->subtasks);
	size_t i;
	json_t *st;
	json_array_foreach(out, i, st)
	{
		dm_subtask *r = find_runner(w, jstr(st, "task"), jstr(st, "source"), NULL);
		json_t *load = r ? dm_subtask_load_status(r) : NULL;
		json_t *sync = r ? dm_subtask_sync_status(r) : NULL;
		if (load)
			json_object_set_new(st, "load_status", load);
		if (sync)
			json_object_set_new(st, "sync_status", sync);
	}
	return out;
}

static void drop_runner(dm_worker *w, size_t i)
{
	dm_subtask_free(w->runners[i]);
	w->runners[i] = w->runners[--w->nrunners];
}

static void start_runner(dm_worker *w, json_t *want)
{
	const char *task = jstr(want, "task"), *source = jstr(want, "source");
	dm_subtask *r = dm_subtask_start(
	        task, source, json_object_get(want, "task_config"), w->source_cfg,
	        json_integer_value(json_object_get(want, "generation")), w->done_fd, w->log);
	w->runners = dm_xrealloc(w->runners, (w->nrunners + 1) * sizeof(*w->runners));
	w->runners[w->nrunners++] = r;
}

/* What the worker reports for one subtask, progress aside. */
static json_t *report_one(dm_worker *w, json_t *want)
{
	const char *task = jstr(want, "task"), *source = jstr(want, "source");
	const char *stage = jstr(want, "stage");
	dm_subtask *r = find_runner(w, task, source, NULL);
	const char *unit = "", *error = "";
	if (r && !dm_subtask_done(r)) {
		stage = "Running";
		unit = dm_subtask_unit(r);
	} else if (r && !dm_subtask_cancelled(r)) {
		error = dm_subtask_error(r);
		stage = error[0] ? "Paused" : "Finished";
		unit = dm_subtask_unit(r);
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "task", task, "source", source, "stage",
	                 stage, "unit", unit, "error_msg", error);
}

void dm_worker_reconcile(dm_worker *w)
{
	size_t i;
	json_t *want;
	/* runners of subtasks no longer assigned: stop, then forget */
	for (i = 0; i < w->nrunners;) {
		dm_subtask *r = w->runners[i];
		if (find_subtask(w->wanted, dm_subtask_task(r), dm_subtask_source(r)) == NULL) {
			if (dm_subtask_done(r)) {
				drop_runner(w, i);
				continue;
			}
			dm_subtask_cancel(r);
		}
		i++;
	}
	json_array_foreach(w->wanted, i, want)
	{
		size_t idx;
		dm_subtask *r = find_runner(w, jstr(want, "task"), jstr(want, "source"), &idx);
		bool run = strcmp(jstr(want, "stage"), "Running") == 0 && w->source_cfg != NULL;
		if (!run) {
			if (r && !dm_subtask_done(r))
				dm_subtask_cancel(r);
			continue;
		}
		json_int_t gen = json_integer_value(json_object_get(want, "generation"));
		/* a stopped runner restarts; a failed one waits for resume-task */
		if (r && dm_subtask_done(r) &&
		    (dm_subtask_cancelled(r) ||
		     (dm_subtask_error(r)[0] && gen > dm_subtask_generation(r)))) {
			drop_runner(w, idx);
			r = NULL;
		}
		if (r == NULL)
			start_runner(w, want);
	}
	json_t *next = json_array();
	json_array_foreach(w->wanted, i, want)
	{
		json_t *o = report_one(w, want);
		json_t *old = find_subtask(w->subtasks, jstr(o, "task"), jstr(o, "source"));
		if (old == NULL || strcmp(jstr(old, "stage"), jstr(o, "stage")) != 0) {
			dm_log_info(w->log, "subtask %s on %s: %s -> %s%s%s", jstr(o, "task"),
			            jstr(o, "source"), old ? jstr(old, "stage") : "(none)",
			            jstr(o, "stage"), jstr(o, "error_msg")[0] ? ": " : "",
			            jstr(o, "error_msg"));
			w->report_now = true;
		}
		json_array_append_new(next, o);
	}
	json_array_foreach(w->subtasks, i, want)
	{
		if (!find_subtask(next, jstr(want, "task"), jstr(want, "source"))) {
			dm_log_info(w->log, "subtask %s on %s removed", jstr(want, "task"),
			            jstr(want, "source"));
			w->report_now = true;
		}
	}
	json_decref(w->subtasks);
	w->subtasks = next;
}

bool dm_worker_apply(dm_worker *w, json_t *a)
{
	json_int_t rev = json_integer_value(json_object_get(a, "revision"));
	if (rev < w->applied_revision) {
		dm_log_debug(w->log, "ignoring an assignment older than the one applied");
		return false;
	}
	w->applied_revision = rev;
	json_t *src = json_object_get(a, "source");
	const char *name = json_is_object(src) ? jstr(src, "source_name") : NULL;
	if ((name == NULL) != (w->source == NULL) || (name && strcmp(name, w->source) != 0)) {
		if (w->source)
			dm_log_info(w->log, "source %s released", w->source);
		if (name)
			dm_log_info(w->log, "bound to source %s (%s:%lld)", name, jstr(src, "host"),
			            (long long)json_integer_value(json_object_get(src, "port")));
		free(w->source);
		w->source = name ? dm_xstrdup(name) : NULL;
	}
	json_decref(w->source_cfg);
	w->source_cfg = json_is_object(src) ? json_incref(src) : NULL;
	json_t *subs = json_object_get(a, "subtasks");
	json_decref(w->wanted);
	w->wanted = json_is_array(subs) ? json_incref(subs) : json_array();
	dm_worker_reconcile(w);
	return true;
}

/* ---- calls to the master: register, then keepalive ------------------- */

struct call_job {
	dm_worker *w;
	dm_http_client *client;
	dm_strlist join; /* a copy: a reload may replace the config meanwhile */
	const char *path;
	json_t *body;
	long status;
	json_t *answer;
	int rc;
	dm_err err;
};

static void call_work(void *arg)
{
	struct call_job *j = arg;
	j->rc = dm_http_client_call(j->client, "POST", &j->join, j->path, j->body, &j->status,
	                            &j->answer, &j->err);
}

static void call_done(void *arg)
{
	struct call_job *j = arg;
	dm_worker *w = j->w;
	w->call_inflight = false;
	bool is_register = strcmp(j->path, "/internal/v1/workers/register") == 0;
	if (j->rc < 0 || dm_loop_offload_skipped(w->loop)) {
		if (w->master_reachable || !w->registered)
			dm_log_warn(w->log, "cannot reach the master: %s",
			            j->rc < 0 ? j->err.msg : "shutting down");
		w->master_reachable = false;
	} else if (j->status == 404 && !is_register) {
		dm_log_warn(w->log, "the master does not know this worker; registering again");
		w->registered = false;
	} else if (j->status != 200) {
		const char *msg = json_string_value(json_object_get(j->answer, "error_msg"));
		dm_log_error(w->log, "the master refused %s: HTTP %ld: %s",
		             is_register ? "registration" : "keepalive", j->status, msg ? msg : "");
	} else {
		if (!w->master_reachable)
			dm_log_info(w->log, "master reachable again");
		w->master_reachable = true;
		w->calls_ok++;
		if (is_register) {
			w->registered = true;
			dm_log_info(w->log, "registered with the master as %s (advertise %s)",
			            w->cfg.c.name, w->cfg.c.advertise_addr);
		} else if (json_is_object(j->answer)) {
			dm_worker_apply(w, j->answer);
		}
	}
	json_decref(j->answer);
	json_decref(j->body);
	dm_strlist_fini(&j->join);
	free(j);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dm_worker *w = arg;
	dm_worker_reconcile(w);
	if (w->call_inflight)
		return;
	/* Keepalives every ttl/3; every 2 s while a unit runs, so query-status
	 * shows fresh progress; at once when a stage changed. */
	int64_t now = dm_clock_mono_ms(), every = w->cfg.keepalive_ttl * 1000 / 3;
	bool active = false;
	for (size_t i = 0; i < w->nrunners; i++)
		active |= !dm_subtask_done(w->runners[i]);
	if (active && every > 2000)
		every = 2000;
	if (w->registered && !w->report_now && now - w->last_call_ms < every)
		return;
	w->report_now = false;
	w->last_call_ms = now;
	struct call_job *j = dm_xcalloc(1, sizeof(*j));
	j->w = w;
	j->client = w->client;
	for (size_t i = 0; i < w->cfg.join.n; i++)
		dm_strlist_add(&j->join, w->cfg.join.items[i]);
	/* How the master and dmctl should reach this worker, after a reload
	 * too: list-member shows it. */
	const char *scheme = w->cfg.c.tls_mode_v == DM_TLS_OFF ? "http" : "https";
	if (!w->registered) {
		j->path = "/internal/v1/workers/register";
		j->body = json_pack("{s:s, s:s, s:I, s:s}", "name", w->cfg.c.name, "addr",
		                    w->cfg.c.advertise_addr, "keepalive_ttl",
		                    (json_int_t)w->cfg.keepalive_ttl, "scheme", scheme);
	} else {
		j->path = "/internal/v1/workers/keepalive";
		j->body = json_pack("{s:s, s:I, s:s, s:o}", "name", w->cfg.c.name, "keepalive_ttl",
		                    (json_int_t)w->cfg.keepalive_ttl, "scheme", scheme, "subtasks",
		                    dm_worker_report(w));
	}
	dm_err err;
	if (dm_loop_offload(w->loop, call_work, call_done, j, &err) < 0) {
		dm_log_warn(w->log, "cannot call the master now: %s", err.msg);
		json_decref(j->body);
		dm_strlist_fini(&j->join);
		free(j);
		return;
	}
	w->call_inflight = true;
}

/* ---- what the master (and operators) call ---------------------------- */

static void handle_assign(dm_http_req *req, void *arg)
{
	dm_worker *w = arg;
	json_t *a = dm_http_req_json(req);
	if (!json_is_object(a)) {
		dm_http_reply_error(req, 400, 0, "expected an assignment object");
		return;
	}
	dm_worker_apply(w, a);
	dm_http_reply_json(req, 200, json_pack("{s:o}", "subtasks", dm_worker_report(w)));
}

static void handle_internal_status(dm_http_req *req, void *arg)
{
	dm_worker *w = arg;
	dm_http_reply_json(req, 200,
	                   json_pack("{s:s, s:s?, s:o}", "name", w->cfg.c.name, "source", w->source,
	                             "subtasks", dm_worker_report(w)));
}

static void handle_status(dm_http_req *req, void *arg)
{
	dm_worker *w = arg;
	dm_http_reply_json(req, 200,
	                   json_pack("{s:s, s:s, s:s?, s:b, s:b, s:s, s:b, s:I, s:I}", "name",
	                             w->cfg.c.name, "version", DM_WORKER_VERSION, "source",
	                             w->source, "tls", dm_http_req_is_tls(req), "registered",
	                             w->registered, "tls_mode", w->cfg.c.tls_mode, "tls_client",
	                             w->cfg.c.tls_client_v, "reloads", (json_int_t)w->reloads,
	                             "master_calls_ok", (json_int_t)w->calls_ok));
}

/* ---- life cycle ------------------------------------------------------ */

static dm_http_client *master_client(const dm_worker_config *cfg, dm_err *err)
{
	dm_tls_settings s;
	dm_tls_settings_init(&s);
	dm_daemon_client_tls_settings(&cfg->c, &s);
	/* A keepalive must fail well inside the TTL so the next one can try
	 * another master. */
	long budget = cfg->keepalive_ttl * 1000 / 2;
	dm_http_client_opts o = {.connect_timeout_ms = budget < 3000 ? budget : 3000,
	                         .timeout_ms = budget < 10000 ? budget : 10000};
	dm_http_client *c = dm_http_client_new(cfg->c.tls_client_v ? &s : NULL, &o, err);
	dm_tls_settings_fini(&s);
	return c;
}

static void start_timer(dm_worker *w)
{
	if (w->timer)
		event_free(w->timer);
	int64_t ms = 200; /* supervision: a finished or failed unit is seen within it */
	w->timer = event_new(w->base, -1, EV_PERSIST, tick, w);
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	event_add(w->timer, &tv);
}

static void reload(void *arg)
{
	dm_worker *w = arg;
	dm_worker_config cfg;
	dm_err err;
	if (dm_worker_config_load(&cfg, w->argc, w->argv, &err) < 0) {
		dm_log_error(w->log, "reload refused, the running configuration stays: %s",
		             err.msg);
		return;
	}
	dm_tls *tls = NULL;
	dm_http_client *client = NULL;
	if (dm_daemon_server_tls(&cfg.c, w->log, &tls, &err) < 0 ||
	    (client = master_client(&cfg, &err)) == NULL) {
		dm_log_error(w->log, "reload refused, the running configuration stays: %s",
		             err.msg);
		dm_tls_free(tls);
		dm_worker_config_fini(&cfg);
		return;
	}
	if (dm_log_reconfigure(w->log, cfg.c.log_level_v, cfg.c.log_format_v, cfg.c.log_file,
	                       &err) < 0)
		dm_log_error(w->log, "reload: %s; logging continues to the old destination",
		             err.msg);
	if (strcmp(cfg.worker_addr, w->cfg.worker_addr) != 0 ||
	    strcmp(cfg.c.name, w->cfg.c.name) != 0)
		dm_log_warn(w->log, "reload: worker-addr and name changes take effect at restart");
	dm_http_server_set_tls(w->srv, tls);
	size_t closed = dm_http_server_close_idle(w->srv);
	/* A call in flight may still use the old client. */
	w->retired = dm_xrealloc(w->retired, (w->nretired + 1) * sizeof(*w->retired));
	w->retired[w->nretired++] = w->client;
	w->client = client;
	bool ttl_changed = cfg.keepalive_ttl != w->cfg.keepalive_ttl;
	dm_worker_config_fini(&w->cfg);
	w->cfg = cfg;
	w->reloads++;
	/* The next keepalive carries the new scheme; send it now. */
	w->report_now = true;
	if (ttl_changed)
		start_timer(w);
	dm_log_info(w->log,
	            "reloaded: tls-mode %s, log-level %s, tls-client %s, %zu idle connections "
	            "closed",
	            w->cfg.c.tls_mode, w->cfg.c.log_level, w->cfg.c.tls_client_v ? "on" : "off",
	            closed);
}

/* A runner ended: supervise now rather than at the next tick, so the
 * master (and query-status) hear of Finished or Paused at once. */
static void on_runner_done(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	uint64_t n;
	(void)!read(fd, &n, sizeof(n));
	tick(-1, 0, arg);
}

static void on_shutdown(void *arg)
{
	dm_worker *w = arg;
	dm_log_info(w->log, "shutting down");
	if (w->timer)
		event_del(w->timer);
	if (w->done)
		event_del(w->done);
	dm_http_server_shutdown(w->srv);
}

static void on_drained(void *arg)
{
	dm_worker *w = arg;
	dm_loop_exit(w->loop);
}

int dm_worker_init(dm_worker *w, int argc, char **argv, dm_err *err)
{
	memset(w, 0, sizeof(*w));
	w->done_fd = -1;
	w->argc = argc;
	w->argv = argv;
	w->subtasks = json_array();
	w->wanted = json_array();
	w->master_reachable = true;
	if (dm_worker_config_load(&w->cfg, argc, argv, err) < 0)
		goto fail;
	w->log = dm_log_new("dm-worker", w->cfg.c.log_level_v, w->cfg.c.log_format_v,
	                    w->cfg.c.log_file, err);
	if (w->log == NULL)
		goto fail;
	if ((w->base = event_base_new()) == NULL) {
		dm_err_set(err, DM_EINTERNAL, "cannot create the event loop");
		goto fail;
	}
	if ((w->loop = dm_loop_new(w->base, w->log, err)) == NULL)
		goto fail;
	w->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->done_fd < 0 ||
	    (w->done = event_new(w->base, w->done_fd, EV_READ | EV_PERSIST, on_runner_done, w)) ==
	            NULL ||
	    event_add(w->done, NULL) < 0) {
		dm_err_set(err, DM_EINTERNAL, "cannot watch the subtask runners: %s",
		           strerror(errno));
		goto fail;
	}
	dm_tls *tls;
	if (dm_daemon_server_tls(&w->cfg.c, w->log, &tls, err) < 0)
		goto fail;
	dm_http_server_opts so = {.tls = tls};
	if ((w->srv = dm_http_server_new(w->base, &so, w->log, err)) == NULL)
		goto fail;
	if ((w->client = master_client(&w->cfg, err)) == NULL)
		goto fail;
	dm_http_server_route(w->srv, "GET", "/status", handle_status, w);
	dm_http_server_route(w->srv, "GET", "/internal/v1/status", handle_internal_status, w);
	dm_http_server_route(w->srv, "POST", "/internal/v1/assign", handle_assign, w);
	if (dm_http_server_listen(w->srv, w->cfg.worker_addr, err) < 0)
		goto fail;
	dm_loop_on_reload(w->loop, reload, w);
	dm_loop_on_shutdown(w->loop, on_shutdown, w);
	dm_http_server_on_drained(w->srv, on_drained, w);
	return 0;
fail:
	dm_worker_fini(w);
	return -1;
}

int dm_worker_run(dm_worker *w, dm_err *err)
{
	dm_log_info(w->log,
	            "dm-worker %s \"%s\" serving on %s (advertise %s), tls-mode %s, join %s%s",
	            DM_WORKER_VERSION, w->cfg.c.name, w->cfg.worker_addr, w->cfg.c.advertise_addr,
	            w->cfg.c.tls_mode, w->cfg.join.items[0], w->cfg.join.n > 1 ? ",..." : "");
	start_timer(w);
	tick(-1, 0, w);
	return dm_loop_run(w->loop, err);
}

void dm_worker_fini(dm_worker *w)
{
	if (w->timer)
		event_free(w->timer);
	if (w->done)
		event_free(w->done);
	dm_loop_free(w->loop);
	dm_http_server_free(w->srv);
	if (w->base)
		event_base_free(w->base);
	dm_http_client_free(w->client);
	for (size_t i = 0; i < w->nretired; i++)
		dm_http_client_free(w->retired[i]);
	free(w->retired);
	free(w->source);
	json_decref(w->source_cfg);
	for (size_t i = 0; i < w->nrunners; i++)
		dm_subtask_cancel(w->runners[i]);
	for (size_t i = 0; i < w->nrunners; i++)
		dm_subtask_free(w->runners[i]);
	free(w->runners);
	if (w->done_fd >= 0)
		close(w->done_fd); /* after the runners, which write it as they end */
	json_decref(w->subtasks);
	json_decref(w->wanted);
	dm_log_free(w->log);
	dm_worker_config_fini(&w->cfg);
	memset(w, 0, sizeof(*w));
}
