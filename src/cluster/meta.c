#include "cluster/meta.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "base/file.h"
#include "base/mem.h"

enum { META_MAX_BYTES = 1024 * 1024 };

char *dm_cluster_home(dm_err *err)
{
	const char *h = getenv("DM_CLUSTER_HOME");
	if (h && *h)
		return dm_xstrdup(h);
	const char *home = getenv("HOME");
	if (home == NULL || *home == '\0') {
		dm_err_set(err, DM_EINVAL,
		           "neither DM_CLUSTER_HOME nor HOME is set: set DM_CLUSTER_HOME to the "
		           "directory that keeps the clusters' metadata");
		return NULL;
	}
	return dm_xasprintf("%s/.dm/clusters", home);
}

dm_cluster_meta *dm_cluster_meta_new(const char *home, const char *name, dm_topo *topo,
                                     const char *bin_dir)
{
	dm_cluster_meta *m = dm_xcalloc(1, sizeof(*m));
	m->name = dm_xstrdup(name);
	m->dir = dm_xasprintf("%s/%s", home, name);
	char buf[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	m->created = dm_xstrdup(buf);
	m->bin_dir = dm_xstrdup(bin_dir);
	m->topo = topo;
	m->tls.mode = DM_TLS_OFF;
	m->tls.phase = dm_xstrdup(DM_CLUSTER_TLS_STABLE);
	m->inst_mode = dm_xcalloc(topo->ninsts + 1, sizeof(dm_tls_mode));
	m->inst_client = dm_xcalloc(topo->ninsts + 1, sizeof(bool));
	for (size_t i = 0; i < topo->ninsts; i++)
		m->inst_mode[i] = DM_TLS_OFF;
	return m;
}

void dm_cluster_meta_free(dm_cluster_meta *m)
{
	if (m == NULL)
		return;
	free(m->name);
	free(m->dir);
	free(m->created);
	free(m->bin_dir);
	dm_topo_free(m->topo);
	free(m->tls.phase);
	free(m->tls.target_mode);
	free(m->inst_mode);
	free(m->inst_client);
	free(m);
}

char *dm_cluster_meta_path(const dm_cluster_meta *m, const char *rel)
{
	return dm_xasprintf("%s/%s", m->dir, rel);
}

char *dm_cluster_inst_cert_rel(const dm_topo_inst *i, bool key)
{
	return dm_xasprintf("%s/%s.%s", DM_CLUSTER_PKI_DIR, i->name, key ? "key" : "pem");
}

int dm_cluster_meta_save(const dm_cluster_meta *m, dm_err *err)
{
	const dm_topo *t = m->topo;
	json_t *insts = json_array();
	for (size_t i = 0; i < t->ninsts; i++) {
		const dm_topo_inst *in = &t->insts[i];
		char *addr = dm_topo_inst_addr(in);
		char *dir = dm_topo_inst_dir(t, in);
		char *cert = dm_cluster_inst_cert_rel(in, false);
		char *key = dm_cluster_inst_cert_rel(in, true);
		json_array_append_new(
		        insts,
		        json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:s?}", "name", in->name,
		                  "role", dm_topo_role_name(in->role), "addr", addr, "dir", dir,
		                  "tls_mode", dm_tls_mode_name(m->inst_mode[i]), "tls_client",
		                  m->inst_client[i], "cert", m->tls.pki ? cert : NULL, "key",
		                  m->tls.pki ? key : NULL));
		free(addr);
		free(dir);
		free(cert);
		free(key);
	}
	json_t *tls = json_pack("{s:b, s:s, s:s, s:s?, s:b, s:i}", "pki", m->tls.pki, "mode",
	                        dm_tls_mode_name(m->tls.mode), "phase", m->tls.phase, "target_mode",
	                        m->tls.target_mode, "ca_imported", m->tls.ca_imported, "leaf_days",
	                        m->tls.leaf_days);
	if (m->tls.pki)
		json_object_update_new(
		        tls, json_pack("{s:s, s:s, s:s, s:s}", "ca_cert", DM_CLUSTER_CA_CERT,
		                       "ca_key", DM_CLUSTER_CA_KEY, "client_cert",
		                       DM_CLUSTER_CLI_CERT, "client_key", DM_CLUSTER_CLI_KEY));
	json_t *root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "format",
	                         DM_CLUSTER_META_FORMAT, "name", m->name, "created", m->created,
	                         "bin_dir", m->bin_dir, "deploy_dir", t->deploy_dir, "topology",
	                         DM_CLUSTER_TOPO_FILE, "tls", tls, "instances", insts);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	char *path = dm_cluster_meta_path(m, DM_CLUSTER_META_FILE);
	size_t len = strlen(text);
	text = dm_xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	int rc = dm_file_write_atomic(path, text, len, 0600, err);
	free(path);
	free(text);
	return rc;
}

static int bad_meta(const char *path, const char *what, dm_err *err)
{
	return dm_err_set(err, DM_EINVAL,
	                  "%s: %s; the file was changed by hand or by another version of "
	                  "dm-cluster: restore it, or destroy the cluster",
	                  path, what);
}

static int read_tls(const json_t *tls, const char *path, dm_cluster_tls *out, dm_err *err)
{
	const char *mode = json_string_value(json_object_get(tls, "mode"));
	const char *phase = json_string_value(json_object_get(tls, "phase"));
	const json_t *target = json_object_get(tls, "target_mode");
	if (!json_is_object(tls) || mode == NULL || phase == NULL ||
	    dm_tls_mode_parse(mode, &out->mode, NULL) < 0)
		return bad_meta(path, "\"tls\" lacks a valid mode or phase", err);
	out->pki = json_is_true(json_object_get(tls, "pki"));
	out->ca_imported = json_is_true(json_object_get(tls, "ca_imported"));
	out->leaf_days = (int)json_integer_value(json_object_get(tls, "leaf_days"));
	out->phase = dm_xstrdup(phase);
	out->target_mode = json_is_string(target) ? dm_xstrdup(json_string_value(target)) : NULL;
	return 0;
}

int dm_cluster_meta_load(const char *home, const char *name, dm_cluster_meta **ret, dm_err *err)
{
	if (dm_topo_check_name("cluster name", name, err) < 0)
		return -1;
	char *dir = dm_xasprintf("%s/%s", home, name);
	char *path = dm_xasprintf("%s/%s", dir, DM_CLUSTER_META_FILE);
	char *tpath = dm_xasprintf("%s/%s", dir, DM_CLUSTER_TOPO_FILE);
	dm_cluster_meta *m = NULL;
	json_t *root = NULL;
	char *text = NULL;
	size_t len;
	int rc = -1;
	struct stat st;
	if (stat(path, &st) < 0 && errno == ENOENT) {
		dm_err_set(err, DM_ENOTFOUND,
		           "cluster \"%s\" does not exist (no %s); `dm-cluster list` shows the "
		           "clusters in %s (DM_CLUSTER_HOME)",
		           name, path, home);
		goto out;
	}
	if (dm_file_read(path, META_MAX_BYTES, &text, &len, err) < 0)
		goto out;
	json_error_t je;
	root = json_loadb(text, len, 0, &je);
	if (root == NULL) {
		bad_meta(path, je.text, err);
		goto out;
	}
	json_int_t format = json_integer_value(json_object_get(root, "format"));
	const char *bin_dir = json_string_value(json_object_get(root, "bin_dir"));
	const char *deploy_dir = json_string_value(json_object_get(root, "deploy_dir"));
	const char *created = json_string_value(json_object_get(root, "created"));
	if (format != DM_CLUSTER_META_FORMAT) {
		dm_err_set(err, DM_EINVAL,
		           "%s: format %lld is not %d: this dm-cluster cannot manage the cluster; "
		           "use the dm-cluster that deployed it",
		           path, (long long)format, DM_CLUSTER_META_FORMAT);
		goto out;
	}
	if (bin_dir == NULL || deploy_dir == NULL) {
		bad_meta(path, "\"bin_dir\" or \"deploy_dir\" is missing", err);
		goto out;
	}
	dm_topo *topo;
	if (dm_topo_load(tpath, &topo, NULL, err) < 0)
		goto out;
	/* The copy may hold a relative deploy_dir: meta.json has it resolved. */
	free(topo->deploy_dir);
	topo->deploy_dir = dm_xstrdup(deploy_dir);
	m = dm_cluster_meta_new(home, name, topo, bin_dir);
	if (created) {
		free(m->created);
		m->created = dm_xstrdup(created);
	}
	free(m->tls.phase);
	m->tls.phase = NULL;
	if (read_tls(json_object_get(root, "tls"), path, &m->tls, err) < 0)
		goto out;
	const json_t *insts = json_object_get(root, "instances");
	for (size_t i = 0; i < topo->ninsts; i++) {
		m->inst_mode[i] = m->tls.mode;
		m->inst_client[i] = m->tls.mode != DM_TLS_OFF;
		size_t k;
		const json_t *v;
		json_array_foreach(insts, k, v)
		{
			const char *n = json_string_value(json_object_get(v, "name"));
			const char *mode = json_string_value(json_object_get(v, "tls_mode"));
			if (n == NULL || strcmp(n, topo->insts[i].name) != 0)
				continue;
			if (mode)
				dm_tls_mode_parse(mode, &m->inst_mode[i], NULL);
			const json_t *cl = json_object_get(v, "tls_client");
			m->inst_client[i] = json_is_boolean(cl) ? json_is_true(cl)
			                                        : m->inst_mode[i] != DM_TLS_OFF;
		}
	}
	rc = 0;
out:
	json_decref(root);
	free(text);
	free(path);
	free(tpath);
	free(dir);
	if (rc < 0) {
		dm_cluster_meta_free(m);
		return -1;
	}
	*ret = m;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dm_cluster_list_names(const char *home, dm_strlist *out, dm_err *err)
{
	DIR *d = opendir(home);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return dm_err_set(err, DM_EIO, "cannot read %s: %s", home, strerror(errno));
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (dm_topo_check_name("", e->d_name, NULL) < 0)
			continue;
		char *p = dm_xasprintf("%s/%s/%s", home, e->d_name, DM_CLUSTER_META_FILE);
		struct stat st;
		if (stat(p, &st) == 0)
			dm_strlist_add(out, e->d_name);
		free(p);
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->items, out->n, sizeof(char *), cmp_str);
	return 0;
}

void dm_cluster_client_settings(const dm_cluster_meta *m, dm_strlist *addrs, dm_tls_settings *out)
{
	const dm_topo *t = m->topo;
	for (size_t i = 0; i < t->nmasters; i++) {
		char *a = dm_topo_inst_addr(&t->insts[i]);
		dm_strlist_add(addrs, a);
		free(a);
	}
	dm_tls_settings_fini(out);
	/* During a roll-out the master's own config says: a strict client
	 * reaches a permissive or strict master. */
	bool tls = m->tls.pki && t->nmasters > 0 && m->inst_mode[0] != DM_TLS_OFF;
	out->mode = tls ? DM_TLS_STRICT : DM_TLS_OFF;
	if (tls) {
		out->ca_file = dm_cluster_meta_path(m, DM_CLUSTER_CA_CERT);
		out->cert_file = dm_cluster_meta_path(m, DM_CLUSTER_CLI_CERT);
		out->key_file = dm_cluster_meta_path(m, DM_CLUSTER_CLI_KEY);
	}
}
