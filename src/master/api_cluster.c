/* /api/v1/cluster (docs/dm-compat.md §1.3) and /api/v1/secrets/encrypt. */
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "master/master.h"

static void handle_masters(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	const char *scheme = m->cfg.c.tls_mode_v == DM_TLS_OFF ? "http" : "https";
	char *url = dm_xasprintf("%s://%s", scheme, m->cfg.c.advertise_addr);
	/* tls_client and reloads let dm-cluster see that a SIGHUP took. */
	json_t *one = json_pack("{s:s, s:b, s:b, s:s, s:s, s:b, s:I, s:s}", "name", m->cfg.c.name,
	                        "alive", 1, "leader", 1, "addr", url, "tls_mode", m->cfg.c.tls_mode,
	                        "tls_client", m->cfg.c.tls_client_v, "reloads",
	                        (json_int_t)m->reloads, "version", DM_MASTER_VERSION);
	free(url);
	dm_http_reply_json(req, 200, json_pack("{s:i, s:[o]}", "total", 1, "data", one));
}

static void handle_workers(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	json_t *data = json_array();
	const char *own = m->cfg.c.tls_mode_v == DM_TLS_OFF ? "http" : "https";
	for (size_t i = 0; i < m->nworkers; i++) {
		dm_mworker *w = &m->workers[i];
		/* The worker's own scheme: its tls-mode may differ from ours
		 * while TLS is rolled out. */
		const char *scheme = w->scheme ? w->scheme : own;
		char *source = dm_master_bound_source(m, w->name);
		const char *stage = !w->online ? "offline" : source ? "bound" : "free";
		char *url = dm_xasprintf("%s://%s", scheme, w->addr);
		json_array_append_new(data, json_pack("{s:s, s:s, s:s, s:s}", "name", w->name,
		                                      "addr", url, "bound_stage", stage,
		                                      "bound_source_name", source ? source : ""));
		free(url);
		free(source);
	}
	dm_master_reply_list(req, data);
}

/* offline-member: forgets a worker that is offline (a live one would just
 * register again). */
static void handle_offline_worker(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	const char *name = dm_http_req_param(req, "name");
	dm_mworker *w = dm_master_worker(m, name);
	if (w == NULL) {
		dm_http_reply_error(req, 404, 0, "worker %s is not registered", name);
		return;
	}
	if (w->online) {
		dm_http_reply_error(req, 400, 0,
		                    "worker %s is online; stop the dm-worker process first, then "
		                    "offline it",
		                    name);
		return;
	}
	char *key = dm_xasprintf("/dm/worker/%s", name);
	dm_err err;
	int rc = dm_store_delete(m->store, key, NULL, &err);
	free(key);
	if (rc < 0) {
		dm_http_reply_error(req, 500, 0, "%s", err.msg);
		return;
	}
	dm_master_worker_remove(m, name);
	dm_log_info(m->log, "worker %s removed from the cluster", name);
	dm_master_schedule(m);
	dm_http_reply_json(req, 204, NULL);
}

static void handle_encrypt(dm_http_req *req, void *arg)
{
	dm_master *m = arg;
	json_t *p = json_object_get(dm_http_req_json(req), "plaintext");
	if (!json_is_string(p)) {
		dm_http_reply_error(req, 400, 0, "expected {\"plaintext\": \"...\"} as the body");
		return;
	}
	char *ct;
	dm_err err;
	if (dm_secret_encrypt(&m->key, json_string_value(p), json_string_length(p), &ct, &err) <
	    0) {
		dm_http_reply_error(req, 500, 0, "%s", err.msg);
		return;
	}
	dm_http_reply_json(req, 200, json_pack("{s:s}", "ciphertext", ct));
	free(ct);
}

void dm_master_routes_cluster(dm_master *m)
{
	dm_http_server *s = m->srv;
	dm_http_server_route(s, "GET", "/api/v1/cluster/masters", handle_masters, m);
	dm_http_server_route(s, "GET", "/api/v1/cluster/workers", handle_workers, m);
	dm_http_server_route(s, "DELETE", "/api/v1/cluster/workers/{name}", handle_offline_worker,
	                     m);
	dm_http_server_route(s, "POST", "/api/v1/secrets/encrypt", handle_encrypt, m);
}
