#include "config/daemon.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/mem.h"
#include "config/toml.h"

/* Config files are small; anything bigger is a mistake (a log passed as
 * --config, say). */
enum { MAX_CONFIG_BYTES = 1 << 20 };

static int check_tls_mode(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	dm_tls_mode m;
	return (s == NULL || *s == '\0') ? 0 : dm_tls_mode_parse(s, &m, err);
}

static int check_tls_client(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (strcmp(s, "auto") == 0 || strcmp(s, "on") == 0 || strcmp(s, "off") == 0)
		return 0;
	return dm_err_set(err, DM_EINVAL, "must be \"auto\", \"on\" or \"off\", not \"%s\"", s);
}

static int check_log_level(const void *v, dm_err *err)
{
	dm_log_level l;
	return dm_log_level_parse(*(char *const *)v, &l, err);
}

static int check_log_format(const void *v, dm_err *err)
{
	dm_log_format f;
	return dm_log_format_parse(*(char *const *)v, &f, err);
}

static int check_min_version(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (strcmp(s, "1.2") == 0 || strcmp(s, "1.3") == 0)
		return 0;
	return dm_err_set(err, DM_EINVAL, "must be \"1.2\" or \"1.3\", not \"%s\"", s);
}

static int check_addr(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	char host[256];
	int port;
	return (s == NULL || *s == '\0') ? 0
	                                 : dm_config_split_addr(s, host, sizeof(host), &port, err);
}

static int check_addr_list(const void *v, dm_err *err)
{
	const dm_strlist *l = v;
	for (size_t i = 0; i < l->n; i++)
		if (check_addr(&l->items[i], err) < 0)
			return -1;
	return 0;
}

#define COMMON_FIELDS(T, NAME_DEFAULT)                                                             \
	{.key = "name",                                                                            \
	 .kind = DM_BIND_STRING,                                                                   \
	 .offset = offsetof(T, c.name),                                                            \
	 .def = NAME_DEFAULT,                                                                      \
	 .help = "unique name of this instance in the cluster"},                                   \
	        {.key = "advertise-addr",                                                          \
	         .kind = DM_BIND_STRING,                                                           \
	         .offset = offsetof(T, c.advertise_addr),                                          \
	         .def = "",                                                                        \
	         .check = check_addr,                                                              \
	         .help = "host:port others use to reach this instance"},                           \
	        {.key = "log-level",                                                               \
	         .kind = DM_BIND_STRING,                                                           \
	         .offset = offsetof(T, c.log_level),                                               \
	         .def = "info",                                                                    \
	         .check = check_log_level,                                                         \
	         .help = "debug, info, warn or error"},                                            \
	        {.key = "log-file",                                                                \
	         .kind = DM_BIND_STRING,                                                           \
	         .offset = offsetof(T, c.log_file),                                                \
	         .def = "",                                                                        \
	         .help = "log file path; empty logs to stderr"},                                   \
	        {.key = "log-format",                                                              \
	         .kind = DM_BIND_STRING,                                                           \
	         .offset = offsetof(T, c.log_format),                                              \
	         .def = "text",                                                                    \
	         .check = check_log_format,                                                        \
	         .help = "text or json"},                                                          \
	        {.key = "ssl-ca",                                                                  \
	         .kind = DM_BIND_STRING,                                                           \
	         .offset = offsetof(T, c.ssl_ca),                                                  \
	         .def = "",                                                                        \
	         .help = "CA certificate(s) that sign peers' certificates (PEM)"},                 \
	        {.key = "ssl-cert",                                                                \
	         .kind = DM_BIND_STRING,                                                           \
	         .offset = offsetof(T, c.ssl_cert),                                                \
	         .def = "",                                                                        \
	         .help = "this instance's certificate (PEM)"},                                     \
	        {.key = "ssl-key",                                                                 \
	         .kind = DM_BIND_STRING,                                                           \
	         .offset = offsetof(T, c.ssl_key),                                                 \
	         .def = "",                                                                        \
	         .help = "this instance's private key (PEM, mode 0600)"},                          \
	        {.key = "cert-allowed-cn",                                                         \
	         .kind = DM_BIND_STRLIST,                                                          \
	         .offset = offsetof(T, c.cert_allowed_cn),                                         \
	         .help = "CNs a client certificate may have; empty: any the CA signed"},           \
	        {.key = "tls-mode",                                                                \
	         .kind = DM_BIND_STRING,                                                           \
	         .offset = offsetof(T, c.tls_mode),                                                \
	         .def = "",                                                                        \
	         .check = check_tls_mode,                                                          \
	         .help = "off, permissive or strict; default strict with certificates, else off"}, \
	        {.key = "tls-client",                                                              \
	         .kind = DM_BIND_STRING,                                                           \
	         .offset = offsetof(T, c.tls_client),                                              \
	         .def = "auto",                                                                    \
	         .check = check_tls_client,                                                        \
	         .help = "calls to peers over TLS: auto (unless tls-mode is off), on or off"},     \
	{                                                                                          \
		.key = "tls-min-version", .kind = DM_BIND_STRING,                                  \
		.offset = offsetof(T, c.tls_min_version), .def = "1.2",                            \
		.check = check_min_version, .help = "1.2 or 1.3"                                   \
	}

static const dm_bind_field master_fields[] = {
        COMMON_FIELDS(dm_master_config, "dm-master"),
        {.key = "master-addr",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_master_config, master_addr),
         .def = "127.0.0.1:8261",
         .check = check_addr,
         .help = "host:port the API listens on"},
        {.key = "data-dir",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_master_config, data_dir),
         .def = "",
         .help = "state directory; default default.<name>"},
        {.key = "join",
         .kind = DM_BIND_STRLIST,
         .offset = offsetof(dm_master_config, join),
         .check = check_addr_list,
         .help = "other masters' addresses (HA)"},
        {.key = "secret-key-path",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_master_config, secret_key_path),
         .def = "",
         .help = "file with a hex AES-256 key encrypting stored passwords; generated if empty"},
        {.key = "openapi",
         .kind = DM_BIND_IGNORE,
         .help = "accepted for DM compatibility: the API is always on"},
        {.key = "rpc-timeout", .kind = DM_BIND_IGNORE, .help = "accepted for DM compatibility"},
        {.key = "rpc-rate-limit", .kind = DM_BIND_IGNORE, .help = "accepted for DM compatibility"},
        {.key = "rpc-rate-burst", .kind = DM_BIND_IGNORE, .help = "accepted for DM compatibility"},
        {.key = "peer-urls",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "dm-master embeds no etcd; HA masters share an external etcd store instead, "
                 "remove it"},
        {.key = "advertise-peer-urls",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "dm-master embeds no etcd; remove it"},
        {.key = "initial-cluster",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "dm-master embeds no etcd; list other masters in \"join\" instead"},
        {0},
};

static const dm_bind_field worker_fields[] = {
        COMMON_FIELDS(dm_worker_config, "dm-worker"),
        {.key = "worker-addr",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_worker_config, worker_addr),
         .def = "127.0.0.1:8262",
         .check = check_addr,
         .help = "host:port the worker listens on"},
        {.key = "join",
         .kind = DM_BIND_STRLIST,
         .offset = offsetof(dm_worker_config, join),
         .check = check_addr_list,
         .help = "masters' addresses, comma separated (required)"},
        {.key = "keepalive-ttl",
         .kind = DM_BIND_INT,
         .offset = offsetof(dm_worker_config, keepalive_ttl),
         .min = 1,
         .max = 3600,
         .def = "60",
         .help = "seconds without a keepalive before the master rebinds this worker's source"},
        {.key = "relay-keepalive-ttl",
         .kind = DM_BIND_IGNORE,
         .help = "accepted for DM compatibility"},
        {.key = "relay-dir",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "dm reads the upstream binlog directly, there is no relay log; remove it"},
        {0},
};

int dm_config_split_addr(const char *addr, char *host, size_t hostlen, int *port, dm_err *err)
{
	const char *colon;
	const char *h = addr;
	size_t hl;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (close == NULL || close[1] != ':')
			return dm_err_set(err, DM_EINVAL, "address \"%s\" is not [ipv6]:port",
			                  addr);
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (colon == NULL)
			return dm_err_set(err, DM_EINVAL, "address \"%s\" has no :port", addr);
		hl = (size_t)(colon - addr);
		if (memchr(addr, ':', hl))
			return dm_err_set(err, DM_EINVAL,
			                  "address \"%s\": write IPv6 hosts as [host]:port", addr);
	}
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || p < 1 || p > 65535)
		return dm_err_set(err, DM_EINVAL, "address \"%s\": port must be an integer 1-65535",
		                  addr);
	if (hl >= hostlen)
		return dm_err_set(err, DM_EINVAL, "address \"%s\": host name too long", addr);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

static bool is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (strcmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return false;
}

static const char *find_config_flag(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		a += (a[0] == '-') + (a[0] == '-' && a[1] == '-');
		if (strncmp(a, "config=", 7) == 0)
			return a + 7;
		if (strcmp(a, "config") == 0 && i + 1 < argc)
			return argv[i + 1];
	}
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Defaults, file, flags: the part both daemons share. */
static int load(const dm_bind_field *fields, void *cfg, dm_daemon_common *c, int argc, char **argv,
                dm_err *err)
{
	if (dm_bind_defaults(fields, cfg, err) < 0)
		return -1;
	const char *path = find_config_flag(argc, argv);
	if (path) {
		c->config_file = dm_xstrdup(path);
		char *text;
		size_t len;
		if (dm_file_read(path, MAX_CONFIG_BYTES, &text, &len, err) < 0)
			return dm_err_prefix(err, "cannot read --config");
		dm_node *root = NULL;
		int rc = dm_toml_parse(text, len, base_name(path), &root, err);
		free(text);
		if (rc == 0)
			rc = dm_bind_tree(fields, root, base_name(path), cfg, err);
		dm_tree_free(root);
		if (rc < 0)
			return -1;
	}
	static const char *const skip[] = {"config", NULL};
	return dm_bind_flags(fields, cfg, argc, argv, skip, err);
}

/* Resolves enums and the TLS rules that span several keys. listen is the
 * address this daemon serves on; what names it for messages. */
static int validate_common(dm_daemon_common *c, const char *listen, const char *what, dm_err *err)
{
	dm_log_level_parse(c->log_level, &c->log_level_v, NULL);
	dm_log_format_parse(c->log_format, &c->log_format_v, NULL);
	bool has_cert = *c->ssl_cert || *c->ssl_key;
	bool explicit_mode = *c->tls_mode != '\0';
	if (explicit_mode)
		dm_tls_mode_parse(c->tls_mode, &c->tls_mode_v, NULL);
	else
		c->tls_mode_v = (has_cert || *c->ssl_ca) ? DM_TLS_STRICT : DM_TLS_OFF;
	free(c->tls_mode);
	c->tls_mode = dm_xstrdup(dm_tls_mode_name(c->tls_mode_v));
	/* tls-client refines permissive only: a plaintext server has no TLS
	 * material to call with, and a strict one's peers are strict too. */
	if (strcmp(c->tls_client, "auto") == 0)
		c->tls_client_v = c->tls_mode_v != DM_TLS_OFF;
	else if (c->tls_mode_v == DM_TLS_PERMISSIVE)
		c->tls_client_v = strcmp(c->tls_client, "on") == 0;
	else if ((strcmp(c->tls_client, "on") == 0) != (c->tls_mode_v != DM_TLS_OFF))
		return dm_err_set(err, DM_EINVAL,
		                  "tls-client \"%s\" contradicts tls-mode %s: it may differ from "
		                  "the mode's default only with tls-mode permissive",
		                  c->tls_client, c->tls_mode);
	else
		c->tls_client_v = c->tls_mode_v != DM_TLS_OFF;
	if (c->tls_mode_v != DM_TLS_OFF) {
		dm_tls_settings s;
		dm_tls_settings_init(&s);
		dm_daemon_tls_settings(c, &s);
		int rc = dm_tls_settings_validate(&s, DM_TLS_SERVER, err);
		dm_tls_settings_fini(&s);
		if (rc < 0)
			return dm_err_prefix(err, "tls-mode %s", c->tls_mode);
		return 0;
	}
	/* Secure by default: plaintext is for loopback unless asked for. */
	char host[256];
	int port;
	if (dm_config_split_addr(listen, host, sizeof(host), &port, err) < 0)
		return -1;
	if (!explicit_mode && !is_loopback(host))
		return dm_err_set(
		        err, DM_EINVAL,
		        "%s %s is not a loopback address and no TLS is configured: set "
		        "ssl-ca, ssl-cert and ssl-key (see docs/tls.md), or tls-mode = \"off\" "
		        "to accept plaintext on purpose",
		        what, listen);
	return 0;
}

void dm_daemon_tls_settings(const dm_daemon_common *c, dm_tls_settings *out)
{
	dm_tls_settings_fini(out);
	out->mode = c->tls_mode_v;
	out->ca_file = *c->ssl_ca ? dm_xstrdup(c->ssl_ca) : NULL;
	out->cert_file = *c->ssl_cert ? dm_xstrdup(c->ssl_cert) : NULL;
	out->key_file = *c->ssl_key ? dm_xstrdup(c->ssl_key) : NULL;
	out->min_version = dm_xstrdup(c->tls_min_version);
	out->n_allowed_cn = c->cert_allowed_cn.n;
	out->allowed_cn = dm_xcalloc(c->cert_allowed_cn.n + 1, sizeof(char *));
	for (size_t i = 0; i < c->cert_allowed_cn.n; i++)
		out->allowed_cn[i] = dm_xstrdup(c->cert_allowed_cn.items[i]);
}

void dm_daemon_client_tls_settings(const dm_daemon_common *c, dm_tls_settings *out)
{
	dm_daemon_tls_settings(c, out);
	if (!c->tls_client_v)
		out->mode = DM_TLS_OFF;
}

void dm_master_config_fini(dm_master_config *cfg)
{
	dm_bind_free(master_fields, cfg);
	free(cfg->c.config_file);
	memset(cfg, 0, sizeof(*cfg));
}

void dm_worker_config_fini(dm_worker_config *cfg)
{
	dm_bind_free(worker_fields, cfg);
	free(cfg->c.config_file);
	memset(cfg, 0, sizeof(*cfg));
}

int dm_master_config_load(dm_master_config *cfg, int argc, char **argv, dm_err *err)
{
	memset(cfg, 0, sizeof(*cfg));
	if (load(master_fields, cfg, &cfg->c, argc, argv, err) < 0 ||
	    validate_common(&cfg->c, cfg->master_addr, "master-addr", err) < 0)
		goto fail;
	if (*cfg->c.advertise_addr == '\0') {
		free(cfg->c.advertise_addr);
		cfg->c.advertise_addr = dm_xstrdup(cfg->master_addr);
	}
	if (*cfg->data_dir == '\0') {
		free(cfg->data_dir);
		cfg->data_dir = dm_xasprintf("default.%s", cfg->c.name);
	}
	return 0;
fail:
	dm_master_config_fini(cfg);
	return -1;
}

int dm_worker_config_load(dm_worker_config *cfg, int argc, char **argv, dm_err *err)
{
	memset(cfg, 0, sizeof(*cfg));
	if (load(worker_fields, cfg, &cfg->c, argc, argv, err) < 0 ||
	    validate_common(&cfg->c, cfg->worker_addr, "worker-addr", err) < 0)
		goto fail;
	if (cfg->join.n == 0) {
		dm_err_set(err, DM_EINVAL,
		           "\"join\" is empty: give the masters' addresses, e.g. join = "
		           "\"127.0.0.1:8261\"");
		goto fail;
	}
	if (*cfg->c.advertise_addr == '\0') {
		free(cfg->c.advertise_addr);
		cfg->c.advertise_addr = dm_xstrdup(cfg->worker_addr);
	}
	/* Only the master has business with a worker's port: with TLS on and
	 * no list given, admit the CN dm-cluster gives masters. */
	if (cfg->c.tls_mode_v != DM_TLS_OFF && cfg->c.cert_allowed_cn.n == 0)
		dm_strlist_add(&cfg->c.cert_allowed_cn, "dm-master");
	return 0;
fail:
	dm_worker_config_fini(cfg);
	return -1;
}

static void usage(const dm_bind_field *fields, FILE *out)
{
	for (const dm_bind_field *f = fields; f->key; f++) {
		if (f->kind == DM_BIND_IGNORE || f->kind == DM_BIND_UNSUPPORTED)
			continue;
		fprintf(out, "  --%-18s %s", f->key, f->help ? f->help : "");
		if (f->def && *f->def)
			fprintf(out, " (default %s)", f->def);
		fputc('\n', out);
	}
}

void dm_master_config_usage(FILE *out)
{
	usage(master_fields, out);
}

void dm_worker_config_usage(FILE *out)
{
	usage(worker_fields, out);
}

int dm_daemon_server_tls(const dm_daemon_common *c, dm_log *log, dm_tls **ret, dm_err *err)
{
	*ret = NULL;
	if (c->tls_mode_v == DM_TLS_OFF)
		return 0;
	dm_tls_settings s;
	dm_tls_settings_init(&s);
	dm_daemon_tls_settings(c, &s);
	dm_tls *t = dm_tls_new(&s, DM_TLS_SERVER, err);
	dm_tls_settings_fini(&s);
	if (t == NULL)
		return -1;
	char **w;
	size_t n = dm_tls_take_warnings(t, &w);
	for (size_t i = 0; i < n; i++)
		dm_log_warn(log, "%s", w[i]);
	dm_tls_warnings_free(w, n);
	*ret = t;
	return 0;
}
