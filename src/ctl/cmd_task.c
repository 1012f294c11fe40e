/* start-task, stop-task, pause-task, resume-task: /api/v1/tasks. */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/task.h"
#include "ctl/ctl.h"

static char *task_path(const char *name, const char *suffix)
{
	char *esc = dm_ctl_escape(name);
	char *p = dm_xasprintf("/api/v1/tasks/%s%s", esc, suffix);
	free(esc);
	return p;
}

static json_t *worker_response(bool ok, const char *msg, const char *source, const char *worker)
{
	return json_pack("{s:b, s:s, s:s, s:s}", "result", ok, "msg", msg, "source",
	                 source ? source : "", "worker", worker ? worker : "");
}

/* The task's subtask statuses (the API's SubTaskStatus list), or NULL with
 * rc set as dm_ctl_request's. */
static json_t *task_status(dm_ctl *ctl, const char *name, int *rc, dm_err *err)
{
	char *path = task_path(name, "/status");
	json_t *answer = NULL;
	*rc = dm_ctl_request(ctl, "GET", path, NULL, &answer, NULL, err);
	free(path);
	if (*rc != DM_CTL_ANSWER_OK)
		return NULL;
	json_t *data = json_incref(json_object_get(answer, "data"));
	json_decref(answer);
	return json_is_array(data) ? data : (json_decref(data), json_array());
}

static json_t *find_subtask(json_t *statuses, const char *source)
{
	size_t i;
	json_t *st;
	json_array_foreach(statuses, i, st)
	{
		const char *s = json_string_value(json_object_get(st, "source_name"));
		if (s && strcmp(s, source) == 0)
			return st;
	}
	return NULL;
}

/* ---- start-task ------------------------------------------------------ */

static int start_output(dm_ctl *ctl, bool ok, const char *msg, json_t *sources, const char *check)
{
	return dm_ctl_print_result(ctl, json_pack("{s:b, s:s, s:o, s:s}", "result", ok, "msg", msg,
	                                          "sources", sources, "checkResult",
	                                          check ? check : ""));
}

static int start_task(dm_ctl *ctl, const char *file, bool remove_meta)
{
	dm_task_config cfg;
	dm_err err;
	if (dm_task_config_load_file(file, &cfg, &err) < 0)
		return dm_ctl_fail(ctl, "%s", err.msg);
	int rc = DM_CTL_EXIT_FAIL;
	char *msg = NULL, *path = NULL;
	json_t *answer = NULL, *statuses = NULL;
	dm_strlist sources = {0};
	dm_task_config_subtask_sources(&cfg, &sources);
	for (size_t i = 0; i < ctl->sources.n; i++)
		if (!dm_strlist_has(&sources, ctl->sources.items[i])) {
			rc = dm_ctl_usage_error(ctl, "start-task",
			                        "-s %s: task %s has no mysql-instance with that "
			                        "source-id",
			                        ctl->sources.items[i], cfg.name);
			goto out;
		}
	if (dm_task_config_load_pem(&cfg, &err) < 0) {
		rc = dm_ctl_fail(ctl, "%s", err.msg);
		goto out;
	}
	json_t *body = json_pack("{s:o}", "task", dm_task_config_to_json(&cfg, true));
	long status = 0;
	int a = dm_ctl_request(ctl, "POST", "/api/v1/tasks", body, &answer, &status, &err);
	json_decref(body);
	if (a < 0) {
		rc = dm_ctl_fail(ctl, "%s", err.msg);
		goto out;
	}
	if (a == DM_CTL_ANSWER_ERROR) {
		if (status == 409)
			msg = dm_xasprintf(
			        "task %s already exists: `dmctl resume-task %s` resumes it "
			        "if it is paused; `dmctl stop-task %s` removes it, so that "
			        "start-task can create it again",
			        cfg.name, cfg.name, cfg.name);
		rc = start_output(ctl, false, msg ? msg : err.msg, json_array(), "");
		goto out;
	}
	const char *check = json_string_value(json_object_get(answer, "check_result"));

	json_t *start = json_pack("{s:b}", "remove_meta", remove_meta);
	if (ctl->sources.n > 0) {
		json_t *list = json_array();
		for (size_t i = 0; i < ctl->sources.n; i++)
			json_array_append_new(list, json_string(ctl->sources.items[i]));
		json_object_set_new(start, "source_name_list", list);
	}
	path = task_path(cfg.name, "/start");
	a = dm_ctl_request(ctl, "POST", path, start, NULL, NULL, &err);
	json_decref(start);
	if (a != DM_CTL_ANSWER_OK) {
		msg = dm_xasprintf("task %s was created but not started: %s; `dmctl stop-task %s` "
		                   "removes it",
		                   cfg.name, err.msg, cfg.name);
		if (a < 0)
			rc = dm_ctl_fail(ctl, "%s", msg);
		else
			rc = start_output(ctl, false, msg, json_array(), check);
		goto out;
	}
	/* Which worker runs each subtask: DM's answer names them. */
	statuses = task_status(ctl, cfg.name, &a, &err);
	json_t *results = json_array();
	for (size_t i = 0; i < sources.n; i++) {
		const char *s = sources.items[i];
		if (ctl->sources.n > 0 && !dm_strlist_has(&ctl->sources, s))
			continue;
		json_t *st = find_subtask(statuses, s);
		const char *w = json_string_value(json_object_get(st, "worker_name"));
		bool bound = w && *w;
		json_array_append_new(
		        results,
		        worker_response(true,
		                        bound || statuses == NULL
		                                ? ""
		                                : "the source is not bound to a worker "
		                                  "yet; the subtask starts when one is free",
		                        s, w));
	}
	rc = start_output(ctl, true, "", results, check);
out:
	json_decref(statuses);
	json_decref(answer);
	free(path);
	free(msg);
	dm_strlist_fini(&sources);
	dm_task_config_fini(&cfg);
	return rc;
}

int dm_ctl_cmd_start_task(dm_ctl *ctl, int argc, char **argv)
{
	bool remove_meta = false;
	const char *start_time = NULL;
	const dm_ctl_opt opts[] = {
	        {"remove-meta", 0, DM_CTL_OPT_BOOL, &remove_meta},
	        {"start-time", 0, DM_CTL_OPT_STRING, &start_time},
	        {0},
	};
	dm_strlist pos = {0};
	dm_err err;
	int rc;
	if (dm_ctl_parse_opts(opts, argc, argv, &pos, &err) < 0)
		rc = dm_ctl_usage_error(ctl, argv[0], "%s", err.msg);
	else if (start_time)
		rc = dm_ctl_usage_error(ctl, argv[0],
		                        "--start-time is not supported yet; give the start "
		                        "position as meta in the task's mysql-instances");
	else if (pos.n != 1)
		rc = dm_ctl_usage_error(ctl, argv[0], "give one task.yaml");
	else
		rc = start_task(ctl, pos.items[0], remove_meta);
	dm_strlist_fini(&pos);
	return rc;
}

/* ---- stop, pause, resume --------------------------------------------- */

typedef struct task_op {
	const char *command; /* "pause-task" */
	const char *action;  /* URL suffix: "/pause" */
	const char *dm_op;   /* DM's TaskOp name in the output */
	const char *target;  /* expected stage afterwards */
	const char *from;    /* the stage it applies to, NULL: any */
} task_op;

static const task_op op_stop = {"stop-task", "/stop", "Delete", "Stopped", NULL};
static const task_op op_pause = {"pause-task", "/pause", "Pause", "Paused", "Running"};
static const task_op op_resume = {"resume-task", "/resume", "Resume", "Running", "Paused"};

/* Runs op on task name (only on the given sources when there are any) and
 * returns DM's OperateTaskResponse, or NULL when the master could not be
 * reached (err says why). */
static json_t *operate_one(dm_ctl *ctl, const task_op *op, const char *name, const dm_strlist *only,
                           bool with_name, dm_err *err)
{
	/* stop-task -s stops those subtasks and keeps the task. */
	bool remove = op == &op_stop && only->n == 0;
	json_t *out = json_object();
	if (with_name)
		json_object_set_new(out, "task", json_string(name));
	json_object_set_new(out, "op", json_string(remove || op != &op_stop ? op->dm_op : "Stop"));
	json_t *results = json_array();
	char *msg = NULL;
	bool ok = false;
	int a;
	json_t *before = task_status(ctl, name, &a, err);
	if (a < 0)
		goto fatal;
	if (a == DM_CTL_ANSWER_ERROR) {
		msg = dm_xstrdup(err->msg);
		goto done;
	}
	json_t *body = json_object();
	if (only->n > 0) {
		json_t *list = json_array();
		for (size_t i = 0; i < only->n; i++)
			json_array_append_new(list, json_string(only->items[i]));
		json_object_set_new(body, "source_name_list", list);
	}
	char *path = task_path(name, op->action);
	json_t *answer = NULL;
	a = dm_ctl_request(ctl, "POST", path, body, &answer, NULL, err);
	free(path);
	json_decref(body);
	if (a < 0)
		goto fatal;
	if (a == DM_CTL_ANSWER_ERROR) {
		msg = dm_xstrdup(err->msg);
		goto done;
	}
	json_t *changed = json_object_get(answer, "sources");
	ok = true;
	size_t i;
	json_t *st;
	json_array_foreach(before, i, st)
	{
		const char *source = json_string_value(json_object_get(st, "source_name"));
		const char *worker = json_string_value(json_object_get(st, "worker_name"));
		const char *stage = json_string_value(json_object_get(st, "expected_stage"));
		if (source == NULL || (only->n > 0 && !dm_strlist_has(only, source)))
			continue;
		bool done_here = false;
		size_t k;
		json_t *c;
		json_array_foreach(changed, k, c)
		{
			done_here |= json_is_string(c) && strcmp(json_string_value(c), source) == 0;
		}
		if (done_here || op->from == NULL || (stage && strcmp(stage, op->target) == 0)) {
			json_array_append_new(results, worker_response(true, "", source, worker));
		} else {
			ok = false;
			char *why = dm_xasprintf("the subtask is %s; %s applies to %s subtasks",
			                         stage && *stage ? stage : "in no stage yet",
			                         op->command, op->from);
			json_array_append_new(results, worker_response(false, why, source, worker));
			free(why);
		}
	}
	json_decref(answer);
	for (size_t k = 0; k < only->n; k++)
		if (find_subtask(before, only->items[k]) == NULL) {
			ok = false;
			char *why = dm_xasprintf("task %s has no subtask on source %s", name,
			                         only->items[k]);
			json_array_append_new(results,
			                      worker_response(false, why, only->items[k], ""));
			free(why);
		}
	if (remove) {
		path = task_path(name, "");
		a = dm_ctl_request(ctl, "DELETE", path, NULL, NULL, NULL, err);
		free(path);
		if (a < 0)
			goto fatal;
		if (a == DM_CTL_ANSWER_ERROR) {
			ok = false;
			msg = dm_xasprintf("task %s was stopped but not removed: %s", name,
			                   err->msg);
		}
	}
done:
	json_object_set_new(out, "result", json_boolean(ok));
	json_object_set_new(out, "msg", json_string(msg ? msg : ""));
	json_object_set_new(out, "sources", results);
	free(msg);
	json_decref(before);
	return out;
fatal:
	json_decref(out);
	json_decref(results);
	json_decref(before);
	return NULL;
}

/* DM's batch form: no task, only -s. Every task with a subtask on one of
 * the sources is operated on those sources. */
static int operate_batch(dm_ctl *ctl, const task_op *op)
{
	json_t *answer = NULL;
	dm_err err;
	int a = dm_ctl_request(ctl, "GET", "/api/v1/tasks?with_status=true", NULL, &answer, NULL,
	                       &err);
	if (a < 0)
		return dm_ctl_fail(ctl, "%s", err.msg);
	if (a == DM_CTL_ANSWER_ERROR)
		return dm_ctl_print_result(
		        ctl, json_pack("{s:b, s:s, s:[]}", "result", 0, "msg", err.msg, "tasks"));
	json_t *tasks = json_array();
	bool ok = true;
	size_t i, k;
	json_t *t, *st;
	json_array_foreach(json_object_get(answer, "data"), i, t)
	{
		const char *name = json_string_value(json_object_get(t, "name"));
		dm_strlist here = {0};
		json_array_foreach(json_object_get(t, "status_list"), k, st)
		{
			const char *s = json_string_value(json_object_get(st, "source_name"));
			if (s && dm_strlist_has(&ctl->sources, s))
				dm_strlist_add(&here, s);
		}
		json_t *res = NULL;
		if (name && here.n > 0) {
			res = operate_one(ctl, op, name, &here, true, &err);
			if (res == NULL) {
				dm_strlist_fini(&here);
				json_decref(tasks);
				json_decref(answer);
				return dm_ctl_fail(ctl, "%s", err.msg);
			}
			ok &= json_is_true(json_object_get(res, "result"));
			json_array_append_new(tasks, res);
		}
		dm_strlist_fini(&here);
	}
	json_decref(answer);
	return dm_ctl_print_result(
	        ctl, json_pack("{s:b, s:s, s:o}", "result", ok, "msg",
	                       json_array_size(tasks) ? "" : "no task runs on these sources",
	                       "tasks", tasks));
}

static int operate_task(dm_ctl *ctl, const task_op *op, int argc, char **argv)
{
	const char *batch_size = NULL; /* DM's batch tuning: accepted, not needed */
	const dm_ctl_opt opts[] = {
	        {"batch-size", 0, DM_CTL_OPT_STRING, &batch_size},
	        {0},
	};
	dm_strlist pos = {0};
	dm_err err;
	int rc;
	if (dm_ctl_parse_opts(opts, argc, argv, &pos, &err) < 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "%s", err.msg);
	} else if (pos.n > 1) {
		rc = dm_ctl_usage_error(ctl, argv[0], "give one task name or task.yaml");
	} else if (pos.n == 0 && ctl->sources.n == 0) {
		rc = dm_ctl_usage_error(ctl, argv[0],
		                        "give a task name or task.yaml (or -s SOURCE-ID for every "
		                        "task on those sources)");
	} else if (pos.n == 0) {
		rc = operate_batch(ctl, op);
	} else {
		char *name = NULL;
		if (dm_ctl_is_file(pos.items[0])) {
			dm_task_config cfg;
			if (dm_task_config_load_file(pos.items[0], &cfg, &err) < 0) {
				rc = dm_ctl_fail(ctl, "%s", err.msg);
				dm_strlist_fini(&pos);
				return rc;
			}
			name = dm_xstrdup(cfg.name);
			dm_task_config_fini(&cfg);
		} else {
			name = dm_xstrdup(pos.items[0]);
		}
		json_t *res = operate_one(ctl, op, name, &ctl->sources, false, &err);
		rc = res ? dm_ctl_print_result(ctl, res) : dm_ctl_fail(ctl, "%s", err.msg);
		free(name);
	}
	dm_strlist_fini(&pos);
	return rc;
}

int dm_ctl_cmd_stop_task(dm_ctl *ctl, int argc, char **argv)
{
	return operate_task(ctl, &op_stop, argc, argv);
}

int dm_ctl_cmd_pause_task(dm_ctl *ctl, int argc, char **argv)
{
	return operate_task(ctl, &op_pause, argc, argv);
}

int dm_ctl_cmd_resume_task(dm_ctl *ctl, int argc, char **argv)
{
	return operate_task(ctl, &op_resume, argc, argv);
}
