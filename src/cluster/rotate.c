#include "cluster/rotate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/file.h"
#include "base/mem.h"
#include "cluster/certs.h"
#include "cluster/reload.h"
#include "tls/pki.h"

enum { CA_MAX_BYTES = 1024 * 1024 };

static bool exists(const dm_cluster_meta *m, const char *rel)
{
	char *p = dm_cluster_meta_path(m, rel);
	struct stat st;
	bool ok = stat(p, &st) == 0;
	free(p);
	return ok;
}

/* Installs each instance's files (CA, certificate, key) and SIGHUPs it;
 * an instance that is not running gets its files only. */
static int install_and_reload(dm_cluster_ctx *ctx, dm_cluster_probes *p, dm_cluster_meta *m,
                              dm_err *err)
{
	for (size_t i = 0; i < m->topo->ninsts; i++) {
		const dm_topo_inst *in = &m->topo->insts[i];
		if (dm_cluster_pki_install(m, ctx->host, in, err) < 0)
			return dm_err_prefix(err, "%s %s", dm_topo_role_name(in->role), in->name);
		if (dm_cluster_inst_running(ctx, m, in) == 0) {
			fprintf(ctx->out,
			        "  %s %s: files installed; not running (it uses them when "
			        "it starts)\n",
			        dm_topo_role_name(in->role), in->name);
			continue;
		}
		if (dm_cluster_inst_apply(ctx, p, m, i, m->inst_mode[i], m->inst_client[i], true,
		                          err) < 0)
			return -1;
	}
	return 0;
}

static int read_pki(const dm_cluster_meta *m, const char *rel, char **ret, size_t *len, dm_err *err)
{
	char *p = dm_cluster_meta_path(m, rel);
	int rc = dm_file_read(p, CA_MAX_BYTES, ret, len, err);
	free(p);
	return rc;
}

static int write_pki(const dm_cluster_meta *m, const char *rel, const char *data, size_t len,
                     unsigned mode, dm_err *err)
{
	char *p = dm_cluster_meta_path(m, rel);
	int rc = dm_file_write_atomic(p, data, len, (mode_t)mode, err);
	free(p);
	return rc;
}

/* ca-prev.pem (the CA as it was) and ca-next.* (a new CA) exist; ca.pem
 * becomes both. Each step is skipped when a previous run did it. */
static int bundle_phase(dm_cluster_meta *m, FILE *out, dm_err *err)
{
	char *a = NULL, *b = NULL;
	size_t alen, blen;
	int rc = 0;
	if (!exists(m, DM_CLUSTER_CA_PREV)) {
		rc = read_pki(m, DM_CLUSTER_CA_CERT, &a, &alen, err);
		if (rc == 0)
			rc = write_pki(m, DM_CLUSTER_CA_PREV, a, alen, 0644, err);
		free(a);
		a = NULL;
	}
	if (rc == 0 && (!exists(m, DM_CLUSTER_CA_NEXT) || !exists(m, DM_CLUSTER_CA_NEXT_KEY))) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		char *cn = dm_xasprintf("dm cluster %s CA %s", m->name, stamp);
		char *cert = dm_cluster_meta_path(m, DM_CLUSTER_CA_NEXT);
		char *key = dm_cluster_meta_path(m, DM_CLUSTER_CA_NEXT_KEY);
		rc = dm_pki_create_ca(cn, DM_PKI_CA_DAYS, cert, key, err);
		if (rc == 0)
			fprintf(out, "  new CA \"%s\" in %s\n", cn, cert);
		free(cn);
		free(cert);
		free(key);
	}
	if (rc == 0)
		rc = read_pki(m, DM_CLUSTER_CA_PREV, &a, &alen, err);
	if (rc == 0)
		rc = read_pki(m, DM_CLUSTER_CA_NEXT, &b, &blen, err);
	if (rc == 0) {
		char *both = dm_xasprintf("%.*s%s%.*s", (int)alen, a,
		                          alen && a[alen - 1] != '\n' ? "\n" : "", (int)blen, b);
		rc = write_pki(m, DM_CLUSTER_CA_CERT, both, strlen(both), 0644, err);
		free(both);
		if (rc == 0)
			fprintf(out, "  %s/%s now holds the old and the new CA\n", m->dir,
			        DM_CLUSTER_CA_CERT);
	}
	free(a);
	free(b);
	return rc;
}

/* ca.pem and ca.key become the new CA alone; ca-prev.pem goes. */
static int reduce_phase(dm_cluster_meta *m, FILE *out, dm_err *err)
{
	int rc = 0;
	if (exists(m, DM_CLUSTER_CA_NEXT)) {
		const char *from[2] = {DM_CLUSTER_CA_NEXT_KEY, DM_CLUSTER_CA_NEXT};
		const char *to[2] = {DM_CLUSTER_CA_KEY, DM_CLUSTER_CA_CERT};
		for (int k = 0; rc == 0 && k < 2; k++) {
			char *f = dm_cluster_meta_path(m, from[k]);
			char *t = dm_cluster_meta_path(m, to[k]);
			struct stat st;
			if (stat(f, &st) == 0 && rename(f, t) < 0)
				rc = dm_err_set(err, DM_EIO, "cannot rename %s to %s: %s", f, t,
				                strerror(errno));
			free(f);
			free(t);
		}
	}
	char *prev = dm_cluster_meta_path(m, DM_CLUSTER_CA_PREV);
	if (rc == 0 && remove(prev) < 0 && errno != ENOENT)
		rc = dm_err_set(err, DM_EIO, "cannot remove %s: %s", prev, strerror(errno));
	free(prev);
	if (rc == 0) {
		m->tls.ca_imported = false;
		fprintf(out, "  %s/%s now holds the new CA only\n", m->dir, DM_CLUSTER_CA_CERT);
	}
	return rc;
}

int dm_cluster_cert_rotate(dm_cluster_ctx *ctx, dm_cluster_meta *m, bool new_ca, dm_err *err)
{
	static const char *const leaf_phases[] = {"leaves", NULL};
	static const char *const ca_phases[] = {"bundle", "leaves", "reduce", NULL};
	const char *const *phases = new_ca ? ca_phases : leaf_phases;
	const char *verb = new_ca ? "rotate-ca" : "rotate";
	char *cmd = dm_xasprintf("dm-cluster cert %s rotate%s", m->name, new_ca ? " --ca" : "");
	size_t n = 0, start = 0, vlen = strlen(verb);
	while (phases[n])
		n++;
	dm_cluster_probes p = {0};
	int rc = -1;
	if (!m->tls.pki) {
		dm_err_set(err, DM_ENOTFOUND,
		           "cluster \"%s\" has no certificates to rotate; `dm-cluster tls %s "
		           "enable` creates them",
		           m->name, m->name);
		goto out;
	}
	if (strcmp(m->tls.phase, DM_CLUSTER_TLS_STABLE) == 0) {
		char *ph = dm_xasprintf("%s:%s", verb, phases[0]);
		rc = dm_cluster_set_phase(m, ph, NULL, err);
		free(ph);
		if (rc < 0)
			goto out;
		rc = -1;
	} else if (strncmp(m->tls.phase, verb, vlen) == 0 && m->tls.phase[vlen] == ':') {
		while (start < n && strcmp(phases[start], m->tls.phase + vlen + 1) != 0)
			start++;
		if (start == n) {
			dm_err_set(err, DM_EINVAL, "meta.json records an unknown phase \"%s\"",
			           m->tls.phase);
			goto out;
		}
		fprintf(ctx->out, "Resuming `%s` at phase %s (from meta.json)\n", cmd + 11,
		        phases[start]);
	} else {
		dm_err_set(err, DM_ECONFLICT,
		           "cluster \"%s\" is in the middle of another operation (meta.json phase "
		           "%s): finish it first by running that command again",
		           m->name, m->tls.phase);
		goto out;
	}
	if (dm_cluster_probes_init(&p, m, err) < 0)
		goto out;
	for (size_t k = start; k < n; k++) {
		const char *name = phases[k];
		int prc = 0;
		if (strcmp(name, "bundle") == 0) {
			fprintf(ctx->out, "Phase %zu/%zu bundle: trust the old and a new CA\n",
			        k + 1, n);
			prc = bundle_phase(m, ctx->out, err);
		} else if (strcmp(name, "leaves") == 0) {
			fprintf(ctx->out,
			        "Phase %zu/%zu leaves: new certificates for every instance "
			        "and the client%s\n",
			        k + 1, n, new_ca ? ", signed by the new CA" : "");
			prc = new_ca ? dm_cluster_pki_reissue(m, DM_CLUSTER_CA_NEXT,
			                                      DM_CLUSTER_CA_NEXT_KEY, err)
			             : dm_cluster_pki_reissue(m, DM_CLUSTER_CA_CERT,
			                                      DM_CLUSTER_CA_KEY, err);
		} else {
			fprintf(ctx->out, "Phase %zu/%zu reduce: trust the new CA only\n", k + 1,
			        n);
			prc = reduce_phase(m, ctx->out, err);
		}
		if (prc == 0)
			prc = install_and_reload(ctx, &p, m, err);
		if (prc < 0) {
			dm_err_prefix(
			        err,
			        "cert rotate failed in phase %s (meta.json records it; fix the "
			        "cause and run `%s` to repeat the phase and go on)",
			        name, cmd);
			goto out;
		}
		bool last = k + 1 == n;
		char *next = last ? NULL : dm_xasprintf("%s:%s", verb, phases[k + 1]);
		rc = dm_cluster_set_phase(m, last ? DM_CLUSTER_TLS_STABLE : next, NULL, err);
		free(next);
		if (rc < 0)
			goto out;
		rc = -1;
		if (!last && dm_cluster_stop_hook(ctx, m, name, cmd, err))
			goto out;
	}
	fprintf(ctx->out,
	        "Certificates of cluster \"%s\" rotated%s; every running instance reloaded, "
	        "none restarted\n",
	        m->name, new_ca ? " with a new CA" : "");
	rc = 0;
out:
	dm_cluster_probes_fini(&p);
	free(cmd);
	return rc;
}
