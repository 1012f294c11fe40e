/* https-echo: a real dm HTTP(S) server for integration tests.
 *
 *   https-echo [--config=FILE] [--addr=H:P] [--ssl-ca=F] [--ssl-cert=F] [--ssl-key=F]
 *              [--cert-allowed-cn=a,b] [--tls-mode=off|permissive|strict]
 *              [--log-file=F] [--log-level=debug|info|warn|error]
 *
 * FILE is TOML with the same keys; flags override it. Serves
 *   GET  /status       {"ok":true,"peer_cn":<CN or null>,"tls":<bool>}
 *   POST /echo         the JSON body back
 *   GET  /param/{name} {"name":<decoded segment>,"q":<query q or null>}
 * Prints "listening on H:P" on stdout once it accepts connections.
 * SIGHUP re-reads FILE and the flags and swaps the TLS settings for new
 * connections (idle keep-alive connections are closed); SIGTERM shuts down
 * gracefully. tls-mode defaults to strict when ssl-cert is set, else off. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/bind.h"
#include "config/toml.h"
#include "net/loop.h"
#include "net/server.h"
#include "tls/tls.h"

struct echo_cfg {
	char *addr;
	char *ssl_ca;
	char *ssl_cert;
	char *ssl_key;
	dm_strlist cert_allowed_cn;
	char *tls_mode;
	char *log_file;
	char *log_level;
};

#define F(key, kind, member, def, help)                                                            \
	{                                                                                          \
		key, kind, offsetof(struct echo_cfg, member), 0, 0, def, NULL, NULL, help          \
	}

static const dm_bind_field fields[] = {
        F("addr", DM_BIND_STRING, addr, "127.0.0.1:0", "listen address host:port"),
        F("ssl-ca", DM_BIND_STRING, ssl_ca, NULL, "CA that signs client certificates"),
        F("ssl-cert", DM_BIND_STRING, ssl_cert, NULL, "server certificate"),
        F("ssl-key", DM_BIND_STRING, ssl_key, NULL, "server key"),
        F("cert-allowed-cn", DM_BIND_STRLIST, cert_allowed_cn, NULL, "client CNs allowed"),
        F("tls-mode", DM_BIND_STRING, tls_mode, NULL, "off, permissive or strict"),
        F("log-file", DM_BIND_STRING, log_file, NULL, "log file (stderr when unset)"),
        F("log-level", DM_BIND_STRING, log_level, "info", "debug, info, warn or error"),
        {NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL},
};

struct app {
	int argc;
	char **argv;
	const char *config;
	dm_log *log;
	dm_http_server *srv;
	dm_loop *loop;
};

static int load_cfg(const struct app *app, struct echo_cfg *cfg, dm_err *err)
{
	static const char *const skip[] = {"config", NULL};
	memset(cfg, 0, sizeof(*cfg));
	if (dm_bind_defaults(fields, cfg, err) < 0)
		return -1;
	if (app->config != NULL) {
		char *text = NULL;
		size_t len = 0;
		dm_node *root = NULL;
		if (dm_file_read(app->config, 1024 * 1024, &text, &len, err) < 0)
			return -1;
		int rc = dm_toml_parse(text, len, app->config, &root, err);
		free(text);
		if (rc < 0)
			return -1;
		rc = dm_bind_tree(fields, root, app->config, cfg, err);
		dm_tree_free(root);
		if (rc < 0)
			return -1;
	}
	return dm_bind_flags(fields, cfg, app->argc, app->argv, skip, err);
}

/* *ret is NULL for tls-mode off. */
static int make_tls(const struct echo_cfg *cfg, dm_log *log, dm_tls **ret, dm_err *err)
{
	dm_tls_mode mode = cfg->ssl_cert != NULL ? DM_TLS_STRICT : DM_TLS_OFF;
	if (cfg->tls_mode != NULL && dm_tls_mode_parse(cfg->tls_mode, &mode, err) < 0)
		return -1;
	if (mode == DM_TLS_OFF) {
		*ret = NULL;
		return 0;
	}
	dm_tls_settings s;
	dm_tls_settings_init(&s);
	s.mode = mode;
	s.ca_file = cfg->ssl_ca != NULL ? dm_xstrdup(cfg->ssl_ca) : NULL;
	s.cert_file = cfg->ssl_cert != NULL ? dm_xstrdup(cfg->ssl_cert) : NULL;
	s.key_file = cfg->ssl_key != NULL ? dm_xstrdup(cfg->ssl_key) : NULL;
	if (cfg->cert_allowed_cn.n > 0) {
		s.allowed_cn = dm_xcalloc(cfg->cert_allowed_cn.n, sizeof(char *));
		for (size_t i = 0; i < cfg->cert_allowed_cn.n; i++)
			s.allowed_cn[i] = dm_xstrdup(cfg->cert_allowed_cn.items[i]);
		s.n_allowed_cn = cfg->cert_allowed_cn.n;
	}
	dm_tls *t = dm_tls_new(&s, DM_TLS_SERVER, err);
	dm_tls_settings_fini(&s);
	if (t == NULL)
		return -1;
	char **warn = NULL;
	size_t n = dm_tls_take_warnings(t, &warn);
	for (size_t i = 0; i < n; i++)
		dm_log_warn(log, "%s", warn[i]);
	dm_tls_warnings_free(warn, n);
	*ret = t;
	return 0;
}

static void on_status(dm_http_req *req, void *arg)
{
	(void)arg;
	const char *cn = dm_http_req_peer_cn(req);
	dm_http_reply_json(req, 200,
	                   json_pack("{s:b, s:o, s:b}", "ok", 1, "peer_cn",
	                             cn != NULL ? json_string(cn) : json_null(), "tls",
	                             dm_http_req_is_tls(req)));
}

static void on_echo(dm_http_req *req, void *arg)
{
	(void)arg;
	json_t *body = dm_http_req_json(req);
	if (body == NULL) {
		dm_http_reply_error(req, 400, 400, "POST /echo needs a JSON body");
		return;
	}
	dm_http_reply_json(req, 200, json_incref(body));
}

static void on_param(dm_http_req *req, void *arg)
{
	(void)arg;
	const char *q = dm_http_req_query(req, "q");
	dm_http_reply_json(req, 200,
	                   json_pack("{s:s, s:o}", "name", dm_http_req_param(req, "name"), "q",
	                             q != NULL ? json_string(q) : json_null()));
}

static void on_drained(void *arg)
{
	struct app *app = arg;
	dm_loop_exit(app->loop);
}

static void on_shutdown(void *arg)
{
	struct app *app = arg;
	dm_http_server_on_drained(app->srv, on_drained, app);
	dm_http_server_shutdown(app->srv);
}

/* Builds the new TLS settings completely before swapping; on any error
 * the running ones stay. */
static void on_reload(void *arg)
{
	struct app *app = arg;
	struct echo_cfg cfg;
	dm_err err;
	dm_tls *tls = NULL;
	if (load_cfg(app, &cfg, &err) < 0 || make_tls(&cfg, app->log, &tls, &err) < 0) {
		dm_log_error(app->log, "reload failed, keeping the running settings: %s", err.msg);
		dm_bind_free(fields, &cfg);
		return;
	}
	const char *mode = dm_tls_mode_name(tls != NULL ? dm_tls_get_mode(tls) : DM_TLS_OFF);
	dm_http_server_set_tls(app->srv, tls);
	size_t closed = dm_http_server_close_idle(app->srv);
	dm_log_info(app->log, "reloaded: tls-mode %s; closed %zu idle connections", mode, closed);
	dm_bind_free(fields, &cfg);
}

static const char *find_config(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--config=", 9) == 0)
			return argv[i] + 9;
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct app app = {.argc = argc, .argv = argv, .config = find_config(argc, argv)};
	struct echo_cfg cfg;
	dm_err err;
	dm_log_level level;
	struct event_base *base = NULL;
	dm_tls *tls = NULL;
	int rc = 1;
	if (load_cfg(&app, &cfg, &err) < 0 || dm_log_level_parse(cfg.log_level, &level, &err) < 0)
		goto out;
	app.log = dm_log_new("https-echo", level, DM_LOG_TEXT, cfg.log_file, &err);
	if (app.log == NULL || make_tls(&cfg, app.log, &tls, &err) < 0)
		goto out;
	base = event_base_new();
	dm_http_server_opts opts = {.tls = tls};
	app.srv = dm_http_server_new(base, &opts, app.log, &err);
	if (app.srv == NULL)
		goto out;
	dm_http_server_route(app.srv, "GET", "/status", on_status, NULL);
	dm_http_server_route(app.srv, "POST", "/echo", on_echo, NULL);
	dm_http_server_route(app.srv, "GET", "/param/{name}", on_param, NULL);
	app.loop = dm_loop_new(base, app.log, &err);
	if (app.loop == NULL || dm_http_server_listen(app.srv, cfg.addr, &err) < 0)
		goto out;
	dm_loop_on_shutdown(app.loop, on_shutdown, &app);
	dm_loop_on_reload(app.loop, on_reload, &app);
	const char *colon = strrchr(cfg.addr, ':');
	int host_len = (int)(colon - cfg.addr);
	printf("listening on %.*s:%d\n", host_len > 0 ? host_len : 7,
	       host_len > 0 ? cfg.addr : "0.0.0.0", dm_http_server_port(app.srv));
	fflush(stdout);
	dm_log_info(app.log, "listening on %s (port %d), tls-mode %s", cfg.addr,
	            dm_http_server_port(app.srv),
	            dm_tls_mode_name(tls != NULL ? dm_tls_get_mode(tls) : DM_TLS_OFF));
	if (dm_loop_run(app.loop, &err) < 0)
		goto out;
	dm_log_info(app.log, "stopped");
	rc = 0;
out:
	/* tls belongs to the server from dm_http_server_new() on. */
	if (rc != 0)
		fprintf(stderr, "https-echo: %s\n", err.msg);
	dm_http_server_free(app.srv);
	dm_loop_free(app.loop);
	if (base != NULL)
		event_base_free(base);
	dm_log_free(app.log);
	dm_bind_free(fields, &cfg);
	return rc;
}
