/* Binding sources to workers, liveness, and pushing assignments.
 * Rules in docs/control-plane.md ("Scheduling"). */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/mem.h"
#include "master/master.h"

static char *get_name(dm_master *m, const char *key)
{
	json_t *v;
	dm_err err;
	if (dm_master_get_json(m, key, &v, &err) < 0)
		return NULL;
	const char *s = json_string_value(json_object_get(v, "worker"));
	char *r = s ? dm_xstrdup(s) : NULL;
	json_decref(v);
	return r;
}

char *dm_master_bound_worker(dm_master *m, const char *source)
{
	char *key = dm_xasprintf("/dm/bound/%s", source);
	char *w = get_name(m, key);
	free(key);
	return w;
}

char *dm_master_bound_source(dm_master *m, const char *worker)
{
	json_t *all;
	dm_err err;
	if (dm_master_list_json(m, "/dm/bound/", &all, &err) < 0)
		return NULL;
	char *r = NULL;
	const char *source;
	json_t *v;
	json_object_foreach(all, source, v)
	{
		const char *w = json_string_value(json_object_get(v, "worker"));
		if (w && strcmp(w, worker) == 0) {
			r = dm_xstrdup(source);
			break;
		}
	}
	json_decref(all);
	return r;
}

int dm_master_bind(dm_master *m, const char *source, const char *worker, dm_err *err)
{
	json_t *v = json_pack("{s:s}", "worker", worker);
	char *k1 = dm_xasprintf("/dm/bound/%s", source);
	char *k2 = dm_xasprintf("/dm/last-bound/%s", source);
	char *s = json_dumps(v, JSON_COMPACT);
	dm_store_op ops[2] = {
	        {.type = DM_STORE_OP_PUT, .key = k1, .value = s, .value_len = strlen(s)},
	        {.type = DM_STORE_OP_PUT, .key = k2, .value = s, .value_len = strlen(s)},
	};
	bool ok;
	int rc = dm_store_txn(m->store, NULL, 0, ops, 2, &ok, NULL, err);
	free(s);
	free(k1);
	free(k2);
	json_decref(v);
	if (rc == 0)
		dm_log_info(m->log, "source %s bound to worker %s", source, worker);
	return rc;
}

int dm_master_unbind(dm_master *m, const char *source, dm_err *err)
{
	char *key = dm_xasprintf("/dm/bound/%s", source);
	int64_t rev;
	int rc = dm_store_delete(m->store, key, &rev, err);
	free(key);
	if (rc == 0 && rev)
		dm_log_info(m->log, "source %s unbound", source);
	return rc;
}

/* A free worker for source: its last-bound worker if that one is free,
 * else the first free worker by name. bound maps source -> {worker}. */
static const char *pick_worker(dm_master *m, const char *source, json_t *bound)
{
	char *last_key = dm_xasprintf("/dm/last-bound/%s", source);
	char *last = get_name(m, last_key);
	free(last_key);
	const char *best = NULL;
	for (size_t i = 0; i < m->nworkers; i++) {
		dm_mworker *w = &m->workers[i];
		if (!w->online)
			continue;
		bool busy = false;
		const char *s;
		json_t *v;
		json_object_foreach(bound, s, v)
		{
			const char *bw = json_string_value(json_object_get(v, "worker"));
			busy |= bw && strcmp(bw, w->name) == 0;
		}
		if (busy)
			continue;
		if (last && strcmp(last, w->name) == 0) {
			best = w->name;
			break;
		}
		if (best == NULL || strcmp(w->name, best) < 0)
			best = w->name;
	}
	free(last);
	return best;
}

void dm_master_schedule(dm_master *m)
{
	json_t *sources = NULL, *bound = NULL;
	dm_err err;
	if (dm_master_list_json(m, "/dm/source/", &sources, &err) < 0 ||
	    dm_master_list_json(m, "/dm/bound/", &bound, &err) < 0) {
		dm_log_error(m->log, "scheduler: %s", err.msg);
		goto out;
	}
	/* Bindings to workers that went offline or were removed are dropped
	 * first, so their sources can move. */
	const char *source;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(bound, tmp, source, v)
	{
		const char *wn = json_string_value(json_object_get(v, "worker"));
		dm_mworker *w = wn ? dm_master_worker(m, wn) : NULL;
		if (w && w->online && json_object_get(sources, source))
			continue;
		if (dm_master_unbind(m, source, &err) < 0)
			dm_log_error(m->log, "scheduler: %s", err.msg);
		else
			json_object_del(bound, source);
	}
	json_object_foreach(sources, source, v)
	{
		if (json_object_get(bound, source))
			continue;
		const char *w = pick_worker(m, source, bound);
		if (w == NULL) {
			dm_log_debug(m->log, "scheduler: no free worker for source %s", source);
			continue;
		}
		if (dm_master_bind(m, source, w, &err) < 0) {
			dm_log_error(m->log, "scheduler: %s", err.msg);
			continue;
		}
		json_object_set_new(bound, source, json_pack("{s:s}", "worker", w));
		dm_master_push(m, w);
	}
out:
	json_decref(sources);
	json_decref(bound);
}

json_t *dm_master_assignment(dm_master *m, const char *worker, dm_err *err)
{
	json_t *a = json_pack("{s:I, s:n, s:[]}", "revision", (json_int_t)dm_clock_wall_ms(),
	                      "source", "subtasks");
	char *source = dm_master_bound_source(m, worker);
	if (source == NULL)
		return a;
	char *key = dm_xasprintf("/dm/source/%s", source);
	json_t *src = NULL, *tasks = NULL, *subtasks = NULL;
	int rc = dm_master_get_json(m, key, &src, err);
	free(key);
	if (rc == 0)
		rc = dm_master_unseal(m, src, dm_master_source_secrets, err);
	if (rc == 0)
		rc = dm_master_list_json(m, "/dm/task/", &tasks, err);
	if (rc == 0)
		rc = dm_master_list_json(m, "/dm/subtask/", &subtasks, err);
	if (rc < 0)
		goto fail;
	json_object_set(a, "source", src);
	const char *tname;
	json_t *task;
	json_object_foreach(tasks, tname, task)
	{
		char *sk = dm_xasprintf("%s/%s", tname, source);
		json_t *st = json_object_get(subtasks, sk);
		free(sk);
		if (st == NULL)
			continue;
		if (dm_master_unseal(m, task, dm_master_task_secrets, err) < 0)
			goto fail;
		json_array_append_new(
		        json_object_get(a, "subtasks"),
		        json_pack("{s:s, s:s, s:O, s:I, s:O}", "task", tname, "source", source,
		                  "stage", json_object_get(st, "stage"), "generation",
		                  json_integer_value(json_object_get(st, "generation")),
		                  "task_config", task));
	}
	json_decref(src);
	json_decref(tasks);
	json_decref(subtasks);
	free(source);
	return a;
fail:
	json_decref(src);
	json_decref(tasks);
	json_decref(subtasks);
	json_decref(a);
	free(source);
	return NULL;
}

/* A push in flight: built in the loop thread, sent by an offload thread. */
struct push_job {
	dm_master *m;
	char *worker;
	char *addr;
	json_t *body;
	dm_http_client *client;
	long status;
	json_t *answer;
	dm_err err;
	int rc;
};

static void push_work(void *arg)
{
	struct push_job *j = arg;
	dm_strlist addrs = {0};
	dm_strlist_add(&addrs, j->addr);
	j->rc = dm_http_client_call(j->client, "POST", &addrs, "/internal/v1/assign", j->body,
	                            &j->status, &j->answer, &j->err);
	dm_strlist_fini(&addrs);
}

static void push_done(void *arg)
{
	struct push_job *j = arg;
	dm_master *m = j->m;
	dm_mworker *w = dm_master_worker(m, j->worker);
	if (j->rc < 0 || dm_loop_offload_skipped(m->loop))
		dm_log_warn(m->log,
		            "cannot push the assignment to worker %s: %s (it will get it "
		            "with its next keepalive)",
		            j->worker, j->rc < 0 ? j->err.msg : "shutting down");
	else if (j->status != 200)
		dm_log_warn(m->log, "worker %s refused its assignment: HTTP %ld", j->worker,
		            j->status);
	else if (w && json_is_array(json_object_get(j->answer, "subtasks"))) {
		json_decref(w->reported);
		w->reported = json_incref(json_object_get(j->answer, "subtasks"));
	}
	json_decref(j->answer);
	json_decref(j->body);
	free(j->worker);
	free(j->addr);
	free(j);
}

void dm_master_push(dm_master *m, const char *worker)
{
	dm_mworker *w = dm_master_worker(m, worker);
	if (w == NULL || !w->online || w->addr == NULL || *w->addr == '\0')
		return;
	dm_err err;
	json_t *a = dm_master_assignment(m, worker, &err);
	if (a == NULL) {
		dm_log_error(m->log, "cannot build the assignment of worker %s: %s", worker,
		             err.msg);
		return;
	}
	struct push_job *j = dm_xcalloc(1, sizeof(*j));
	j->m = m;
	j->worker = dm_xstrdup(worker);
	j->addr = dm_xstrdup(w->addr);
	j->body = a;
	j->client = m->client;
	if (dm_loop_offload(m->loop, push_work, push_done, j, &err) < 0) {
		dm_log_warn(m->log, "cannot push to worker %s now: %s", worker, err.msg);
		json_decref(a);
		free(j->worker);
		free(j->addr);
		free(j);
	}
}

void dm_master_push_source(dm_master *m, const char *source)
{
	char *w = dm_master_bound_worker(m, source);
	if (w)
		dm_master_push(m, w);
	free(w);
}

json_t *dm_master_reported(dm_master *m, const char *task, const char *source,
                           const char **ret_worker)
{
	for (size_t i = 0; i < m->nworkers; i++) {
		size_t k;
		json_t *st;
		json_array_foreach(m->workers[i].reported, k, st)
		{
			const char *t = json_string_value(json_object_get(st, "task"));
			const char *s = json_string_value(json_object_get(st, "source"));
			if (t && s && strcmp(t, task) == 0 && strcmp(s, source) == 0) {
				if (ret_worker)
					*ret_worker = m->workers[i].name;
				return st;
			}
		}
	}
	return NULL;
}

/* Once a second: workers silent for longer than their TTL go offline and
 * their sources are rebound. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	dm_master *m = arg;
	int64_t now = dm_clock_mono_ms();
	bool changed = false;
	for (size_t i = 0; i < m->nworkers; i++) {
		dm_mworker *w = &m->workers[i];
		if (w->online && now - w->last_seen_ms > w->ttl_ms) {
			w->online = false;
			json_decref(w->reported);
			w->reported = json_array();
			changed = true;
			dm_log_warn(m->log,
			            "worker %s (%s) is offline: no keepalive for %lld ms "
			            "(keepalive-ttl "
			            "%lld s)",
			            w->name, w->addr, (long long)(now - w->last_seen_ms),
			            (long long)(w->ttl_ms / 1000));
		}
	}
	if (changed)
		dm_master_schedule(m);
}

void dm_master_start_tick(dm_master *m)
{
	m->tick = event_new(m->base, -1, EV_PERSIST, tick, m);
	struct timeval tv = {.tv_sec = 1};
	event_add(m->tick, &tv);
}
