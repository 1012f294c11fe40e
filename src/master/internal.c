/* /internal/v1: what workers call. Protocol in docs/control-plane.md. */
#include <string.h>

#include "base/clock.h"
#include "base/mem.h"
#include "master/master.h"

static const char *str_field(json_t *body, const char *key)
{
	const char *s = json_string_value(json_object_get(body, key));
	return s ? s : "";
}

/* Validates name/addr of a register or keepalive body; replies on error. */
static bool check_worker_body(dm_http_req *req, json_t *body)
{
	if (!json_is_object(body)) {
		dm_http_reply_error(req, 400, 0, "expected a JSON object body");
		return false;
	}
	if (!dm_master_name_ok(str_field(body, "name"))) {
		dm_http_reply_error(
		        req, 400, 0,
		        "worker name \"%s\" must be 1-64 characters of A-Z a-z 0-9 . _ -",
		        str_field(body, "name"));
		return false;
	}
	return true;
}

static void set_ttl(dm_mworker *w, json_t *body)
{
	json_int_t ttl = json_integer_value(json_object_get(body, "keepalive_ttl"));
	if (ttl >= 1 && ttl <= 3600)
		w->ttl_ms = ttl * 1000;
}

static void handle_register(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	json_t *body = dm_http_req_json(req);
	if (!check_worker_body(req, body))
		return;
	const char *name = str_field(body, "name"), *addr = str_field(body, "addr");
	char host[256] = "";
	int port;
	dm_err err;
	int split = dm_config_split_addr(addr, host, sizeof(host), &port, &err);
	if (split < 0 || *host == '\0') {
		dm_http_reply_error(req, 400, 0, "worker %s: advertise address: %s", name,
		                    split < 0 ? err.msg : "a host is required");
		return;
	}
	dm_mworker *w = dm_master_worker(m, name);
	if (w && w->online && strcmp(w->addr, addr) != 0) {
		dm_http_reply_error(
		        req, 409, 0,
		        "a worker named %s is already online at %s; give this one another "
		        "name, or stop the other first",
		        name, w->addr);
		return;
	}
	char *key = dm_xasprintf("/dm/worker/%s", name);
	json_int_t ttl = json_integer_value(json_object_get(body, "keepalive_ttl"));
	const char *scheme = json_string_value(json_object_get(body, "scheme"));
	json_t *rec = json_pack("{s:s, s:s, s:I, s:s?}", "name", name, "addr", addr,
	                        "keepalive_ttl", ttl > 0 ? ttl : (json_int_t)60, "scheme", scheme);
	int rc = dm_master_put_json(m, key, rec, &err);
	json_decref(rec);
	free(key);
	if (rc < 0) {
		dm_http_reply_error(req, 500, 0, "cannot record worker %s: %s", name, err.msg);
		return;
	}
	bool was_online = w && w->online;
	w = dm_master_worker_add(m, name, addr);
	dm_master_worker_set_scheme(w, scheme);
	set_ttl(w, body);
	w->online = true;
	w->last_seen_ms = dm_clock_mono_ms();
	if (!was_online)
		dm_log_info(m->log, "worker %s registered from %s (peer %s, CN %s)", name, addr,
		            dm_http_req_peer(req),
		            dm_http_req_peer_cn(req) ? dm_http_req_peer_cn(req)
		                                     : "none, plaintext");
	dm_http_reply_json(req, 200, json_pack("{s:b, s:s}", "result", 1, "msg", ""));
	if (!was_online)
		dm_master_schedule(m);
}

static void handle_keepalive(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	json_t *body = dm_http_req_json(req);
	if (!check_worker_body(req, body))
		return;
	const char *name = str_field(body, "name");
	dm_mworker *w = dm_master_worker(m, name);
	if (w == NULL) {
		dm_http_reply_error(req, 404, 0, "worker %s is not registered; register first",
		                    name);
		return;
	}
	bool came_back = !w->online;
	w->online = true;
	w->last_seen_ms = dm_clock_mono_ms();
	set_ttl(w, body);
	/* A worker reloaded into another tls-mode says so in its keepalives. */
	dm_master_worker_set_scheme(w, json_string_value(json_object_get(body, "scheme")));
	json_t *st = json_object_get(body, "subtasks");
	if (json_is_array(st)) {
		json_decref(w->reported);
		w->reported = json_incref(st);
	}
	if (came_back) {
		dm_log_info(m->log, "worker %s is online again", name);
		dm_master_schedule(m);
	}
	dm_err err;
	json_t *a = dm_master_assignment(m, name, &err);
	if (a == NULL) {
		dm_http_reply_error(req, 500, 0, "cannot build the assignment of %s: %s", name,
		                    err.msg);
		return;
	}
	dm_http_reply_json(req, 200, a);
}

void dm_master_routes_internal(dm_master *m)
{
	dm_http_server_route(m->srv, "POST", "/internal/v1/workers/register", handle_register, m);
	dm_http_server_route(m->srv, "POST", "/internal/v1/workers/keepalive", handle_keepalive, m);
}
