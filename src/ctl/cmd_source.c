/* operate-source and transfer-source: /api/v1/sources. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "config/source.h"
#include "ctl/ctl.h"

#define NO_FREE_WORKER "source is added but there is no free worker to bound"

/* A sample that our strict reader accepts, for `operate-source -p`. */
const char dm_ctl_sample_source[] =
        "# source.yaml: one upstream MySQL or MariaDB server.\n"
        "source-id: \"mysql-replica-01\"\n"
        "# GTID-based replication (MySQL gtid_mode=ON, or MariaDB).\n"
        "enable-gtid: false\n"
        "\n"
        "from:\n"
        "  host: \"127.0.0.1\"\n"
        "  port: 3306\n"
        "  user: \"root\"\n"
        "  # Plain text, or the output of `dmctl encrypt PASSWORD`.\n"
        "  password: \"\"\n"
        "  # TLS to the upstream: dmctl reads these files and sends their\n"
        "  # contents, so the paths are on dmctl's host.\n"
        "  # security:\n"
        "  #   ssl-ca: \"/path/to/ca.pem\"\n"
        "  #   ssl-cert: \"/path/to/client-cert.pem\"\n"
        "  #   ssl-key: \"/path/to/client-key.pem\"\n";

static json_t *worker_response(bool ok, const char *msg, const char *source, const char *worker)
{
	return json_pack("{s:b, s:s, s:s, s:s}", "result", ok, "msg", msg, "source",
	                 source ? source : "", "worker", worker ? worker : "");
}

static int print_sources(dm_ctl *ctl, bool ok, const char *msg, json_t *sources)
{
	return dm_ctl_print_result(
	        ctl, json_pack("{s:b, s:s, s:o}", "result", ok, "msg", msg, "sources", sources));
}

/* Reads every file before sending anything, so a typo in the third file
 * does not leave two sources created. */
static int load_all(dm_ctl *ctl, const dm_strlist *files, dm_source_config *cfgs)
{
	dm_err err;
	for (size_t i = 0; i < files->n; i++) {
		if (dm_source_config_load_file(files->items[i], &cfgs[i], &err) < 0 ||
		    dm_source_config_load_pem(&cfgs[i], &err) < 0)
			return dm_ctl_fail(ctl, "%s", err.msg);
		for (size_t k = 0; k < i; k++)
			if (strcmp(cfgs[k].source_id, cfgs[i].source_id) == 0)
				return dm_ctl_fail(ctl, "%s and %s both define source-id %s",
				                   files->items[k], files->items[i],
				                   cfgs[i].source_id);
	}
	return 0;
}

/* The check warnings of a create/update answer ("binlog_row_image is
 * MINIMAL", ...), joined into msg. */
static void add_warnings(dm_buf *msg, const json_t *answer)
{
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(answer, "check_warnings"), i, w)
	{
		if (!json_is_string(w))
			continue;
		if (msg->len)
			dm_buf_puts(msg, "; ");
		dm_buf_printf(msg, "warning: %s", json_string_value(w));
	}
}

static int delete_source(dm_ctl *ctl, const char *name, dm_err *err)
{
	char *esc = dm_ctl_escape(name);
	char *path = dm_xasprintf("/api/v1/sources/%s", esc);
	int rc = dm_ctl_request(ctl, "DELETE", path, NULL, NULL, NULL, err);
	free(path);
	free(esc);
	return rc;
}

/* create (update false) or update. */
static int put_sources(dm_ctl *ctl, const dm_strlist *files, const char *worker, bool update)
{
	dm_source_config *cfgs = dm_xcalloc(files->n, sizeof(*cfgs));
	for (size_t i = 0; i < files->n; i++)
		dm_source_config_init(&cfgs[i]);
	int rc = load_all(ctl, files, cfgs);
	if (rc != 0)
		goto out;
	json_t *results = json_array();
	dm_strlist created = {0};
	dm_buf overall;
	dm_buf_init(&overall);
	bool all_ok = true;
	for (size_t i = 0; i < files->n; i++) {
		const char *name = cfgs[i].source_id;
		json_t *body =
		        json_pack("{s:o}", "source", dm_source_config_to_json(&cfgs[i], true));
		if (worker)
			json_object_set_new(body, "worker_name", json_string(worker));
		char *path;
		if (update) {
			char *esc = dm_ctl_escape(name);
			path = dm_xasprintf("/api/v1/sources/%s", esc);
			free(esc);
		} else {
			path = dm_xstrdup("/api/v1/sources");
		}
		json_t *answer = NULL;
		dm_err err;
		int a = dm_ctl_request(ctl, update ? "PUT" : "POST", path, body, &answer, NULL,
		                       &err);
		free(path);
		json_decref(body);
		if (a < 0) {
			/* No answer: whether this one was created is unknown, so
			 * nothing is rolled back; say what to look at. */
			rc = dm_ctl_fail(ctl, "%s%s", err.msg,
			                 created.n ? "; some sources were created: see "
			                             "`dmctl operate-source show`"
			                           : "");
			json_decref(results);
			dm_strlist_fini(&created);
			dm_buf_fini(&overall);
			goto out;
		}
		if (a == DM_CTL_ANSWER_ERROR) {
			all_ok = false;
			json_array_append_new(results, worker_response(false, err.msg, name, ""));
			if (!update) {
				dm_buf_printf(&overall, "source %s was not created", name);
				break;
			}
			continue;
		}
		const char *w = json_string_value(json_object_get(answer, "worker_name"));
		dm_buf msg;
		dm_buf_init(&msg);
		if (!update && (w == NULL || *w == '\0'))
			dm_buf_puts(&msg, NO_FREE_WORKER);
		add_warnings(&msg, answer);
		json_array_append_new(results, worker_response(true, dm_buf_str(&msg), name, w));
		dm_buf_fini(&msg);
		json_decref(answer);
		if (!update)
			dm_strlist_add(&created, name);
	}
	/* DM creates several sources all or nothing: undo the ones this
	 * command created before the failure. */
	if (!all_ok && !update && created.n > 0) {
		dm_buf_puts(&overall, "; removed again the sources created before it:");
		for (size_t i = 0; i < created.n; i++) {
			dm_err err;
			json_t *entry = json_array_get(results, i);
			char *why;
			if (delete_source(ctl, created.items[i], &err) == DM_CTL_ANSWER_OK) {
				dm_buf_printf(&overall, " %s", created.items[i]);
				why = dm_xstrdup("created, then removed again because a later "
				                 "source failed");
			} else {
				dm_buf_printf(&overall, " (%s could not be removed: %s)",
				              created.items[i], err.msg);
				why = dm_xasprintf("created; removing it again failed: %s",
				                   err.msg);
			}
			json_object_set_new(entry, "result", json_false());
			json_object_set_new(entry, "msg", json_string(why));
			free(why);
		}
	}
	rc = print_sources(ctl, all_ok, dm_buf_str(&overall), results);
	dm_strlist_fini(&created);
	dm_buf_fini(&overall);
out:
	for (size_t i = 0; i < files->n; i++)
		dm_source_config_fini(&cfgs[i]);
	free(cfgs);
	return rc;
}

/* The worker a source is bound to ("" if none), or -1/1 as dm_ctl_request. */
static int bound_worker(dm_ctl *ctl, const char *name, char **ret, dm_err *err)
{
	char *esc = dm_ctl_escape(name);
	char *path = dm_xasprintf("/api/v1/sources/%s/status", esc);
	json_t *answer = NULL;
	int rc = dm_ctl_request(ctl, "GET", path, NULL, &answer, NULL, err);
	free(path);
	free(esc);
	if (rc != DM_CTL_ANSWER_OK)
		return rc;
	json_t *first = json_array_get(json_object_get(answer, "data"), 0);
	const char *w = json_string_value(json_object_get(first, "worker_name"));
	*ret = dm_xstrdup(w ? w : "");
	json_decref(answer);
	return 0;
}

static int stop_sources(dm_ctl *ctl, const dm_strlist *args)
{
	json_t *results = json_array();
	bool all_ok = true;
	for (size_t i = 0; i < args->n; i++) {
		const char *arg = args->items[i];
		char *name;
		dm_err err;
		if (dm_ctl_is_file(arg)) {
			dm_source_config cfg;
			if (dm_source_config_load_file(arg, &cfg, &err) < 0) {
				json_decref(results);
				return dm_ctl_fail(ctl, "%s", err.msg);
			}
			name = dm_xstrdup(cfg.source_id);
			dm_source_config_fini(&cfg);
		} else {
			name = dm_xstrdup(arg);
		}
		char *worker = NULL;
		int rc = bound_worker(ctl, name, &worker, &err);
		if (rc == DM_CTL_ANSWER_OK)
			rc = delete_source(ctl, name, &err);
		if (rc < 0) {
			free(name);
			free(worker);
			json_decref(results);
			return dm_ctl_fail(ctl, "%s", err.msg);
		}
		if (rc == DM_CTL_ANSWER_ERROR) {
			all_ok = false;
			json_array_append_new(results,
			                      worker_response(false, err.msg, name, worker));
		} else {
			const char *msg = *worker ? ""
			                          : "source is stopped and hasn't bound to worker "
			                            "before being stopped";
			json_array_append_new(results, worker_response(true, msg, name, worker));
		}
		free(name);
		free(worker);
	}
	return print_sources(ctl, all_ok, "", results);
}

static int show_sources(dm_ctl *ctl, const dm_strlist *names)
{
	json_t *answer = NULL;
	dm_err err;
	int rc = dm_ctl_request(ctl, "GET", "/api/v1/sources?with_status=true", NULL, &answer, NULL,
	                        &err);
	if (rc < 0)
		return dm_ctl_fail(ctl, "%s", err.msg);
	if (rc == DM_CTL_ANSWER_ERROR)
		return print_sources(ctl, false, err.msg, json_array());
	json_t *results = json_array();
	bool all_ok = true;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(answer, "data"), i, s)
	{
		const char *name = json_string_value(json_object_get(s, "source_name"));
		if (name == NULL || (names->n > 0 && !dm_strlist_has(names, name)))
			continue;
		json_t *st = json_array_get(json_object_get(s, "status_list"), 0);
		const char *w = json_string_value(json_object_get(st, "worker_name"));
		bool bound = w && *w;
		json_array_append_new(results,
		                      worker_response(true, bound ? "" : NO_FREE_WORKER, name, w));
	}
	/* A source asked for by name that does not exist is a failure. */
	for (size_t k = 0; k < names->n; k++) {
		bool found = false;
		json_array_foreach(results, i, s)
		{
			found |= strcmp(json_string_value(json_object_get(s, "source")),
			                names->items[k]) == 0;
		}
		if (!found) {
			all_ok = false;
			char *msg = dm_xasprintf("source %s does not exist", names->items[k]);
			json_array_append_new(results,
			                      worker_response(false, msg, names->items[k], ""));
			free(msg);
		}
	}
	json_decref(answer);
	return print_sources(ctl, all_ok, "", results);
}

int dm_ctl_cmd_operate_source(dm_ctl *ctl, int argc, char **argv)
{
	const char *worker = NULL;
	bool sample = false;
	const dm_ctl_opt opts[] = {
	        {"worker", 'w', DM_CTL_OPT_STRING, &worker},
	        {"print-sample-config", 'p', DM_CTL_OPT_BOOL, &sample},
	        {0},
	};
	dm_strlist pos = {0}, rest = {0};
	dm_err err;
	int rc;
	if (dm_ctl_parse_opts(opts, argc, argv, &pos, &err) < 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "%s", err.msg);
		goto out;
	}
	if (sample) {
		fputs(dm_ctl_sample_source, ctl->out);
		rc = DM_CTL_EXIT_OK;
		goto out;
	}
	if (pos.n == 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "say create, update, stop or show");
		goto out;
	}
	const char *op = pos.items[0];
	for (size_t i = 1; i < pos.n; i++)
		dm_strlist_add(&rest, pos.items[i]);
	if (worker && strcmp(op, "create") != 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "-w/--worker goes with create only");
		goto out;
	}
	if (strcmp(op, "create") == 0 || strcmp(op, "update") == 0) {
		if (ctl->sources.n > 0) {
			rc = dm_ctl_usage_error(ctl, argv[0], "%s takes files, not -s", op);
		} else if (rest.n == 0) {
			rc = dm_ctl_usage_error(ctl, argv[0], "%s needs at least one source.yaml",
			                        op);
		} else if (worker && rest.n > 1) {
			rc = dm_ctl_usage_error(ctl, argv[0],
			                        "-w/--worker works with one source.yaml only");
		} else {
			rc = put_sources(ctl, &rest, worker, strcmp(op, "update") == 0);
		}
	} else if (strcmp(op, "stop") == 0) {
		for (size_t i = 0; i < ctl->sources.n; i++)
			dm_strlist_add(&rest, ctl->sources.items[i]);
		if (rest.n == 0)
			rc = dm_ctl_usage_error(ctl, argv[0],
			                        "stop needs source-ids or source.yaml files");
		else
			rc = stop_sources(ctl, &rest);
	} else if (strcmp(op, "show") == 0) {
		for (size_t i = 0; i < ctl->sources.n; i++)
			dm_strlist_add(&rest, ctl->sources.items[i]);
		rc = show_sources(ctl, &rest);
	} else {
		rc = dm_ctl_usage_error(
		        ctl, argv[0], "unknown operation \"%s\"; say create, update, stop or show",
		        op);
	}
out:
	dm_strlist_fini(&pos);
	dm_strlist_fini(&rest);
	return rc;
}

int dm_ctl_cmd_transfer_source(dm_ctl *ctl, int argc, char **argv)
{
	const dm_ctl_opt opts[] = {{0}};
	dm_strlist pos = {0};
	dm_err err;
	int rc;
	if (dm_ctl_parse_opts(opts, argc, argv, &pos, &err) < 0) {
		rc = dm_ctl_usage_error(ctl, argv[0], "%s", err.msg);
	} else if (pos.n != 2) {
		rc = dm_ctl_usage_error(ctl, argv[0], "give a source-id and a worker name");
	} else {
		char *esc = dm_ctl_escape(pos.items[0]);
		char *path = dm_xasprintf("/api/v1/sources/%s/transfer", esc);
		json_t *body = json_pack("{s:s}", "worker_name", pos.items[1]);
		rc = dm_ctl_request(ctl, "POST", path, body, NULL, NULL, &err);
		json_decref(body);
		free(path);
		free(esc);
		if (rc < 0)
			rc = dm_ctl_fail(ctl, "%s", err.msg);
		else if (rc == DM_CTL_ANSWER_ERROR)
			rc = dm_ctl_print_failure(ctl, err.msg);
		else
			rc = dm_ctl_print_result(ctl,
			                         json_pack("{s:b, s:s}", "result", 1, "msg", ""));
	}
	dm_strlist_fini(&pos);
	return rc;
}
