/* /api/v1/tasks: DM's OpenAPI (docs/dm-compat.md §1.2) plus /pause and
 * /resume. A task is stored whole; each of its sources gets a subtask
 * whose expected stage the master keeps and whose actual stage the bound
 * worker reports. */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/task.h"
#include "master/master.h"
#include "mysql/conn.h"

static void no_task(dm_http_req *req, const char *name)
{
	dm_http_reply_error(req, 404, 46018,
	                    "task %s does not exist; `dmctl query-status` lists "
	                    "the tasks",
	                    name);
}

static json_t *load_task(dm_master *m, const char *name, dm_err *err)
{
	char *key = dm_xasprintf("/dm/task/%s", name);
	json_t *v = NULL;
	dm_master_get_json(m, key, &v, err);
	free(key);
	return v;
}

/* The stored task, or NULL after answering 404. Caller decrefs. */
static json_t *require_task(dm_master *m, dm_http_req *req, const char *name)
{
	dm_err err;
	json_t *v = load_task(m, name, &err);
	if (v == NULL)
		no_task(req, name);
	return v;
}

/* The task as a client may see it: no password, no private key. */
static json_t *public_task(json_t *stored)
{
	json_t *o = json_deep_copy(stored);
	json_t *t = json_object_get(o, "target_config");
	json_object_del(t, "password");
	json_t *sec = json_object_get(t, "security");
	if (json_is_object(sec))
		json_object_del(sec, "ssl_key_content");
	return o;
}

/* source -> {"stage": ...} for one task. */
static json_t *subtasks_of(dm_master *m, const char *task)
{
	char *prefix = dm_xasprintf("/dm/subtask/%s/", task);
	json_t *subs = NULL;
	dm_err err;
	if (dm_master_list_json(m, prefix, &subs, &err) < 0)
		subs = json_object();
	free(prefix);
	return subs;
}

static json_t *subtask_status(dm_master *m, const char *task, const char *source, json_t *exp)
{
	const char *expected = json_string_value(json_object_get(exp, "stage"));
	const char *worker = NULL;
	json_t *rep = dm_master_reported(m, task, source, &worker);
	char *bound = dm_master_bound_worker(m, source);
	json_t *st = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", task, "source_name",
	                       source, "worker_name", bound ? bound : "", "expected_stage",
	                       expected ? expected : "", "stage", "", "unit", "");
	if (bound == NULL) {
		json_object_set_new(
		        st, "error_msg",
		        json_string("the source is not bound to a worker: no free online "
		                    "worker"));
	} else if (rep == NULL || worker == NULL || strcmp(worker, bound) != 0) {
		json_object_set_new(st, "error_msg",
		                    json_string("waiting for the worker to report"));
	} else {
		json_object_set(st, "stage", json_object_get(rep, "stage"));
		json_t *e = json_object_get(rep, "error_msg");
		if (json_is_string(e) && json_string_length(e) > 0)
			json_object_set(st, "error_msg", e);
		json_t *unit = json_object_get(rep, "unit");
		if (json_is_string(unit))
			json_object_set(st, "unit", unit);
		json_t *load = json_object_get(rep, "load_status");
		if (json_is_object(load))
			json_object_set(st, "load_status", load);
		json_t *sync = json_object_get(rep, "sync_status");
		if (json_is_object(sync))
			json_object_set(st, "sync_status", sync);
	}
	free(bound);
	return st;
}

/* ---- create: validate, check the target in the background, store ---- */

struct create_job {
	dm_master *m;
	dm_http_req *req;
	dm_task_config cfg;
	json_t *task; /* with plain secrets */
	int rc;
	dm_err err;
};

static void create_work(void *arg)
{
	struct create_job *j = arg;
	dm_db_config db;
	dm_db_config_init(&db);
	dm_task_config_target_db_config(&j->cfg, &db);
	char *what = dm_xasprintf("task %s target-database", j->cfg.name);
	MYSQL *my = NULL;
	j->rc = dm_mysql_connect(&db, what, &my, &j->err);
	if (my)
		mysql_close(my);
	free(what);
	dm_db_config_fini(&db);
}

static void create_done(void *arg)
{
	struct create_job *j = arg;
	dm_master *m = j->m;
	const char *name = j->cfg.name;
	dm_err err;
	json_t *old = NULL;
	if (dm_loop_offload_skipped(m->loop)) {
		/* shutting down: the target was never checked, so nothing is stored */
		dm_http_reply_error(j->req, 503, 0, "dm-master is shutting down; try again");
		goto out;
	}
	if (j->rc < 0) {
		dm_http_reply_error(j->req, 400, 0, "%s", j->err.msg);
		goto out;
	}
	if ((old = load_task(m, name, &err)) != NULL) {
		dm_http_reply_error(j->req, 409, 0, "task %s already exists", name);
		goto out;
	}
	json_t *sealed = json_deep_copy(j->task);
	int rc = dm_master_seal(m, sealed, dm_master_task_secrets, &err);
	if (rc == 0) {
		char *key = dm_xasprintf("/dm/task/%s", name);
		rc = dm_master_put_json(m, key, sealed, &err);
		free(key);
	}
	json_decref(sealed);
	dm_strlist sources = {0};
	dm_task_config_subtask_sources(&j->cfg, &sources);
	for (size_t i = 0; rc == 0 && i < sources.n; i++) {
		char *key = dm_xasprintf("/dm/subtask/%s/%s", name, sources.items[i]);
		json_t *st = json_pack("{s:s}", "stage", "New");
		rc = dm_master_put_json(m, key, st, &err);
		json_decref(st);
		free(key);
	}
	if (rc < 0) {
		dm_http_reply_error(j->req, 500, 0, "cannot store task %s: %s", name, err.msg);
	} else {
		dm_log_info(m->log, "task %s created (%s, %zu sources)", name, j->cfg.task_mode,
		            sources.n);
		for (size_t i = 0; i < sources.n; i++)
			dm_master_push_source(m, sources.items[i]);
		dm_http_reply_json(j->req, 201,
		                   json_pack("{s:o, s:s}", "task", public_task(j->task),
		                             "check_result", "pre-check is passed. "));
	}
	dm_strlist_fini(&sources);
out:
	json_decref(old);
	dm_task_config_fini(&j->cfg);
	json_decref(j->task);
	free(j);
}

static void handle_create(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	json_t *t = json_object_get(dm_http_req_json(req), "task");
	if (!json_is_object(t)) {
		dm_http_reply_error(req, 400, 0, "expected {\"task\": {...}} as the body");
		return;
	}
	struct create_job *j = dm_xcalloc(1, sizeof(*j));
	j->m = m;
	j->req = req;
	dm_err err;
	if (dm_task_config_from_json(t, &j->cfg, &err) < 0) {
		dm_http_reply_error(req, 400, 0, "%s", err.msg);
		goto fail;
	}
	if (!dm_master_name_ok(j->cfg.name)) {
		dm_http_reply_error(req, 400, 0, "task name \"%s\": use 1-64 of A-Z a-z 0-9 . _ -",
		                    j->cfg.name);
		goto fail;
	}
	json_t *old = load_task(m, j->cfg.name, &err);
	if (old) {
		json_decref(old);
		dm_http_reply_error(req, 409, 0,
		                    "task %s already exists; stop-task removes it, resume-task "
		                    "restarts a paused one",
		                    j->cfg.name);
		goto fail;
	}
	dm_strlist sources = {0};
	dm_task_config_subtask_sources(&j->cfg, &sources);
	for (size_t i = 0; i < sources.n; i++) {
		char *key = dm_xasprintf("/dm/source/%s", sources.items[i]);
		json_t *s = NULL;
		int rc = dm_master_get_json(m, key, &s, &err);
		free(key);
		json_decref(s);
		if (rc < 0) {
			dm_http_reply_error(
			        req, 400, 0,
			        "task %s: source %s does not exist; create it first with "
			        "`dmctl operate-source create`",
			        j->cfg.name, sources.items[i]);
			dm_strlist_fini(&sources);
			goto fail;
		}
	}
	dm_strlist_fini(&sources);
	j->task = dm_task_config_to_json(&j->cfg, true);
	dm_http_req_defer(req);
	if (dm_loop_offload(m->loop, create_work, create_done, j, &err) < 0) {
		dm_http_reply_error(req, 503, 0, "the master is busy: %s; try again", err.msg);
		goto fail;
	}
	return;
fail:
	dm_task_config_fini(&j->cfg);
	json_decref(j->task);
	free(j);
}

static bool want_source(json_t *list, const char *source)
{
	if (!json_is_array(list) || json_array_size(list) == 0)
		return true;
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) if (json_is_string(v) &&
	                                   strcmp(json_string_value(v), source) == 0) return true;
	return false;
}

/* Moves the task's subtasks (all, or those in body's source_name_list) to
 * stage `to`; only from the stages in `from` (NULL: any). */
static void change_stage(dm_http_req *req, dm_master *m, const char *to, const char *const *from)
{
	const char *name = dm_http_req_param(req, "name");
	dm_err err;
	json_t *t = require_task(m, req, name);
	if (t == NULL)
		return;
	json_decref(t);
	json_t *body = dm_http_req_json(req);
	json_t *list = json_object_get(body, "source_name_list");
	bool remove_meta = json_is_true(json_object_get(body, "remove_meta"));
	json_t *subs = subtasks_of(m, name);
	json_t *changed = json_array();
	const char *source;
	json_t *v;
	json_object_foreach(subs, source, v)
	{
		if (!want_source(list, source))
			continue;
		const char *cur = json_string_value(json_object_get(v, "stage"));
		bool allowed = from == NULL;
		for (const char *const *f = from; f && *f; f++)
			allowed |= cur && strcmp(cur, *f) == 0;
		/* Running -> Running is resume-task on a subtask its worker paused
		 * after an error: the new generation tells the worker to retry. */
		bool rerun = strcmp(to, "Running") == 0;
		if (!allowed || (cur && strcmp(cur, to) == 0 && !rerun))
			continue;
		/* every stage write keeps the generation; runs bump it */
		json_int_t gen = json_integer_value(json_object_get(v, "generation")) + rerun;
		json_t *st = json_pack("{s:s, s:I}", "stage", to, "generation", gen);
		if (remove_meta)
			json_object_set_new(st, "remove_meta", json_true());
		char *key = dm_xasprintf("/dm/subtask/%s/%s", name, source);
		int rc = dm_master_put_json(m, key, st, &err);
		free(key);
		json_decref(st);
		if (rc < 0) {
			dm_http_reply_error(req, 500, 0, "%s", err.msg);
			json_decref(subs);
			json_decref(changed);
			return;
		}
		json_array_append_new(changed, json_string(source));
	}
	size_t i;
	json_t *s;
	json_array_foreach(changed, i, s) dm_master_push_source(m, json_string_value(s));
	if (json_array_size(changed))
		dm_log_info(m->log, "task %s: %zu subtasks -> %s", name, json_array_size(changed),
		            to);
	json_decref(subs);
	dm_http_reply_json(
	        req, 200, json_pack("{s:b, s:s, s:o}", "result", 1, "msg", "", "sources", changed));
}

static void handle_start(dm_http_req *req, void *arg)
{
	static const char *const from[] = {"New", "Stopped", "Paused", NULL};
	change_stage(req, arg, "Running", from);
}

static void handle_stop(dm_http_req *req, void *arg)
{
	change_stage(req, arg, "Stopped", NULL);
}

static void handle_pause(dm_http_req *req, void *arg)
{
	static const char *const from[] = {"Running", NULL};
	change_stage(req, arg, "Paused", from);
}

static void handle_resume(dm_http_req *req, void *arg)
{
	static const char *const from[] = {"Paused", "Running", NULL};
	change_stage(req, arg, "Running", from);
}

static void handle_list(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	json_t *all;
	dm_err err;
	if (dm_master_list_json(m, "/dm/task/", &all, &err) < 0) {
		dm_http_reply_error(req, 500, 0, "%s", err.msg);
		return;
	}
	bool with_status = dm_master_query_flag(req, "with_status");
	json_t *data = json_array();
	const char *name;
	json_t *v;
	json_object_foreach(all, name, v)
	{
		json_t *o = public_task(v);
		if (with_status) {
			json_t *subs = subtasks_of(m, name), *list = json_array(), *e;
			const char *source;
			json_object_foreach(subs, source, e)
			        json_array_append_new(list, subtask_status(m, name, source, e));
			json_decref(subs);
			json_object_set_new(o, "status_list", list);
		}
		json_array_append_new(data, o);
	}
	json_decref(all);
	dm_master_reply_list(req, data);
}

static void handle_get(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	const char *name = dm_http_req_param(req, "name");
	json_t *t = require_task(m, req, name);
	if (t == NULL)
		return;
	json_t *o = public_task(t);
	json_decref(t);
	dm_http_reply_json(req, 200, o);
}

static void handle_status(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	const char *name = dm_http_req_param(req, "name");
	json_t *t = require_task(m, req, name);
	if (t == NULL)
		return;
	json_decref(t);
	/* ?source_name_list=a,b (comma separated; empty: every source) */
	const char *filter = dm_http_req_query(req, "source_name_list");
	dm_strlist wanted = {0};
	if (filter)
		dm_strlist_split(&wanted, filter);
	json_t *subs = subtasks_of(m, name), *data = json_array(), *e;
	const char *source;
	json_object_foreach(subs, source, e)
	{
		if (wanted.n > 0 && !dm_strlist_has(&wanted, source))
			continue;
		json_array_append_new(data, subtask_status(m, name, source, e));
	}
	dm_strlist_fini(&wanted);
	json_decref(subs);
	dm_master_reply_list(req, data);
}

static void handle_delete(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	const char *name = dm_http_req_param(req, "name");
	dm_err err;
	json_t *t = require_task(m, req, name);
	if (t == NULL)
		return;
	json_decref(t);
	bool forced = dm_master_query_flag(req, "force");
	json_t *subs = subtasks_of(m, name);
	const char *source;
	json_t *v;
	if (!forced) {
		json_object_foreach(subs, source, v)
		{
			const char *st = json_string_value(json_object_get(v, "stage"));
			if (st && (strcmp(st, "Running") == 0)) {
				dm_http_reply_error(
				        req, 400, 0,
				        "task %s is Running on source %s; stop it first, "
				        "or delete with force",
				        name, source);
				json_decref(subs);
				return;
			}
		}
	}
	char *prefix = dm_xasprintf("/dm/subtask/%s/", name);
	char *key = dm_xasprintf("/dm/task/%s", name);
	int rc = dm_store_delete_prefix(m->store, prefix, NULL, NULL, &err);
	if (rc == 0)
		rc = dm_store_delete(m->store, key, NULL, &err);
	free(prefix);
	free(key);
	if (rc < 0) {
		dm_http_reply_error(req, 500, 0, "cannot delete task %s: %s", name, err.msg);
	} else {
		dm_log_info(m->log, "task %s deleted", name);
		json_object_foreach(subs, source, v) dm_master_push_source(m, source);
		dm_http_reply_json(req, 204, NULL);
	}
	json_decref(subs);
}

void dm_master_routes_tasks(dm_master *m)
{
	dm_http_server *s = m->srv;
	dm_http_server_route(s, "POST", "/api/v1/tasks", handle_create, m);
	dm_http_server_route(s, "GET", "/api/v1/tasks", handle_list, m);
	dm_http_server_route(s, "GET", "/api/v1/tasks/{name}", handle_get, m);
	dm_http_server_route(s, "DELETE", "/api/v1/tasks/{name}", handle_delete, m);
	dm_http_server_route(s, "GET", "/api/v1/tasks/{name}/status", handle_status, m);
	dm_http_server_route(s, "POST", "/api/v1/tasks/{name}/start", handle_start, m);
	dm_http_server_route(s, "POST", "/api/v1/tasks/{name}/stop", handle_stop, m);
	dm_http_server_route(s, "POST", "/api/v1/tasks/{name}/pause", handle_pause, m);
	dm_http_server_route(s, "POST", "/api/v1/tasks/{name}/resume", handle_resume, m);
}
