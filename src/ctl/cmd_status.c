/* query-status: the API's SubTaskStatus lists turned into DM's two
 * shapes, the per-task summary and the per-source detail. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "config/task.h"
#include "ctl/ctl.h"

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

bool dm_ctl_subtask_failed(const json_t *st)
{
	/* Without a reported stage the error_msg is the master's note
	 * ("waiting for the worker to report", "not bound"), not a failure
	 * of the subtask itself. */
	return *str(st, "stage") != '\0' && *str(st, "error_msg") != '\0';
}

/* The stage to summarise: what the worker reported, else what the master
 * expects (the worker has not reported yet). */
static const char *summary_stage(const json_t *st)
{
	const char *s = str(st, "stage");
	if (*s == '\0')
		s = str(st, "expected_stage");
	return *s ? s : "New";
}

char *dm_ctl_task_summary(const char *task, const json_t *subtasks)
{
	/* DM's rules (dm/ctl/master/query_status.go): an error anywhere wins,
	 * then any Paused, then a common stage; mixed stages are Running.
	 * DM counts errors only on Paused subtasks because its workers pause
	 * on error; here any reported error counts. */
	const char *status = "";
	bool error = false;
	size_t i;
	json_t *st;
	json_array_foreach(subtasks, i, st)
	{
		const char *stage = summary_stage(st);
		if (error)
			break;
		if (dm_ctl_subtask_failed(st))
			error = true;
		else if (strcmp(status, "Paused") == 0)
			continue;
		else if (*status == '\0' || strcmp(stage, "Paused") == 0)
			status = stage;
		else if (strcmp(status, stage) != 0)
			status = "Running";
	}
	if (error)
		return dm_xasprintf("Error - Some error occurred in subtask. Please run "
		                    "`query-status %s` to get more details.",
		                    task);
	return dm_xstrdup(*status ? status : "New");
}

/* ---- the API's status objects in DM's field names -------------------- */

/* snake_case -> DM's proto JSON names; the irregular ones listed. */
static char *dm_key(const char *key)
{
	static const struct {
		const char *api, *dm;
	} irregular[] = {
	        {"blocking_ddls", "blockingDDLs"},      {"ddl_list", "DDLs"},
	        {"meta_binlog_gtid", "metaBinlogGTID"}, {"dump_io_total_bytes", "dumpIOTotalBytes"},
	        {"block_ddl_owner", "blockDDLOwner"},
	};
	for (size_t i = 0; i < sizeof(irregular) / sizeof(irregular[0]); i++)
		if (strcmp(key, irregular[i].api) == 0)
			return dm_xstrdup(irregular[i].dm);
	dm_buf b;
	dm_buf_init(&b);
	for (const char *p = key; *p; p++) {
		if (*p == '_' && p[1] >= 'a' && p[1] <= 'z') {
			dm_buf_putc(&b, (char)(p[1] - 'a' + 'A'));
			p++;
		} else {
			dm_buf_putc(&b, *p);
		}
	}
	return dm_buf_detach(&b);
}

/* Copies obj with DM's key names. DM's dmctl prints int64 fields as
 * strings (gogo jsonpb); the keys in quoted are those fields. */
static json_t *dm_object(const json_t *obj, const char *const *quoted)
{
	if (json_is_array(obj)) {
		json_t *a = json_array();
		size_t i;
		json_t *v;
		json_array_foreach(obj, i, v)
		{
			json_array_append_new(a, dm_object(v, quoted));
		}
		return a;
	}
	if (!json_is_object(obj))
		return json_deep_copy(obj);
	json_t *o = json_object();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		char *k = dm_key(key);
		bool quote = false;
		for (const char *const *q = quoted; *q; q++)
			quote |= strcmp(*q, key) == 0;
		if (quote && json_is_integer(v))
			json_object_set_new(
			        o, k, json_sprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v)));
		else
			json_object_set_new(o, k, dm_object(v, quoted));
		free(k);
	}
	return o;
}

static const char *const sync_int64[] = {
        "total_events", "total_tps",  "recent_tps",     "seconds_behind_master", "total_rows",
        "total_rps",    "recent_rps", "io_total_bytes", "dump_io_total_bytes",   NULL,
};
static const char *const load_int64[] = {"finished_bytes", "total_bytes", "bps", NULL};
static const char *const dump_int64[] = {"total_tables", "bps", NULL};

/* DM's ProcessResult for an error text: one error per line. */
static json_t *process_result(const char *text)
{
	json_t *errors = json_array();
	while (*text) {
		size_t n = strcspn(text, "\n");
		if (n > 0)
			json_array_append_new(errors,
			                      json_pack("{s:i, s:s, s:s, s:s, s:s%, s:s, s:s}",
			                                "ErrCode", 0, "ErrClass", "", "ErrScope",
			                                "", "ErrLevel", "", "Message", text, n,
			                                "RawCause", "", "Workaround", ""));
		text += n;
		if (*text == '\n')
			text++;
	}
	return json_pack("{s:b, s:o, s:n}", "isCanceled", 0, "errors", errors, "detail");
}

static json_t *subtask_dm(const json_t *st)
{
	const char *stage = str(st, "stage"), *unit = str(st, "unit");
	json_t *o =
	        json_pack("{s:s, s:s, s:s}", "name", str(st, "name"), "stage",
	                  *stage ? stage : "InvalidStage", "unit", *unit ? unit : "InvalidUnit");
	if (dm_ctl_subtask_failed(st))
		json_object_set_new(o, "result", process_result(str(st, "error_msg")));
	else
		json_object_set_new(o, "result", json_null());
	json_object_set_new(o, "unresolvedDDLLockID",
	                    json_string(str(st, "unresolved_ddl_lock_id")));
	if (*stage == '\0') {
		/* DM's SubTaskStatus carries such notes in its `msg`. */
		const char *note = str(st, "error_msg");
		const char *exp = str(st, "expected_stage");
		char *msg = dm_xasprintf("%s%s%s%s", note, *note && *exp ? "; " : "",
		                         *exp ? "expected stage " : "", exp);
		json_object_set_new(o, "msg", json_string(msg));
		free(msg);
	}
	static const struct {
		const char *api, *dm;
		const char *const *quoted;
	} units[] = {
	        {"dump_status", "dump", dump_int64},
	        {"load_status", "load", load_int64},
	        {"sync_status", "sync", sync_int64},
	};
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(st, units[i].api);
		if (json_is_object(v))
			json_object_set_new(o, units[i].dm, dm_object(v, units[i].quoted));
	}
	return o;
}

static json_t *source_entry(const char *source, const char *worker, const char *note)
{
	bool bound = worker && *worker;
	json_t *ss = json_pack("{s:s, s:s, s:n, s:n}", "source", source, "worker",
	                       bound ? worker : "source not bound", "result", "relayStatus");
	return json_pack("{s:b, s:s, s:o, s:[]}", "result", bound, "msg",
	                 bound ? "" : (note && *note ? note : "source not bound to a worker"),
	                 "sourceStatus", ss, "subTaskStatus");
}

json_t *dm_ctl_status_by_source(const json_t *subtasks, bool *all_ok)
{
	json_t *out = json_array();
	*all_ok = true;
	size_t i, k;
	json_t *st, *e;
	json_array_foreach(subtasks, i, st)
	{
		const char *source = str(st, "source_name");
		json_t *entry = NULL;
		json_array_foreach(out, k, e)
		{
			if (strcmp(str(json_object_get(e, "sourceStatus"), "source"), source) == 0)
				entry = e;
		}
		if (entry == NULL) {
			const char *w = str(st, "worker_name");
			entry = source_entry(source, w, *w ? "" : str(st, "error_msg"));
			*all_ok &= *w != '\0';
			json_array_append_new(out, entry);
		}
		json_array_append_new(json_object_get(entry, "subTaskStatus"), subtask_dm(st));
	}
	return out;
}

/* ---- the command ----------------------------------------------------- */

static json_t *gather(dm_ctl *ctl, const char *task, int *rc, dm_err *err)
{
	json_t *answer = NULL, *all = json_array();
	if (task) {
		char *esc = dm_ctl_escape(task);
		char *path = dm_xasprintf("/api/v1/tasks/%s/status", esc);
		*rc = dm_ctl_request(ctl, "GET", path, NULL, &answer, NULL, err);
		free(path);
		free(esc);
		if (*rc == DM_CTL_ANSWER_OK)
			json_array_extend(all, json_object_get(answer, "data"));
	} else {
		*rc = dm_ctl_request(ctl, "GET", "/api/v1/tasks?with_status=true", NULL, &answer,
		                     NULL, err);
		size_t i;
		json_t *t;
		if (*rc == DM_CTL_ANSWER_OK) {
			json_array_foreach(json_object_get(answer, "data"), i, t)
			{
				json_array_extend(all, json_object_get(t, "status_list"));
			}
		}
	}
	json_decref(answer);
	if (*rc != DM_CTL_ANSWER_OK) {
		json_decref(all);
		return NULL;
	}
	if (ctl->sources.n == 0)
		return all;
	json_t *kept = json_array();
	size_t i;
	json_t *st;
	json_array_foreach(all, i, st)
	{
		if (dm_strlist_has(&ctl->sources, str(st, "source_name")))
			json_array_append(kept, st);
	}
	json_decref(all);
	return kept;
}

static json_t *summary(const json_t *subtasks)
{
	json_t *tasks = json_array();
	dm_strlist names = {0};
	size_t i, k;
	json_t *st;
	json_array_foreach(subtasks, i, st)
	{
		if (!dm_strlist_has(&names, str(st, "name")))
			dm_strlist_add(&names, str(st, "name"));
	}
	for (k = 0; k < names.n; k++) {
		json_t *mine = json_array(), *sources = json_array();
		json_array_foreach(subtasks, i, st)
		{
			if (strcmp(str(st, "name"), names.items[k]) != 0)
				continue;
			json_array_append(mine, st);
			json_array_append_new(sources, json_string(str(st, "source_name")));
		}
		char *status = dm_ctl_task_summary(names.items[k], mine);
		json_array_append_new(tasks,
		                      json_pack("{s:s, s:s, s:o}", "taskName", names.items[k],
		                                "taskStatus", status, "sources", sources));
		free(status);
		json_decref(mine);
	}
	dm_strlist_fini(&names);
	return tasks;
}

/* A source given with -s that has no subtask: DM says "no sub task
 * started", after checking that the source exists. */
static int add_idle_source(dm_ctl *ctl, json_t *sources, const char *name, bool *ok, dm_err *err)
{
	char *esc = dm_ctl_escape(name);
	char *path = dm_xasprintf("/api/v1/sources/%s/status", esc);
	json_t *answer = NULL;
	int rc = dm_ctl_request(ctl, "GET", path, NULL, &answer, NULL, err);
	free(path);
	free(esc);
	if (rc < 0)
		return -1;
	json_t *entry;
	if (rc == DM_CTL_ANSWER_ERROR) {
		entry = source_entry(name, "", err->msg);
		/* Not "source not bound": there is no such source. */
		json_object_set_new(json_object_get(entry, "sourceStatus"), "worker",
		                    json_string(""));
		*ok = false;
	} else {
		json_t *first = json_array_get(json_object_get(answer, "data"), 0);
		entry = source_entry(name, str(first, "worker_name"), str(first, "error_msg"));
		if (json_is_true(json_object_get(entry, "result")))
			json_object_set_new(entry, "msg", json_string("no sub task started"));
		else
			*ok = false;
	}
	json_array_append_new(sources, entry);
	json_decref(answer);
	return 0;
}

int dm_ctl_cmd_query_status(dm_ctl *ctl, int argc, char **argv)
{
	bool more = false;
	const dm_ctl_opt opts[] = {
	        {"more", 0, DM_CTL_OPT_BOOL, &more},
	        {0},
	};
	dm_strlist pos = {0};
	dm_err err;
	char *task = NULL;
	json_t *subtasks = NULL;
	int rc;
	if (dm_ctl_parse_opts(opts, argc, argv, &pos, &err) < 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "%s", err.msg);
		goto out;
	}
	if (pos.n > 1) {
		rc = dm_ctl_usage_error(ctl, argv[0], "give at most one task name or task.yaml");
		goto out;
	}
	if (pos.n == 1 && dm_ctl_is_file(pos.items[0])) {
		dm_task_config cfg;
		if (dm_task_config_load_file(pos.items[0], &cfg, &err) < 0) {
			rc = dm_ctl_fail(ctl, "%s", err.msg);
			goto out;
		}
		task = dm_xstrdup(cfg.name);
		dm_task_config_fini(&cfg);
	} else if (pos.n == 1) {
		task = dm_xstrdup(pos.items[0]);
	}
	int a;
	subtasks = gather(ctl, task, &a, &err);
	if (a < 0) {
		rc = dm_ctl_fail(ctl, "%s", err.msg);
		goto out;
	}
	if (a == DM_CTL_ANSWER_ERROR) {
		rc = dm_ctl_print_result(
		        ctl, json_pack("{s:b, s:s, s:[]}", "result", 0, "msg", err.msg, "sources"));
		goto out;
	}
	bool all_ok;
	json_t *sources = dm_ctl_status_by_source(subtasks, &all_ok);
	/* DM prints the summary only when everything answered; otherwise
	 * the detail shows what is wrong. */
	if (task == NULL && ctl->sources.n == 0 && !more && all_ok) {
		json_decref(sources);
		rc = dm_ctl_print_result(ctl, json_pack("{s:b, s:s, s:o}", "result", 1, "msg", "",
		                                        "tasks", summary(subtasks)));
		goto out;
	}
	for (size_t i = 0; i < ctl->sources.n; i++) {
		bool seen = false;
		size_t k;
		json_t *e;
		json_array_foreach(sources, k, e)
		{
			seen |= strcmp(str(json_object_get(e, "sourceStatus"), "source"),
			               ctl->sources.items[i]) == 0;
		}
		if (!seen &&
		    add_idle_source(ctl, sources, ctl->sources.items[i], &all_ok, &err) < 0) {
			json_decref(sources);
			rc = dm_ctl_fail(ctl, "%s", err.msg);
			goto out;
		}
	}
	/* As in DM, "result" says whether the query worked; each source's
	 * own result says whether it is bound and answering. */
	rc = dm_ctl_print_result(
	        ctl, json_pack("{s:b, s:s, s:o}", "result", 1, "msg",
	                       task && json_array_size(sources) == 0 ? "no sub task started" : "",
	                       "sources", sources));
out:
	json_decref(subtasks);
	free(task);
	dm_strlist_fini(&pos);
	return rc;
}
