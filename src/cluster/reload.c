#include "cluster/reload.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "cluster/conf.h"

enum { PROBE_TIMEOUT_MS = 2000, POLL_MS = 100 };

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static dm_http_client *tls_client(const dm_cluster_meta *m, const char *cert_rel,
                                  const char *key_rel, dm_err *err)
{
	dm_tls_settings s;
	dm_tls_settings_init(&s);
	s.mode = DM_TLS_STRICT;
	s.ca_file = dm_cluster_meta_path(m, DM_CLUSTER_CA_CERT);
	s.cert_file = dm_cluster_meta_path(m, cert_rel);
	s.key_file = dm_cluster_meta_path(m, key_rel);
	dm_http_client_opts o = {.connect_timeout_ms = PROBE_TIMEOUT_MS,
	                         .timeout_ms = PROBE_TIMEOUT_MS};
	dm_http_client *c = dm_http_client_new(&s, &o, err);
	dm_tls_settings_fini(&s);
	if (c) {
		char **w;
		size_t n = dm_http_client_take_warnings(c, &w);
		if (n)
			dm_tls_warnings_free(w, n);
	}
	return c;
}

int dm_cluster_probes_init(dm_cluster_probes *p, const dm_cluster_meta *m, dm_err *err)
{
	memset(p, 0, sizeof(*p));
	dm_http_client_opts o = {.connect_timeout_ms = PROBE_TIMEOUT_MS,
	                         .timeout_ms = PROBE_TIMEOUT_MS};
	p->plain = dm_http_client_new(NULL, &o, err);
	p->dirty = dm_xcalloc(m->topo->ninsts + 1, sizeof(bool));
	if (p->plain == NULL)
		goto fail;
	if (!m->tls.pki)
		return 0;
	char *cert = dm_cluster_inst_cert_rel(&m->topo->insts[0], false);
	char *key = dm_cluster_inst_cert_rel(&m->topo->insts[0], true);
	p->op = tls_client(m, DM_CLUSTER_CLI_CERT, DM_CLUSTER_CLI_KEY, err);
	if (p->op)
		p->as_master = tls_client(m, cert, key, err);
	free(cert);
	free(key);
	if (p->as_master == NULL)
		goto fail;
	return 0;
fail:
	dm_cluster_probes_fini(p);
	return dm_err_prefix(err, "dm-cluster's own client for the cluster");
}

void dm_cluster_probes_fini(dm_cluster_probes *p)
{
	dm_http_client_free(p->plain);
	dm_http_client_free(p->op);
	dm_http_client_free(p->as_master);
	free(p->dirty);
	memset(p, 0, sizeof(*p));
}

dm_http_client *dm_cluster_probe_tls(const dm_cluster_probes *p, const dm_topo_inst *i)
{
	return i->role == DM_TOPO_MASTER ? p->op : p->as_master;
}

int dm_cluster_inst_state_get(dm_http_client *c, const dm_topo_inst *i, dm_cluster_inst_state *ret,
                              dm_err *err)
{
	bool master = i->role == DM_TOPO_MASTER;
	const char *path = master ? "/api/v1/cluster/masters" : "/status";
	dm_strlist addrs = {0};
	char *a = dm_topo_inst_addr(i);
	dm_strlist_add(&addrs, a);
	free(a);
	long status = 0;
	json_t *body = NULL;
	int rc = dm_http_client_call(c, "GET", &addrs, path, NULL, &status, &body, err);
	dm_strlist_fini(&addrs);
	if (rc < 0)
		return -1;
	const json_t *o = master ? json_array_get(json_object_get(body, "data"), 0) : body;
	const char *mode = json_string_value(json_object_get(o, "tls_mode"));
	const json_t *reloads = json_object_get(o, "reloads");
	dm_cluster_inst_state st = {0};
	if (status != 200 || mode == NULL || !json_is_integer(reloads) ||
	    dm_tls_mode_parse(mode, &st.mode, NULL) < 0) {
		json_decref(body);
		return dm_err_set(err, DM_EINVAL,
		                  "GET %s answered HTTP %ld without its TLS state (an older "
		                  "binary? dm-cluster needs the same version of dm-master and "
		                  "dm-worker)",
		                  path, status);
	}
	st.client = json_is_true(json_object_get(o, "tls_client"));
	st.reloads = (long)json_integer_value(reloads);
	st.calls_ok = (long)json_integer_value(json_object_get(o, "master_calls_ok"));
	json_decref(body);
	*ret = st;
	return 0;
}

/* The state of instance i, asked the way mode admits first, then the
 * other way (its config may be ahead of what meta.json says). */
static int state_either(const dm_cluster_probes *p, const dm_topo_inst *i, dm_tls_mode mode,
                        dm_cluster_inst_state *ret, dm_err *err)
{
	dm_http_client *tls = dm_cluster_probe_tls(p, i);
	dm_http_client *first = mode == DM_TLS_STRICT && tls ? tls : p->plain;
	dm_http_client *second = first == p->plain ? tls : p->plain;
	if (dm_cluster_inst_state_get(first, i, ret, err) == 0)
		return 0;
	dm_err e2;
	if (second && dm_cluster_inst_state_get(second, i, ret, &e2) == 0)
		return 0;
	return -1;
}

static const char *state_name(dm_tls_mode mode, bool client)
{
	switch (mode) {
	case DM_TLS_OFF: return "tls-mode off";
	case DM_TLS_STRICT: return "tls-mode strict";
	default:
		return client ? "tls-mode permissive, calls peers over TLS"
		              : "tls-mode permissive, calls peers in plaintext";
	}
}

int dm_cluster_check_running(dm_cluster_ctx *ctx, const dm_cluster_meta *m, const char *what,
                             dm_err *err)
{
	for (size_t i = 0; i < m->topo->ninsts; i++) {
		const dm_topo_inst *in = &m->topo->insts[i];
		if (dm_cluster_inst_running(ctx, m, in) == 0)
			return dm_err_set(err, DM_ECONFLICT,
			                  "%s %s is not running: %s changes running instances "
			                  "without restarting them; start the cluster first "
			                  "(`dm-cluster start %s`), nothing was changed",
			                  dm_topo_role_name(in->role), in->name, what, m->name);
	}
	return 0;
}

/* Waits until instance i reports (mode, client) with more reloads than
 * before, then for a worker until a call to the master succeeded. */
static int wait_applied(dm_cluster_ctx *ctx, const dm_cluster_probes *p, const dm_topo *t,
                        const dm_topo_inst *i, dm_tls_mode mode, bool client, long before,
                        dm_err *err)
{
	double deadline = now_s() + DM_CLUSTER_RELOAD_TIMEOUT_S;
	dm_cluster_inst_state st = {0};
	dm_err last;
	dm_err_set(&last, DM_ETIMEOUT, "no answer yet");
	bool applied = false;
	long calls = 0;
	while (now_s() < deadline) {
		if (state_either(p, i, mode, &st, &last) == 0) {
			if (!applied && st.reloads > before && st.mode == mode &&
			    st.client == client) {
				applied = true;
				calls = st.calls_ok;
				if (i->role == DM_TOPO_MASTER)
					return 0;
			} else if (applied && st.calls_ok > calls) {
				return 0;
			} else if (!applied && st.reloads > before) {
				dm_err_set(&last, DM_EINVAL, "it reloaded into %s",
				           state_name(st.mode, st.client));
			} else if (applied) {
				dm_err_set(&last, DM_ENET, "no call to the master succeeded since");
			} else {
				dm_err_set(&last, DM_ETIMEOUT, "it has not reloaded (count %ld)",
				           st.reloads);
			}
		}
		sleep_ms(POLL_MS);
	}
	char *log = dm_cluster_inst_log(t, i);
	char tail[500];
	dm_cluster_log_tail(ctx->host, log, tail, sizeof(tail));
	dm_err_set(err, DM_ETIMEOUT, "%s %s did not %s within %ds (%s); its log %s ends with:\n%s",
	           dm_topo_role_name(i->role), i->name,
	           applied ? "reach the master after its reload" : "apply its new config",
	           DM_CLUSTER_RELOAD_TIMEOUT_S, last.msg, log, tail);
	free(log);
	return -1;
}

int dm_cluster_inst_apply(dm_cluster_ctx *ctx, dm_cluster_probes *p, dm_cluster_meta *m, size_t idx,
                          dm_tls_mode mode, bool client, bool force, dm_err *err)
{
	const dm_topo_inst *in = &m->topo->insts[idx];
	const char *role = dm_topo_role_name(in->role);
	char *addr = dm_topo_inst_addr(in);
	char *conf = NULL;
	int rc = -1;
	if (mode == DM_TLS_OFF)
		client = false;
	else if (mode == DM_TLS_STRICT)
		client = true;
	if (!force && !p->dirty[idx] && m->inst_mode[idx] == mode &&
	    m->inst_client[idx] == client) {
		fprintf(ctx->out, "  %s %s (%s): already %s\n", role, in->name, addr,
		        state_name(mode, client));
		rc = 0;
		goto out;
	}
	pid_t pid = dm_cluster_inst_running(ctx, m, in);
	if (pid == 0) {
		dm_err_set(err, DM_ECONFLICT,
		           "%s %s is not running; start it (`dm-cluster start %s`) and rerun", role,
		           in->name, m->name);
		goto out;
	}
	dm_cluster_inst_state before;
	if (state_either(p, in, m->inst_mode[idx], &before, err) < 0) {
		dm_err_prefix(err, "%s %s (%s, pid %ld) does not answer", role, in->name, addr,
		              (long)pid);
		goto out;
	}
	conf = dm_cluster_inst_conf(m->topo, in);
	char *text = dm_cluster_conf_render(m, in, mode, client);
	p->dirty[idx] = true;
	rc = ctx->host->ops->write_file(ctx->host, conf, text, strlen(text), 0640, err);
	free(text);
	if (rc == 0)
		rc = ctx->host->ops->signal(ctx->host, pid, SIGHUP, err);
	if (rc == 0)
		rc = wait_applied(ctx, p, m->topo, in, mode, client, before.reloads, err);
	if (rc < 0)
		goto out;
	p->dirty[idx] = false;
	m->inst_mode[idx] = mode;
	m->inst_client[idx] = client;
	rc = dm_cluster_meta_save(m, err);
	if (rc == 0)
		fprintf(ctx->out, "  %s %s (%s, pid %ld): %s: reloaded, same pid\n", role, in->name,
		        addr, (long)pid, state_name(mode, client));
out:
	free(conf);
	free(addr);
	return rc;
}

int dm_cluster_set_phase(dm_cluster_meta *m, const char *phase, const char *target, dm_err *err)
{
	free(m->tls.phase);
	m->tls.phase = dm_xstrdup(phase);
	free(m->tls.target_mode);
	m->tls.target_mode = target ? dm_xstrdup(target) : NULL;
	return dm_cluster_meta_save(m, err);
}

bool dm_cluster_stop_hook(const dm_cluster_ctx *ctx, const dm_cluster_meta *m, const char *phase,
                          const char *resume_cmd, dm_err *err)
{
	if (ctx->stop_after_phase == NULL || strcmp(ctx->stop_after_phase, phase) != 0)
		return false;
	dm_err_set(err, DM_EINTERNAL,
	           "stopped after phase %s as DM_CLUSTER_TEST_STOP_AFTER_PHASE asks (a test "
	           "hook); meta.json records phase %s: `%s` resumes",
	           phase, m->tls.phase, resume_cmd);
	return true;
}
