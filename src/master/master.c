#include "master/master.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/mem.h"

const char *const dm_master_source_secrets[] = {
        "password",
        "security.ssl_ca_content",
        "security.ssl_cert_content",
        "security.ssl_key_content",
        NULL,
};

const char *const dm_master_task_secrets[] = {
        "target_config.password",
        "target_config.security.ssl_ca_content",
        "target_config.security.ssl_cert_content",
        "target_config.security.ssl_key_content",
        NULL,
};

bool dm_master_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

void dm_master_reply_list(dm_http_req *req, json_t *data)
{
	dm_http_reply_json(
	        req, 200,
	        json_pack("{s:I, s:o}", "total", (json_int_t)json_array_size(data), "data", data));
}

bool dm_master_query_flag(dm_http_req *req, const char *name)
{
	const char *v = dm_http_req_query(req, name);
	return v && (strcmp(v, "true") == 0 || *v == '\0');
}

int dm_master_get_json(dm_master *m, const char *key, json_t **ret, dm_err *err)
{
	dm_kv *kv;
	if (dm_store_get(m->store, key, &kv, err) < 0)
		return -1;
	json_error_t je;
	json_t *v = json_loadb(kv->value, kv->value_len, 0, &je);
	dm_kv_free(kv);
	if (v == NULL)
		return dm_err_set(err, DM_EINTERNAL, "store value of %s is not JSON: %s", key,
		                  je.text);
	*ret = v;
	return 0;
}

int dm_master_put_json(dm_master *m, const char *key, json_t *value, dm_err *err)
{
	char *s = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS);
	if (s == NULL)
		return dm_err_set(err, DM_EINTERNAL, "cannot serialise the value of %s", key);
	int rc = dm_store_put(m->store, key, s, strlen(s), NULL, err);
	free(s);
	return rc;
}

int dm_master_list_json(dm_master *m, const char *prefix, json_t **ret, dm_err *err)
{
	dm_kv_list l;
	if (dm_store_range(m->store, prefix, &l, NULL, err) < 0)
		return -1;
	json_t *obj = json_object();
	size_t plen = strlen(prefix);
	for (size_t i = 0; i < l.len; i++) {
		json_t *v = json_loadb(l.items[i].value, l.items[i].value_len, 0, NULL);
		if (v == NULL) {
			json_decref(obj);
			dm_err_set(err, DM_EINTERNAL, "store value of %s is not JSON",
			           l.items[i].key);
			dm_kv_list_free(&l);
			return -1;
		}
		json_object_set_new(obj, l.items[i].key + plen, v);
	}
	dm_kv_list_free(&l);
	*ret = obj;
	return 0;
}

/* Finds the object holding the last segment of a dotted path; NULL when an
 * intermediate object is missing. *ret_leaf points into path. */
static json_t *path_parent(json_t *obj, const char *path, const char **ret_leaf)
{
	const char *dot;
	while ((dot = strchr(path, '.')) != NULL) {
		char seg[64];
		size_t n = (size_t)(dot - path);
		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, path, n);
		seg[n] = '\0';
		obj = json_object_get(obj, seg);
		if (!json_is_object(obj))
			return NULL;
		path = dot + 1;
	}
	*ret_leaf = path;
	return obj;
}

int dm_master_seal(dm_master *m, json_t *obj, const char *const *paths, dm_err *err)
{
	for (const char *const *p = paths; *p; p++) {
		const char *leaf;
		json_t *parent = path_parent(obj, *p, &leaf);
		json_t *v = parent ? json_object_get(parent, leaf) : NULL;
		if (!json_is_string(v) || json_string_length(v) == 0)
			continue;
		char *ct;
		if (dm_secret_encrypt(&m->key, json_string_value(v), json_string_length(v), &ct,
		                      err) < 0)
			return -1;
		json_object_set_new(parent, leaf, json_string(ct));
		free(ct);
	}
	return 0;
}

int dm_master_unseal(dm_master *m, json_t *obj, const char *const *paths, dm_err *err)
{
	for (const char *const *p = paths; *p; p++) {
		const char *leaf;
		json_t *parent = path_parent(obj, *p, &leaf);
		json_t *v = parent ? json_object_get(parent, leaf) : NULL;
		if (!json_is_string(v) || json_string_length(v) == 0)
			continue;
		char *pt;
		size_t len;
		if (dm_secret_decrypt(&m->key, json_string_value(v), &pt, &len, err) < 0)
			return dm_err_prefix(err, "stored %s", *p);
		json_object_set_new(parent, leaf, json_stringn(pt, len));
		dm_free_secret(pt);
	}
	return 0;
}

dm_mworker *dm_master_worker(dm_master *m, const char *name)
{
	for (size_t i = 0; i < m->nworkers; i++)
		if (strcmp(m->workers[i].name, name) == 0)
			return &m->workers[i];
	return NULL;
}

dm_mworker *dm_master_worker_add(dm_master *m, const char *name, const char *addr)
{
	dm_mworker *w = dm_master_worker(m, name);
	if (w == NULL) {
		/* Kept sorted by name: listings and scheduling are deterministic. */
		m->workers = dm_xrealloc(m->workers, (m->nworkers + 1) * sizeof(*m->workers));
		size_t at = 0;
		while (at < m->nworkers && strcmp(m->workers[at].name, name) < 0)
			at++;
		memmove(&m->workers[at + 1], &m->workers[at], (m->nworkers - at) * sizeof(*w));
		m->nworkers++;
		w = &m->workers[at];
		memset(w, 0, sizeof(*w));
		w->name = dm_xstrdup(name);
		w->reported = json_array();
		w->ttl_ms = 60000;
	}
	free(w->addr);
	w->addr = dm_xstrdup(addr);
	return w;
}

void dm_master_worker_set_scheme(dm_mworker *w, const char *scheme)
{
	if (scheme == NULL || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		return;
	free(w->scheme);
	w->scheme = dm_xstrdup(scheme);
}

void dm_master_worker_remove(dm_master *m, const char *name)
{
	dm_mworker *w = dm_master_worker(m, name);
	if (w == NULL)
		return;
	free(w->name);
	free(w->addr);
	free(w->scheme);
	json_decref(w->reported);
	size_t i = (size_t)(w - m->workers);
	memmove(w, w + 1, (m->nworkers - i - 1) * sizeof(*w));
	m->nworkers--;
}

/* Loads secret-key-path, or creates <data-dir>/secret.key on first start. */
static int load_secret_key(dm_master *m, dm_err *err)
{
	char *warning = NULL;
	if (*m->cfg.secret_key_path) {
		if (dm_secret_key_load(m->cfg.secret_key_path, &m->key, &warning, err) < 0)
			return -1;
	} else {
		char *path = dm_xasprintf("%s/secret.key", m->cfg.data_dir);
		int rc;
		if (access(path, F_OK) == 0) {
			rc = dm_secret_key_load(path, &m->key, &warning, err);
		} else {
			rc = dm_secret_key_generate(path, &m->key, err);
			if (rc == 0)
				dm_log_warn(m->log,
				            "no secret-key-path set: generated a new secret key in "
				            "%s (mode "
				            "0600); back it up with the data directory, stored "
				            "passwords "
				            "cannot be decrypted without it",
				            path);
		}
		free(path);
		if (rc < 0)
			return -1;
	}
	if (warning) {
		dm_log_warn(m->log, "%s", warning);
		free(warning);
	}
	return 0;
}

static void log_tls_warnings(dm_master *m)
{
	char **w;
	size_t n = dm_http_client_take_warnings(m->client, &w);
	for (size_t i = 0; i < n; i++)
		dm_log_warn(m->log, "%s", w[i]);
	dm_tls_warnings_free(w, n);
}

/* Builds the server-role TLS object for the current config (NULL when off). */
static dm_http_client *worker_client(const dm_master_config *cfg, dm_err *err)
{
	dm_tls_settings s;
	dm_tls_settings_init(&s);
	dm_daemon_client_tls_settings(&cfg->c, &s);
	/* The master's own allowed-CN list is for its clients; as a client it
	 * checks the worker's certificate against the CA and address. */
	dm_http_client_opts o = {.connect_timeout_ms = 3000, .timeout_ms = 10000};
	dm_http_client *c = dm_http_client_new(cfg->c.tls_client_v ? &s : NULL, &o, err);
	dm_tls_settings_fini(&s);
	return c;
}

/* SIGHUP: a whole new config beside the old one; swap only if it loaded. */
static void reload(void *arg)
{
	dm_master *m = arg;
	dm_master_config cfg;
	dm_err err;
	if (dm_master_config_load(&cfg, m->argc, m->argv, &err) < 0) {
		dm_log_error(m->log, "reload refused, the running configuration stays: %s",
		             err.msg);
		return;
	}
	dm_tls *tls = NULL;
	dm_http_client *client = NULL;
	if (dm_daemon_server_tls(&cfg.c, m->log, &tls, &err) < 0 ||
	    (client = worker_client(&cfg, &err)) == NULL) {
		dm_log_error(m->log, "reload refused, the running configuration stays: %s",
		             err.msg);
		dm_tls_free(tls);
		dm_master_config_fini(&cfg);
		return;
	}
	if (dm_log_reconfigure(m->log, cfg.c.log_level_v, cfg.c.log_format_v, cfg.c.log_file,
	                       &err) < 0)
		dm_log_error(m->log, "reload: %s; logging continues to the old destination",
		             err.msg);
	if (strcmp(cfg.master_addr, m->cfg.master_addr) != 0 ||
	    strcmp(cfg.data_dir, m->cfg.data_dir) != 0)
		dm_log_warn(m->log,
		            "reload: master-addr and data-dir changes take effect at restart");
	dm_http_server_set_tls(m->srv, tls);
	size_t closed = dm_http_server_close_idle(m->srv);
	m->retired = dm_xrealloc(m->retired, (m->nretired + 1) * sizeof(*m->retired));
	m->retired[m->nretired++] = m->client;
	m->client = client;
	log_tls_warnings(m);
	dm_master_config_fini(&m->cfg);
	m->cfg = cfg;
	m->reloads++;
	dm_log_info(m->log,
	            "reloaded: tls-mode %s, log-level %s, tls-client %s, %zu idle connections "
	            "closed",
	            m->cfg.c.tls_mode, m->cfg.c.log_level, m->cfg.c.tls_client_v ? "on" : "off",
	            closed);
}

static void on_shutdown(void *arg)
{
	dm_master *m = arg;
	dm_log_info(m->log, "shutting down: no new connections, finishing requests");
	if (m->tick)
		event_del(m->tick);
	dm_http_server_shutdown(m->srv);
}

static void on_drained(void *arg)
{
	dm_master *m = arg;
	dm_loop_exit(m->loop);
}

/* Restores the worker table from the store: every registered worker starts
 * offline-until-heard-from, with a grace of one TTL (see sched.c). */
static int load_workers(dm_master *m, dm_err *err)
{
	json_t *all;
	if (dm_master_list_json(m, "/dm/worker/", &all, err) < 0)
		return -1;
	const char *name;
	json_t *v;
	json_object_foreach(all, name, v)
	{
		const char *addr = json_string_value(json_object_get(v, "addr"));
		dm_mworker *w = dm_master_worker_add(m, name, addr ? addr : "");
		dm_master_worker_set_scheme(w, json_string_value(json_object_get(v, "scheme")));
		json_int_t ttl = json_integer_value(json_object_get(v, "keepalive_ttl"));
		if (ttl > 0)
			w->ttl_ms = ttl * 1000;
		/* Assume alive until one TTL passes without news, so a master
		 * restart does not move every source. */
		w->online = true;
		w->last_seen_ms = dm_clock_mono_ms();
	}
	json_decref(all);
	return 0;
}

int dm_master_init(dm_master *m, int argc, char **argv, dm_err *err)
{
	memset(m, 0, sizeof(*m));
	m->argc = argc;
	m->argv = argv;
	m->started_ms = dm_clock_wall_ms();
	if (dm_master_config_load(&m->cfg, argc, argv, err) < 0)
		return -1;
	m->log = dm_log_new("dm-master", m->cfg.c.log_level_v, m->cfg.c.log_format_v,
	                    m->cfg.c.log_file, err);
	if (m->log == NULL)
		goto fail;
	if (dm_file_mkdirs(m->cfg.data_dir, 0700, err) < 0)
		goto fail;
	char *db = dm_xasprintf("%s/dm-master.db", m->cfg.data_dir);
	m->store = dm_store_open_sqlite(db, err);
	free(db);
	if (m->store == NULL || load_secret_key(m, err) < 0 || load_workers(m, err) < 0)
		goto fail;
	m->base = event_base_new();
	if (m->base == NULL) {
		dm_err_set(err, DM_EINTERNAL, "cannot create the event loop");
		goto fail;
	}
	if ((m->loop = dm_loop_new(m->base, m->log, err)) == NULL)
		goto fail;
	dm_tls *tls;
	if (dm_daemon_server_tls(&m->cfg.c, m->log, &tls, err) < 0)
		goto fail;
	dm_http_server_opts so = {.tls = tls};
	if ((m->srv = dm_http_server_new(m->base, &so, m->log, err)) == NULL)
		goto fail;
	if ((m->client = worker_client(&m->cfg, err)) == NULL)
		goto fail;
	log_tls_warnings(m);
	dm_master_routes_sources(m);
	dm_master_routes_tasks(m);
	dm_master_routes_cluster(m);
	dm_master_routes_internal(m);
	if (dm_http_server_listen(m->srv, m->cfg.master_addr, err) < 0)
		goto fail;
	dm_loop_on_reload(m->loop, reload, m);
	dm_loop_on_shutdown(m->loop, on_shutdown, m);
	dm_http_server_on_drained(m->srv, on_drained, m);
	return 0;
fail:
	dm_master_fini(m);
	return -1;
}

int dm_master_run(dm_master *m, dm_err *err)
{
	dm_log_info(m->log,
	            "dm-master %s \"%s\" serving on %s (advertise %s), tls-mode %s, store "
	            "%s/dm-master.db",
	            DM_MASTER_VERSION, m->cfg.c.name, m->cfg.master_addr, m->cfg.c.advertise_addr,
	            m->cfg.c.tls_mode, m->cfg.data_dir);
	dm_master_start_tick(m);
	dm_master_schedule(m);
	return dm_loop_run(m->loop, err);
}

void dm_master_fini(dm_master *m)
{
	if (m->tick)
		event_free(m->tick);
	dm_http_server_free(m->srv);
	dm_loop_free(m->loop);
	if (m->base)
		event_base_free(m->base);
	dm_http_client_free(m->client);
	for (size_t i = 0; i < m->nretired; i++)
		dm_http_client_free(m->retired[i]);
	free(m->retired);
	while (m->nworkers)
		dm_master_worker_remove(m, m->workers[0].name);
	free(m->workers);
	dm_store_close(m->store);
	dm_secret_key_wipe(&m->key);
	dm_log_free(m->log);
	dm_master_config_fini(&m->cfg);
	memset(m, 0, sizeof(*m));
}
