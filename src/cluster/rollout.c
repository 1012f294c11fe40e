#include "cluster/rollout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "cluster/reload.h"

enum { VERIFY_WAIT_MS = 10000, POLL_MS = 200 };

/* The state every instance is brought to in one phase. */
typedef struct tls_step {
	const char *name;
	dm_tls_mode mode;
	bool client;
	const char *what;
} tls_step;

typedef struct plan {
	const char *verb; /* "enable" | "disable" */
	bool certs;       /* a certs phase comes first */
	const tls_step *steps;
	size_t nsteps;
	dm_tls_mode from; /* the stable state before and after a rollback */
	dm_tls_mode to;
} plan;

static const tls_step enable_steps[] = {
        {"permissive", DM_TLS_PERMISSIVE, false,
         "servers accept TLS and plaintext; calls between instances stay plaintext"},
        {"clients", DM_TLS_PERMISSIVE, true, "every instance calls its peers over TLS"},
        {"strict", DM_TLS_STRICT, true,
         "servers accept only TLS with a client certificate of an allowed CN"},
};

static const tls_step disable_steps[] = {
        {"permissive", DM_TLS_PERMISSIVE, true,
         "servers accept plaintext too; calls between instances stay TLS"},
        {"clients", DM_TLS_PERMISSIVE, false, "every instance calls its peers in plaintext"},
        {"off", DM_TLS_OFF, false, "servers accept only plaintext"},
};

static const plan enable_plan = {"enable", true, enable_steps, 3, DM_TLS_OFF, DM_TLS_STRICT};
static const plan disable_plan = {"disable", false, disable_steps, 3, DM_TLS_STRICT, DM_TLS_OFF};

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

/* Phases of a plan: [certs] steps... verify. */
static size_t nphases(const plan *pl)
{
	return (pl->certs ? 1 : 0) + pl->nsteps + 1;
}

static const char *phase_name(const plan *pl, size_t k)
{
	if (pl->certs && k == 0)
		return "certs";
	k -= pl->certs ? 1 : 0;
	return k < pl->nsteps ? pl->steps[k].name : "verify";
}

static char *phase_full(const plan *pl, size_t k)
{
	return dm_xasprintf("%s:%s", pl->verb, phase_name(pl, k));
}

/* Brings every instance, master first, to (mode, client). */
static int apply_all(dm_cluster_ctx *ctx, dm_cluster_probes *p, dm_cluster_meta *m,
                     dm_tls_mode mode, bool client, dm_err *err)
{
	for (size_t i = 0; i < m->topo->ninsts; i++)
		if (dm_cluster_inst_apply(ctx, p, m, i, mode, client, false, err) < 0)
			return -1;
	return 0;
}

static int certs_phase(dm_cluster_ctx *ctx, dm_cluster_meta *m, const dm_cluster_pki_opts *pki,
                       dm_err *err)
{
	if (!m->tls.pki) {
		if (dm_cluster_pki_check_opts(pki, err) < 0)
			return -1;
		char *dir = dm_cluster_meta_path(m, DM_CLUSTER_PKI_DIR);
		/* A run stopped half-way through may have left part of it. */
		ctx->host->ops->remove_tree(ctx->host, dir, NULL);
		fprintf(ctx->out, "  creating the cluster's CA and certificates in %s\n", dir);
		free(dir);
		if (dm_cluster_pki_init(m, pki, err) < 0)
			return -1;
	} else {
		fprintf(ctx->out, "  the cluster has certificates: reusing them\n");
	}
	for (size_t i = 0; i < m->topo->ninsts; i++) {
		const dm_topo_inst *in = &m->topo->insts[i];
		if (dm_cluster_pki_install(m, ctx->host, in, err) < 0)
			return dm_err_prefix(err, "%s %s", dm_topo_role_name(in->role), in->name);
		char *d = dm_topo_inst_dir(m->topo, in);
		fprintf(ctx->out, "  %s %s: CA, certificate and key installed in %s/tls\n",
		        dm_topo_role_name(in->role), in->name, d);
		free(d);
	}
	return dm_cluster_meta_save(m, err);
}

/* Expects GET path on instance i through c to answer 200 (want) or to be
 * refused (!want: no HTTP answer, or not 200). */
static int expect(dm_http_client *c, const dm_topo_inst *i, bool want, const char *how, FILE *out,
                  dm_err *err)
{
	const char *path = i->role == DM_TOPO_MASTER ? "/api/v1/cluster/masters" : "/status";
	dm_strlist addrs = {0};
	char *a = dm_topo_inst_addr(i);
	dm_strlist_add(&addrs, a);
	long status = 0;
	dm_err e;
	int rc = dm_http_client_call(c, "GET", &addrs, path, NULL, &status, NULL, &e);
	dm_strlist_fini(&addrs);
	bool ok = rc == 0 && status == 200;
	if (ok != want) {
		dm_err_set(err, DM_ECONFLICT, "%s %s (%s): a request %s %s (%s)",
		           dm_topo_role_name(i->role), i->name, a, how,
		           want ? "failed" : "was answered",
		           rc < 0 ? e.msg
		           : want ? "not HTTP 200"
		                  : "HTTP 200");
		free(a);
		return -1;
	}
	fprintf(out, "  %s %s (%s): %s %s\n", dm_topo_role_name(i->role), i->name, a, how,
	        want ? "answered" : "refused");
	free(a);
	return 0;
}

/* The addresses list-member shows all start with scheme:// (workers say
 * theirs in keepalives, so give them a moment). */
static int members_scheme(dm_http_client *c, const dm_cluster_meta *m, const char *scheme,
                          FILE *out, dm_err *err)
{
	dm_strlist addrs = {0};
	char *a = dm_topo_inst_addr(&m->topo->insts[0]);
	dm_strlist_add(&addrs, a);
	free(a);
	char *prefix = dm_xasprintf("%s://", scheme);
	const char *paths[2] = {"/api/v1/cluster/masters", "/api/v1/cluster/workers"};
	int rc = -1;
	for (int waited = 0; waited <= VERIFY_WAIT_MS; waited += POLL_MS) {
		size_t n = 0, good = 0;
		char bad[256] = "";
		rc = 0;
		for (int k = 0; k < 2 && rc == 0; k++) {
			long status = 0;
			json_t *body = NULL;
			rc = dm_http_client_call(c, "GET", &addrs, paths[k], NULL, &status, &body,
			                         err);
			size_t j;
			const json_t *one;
			json_array_foreach(json_object_get(body, "data"), j, one)
			{
				const char *addr = json_string_value(json_object_get(one, "addr"));
				n++;
				if (addr && strncmp(addr, prefix, strlen(prefix)) == 0)
					good++;
				else
					snprintf(bad, sizeof(bad), "%s",
					         addr ? addr : "(no address)");
			}
			json_decref(body);
		}
		if (rc == 0 && good == n && n == m->topo->ninsts) {
			fprintf(out, "  list-member: all %zu members at %s addresses\n", n, prefix);
			break;
		}
		if (rc == 0)
			rc = dm_err_set(err, DM_ECONFLICT,
			                "list-member shows %zu of %zu members, not all at %s "
			                "addresses (%s)",
			                n, m->topo->ninsts, prefix, bad);
		sleep_ms(POLL_MS);
	}
	free(prefix);
	dm_strlist_fini(&addrs);
	return rc;
}

int dm_cluster_tls_verify(dm_cluster_ctx *ctx, const dm_cluster_meta *m, dm_tls_mode mode,
                          dm_err *err)
{
	dm_cluster_probes p;
	if (dm_cluster_probes_init(&p, m, err) < 0)
		return -1;
	bool tls = mode != DM_TLS_OFF;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < m->topo->ninsts; i++) {
		const dm_topo_inst *in = &m->topo->insts[i];
		dm_http_client *tc = dm_cluster_probe_tls(&p, in);
		if (tls || tc)
			rc = expect(tc, in, tls, "over https with the cluster CA", ctx->out, err);
		if (rc == 0)
			rc = expect(p.plain, in, !tls, "in plaintext", ctx->out, err);
	}
	if (rc == 0)
		rc = members_scheme(tls ? p.op : p.plain, m, tls ? "https" : "http", ctx->out, err);
	dm_cluster_probes_fini(&p);
	return rc;
}

/* Undoes the mode steps before step k (the one that failed), newest
 * first, then returns every instance to the plan's starting state. The
 * phase recorded after each undone step is the one that follows it, so a
 * rerun continues from a consistent state if the rollback stops. */
static int rollback(dm_cluster_ctx *ctx, dm_cluster_probes *p, dm_cluster_meta *m, const plan *pl,
                    size_t k, dm_err *err)
{
	size_t off = pl->certs ? 1 : 0;
	for (size_t s = k; s > 0; s--) {
		const tls_step *st = &pl->steps[s - 1];
		fprintf(ctx->out, "Rolling back to the end of phase %s (%s)\n", st->name, st->what);
		if (apply_all(ctx, p, m, st->mode, st->client, err) < 0)
			return -1;
		char *ph = phase_full(pl, s + off);
		int rc = dm_cluster_set_phase(m, ph, dm_tls_mode_name(pl->to), err);
		free(ph);
		if (rc < 0)
			return -1;
	}
	fprintf(ctx->out, "Rolling back to tls-mode %s\n", dm_tls_mode_name(pl->from));
	if (apply_all(ctx, p, m, pl->from, pl->from != DM_TLS_OFF, err) < 0)
		return -1;
	m->tls.mode = pl->from;
	return dm_cluster_set_phase(m, DM_CLUSTER_TLS_STABLE, NULL, err);
}

static int run_plan(dm_cluster_ctx *ctx, dm_cluster_meta *m, const plan *pl,
                    const dm_cluster_pki_opts *pki, dm_err *err)
{
	size_t n = nphases(pl), start = 0;
	size_t vlen = strlen(pl->verb);
	char *cmd = dm_xasprintf("dm-cluster tls %s %s", m->name, pl->verb);
	dm_cluster_probes p = {0};
	int rc = -1;
	if (strcmp(m->tls.phase, DM_CLUSTER_TLS_STABLE) == 0) {
		if (m->tls.mode == pl->to) {
			fprintf(ctx->out, "Cluster \"%s\" already has tls-mode %s: nothing to do\n",
			        m->name, dm_tls_mode_name(pl->to));
			rc = 0;
			goto out;
		}
		if (m->tls.mode != pl->from) {
			dm_err_set(err, DM_ECONFLICT, "cluster \"%s\" has tls-mode %s, not %s",
			           m->name, dm_tls_mode_name(m->tls.mode),
			           dm_tls_mode_name(pl->from));
			goto out;
		}
		if (!pl->certs && !m->tls.pki) {
			dm_err_set(err, DM_ECONFLICT, "cluster \"%s\" has no certificates",
			           m->name);
			goto out;
		}
		if (dm_cluster_check_running(ctx, m, cmd, err) < 0)
			goto out;
		char *ph = phase_full(pl, 0);
		rc = dm_cluster_set_phase(m, ph, dm_tls_mode_name(pl->to), err);
		free(ph);
		if (rc < 0)
			goto out;
		rc = -1;
	} else if (strncmp(m->tls.phase, pl->verb, vlen) == 0 && m->tls.phase[vlen] == ':') {
		while (start < n && strcmp(phase_name(pl, start), m->tls.phase + vlen + 1) != 0)
			start++;
		if (start == n) {
			dm_err_set(err, DM_EINVAL, "meta.json records an unknown phase \"%s\"",
			           m->tls.phase);
			goto out;
		}
		fprintf(ctx->out,
		        "Resuming `tls %s` of cluster \"%s\" at phase %s (from meta.json)\n",
		        pl->verb, m->name, phase_name(pl, start));
	} else {
		dm_err_set(err, DM_ECONFLICT,
		           "cluster \"%s\" is in the middle of another operation (meta.json phase "
		           "%s): finish it first by running that command again",
		           m->name, m->tls.phase);
		goto out;
	}
	for (size_t k = start; k < n; k++) {
		const char *name = phase_name(pl, k);
		bool is_certs = pl->certs && k == 0;
		size_t step = k - (pl->certs ? 1 : 0); /* == nsteps for verify */
		fprintf(ctx->out, "Phase %zu/%zu %s: %s\n", k + 1, n, name,
		        is_certs            ? "certificates for every instance and the client"
		        : step < pl->nsteps ? pl->steps[step].what
		                            : "check every instance and link");
		int prc;
		if (is_certs) {
			prc = certs_phase(ctx, m, pki, err);
		} else {
			if (p.plain == NULL && dm_cluster_probes_init(&p, m, err) < 0)
				goto out;
			if (step < pl->nsteps)
				prc = apply_all(ctx, &p, m, pl->steps[step].mode,
				                pl->steps[step].client, err);
			else
				prc = dm_cluster_tls_verify(ctx, m, pl->to, err);
		}
		if (prc < 0) {
			dm_err cause = *err;
			dm_err rb;
			if (is_certs) {
				/* Nothing runs with the certificates yet; they stay for a
				 * later run. */
				dm_cluster_set_phase(m, DM_CLUSTER_TLS_STABLE, NULL, NULL);
				dm_err_set(
				        err, cause.code,
				        "tls %s failed in phase certs: %s; no instance was changed",
				        pl->verb, cause.msg);
			} else if (rollback(ctx, &p, m, pl, step, &rb) == 0) {
				dm_err_set(err, cause.code,
				           "tls %s failed in phase %s: %s. Rolled back: every "
				           "instance "
				           "has tls-mode %s again, as before (no process "
				           "restarted); fix "
				           "the cause and run `%s` again",
				           pl->verb, name, cause.msg, dm_tls_mode_name(pl->from),
				           cmd);
			} else {
				dm_err_set(
				        err, cause.code,
				        "tls %s failed in phase %s: %s. Rolling back failed too: "
				        "%s. "
				        "meta.json records phase %s; fix the cause and run `%s` to "
				        "resume",
				        pl->verb, name, cause.msg, rb.msg, m->tls.phase, cmd);
			}
			goto out;
		}
		bool last = k + 1 == n;
		if (last)
			m->tls.mode = pl->to;
		char *next = last ? NULL : phase_full(pl, k + 1);
		rc = dm_cluster_set_phase(m, last ? DM_CLUSTER_TLS_STABLE : next,
		                          last ? NULL : dm_tls_mode_name(pl->to), err);
		free(next);
		if (rc < 0)
			goto out;
		rc = -1;
		if (!last && dm_cluster_stop_hook(ctx, m, name, cmd, err))
			goto out;
	}
	fprintf(ctx->out, "Cluster \"%s\" now has tls-mode %s; no process was restarted\n", m->name,
	        dm_tls_mode_name(pl->to));
	rc = 0;
out:
	dm_cluster_probes_fini(&p);
	free(cmd);
	return rc;
}

int dm_cluster_tls_enable(dm_cluster_ctx *ctx, dm_cluster_meta *m, const dm_cluster_pki_opts *pki,
                          dm_err *err)
{
	return run_plan(ctx, m, &enable_plan, pki, err);
}

int dm_cluster_tls_disable(dm_cluster_ctx *ctx, dm_cluster_meta *m, dm_err *err)
{
	static const dm_cluster_pki_opts none = {0};
	return run_plan(ctx, m, &disable_plan, &none, err);
}
