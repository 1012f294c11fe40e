#include "cluster/topo.h"

#include <arpa/inet.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file.h"
#include "base/mem.h"
#include "config/daemon.h"
#include "config/yaml.h"

/* Keys dm-cluster writes into every generated config: a topology may not
 * set them in `config`, because the instance would then disagree with
 * what dm-cluster records and checks. */
static const char *const reserved_keys[] = {
        "name",       "master-addr", "worker-addr", "advertise-addr", "join",     "data-dir",
        "log-file",   "ssl-ca",      "ssl-cert",    "ssl-key",        "tls-mode", "cert-allowed-cn",
        "tls-client", NULL,
};

/* TiUP sections dm-cluster does not deploy, with what to do instead. */
static const struct {
	const char *key;
	const char *why;
} unsupported_top[] = {
        {"server_configs", "put the keys in each instance's \"config\" map instead"},
        {"monitoring_servers", "dm-cluster deploys no monitoring; remove it"},
        {"grafana_servers", "dm-cluster deploys no monitoring; remove it"},
        {"alertmanager_servers", "dm-cluster deploys no monitoring; remove it"},
};

const char *dm_topo_role_name(dm_topo_role role)
{
	return role == DM_TOPO_MASTER ? "dm-master" : "dm-worker";
}

bool dm_topo_host_is_loopback(const char *host)
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

int dm_topo_check_name(const char *what, const char *name, dm_err *err)
{
	size_t n = strlen(name);
	bool ok = n >= 1 && n <= DM_TOPO_NAME_MAX && name[0] != '.' && name[0] != '-';
	for (size_t i = 0; ok && i < n; i++) {
		char c = name[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '_' || c == '.' || c == '-';
	}
	if (!ok)
		return dm_err_set(err, DM_EINVAL,
		                  "%s \"%s\": use 1-%d characters of A-Z a-z 0-9 _ . - (not "
		                  "starting with . or -)",
		                  what, name, DM_TOPO_NAME_MAX);
	return 0;
}

char *dm_topo_inst_addr(const dm_topo_inst *i)
{
	/* The daemons listen on addresses, not names. */
	if (strcmp(i->host, "localhost") == 0)
		return dm_xasprintf("127.0.0.1:%d", i->port);
	if (strchr(i->host, ':'))
		return dm_xasprintf("[%s]:%d", i->host, i->port);
	return dm_xasprintf("%s:%d", i->host, i->port);
}

char *dm_topo_inst_dir(const dm_topo *t, const dm_topo_inst *i)
{
	return dm_xasprintf("%s/%s-%d", t->deploy_dir, dm_topo_role_name(i->role), i->port);
}

char *dm_topo_inst_data_dir(const dm_topo *t, const dm_topo_inst *i)
{
	if (t->data_dir[0] == '/')
		return dm_xasprintf("%s/%s-%d", t->data_dir, dm_topo_role_name(i->role), i->port);
	char *dir = dm_topo_inst_dir(t, i);
	char *d = dm_xasprintf("%s/%s", dir, t->data_dir);
	free(dir);
	return d;
}

const dm_topo_inst *dm_topo_find(const dm_topo *t, const char *name)
{
	for (size_t i = 0; i < t->ninsts; i++)
		if (strcmp(t->insts[i].name, name) == 0)
			return &t->insts[i];
	return NULL;
}

void dm_topo_free(dm_topo *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ninsts; i++) {
		dm_topo_inst *in = &t->insts[i];
		for (size_t k = 0; k < in->nconfig; k++) {
			free(in->config[k].key);
			free(in->config[k].toml);
			free(in->config[k].flag);
		}
		free(in->config);
		free(in->name);
		free(in->host);
	}
	free(t->insts);
	free(t->user);
	free(t->deploy_dir);
	free(t->data_dir);
	free(t);
}

/* ---- parsing --------------------------------------------------------- */

typedef struct parser {
	const char *file;
	dm_err *err;
} parser;

static int fail(parser *p, const dm_node *at, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int fail(parser *p, const dm_node *at, const char *fmt, ...)
{
	char msg[DM_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at && at->line > 0)
		return dm_err_set(p->err, DM_EINVAL, "%s:%d:%d: %s", p->file, at->line, at->col,
		                  msg);
	return dm_err_set(p->err, DM_EINVAL, "%s: %s", p->file, msg);
}

/* Every key of table must be in known (NULL-ended). */
static int check_keys(parser *p, const dm_node *table, const char *where, const char *const *known)
{
	for (size_t i = 0; i < table->nkids; i++) {
		const dm_node *k = table->kids[i];
		const char *const *q;
		for (q = known; *q; q++)
			if (strcmp(*q, k->key) == 0)
				break;
		if (*q)
			continue;
		dm_buf b;
		dm_buf_init(&b);
		for (q = known; *q; q++)
			dm_buf_printf(&b, "%s%s", q == known ? "" : ", ", *q);
		int rc = fail(p, k, "%s: unknown key \"%s\" (known keys: %s)", where, k->key,
		              dm_buf_str(&b));
		dm_buf_fini(&b);
		return rc;
	}
	return 0;
}

static bool is_scalar(const dm_node *n)
{
	return n->type != DM_NODE_TABLE && n->type != DM_NODE_ARRAY && n->type != DM_NODE_NULL;
}

static int get_string(parser *p, const dm_node *n, const char *where, char **out)
{
	if (!is_scalar(n) || n->len == 0 || memchr(n->str, '\0', n->len))
		return fail(p, n, "%s.%s: expected a non-empty string", where, n->key);
	*out = dm_xstrdup(n->str);
	return 0;
}

static void toml_string(dm_buf *b, const char *s)
{
	dm_buf_putc(b, '"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			dm_buf_printf(b, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			dm_buf_printf(b, "\\u%04x", *c);
		else
			dm_buf_putc(b, (char)*c);
	}
	dm_buf_putc(b, '"');
}

static int scalar_toml(parser *p, const dm_node *n, const char *where, dm_buf *toml, dm_buf *flag)
{
	if (!is_scalar(n) || memchr(n->str, '\0', n->len))
		return fail(p, n, "%s: expected a string, number, boolean or list of them", where);
	switch (n->type) {
	case DM_NODE_INTEGER: dm_buf_printf(toml, "%lld", (long long)n->i); break;
	case DM_NODE_BOOL: dm_buf_puts(toml, n->b ? "true" : "false"); break;
	case DM_NODE_FLOAT: dm_buf_printf(toml, "%.17g", n->f); break;
	default: toml_string(toml, n->str); break;
	}
	dm_buf_puts(flag, n->str);
	return 0;
}

/* Checks one key of an instance's `config` by loading it as a flag, so
 * the topology accepts exactly what the daemon's config file would. */
static int check_config_key(parser *p, const dm_node *at, const dm_topo_inst *in,
                            const dm_topo_kv *kv, const char *where)
{
	char *argv[4];
	int argc = 0;
	argv[argc++] = dm_xstrdup(dm_topo_role_name(in->role));
	if (in->role == DM_TOPO_WORKER)
		argv[argc++] = dm_xstrdup("--join=127.0.0.1:1");
	argv[argc++] = dm_xasprintf("--%s=%s", kv->key, kv->flag);
	dm_err e;
	int rc;
	if (in->role == DM_TOPO_MASTER) {
		dm_master_config mc;
		rc = dm_master_config_load(&mc, argc, argv, &e);
		if (rc == 0)
			dm_master_config_fini(&mc);
	} else {
		dm_worker_config wc;
		rc = dm_worker_config_load(&wc, argc, argv, &e);
		if (rc == 0)
			dm_worker_config_fini(&wc);
	}
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	if (rc == 0)
		return 0;
	/* The loader names the flag; the user wrote a key. */
	const char *msg = e.msg;
	if (strncmp(msg, "command line --", 15) == 0 && strstr(msg, ": "))
		msg = strstr(msg, ": ") + 2;
	if (strncmp(msg, "unknown key", 11) == 0)
		return fail(p, at, "%s: not a %s.toml key (see docs/configuration.md)", where,
		            dm_topo_role_name(in->role));
	return fail(p, at, "%s: %s", where, msg);
}

/* One instance's `config` map. */
static int parse_config(parser *p, const dm_node *cfg, dm_topo_inst *in, const char *where)
{
	if (cfg->type == DM_NODE_NULL)
		return 0;
	if (cfg->type != DM_NODE_TABLE)
		return fail(p, cfg, "%s.config: expected a map of %s.toml keys", where,
		            dm_topo_role_name(in->role));
	in->config = dm_xcalloc(cfg->nkids + 1, sizeof(dm_topo_kv));
	int rc = 0;
	for (size_t i = 0; i < cfg->nkids && rc == 0; i++) {
		const dm_node *k = cfg->kids[i];
		char *w = dm_xasprintf("%s.config.%s", where, k->key);
		for (const char *const *r = reserved_keys; *r && rc == 0; r++)
			if (strcmp(*r, k->key) == 0)
				rc = fail(p, k,
				          "%s: dm-cluster writes \"%s\" itself (from the topology "
				          "and its TLS state); remove it",
				          w, k->key);
		dm_buf toml, flag;
		dm_buf_init(&toml);
		dm_buf_init(&flag);
		if (rc == 0 && k->type == DM_NODE_ARRAY) {
			dm_buf_putc(&toml, '[');
			for (size_t e = 0; e < k->nkids && rc == 0; e++) {
				if (e) {
					dm_buf_puts(&toml, ", ");
					dm_buf_putc(&flag, ',');
				}
				rc = scalar_toml(p, k->kids[e], w, &toml, &flag);
			}
			dm_buf_putc(&toml, ']');
		} else if (rc == 0) {
			rc = scalar_toml(p, k, w, &toml, &flag);
		}
		if (rc == 0) {
			dm_topo_kv *kv = &in->config[in->nconfig++];
			kv->key = dm_xstrdup(k->key);
			kv->line = k->line;
			kv->toml = dm_buf_detach(&toml);
			kv->flag = dm_buf_detach(&flag);
			rc = check_config_key(p, k, in, kv, w);
		}
		dm_buf_fini(&toml);
		dm_buf_fini(&flag);
		free(w);
	}
	return rc;
}

static int parse_inst(parser *p, const dm_node *item, dm_topo_role role, size_t idx,
                      dm_topo_inst *in)
{
	static const char *const known[] = {"host", "port", "name", "config", NULL};
	const char *list = role == DM_TOPO_MASTER ? "master_servers" : "worker_servers";
	char where[64];
	snprintf(where, sizeof(where), "%s[%zu]", list, idx);
	in->role = role;
	in->line = item->line;
	if (item->type != DM_NODE_TABLE)
		return fail(p, item, "%s: expected a map with host, port, name, config", where);
	if (check_keys(p, item, where, known) < 0)
		return -1;
	const dm_node *host = dm_tree_get(item, "host");
	const dm_node *port = dm_tree_get(item, "port");
	const dm_node *name = dm_tree_get(item, "name");
	const dm_node *cfg = dm_tree_get(item, "config");
	if (host == NULL)
		return fail(p, item,
		            "%s: missing \"host\" (this machine's loopback, e.g. 127.0.0.1)",
		            where);
	if (port == NULL)
		return fail(p, item, "%s: missing \"port\" (e.g. %d)", where,
		            role == DM_TOPO_MASTER ? 8261 : 8262);
	if (get_string(p, host, where, &in->host) < 0)
		return -1;
	if (!dm_topo_host_is_loopback(in->host))
		return fail(p, host,
		            "%s.host: host %s: remote hosts are not supported yet (only this "
		            "machine's loopback: 127.0.0.0/8, ::1, localhost)",
		            where, in->host);
	if (port->type != DM_NODE_INTEGER || port->i < 1 || port->i > 65535)
		return fail(p, port, "%s.port: expected an integer 1-65535", where);
	in->port = (int)port->i;
	if (name != NULL) {
		if (get_string(p, name, where, &in->name) < 0)
			return -1;
		dm_err e;
		if (dm_topo_check_name("name", in->name, &e) < 0)
			return fail(p, name, "%s.%s", where, e.msg);
	} else {
		in->name = dm_xasprintf("%s-%d", dm_topo_role_name(role), in->port);
	}
	return cfg ? parse_config(p, cfg, in, where) : 0;
}

static int parse_global(parser *p, const dm_node *g, dm_topo *t)
{
	static const char *const known[] = {"user", "deploy_dir", "data_dir", "enable_tls", NULL};
	if (g == NULL)
		return fail(p, NULL, "missing \"global\" (it needs at least deploy_dir)");
	if (g->type != DM_NODE_TABLE)
		return fail(p, g, "global: expected a map");
	if (check_keys(p, g, "global", known) < 0)
		return -1;
	const dm_node *n;
	if ((n = dm_tree_get(g, "user")) && get_string(p, n, "global", &t->user) < 0)
		return -1;
	if (t->user) {
		const struct passwd *pw = getpwuid(geteuid());
		const char *me = pw ? pw->pw_name : NULL;
		if (me && strcmp(me, t->user) != 0)
			return fail(p, n,
			            "global.user \"%s\": instances run as the user running "
			            "dm-cluster (%s) on this machine; remove user or set it to %s",
			            t->user, me, me);
	}
	n = dm_tree_get(g, "deploy_dir");
	if (n == NULL)
		return fail(p, g, "global: missing \"deploy_dir\" (where instance directories go)");
	if (get_string(p, n, "global", &t->deploy_dir) < 0)
		return -1;
	if (t->deploy_dir[0] != '/') {
		char cwd[4096];
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return fail(p, n,
			            "global.deploy_dir: cannot resolve a relative path; give "
			            "an absolute one");
		char *abs = dm_xasprintf("%s/%s", cwd, t->deploy_dir);
		free(t->deploy_dir);
		t->deploy_dir = abs;
	}
	size_t dl = strlen(t->deploy_dir);
	while (dl > 1 && t->deploy_dir[dl - 1] == '/')
		t->deploy_dir[--dl] = '\0';
	if ((n = dm_tree_get(g, "data_dir")) && get_string(p, n, "global", &t->data_dir) < 0)
		return -1;
	if (t->data_dir == NULL)
		t->data_dir = dm_xstrdup("data");
	if ((n = dm_tree_get(g, "enable_tls"))) {
		if (n->type != DM_NODE_BOOL)
			return fail(p, n, "global.enable_tls: expected true or false");
		t->enable_tls = n->b;
	}
	return 0;
}

static int parse_list(parser *p, const dm_node *root, dm_topo_role role, dm_topo *t)
{
	const char *key = role == DM_TOPO_MASTER ? "master_servers" : "worker_servers";
	const dm_node *l = dm_tree_get(root, key);
	if (l == NULL || l->type == DM_NODE_NULL) {
		if (role == DM_TOPO_MASTER)
			return fail(p, l, "missing \"master_servers\" (one dm-master is needed)");
		return 0;
	}
	if (l->type != DM_NODE_ARRAY)
		return fail(p, l, "%s: expected a list of instances", key);
	if (role == DM_TOPO_MASTER && l->nkids != 1)
		return fail(p, l,
		            "master_servers: give exactly one master (found %zu); dm-master has "
		            "no high availability yet",
		            l->nkids);
	if (t->ninsts + l->nkids > DM_TOPO_MAX_INSTANCES)
		return fail(p, l, "%s: more than %d instances", key, DM_TOPO_MAX_INSTANCES);
	for (size_t i = 0; i < l->nkids; i++) {
		dm_topo_inst *in = &t->insts[t->ninsts];
		int rc = parse_inst(p, l->kids[i], role, i, in);
		t->ninsts++; /* freed by dm_topo_free even when incomplete */
		if (rc < 0)
			return -1;
		for (size_t k = 0; k + 1 < t->ninsts; k++) {
			const dm_topo_inst *o = &t->insts[k];
			if (strcmp(o->name, in->name) == 0)
				return fail(p, l->kids[i],
				            "%s[%zu]: duplicate name \"%s\" (also %s at line %d); "
				            "every instance needs its own name",
				            key, i, in->name, dm_topo_role_name(o->role), o->line);
			if (o->port == in->port)
				return fail(
				        p, l->kids[i],
				        "%s[%zu]: %s:%d: port %d is already used by %s \"%s\" "
				        "(line %d); every instance runs on this machine, so each "
				        "needs its own port",
				        key, i, in->host, in->port, in->port,
				        dm_topo_role_name(o->role), o->name, o->line);
		}
	}
	return 0;
}

int dm_topo_parse(const char *text, size_t len, const char *filename, dm_topo **ret, dm_err *err)
{
	parser p = {.file = filename, .err = err};
	dm_node *root = NULL;
	if (dm_yaml_parse(text, len, filename, &root, err) < 0)
		return -1;
	dm_topo *t = dm_xcalloc(1, sizeof(*t));
	int rc = -1;
	for (size_t i = 0; i < sizeof(unsupported_top) / sizeof(unsupported_top[0]); i++) {
		const dm_node *n = dm_tree_get(root, unsupported_top[i].key);
		if (n) {
			fail(&p, n, "\"%s\" is not supported: %s", n->key, unsupported_top[i].why);
			goto out;
		}
	}
	static const char *const known[] = {"global", "master_servers", "worker_servers", NULL};
	if (check_keys(&p, root, "topology", known) < 0 ||
	    parse_global(&p, dm_tree_get(root, "global"), t) < 0)
		goto out;
	const dm_node *m = dm_tree_get(root, "master_servers");
	const dm_node *w = dm_tree_get(root, "worker_servers");
	size_t cap = (m && m->type == DM_NODE_ARRAY ? m->nkids : 0) +
	             (w && w->type == DM_NODE_ARRAY ? w->nkids : 0);
	t->insts = dm_xcalloc(cap + 1, sizeof(dm_topo_inst));
	if (parse_list(&p, root, DM_TOPO_MASTER, t) < 0)
		goto out;
	t->nmasters = t->ninsts;
	if (parse_list(&p, root, DM_TOPO_WORKER, t) < 0)
		goto out;
	rc = 0;
out:
	dm_tree_free(root);
	if (rc < 0) {
		dm_topo_free(t);
		return -1;
	}
	*ret = t;
	return 0;
}

int dm_topo_load(const char *path, dm_topo **ret, char **ret_text, dm_err *err)
{
	char *text;
	size_t len;
	if (dm_file_read(path, DM_TOPO_MAX_BYTES, &text, &len, err) < 0)
		return dm_err_prefix(err, "topology");
	int rc = dm_topo_parse(text, len, path, ret, err);
	if (rc == 0 && ret_text)
		*ret_text = text;
	else
		free(text);
	return rc;
}
