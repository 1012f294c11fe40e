#include "cluster/certs.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/file.h"
#include "base/mem.h"
#include "tls/pki.h"

int dm_cluster_pki_check_opts(const dm_cluster_pki_opts *o, dm_err *err)
{
	if (o->days < 0 || o->days > 3650)
		return dm_err_set(err, DM_EINVAL, "--days %d: give 1-3650 days", o->days);
	if ((o->ca_cert == NULL) != (o->ca_key == NULL))
		return dm_err_set(err, DM_EINVAL,
		                  "--ca-cert and --ca-key go together: give both to import a CA, "
		                  "or neither to make a new one");
	if (o->ca_cert && dm_pki_check_ca(o->ca_cert, o->ca_key, err) < 0)
		return dm_err_prefix(err, "cannot import the CA");
	return 0;
}

static int copy_local(const char *src, const char *dst, mode_t mode, dm_err *err)
{
	char *data;
	size_t len;
	if (dm_file_read(src, 1024 * 1024, &data, &len, err) < 0)
		return -1;
	int rc = dm_file_write_atomic(dst, data, len, mode, err);
	dm_free_secret(data);
	return rc;
}

static void add_san(const char **sans, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(sans[i], s) == 0)
			return;
	sans[(*n)++] = s;
}

static int issue(const dm_cluster_meta *m, const char *ca_rel, const char *ca_key_rel,
                 const char *cn, const char *host, const char *cert_rel, const char *key_rel,
                 int days, dm_err *err)
{
	const char *sans[4] = {0};
	size_t n = 0;
	if (host)
		add_san(sans, &n, host);
	add_san(sans, &n, "127.0.0.1");
	add_san(sans, &n, "localhost");
	char *ca = dm_cluster_meta_path(m, ca_rel);
	char *ca_key = dm_cluster_meta_path(m, ca_key_rel);
	char *cert = dm_cluster_meta_path(m, cert_rel);
	char *key = dm_cluster_meta_path(m, key_rel);
	dm_pki_issue_opts o = {.ca_cert_path = ca,
	                       .ca_key_path = ca_key,
	                       .cn = cn,
	                       .sans = sans,
	                       .n_sans = n,
	                       .days = days,
	                       .cert_path = cert,
	                       .key_path = key};
	int rc = dm_pki_issue(&o, err);
	free(ca);
	free(ca_key);
	free(cert);
	free(key);
	return rc;
}

static int issue_leaves(const dm_cluster_meta *m, const char *ca_rel, const char *ca_key_rel,
                        int days, dm_err *err)
{
	int rc = issue(m, ca_rel, ca_key_rel, DM_CLUSTER_CLIENT_CN, NULL, DM_CLUSTER_CLI_CERT,
	               DM_CLUSTER_CLI_KEY, days, err);
	for (size_t i = 0; rc == 0 && i < m->topo->ninsts; i++) {
		const dm_topo_inst *in = &m->topo->insts[i];
		char *cert = dm_cluster_inst_cert_rel(in, false);
		char *key = dm_cluster_inst_cert_rel(in, true);
		rc = issue(m, ca_rel, ca_key_rel, dm_topo_role_name(in->role), in->host, cert, key,
		           days, err);
		if (rc < 0)
			dm_err_prefix(err, "certificate of %s", in->name);
		free(cert);
		free(key);
	}
	return rc;
}

int dm_cluster_pki_reissue(const dm_cluster_meta *m, const char *ca_rel, const char *ca_key_rel,
                           dm_err *err)
{
	int days = m->tls.leaf_days > 0 ? m->tls.leaf_days : DM_CLUSTER_LEAF_DAYS;
	return issue_leaves(m, ca_rel, ca_key_rel, days, err);
}

int dm_cluster_pki_init(dm_cluster_meta *m, const dm_cluster_pki_opts *o, dm_err *err)
{
	int days = o->days > 0 ? o->days : DM_CLUSTER_LEAF_DAYS;
	char *dir = dm_cluster_meta_path(m, DM_CLUSTER_PKI_DIR);
	char *ca = dm_cluster_meta_path(m, DM_CLUSTER_CA_CERT);
	char *ca_key = dm_cluster_meta_path(m, DM_CLUSTER_CA_KEY);
	int rc = dm_file_mkdirs(dir, 0700, err);
	if (rc == 0 && o->ca_cert) {
		rc = copy_local(o->ca_key, ca_key, 0600, err);
		if (rc == 0)
			rc = copy_local(o->ca_cert, ca, 0644, err);
	} else if (rc == 0) {
		char *cn = dm_xasprintf("dm cluster %s CA", m->name);
		rc = dm_pki_create_ca(cn, DM_PKI_CA_DAYS, ca, ca_key, err);
		free(cn);
	}
	if (rc == 0)
		rc = issue_leaves(m, DM_CLUSTER_CA_CERT, DM_CLUSTER_CA_KEY, days, err);
	free(dir);
	free(ca);
	free(ca_key);
	if (rc < 0)
		return -1;
	m->tls.pki = true;
	m->tls.ca_imported = o->ca_cert != NULL;
	m->tls.leaf_days = days;
	return 0;
}

int dm_cluster_pki_install(const dm_cluster_meta *m, dm_host *h, const dm_topo_inst *i, dm_err *err)
{
	char *idir = dm_topo_inst_dir(m->topo, i);
	char *tdir = dm_xasprintf("%s/tls", idir);
	char *cert_rel = dm_cluster_inst_cert_rel(i, false);
	char *key_rel = dm_cluster_inst_cert_rel(i, true);
	const char *src[3] = {DM_CLUSTER_CA_CERT, cert_rel, key_rel};
	const char *dst[3] = {DM_CLUSTER_INST_CA, DM_CLUSTER_INST_CERT, DM_CLUSTER_INST_KEY};
	const unsigned mode[3] = {0644, 0644, 0600};
	int rc = h->ops->mkdirs(h, tdir, 0700, err);
	/* The key before the certificate: a daemon reading the pair in
	 * between sees the old certificate with a key that does not match,
	 * refuses that one connection and uses the pair on the next. */
	for (int k = 2; rc == 0 && k >= 0; k--) {
		char *s = dm_cluster_meta_path(m, src[k]);
		char *d = dm_xasprintf("%s/%s", idir, dst[k]);
		rc = h->ops->copy_file(h, s, d, mode[k], err);
		free(s);
		free(d);
	}
	free(idir);
	free(tdir);
	free(cert_rel);
	free(key_rel);
	return rc;
}

static int check_one(const char *what, const char *path, FILE *out)
{
	dm_pki_info info;
	dm_err e;
	if (dm_pki_cert_info(path, &info, &e) < 0) {
		fprintf(out, "%-24s ERROR    %s\n", what, e.msg);
		return 1;
	}
	char when[32];
	struct tm tm;
	gmtime_r(&info.not_after, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d", &tm);
	const char *state = info.days_left < 0                      ? "EXPIRED"
	                    : info.days_left < DM_CLUSTER_WARN_DAYS ? "WARN"
	                                                            : "ok";
	fprintf(out, "%-24s %-8s CN=%s, expires %s (%ld days), serial %s, %s\n", what, state,
	        info.cn, when, info.days_left, info.serial_hex, path);
	return info.days_left < 0;
}

int dm_cluster_pki_check(const dm_cluster_meta *m, FILE *out, dm_err *err)
{
	if (!m->tls.pki)
		return dm_err_set(err, DM_ENOTFOUND,
		                  "cluster \"%s\" has no certificates; create them with "
		                  "`dm-cluster cert init %s`",
		                  m->name, m->name);
	int bad = 0;
	char *p = dm_cluster_meta_path(m, DM_CLUSTER_CA_CERT);
	bad += check_one("ca", p, out);
	free(p);
	for (size_t i = 0; i < m->topo->ninsts; i++) {
		const dm_topo_inst *in = &m->topo->insts[i];
		char *dir = dm_topo_inst_dir(m->topo, in);
		/* The installed copy is what the instance presents. */
		p = dm_xasprintf("%s/%s", dir, DM_CLUSTER_INST_CERT);
		char *what = dm_xasprintf("%s %s", dm_topo_role_name(in->role), in->name);
		bad += check_one(what, p, out);
		free(what);
		free(p);
		free(dir);
	}
	p = dm_cluster_meta_path(m, DM_CLUSTER_CLI_CERT);
	bad += check_one("client", p, out);
	free(p);
	return bad;
}
