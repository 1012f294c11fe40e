/* /api/v1/sources: DM's OpenAPI (docs/dm-compat.md §1.1). Creating or
 * updating a source connects to it first (in an offload thread) and refuses
 * what would not replicate, saying what to fix. */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/source.h"
#include "master/master.h"
#include "mysql/check.h"
#include "mysql/conn.h"

/* 404 in DM's error shape (code 46008 is DM's "source config not exists"). */
static void no_source(dm_http_req *req, const char *name)
{
	dm_http_reply_error(req, 404, 46008,
	                    "source %s does not exist; `dmctl operate-source show` "
	                    "lists the sources",
	                    name);
}

/* The stored Source object of name, secrets still sealed. */
static json_t *load_source(dm_master *m, const char *name, dm_err *err)
{
	char *key = dm_xasprintf("/dm/source/%s", name);
	json_t *v = NULL;
	dm_master_get_json(m, key, &v, err);
	free(key);
	return v;
}

/* The stored source, or NULL after answering 404. Caller decrefs. */
static json_t *require_source(dm_master *m, dm_http_req *req, const char *name)
{
	dm_err err;
	json_t *v = load_source(m, name, &err);
	if (v == NULL)
		no_source(req, name);
	return v;
}

/* What a client may see: the stored object with password and key removed
 * (the CA and certificate are public, but only their presence is shown). */
static json_t *public_source(json_t *stored)
{
	json_t *o = json_deep_copy(stored);
	json_object_del(o, "password");
	json_t *sec = json_object_get(o, "security");
	if (json_is_object(sec)) {
		json_object_del(sec, "ssl_key_content");
		const char *pem[] = {"ssl_ca_content", "ssl_cert_content"};
		for (int i = 0; i < 2; i++)
			if (json_object_get(sec, pem[i]))
				json_object_set_new(sec, pem[i], json_string("(set)"));
	}
	return o;
}

static json_t *source_status(dm_master *m, const char *name)
{
	char *w = dm_master_bound_worker(m, name);
	json_t *st = json_pack("{s:s, s:s}", "source_name", name, "worker_name", w ? w : "");
	if (w == NULL)
		json_object_set_new(st, "error_msg",
		                    json_string("not bound: no free online worker"));
	free(w);
	return st;
}

/* ---- create / update: check the upstream in the background ---------- */

struct check_job {
	dm_master *m;
	dm_http_req *req;
	bool update;
	char *worker_name; /* requested by the client, may be NULL */
	json_t *source;    /* full object with plain secrets */
	dm_source_config cfg;
	dm_mysql_source_info info;
	int rc;
	dm_err err;
};

static void check_work(void *arg)
{
	struct check_job *j = arg;
	dm_db_config db;
	dm_db_config_init(&db);
	dm_source_config_to_db_config(&j->cfg, &db);
	char *what = dm_xasprintf("source %s", j->cfg.source_id);
	MYSQL *my = NULL;
	j->rc = dm_mysql_connect(&db, what, &my, &j->err);
	if (j->rc == 0)
		j->rc = dm_mysql_check_source(my, what, &j->info, &j->err);
	if (my)
		mysql_close(my);
	free(what);
	dm_db_config_fini(&db);
}

/* Another source on the same upstream (same server_id) would make two
 * binlog streams of the same changes; refuse it by name. */
static char *server_id_taken(dm_master *m, const char *self, uint32_t server_id)
{
	json_t *infos;
	dm_err err;
	if (dm_master_list_json(m, "/dm/source-info/", &infos, &err) < 0)
		return NULL;
	char *r = NULL;
	const char *name;
	json_t *v;
	json_object_foreach(infos, name, v)
	{
		if (strcmp(name, self) != 0 &&
		    json_integer_value(json_object_get(v, "server_id")) == (json_int_t)server_id) {
			r = dm_xstrdup(name);
			break;
		}
	}
	json_decref(infos);
	return r;
}

static int store_source(struct check_job *j, dm_err *err)
{
	dm_master *m = j->m;
	json_t *sealed = json_deep_copy(j->source);
	if (dm_master_seal(m, sealed, dm_master_source_secrets, err) < 0) {
		json_decref(sealed);
		return -1;
	}
	char *key = dm_xasprintf("/dm/source/%s", j->cfg.source_id);
	int rc = dm_master_put_json(m, key, sealed, err);
	free(key);
	json_decref(sealed);
	if (rc < 0)
		return -1;
	json_t *info =
	        json_pack("{s:I, s:s, s:s}", "server_id", (json_int_t)j->info.server_id, "flavor",
	                  dm_mysql_flavor_name(j->info.flavor), "version", j->info.version);
	key = dm_xasprintf("/dm/source-info/%s", j->cfg.source_id);
	rc = dm_master_put_json(m, key, info, err);
	free(key);
	json_decref(info);
	return rc;
}

static void check_done(void *arg)
{
	struct check_job *j = arg;
	dm_master *m = j->m;
	const char *name = j->cfg.source_id;
	char *dup = NULL;
	json_t *existing = NULL;
	dm_err err;
	if (dm_loop_offload_skipped(m->loop)) {
		/* shutting down: the check never ran, so nothing may be stored */
		dm_http_reply_error(j->req, 503, 0, "dm-master is shutting down; try again");
	} else if (j->rc < 0) {
		dm_log_warn(m->log, "source %s refused: %s", name, j->err.msg);
		dm_http_reply_error(j->req, 400, 0, "%s", j->err.msg);
	} else if ((dup = server_id_taken(m, name, j->info.server_id)) != NULL) {
		dm_http_reply_error(j->req, 400, 0,
		                    "source %s: the upstream's server_id %u is the same as source "
		                    "%s's; they are the same server, or server_id is not unique "
		                    "(set a distinct server_id on each upstream)",
		                    name, (unsigned)j->info.server_id, dup);
	} else if (!j->update && (existing = load_source(m, name, &err)) != NULL) {
		/* Created by another request while this one was checking. */
		dm_http_reply_error(j->req, 409, 0, "source %s already exists", name);
	} else if (store_source(j, &err) < 0) {
		dm_http_reply_error(j->req, 500, 0, "cannot store source %s: %s", name, err.msg);
	} else {
		dm_log_info(m->log, "source %s %s: %s %s, server_id %u", name,
		            j->update ? "updated" : "created", dm_mysql_flavor_name(j->info.flavor),
		            j->info.version, (unsigned)j->info.server_id);
		json_t *out = public_source(j->source);
		json_t *warnings = json_array();
		for (size_t i = 0; i < j->info.n_warnings; i++) {
			dm_log_warn(m->log, "source %s: %s", name, j->info.warnings[i]);
			json_array_append_new(warnings, json_string(j->info.warnings[i]));
		}
		json_object_set_new(out, "check_warnings", warnings);
		if (j->update) {
			dm_master_push_source(m, name);
		} else if (j->worker_name) {
			dm_mworker *w = dm_master_worker(m, j->worker_name);
			char *busy = w ? dm_master_bound_source(m, j->worker_name) : NULL;
			if (w && w->online && busy == NULL &&
			    dm_master_bind(m, name, j->worker_name, &err) == 0)
				dm_master_push(m, j->worker_name);
			else
				dm_log_warn(
				        m->log,
				        "source %s: worker %s is not online and free; scheduling "
				        "it on any free worker",
				        name, j->worker_name);
			free(busy);
		}
		dm_master_schedule(m);
		char *w = dm_master_bound_worker(m, name);
		json_object_set_new(out, "worker_name", json_string(w ? w : ""));
		free(w);
		dm_http_reply_json(j->req, j->update ? 200 : 201, out);
	}
	free(dup);
	json_decref(existing);
	dm_mysql_source_info_fini(&j->info);
	dm_source_config_fini(&j->cfg);
	json_decref(j->source);
	free(j->worker_name);
	free(j);
}

/* Fills fields an update left out (password, PEM) from the stored source,
 * so `operate-source update` need not repeat the password. */
static int merge_kept_secrets(dm_master *m, json_t *src, const char *name, dm_err *err)
{
	json_t *old = load_source(m, name, err);
	if (old == NULL)
		return -1;
	if (dm_master_unseal(m, old, dm_master_source_secrets, err) < 0) {
		json_decref(old);
		return -1;
	}
	if (json_object_get(src, "password") == NULL && json_object_get(old, "password"))
		json_object_set(src, "password", json_object_get(old, "password"));
	json_decref(old);
	return 0;
}

static void create_or_update(dm_http_req *req, dm_master *m, bool update)
{
	json_t *body = dm_http_req_json(req);
	json_t *src = json_object_get(body, "source");
	if (!json_is_object(src)) {
		dm_http_reply_error(req, 400, 0, "expected {\"source\": {...}} as the body");
		return;
	}
	src = json_deep_copy(src);
	dm_err err;
	const char *path_name = dm_http_req_param(req, "name");
	if (update) {
		const char *n = json_string_value(json_object_get(src, "source_name"));
		if (n == NULL)
			json_object_set_new(src, "source_name", json_string(path_name));
		else if (strcmp(n, path_name) != 0) {
			dm_http_reply_error(
			        req, 400, 0,
			        "source_name \"%s\" in the body differs from \"%s\" in the "
			        "path; a source cannot be renamed",
			        n, path_name);
			json_decref(src);
			return;
		}
		if (merge_kept_secrets(m, src, path_name, &err) < 0) {
			json_decref(src);
			if (err.code == DM_ENOTFOUND)
				no_source(req, path_name);
			else
				dm_http_reply_error(req, 500, 0, "%s", err.msg);
			return;
		}
	}
	struct check_job *j = dm_xcalloc(1, sizeof(*j));
	j->m = m;
	j->req = req;
	j->update = update;
	j->source = src;
	if (dm_source_config_from_json(src, &j->cfg, &err) < 0) {
		dm_http_reply_error(req, 400, 0, "%s", err.msg);
		goto fail;
	}
	if (!update) {
		json_t *old = load_source(m, j->cfg.source_id, &err);
		if (old) {
			json_decref(old);
			dm_http_reply_error(req, 409, 0,
			                    "source %s already exists; use `operate-source update` "
			                    "to change it",
			                    j->cfg.source_id);
			goto fail;
		}
		const char *wn = json_string_value(json_object_get(body, "worker_name"));
		j->worker_name = wn && *wn ? dm_xstrdup(wn) : NULL;
	}
	/* Store what the client sent, normalised by our reader. */
	json_decref(j->source);
	j->source = dm_source_config_to_json(&j->cfg, true);
	dm_http_req_defer(req);
	if (dm_loop_offload(m->loop, check_work, check_done, j, &err) < 0) {
		dm_http_reply_error(req, 503, 0, "the master is busy: %s; try again", err.msg);
		goto fail;
	}
	return;
fail:
	dm_source_config_fini(&j->cfg);
	json_decref(j->source);
	free(j->worker_name);
	free(j);
}

static void handle_create(dm_http_req *req, void *arg)
{
	create_or_update(req, arg, false);
}

static void handle_update(dm_http_req *req, void *arg)
{
	create_or_update(req, arg, true);
}

static void handle_list(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	json_t *all;
	dm_err err;
	if (dm_master_list_json(m, "/dm/source/", &all, &err) < 0) {
		dm_http_reply_error(req, 500, 0, "%s", err.msg);
		return;
	}
	bool with_status = dm_master_query_flag(req, "with_status");
	json_t *data = json_array();
	const char *name;
	json_t *v;
	json_object_foreach(all, name, v)
	{
		json_t *o = public_source(v);
		if (with_status)
			json_object_set_new(o, "status_list",
			                    json_pack("[o]", source_status(m, name)));
		json_array_append_new(data, o);
	}
	json_decref(all);
	dm_master_reply_list(req, data);
}

static void handle_get(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	const char *name = dm_http_req_param(req, "name");
	json_t *v = require_source(m, req, name);
	if (v == NULL)
		return;
	json_t *o = public_source(v);
	json_decref(v);
	json_object_set_new(o, "status_list", json_pack("[o]", source_status(m, name)));
	dm_http_reply_json(req, 200, o);
}

static void handle_status(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	const char *name = dm_http_req_param(req, "name");
	json_t *v = require_source(m, req, name);
	if (v == NULL)
		return;
	json_decref(v);
	dm_http_reply_json(req, 200,
	                   json_pack("{s:i, s:[o]}", "total", 1, "data", source_status(m, name)));
}

/* Tasks with a subtask on source, as a JSON array of names. */
static json_t *tasks_using(dm_master *m, const char *source)
{
	json_t *subs, *names = json_array();
	dm_err err;
	if (dm_master_list_json(m, "/dm/subtask/", &subs, &err) < 0)
		return names;
	const char *key;
	json_t *v;
	json_object_foreach(subs, key, v)
	{
		const char *slash = strchr(key, '/');
		if (slash && strcmp(slash + 1, source) == 0)
			json_array_append_new(names, json_stringn(key, (size_t)(slash - key)));
	}
	json_decref(subs);
	return names;
}

static void handle_delete(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	const char *name = dm_http_req_param(req, "name");
	dm_err err;
	json_t *v = require_source(m, req, name);
	if (v == NULL)
		return;
	json_decref(v);
	json_t *tasks = tasks_using(m, name);
	bool forced = dm_master_query_flag(req, "force");
	if (json_array_size(tasks) > 0 && !forced) {
		char *list = json_dumps(tasks, JSON_COMPACT);
		dm_http_reply_error(req, 400, 0,
		                    "source %s is used by tasks %s; stop and delete them first, or "
		                    "delete with force",
		                    name, list);
		free(list);
		json_decref(tasks);
		return;
	}
	char *worker = dm_master_bound_worker(m, name);
	size_t i;
	json_t *t;
	int rc = 0;
	json_array_foreach(tasks, i, t)
	{
		char *key = dm_xasprintf("/dm/subtask/%s/%s", json_string_value(t), name);
		rc |= dm_store_delete(m->store, key, NULL, &err);
		free(key);
	}
	json_decref(tasks);
	const char *prefixes[] = {"/dm/bound/", "/dm/last-bound/", "/dm/source-info/",
	                          "/dm/source/"};
	for (int k = 0; k < 4 && rc == 0; k++) {
		char *key = dm_xasprintf("%s%s", prefixes[k], name);
		rc = dm_store_delete(m->store, key, NULL, &err);
		free(key);
	}
	if (rc < 0) {
		dm_http_reply_error(req, 500, 0, "cannot delete source %s: %s", name, err.msg);
		free(worker);
		return;
	}
	dm_log_info(m->log, "source %s deleted", name);
	if (worker)
		dm_master_push(m, worker);
	free(worker);
	dm_master_schedule(m);
	dm_http_reply_json(req, 204, NULL);
}

static void handle_transfer(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	const char *name = dm_http_req_param(req, "name");
	const char *to = json_string_value(json_object_get(dm_http_req_json(req), "worker_name"));
	dm_err err;
	if (to == NULL) {
		dm_http_reply_error(req, 400, 0, "expected {\"worker_name\": \"...\"} as the body");
		return;
	}
	json_t *v = require_source(m, req, name);
	if (v == NULL)
		return;
	json_decref(v);
	dm_mworker *w = dm_master_worker(m, to);
	if (w == NULL || !w->online) {
		dm_http_reply_error(req, 400, 0,
		                    "worker %s is %s; `dmctl list-member --worker` shows "
		                    "the workers",
		                    to, w ? "offline" : "not registered");
		return;
	}
	char *from = dm_master_bound_worker(m, name);
	if (from && strcmp(from, to) == 0) {
		free(from);
		dm_http_reply_json(req, 200, json_pack("{s:b, s:s}", "result", 1, "msg", ""));
		return;
	}
	char *busy = dm_master_bound_source(m, to);
	if (busy) {
		dm_http_reply_error(
		        req, 400, 0,
		        "worker %s already serves source %s; a worker serves one source", to, busy);
		free(busy);
		free(from);
		return;
	}
	if (dm_master_bind(m, name, to, &err) < 0) {
		dm_http_reply_error(req, 500, 0, "%s", err.msg);
		free(from);
		return;
	}
	dm_log_info(m->log, "source %s transferred from %s to %s", name, from ? from : "(none)",
	            to);
	if (from)
		dm_master_push(m, from);
	dm_master_push(m, to);
	free(from);
	dm_http_reply_json(req, 200, json_pack("{s:b, s:s}", "result", 1, "msg", ""));
}

void dm_master_routes_sources(dm_master *m)
{
	dm_http_server *s = m->srv;
	dm_http_server_route(s, "POST", "/api/v1/sources", handle_create, m);
	dm_http_server_route(s, "GET", "/api/v1/sources", handle_list, m);
	dm_http_server_route(s, "GET", "/api/v1/sources/{name}", handle_get, m);
	dm_http_server_route(s, "PUT", "/api/v1/sources/{name}", handle_update, m);
	dm_http_server_route(s, "DELETE", "/api/v1/sources/{name}", handle_delete, m);
	dm_http_server_route(s, "GET", "/api/v1/sources/{name}/status", handle_status, m);
	dm_http_server_route(s, "POST", "/api/v1/sources/{name}/transfer", handle_transfer, m);
}
