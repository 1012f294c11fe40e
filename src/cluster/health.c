#include "cluster/health.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

dm_http_client *dm_cluster_client_new(const dm_cluster_meta *m, long timeout_ms, dm_err *err)
{
	dm_strlist addrs = {0};
	dm_tls_settings s;
	dm_tls_settings_init(&s);
	dm_cluster_client_settings(m, &addrs, &s);
	dm_http_client_opts o = {.connect_timeout_ms = timeout_ms, .timeout_ms = timeout_ms};
	dm_http_client *c = dm_http_client_new(s.mode == DM_TLS_OFF ? NULL : &s, &o, err);
	dm_tls_settings_fini(&s);
	dm_strlist_fini(&addrs);
	if (c) {
		/* Expiry warnings belong to `cert check` and display. */
		char **w;
		size_t n = dm_http_client_take_warnings(c, &w);
		if (n)
			dm_tls_warnings_free(w, n);
	}
	return c;
}

int dm_cluster_probe_master(dm_http_client *c, const dm_topo_inst *i, dm_err *err)
{
	dm_strlist addrs = {0};
	char *a = dm_topo_inst_addr(i);
	dm_strlist_add(&addrs, a);
	free(a);
	long status = 0;
	json_t *body = NULL;
	int rc = dm_http_client_call(c, "GET", &addrs, "/api/v1/cluster/masters", NULL, &status,
	                             &body, err);
	dm_strlist_fini(&addrs);
	if (rc == 0 && status != 200) {
		const char *msg = json_string_value(json_object_get(body, "error_msg"));
		rc = dm_err_set(err, DM_EINVAL, "GET /api/v1/cluster/masters answered HTTP %ld%s%s",
		                status, msg ? ": " : "", msg ? msg : "");
	}
	/* Another process on the port (another cluster's master, say) is
	 * not this instance. */
	bool named = false;
	size_t k;
	const json_t *one;
	json_array_foreach(json_object_get(body, "data"), k, one)
	{
		const char *n = json_string_value(json_object_get(one, "name"));
		named |= n && strcmp(n, i->name) == 0;
	}
	if (rc == 0 && !named)
		rc = dm_err_set(
		        err, DM_ECONFLICT,
		        "another dm-master, not \"%s\", answers on its address (port taken?)",
		        i->name);
	json_decref(body);
	return rc;
}

int dm_cluster_fetch_workers(dm_http_client *c, const dm_cluster_meta *m, json_t **ret, dm_err *err)
{
	dm_strlist addrs = {0};
	for (size_t i = 0; i < m->topo->nmasters; i++) {
		char *a = dm_topo_inst_addr(&m->topo->insts[i]);
		dm_strlist_add(&addrs, a);
		free(a);
	}
	long status = 0;
	json_t *body = NULL;
	int rc = dm_http_client_call(c, "GET", &addrs, "/api/v1/cluster/workers", NULL, &status,
	                             &body, err);
	dm_strlist_fini(&addrs);
	if (rc == 0 && (status != 200 || !json_is_array(json_object_get(body, "data"))))
		rc = dm_err_set(err, DM_EINVAL,
		                "GET /api/v1/cluster/workers answered HTTP %ld without a list",
		                status);
	if (rc == 0) {
		*ret = json_incref(json_object_get(body, "data"));
	}
	json_decref(body);
	return rc;
}

bool dm_cluster_worker_online(const json_t *workers, const char *name)
{
	size_t i;
	const json_t *w;
	json_array_foreach(workers, i, w)
	{
		const char *n = json_string_value(json_object_get(w, "name"));
		const char *stage = json_string_value(json_object_get(w, "bound_stage"));
		if (n && strcmp(n, name) == 0)
			return stage && strcmp(stage, "offline") != 0;
	}
	return false;
}
