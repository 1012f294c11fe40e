#include "cluster/show.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/mem.h"
#include "cluster/conf.h"
#include "cluster/health.h"
#include "tls/pki.h"

enum { PROBE_TIMEOUT_MS = 2000 };

static json_t *cert_json(const char *path)
{
	dm_pki_info info;
	dm_err e;
	if (dm_pki_cert_info(path, &info, &e) < 0)
		return json_pack("{s:s, s:s}", "path", path, "error", e.msg);
	char when[32];
	struct tm tm;
	gmtime_r(&info.not_after, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s, s:s, s:s, s:s, s:I}", "path", path, "cn", info.cn, "serial",
	                 info.serial_hex, "not_after", when, "days_left",
	                 (json_int_t)info.days_left);
}

json_t *dm_cluster_describe(dm_cluster_ctx *ctx, const dm_cluster_meta *m)
{
	const dm_topo *t = m->topo;
	dm_err e;
	/* Health needs the master; one failing client (bad material) only
	 * makes every running instance "unhealthy", with the reason. */
	dm_http_client *c = dm_cluster_client_new(m, PROBE_TIMEOUT_MS, &e);
	char *client_error = c ? NULL : dm_xstrdup(e.msg);
	json_t *workers = NULL;
	if (c && t->ninsts > t->nmasters)
		dm_cluster_fetch_workers(c, m, &workers, NULL);
	json_t *insts = json_array();
	for (size_t i = 0; i < t->ninsts; i++) {
		const dm_topo_inst *in = &t->insts[i];
		pid_t pid = dm_cluster_inst_running(ctx, m, in);
		const char *status = "down";
		if (pid) {
			bool ok = in->role == DM_TOPO_MASTER
			                  ? c && dm_cluster_probe_master(c, in, NULL) == 0
			                  : dm_cluster_worker_online(workers, in->name);
			status = ok ? "up" : "unhealthy";
		}
		char *addr = dm_topo_inst_addr(in);
		char *dir = dm_topo_inst_dir(t, in);
		char *log = dm_cluster_inst_log(t, in);
		const char *scheme = m->inst_mode[i] == DM_TLS_OFF ? "http" : "https";
		char *url = dm_xasprintf("%s://%s", scheme, addr);
		json_t *cert = json_null();
		if (m->tls.pki) {
			char *p = dm_xasprintf("%s/tls/cert.pem", dir);
			cert = cert_json(p);
			free(p);
		}
		json_array_append_new(
		        insts,
		        json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:s, s:s}", "role",
		                  dm_topo_role_name(in->role), "name", in->name, "addr", addr,
		                  "status", status, "pid", pid ? json_integer(pid) : json_null(),
		                  "tls_mode", dm_tls_mode_name(m->inst_mode[i]), "scheme", scheme,
		                  "url", url, "cert", cert, "dir", dir, "log", log));
		free(addr);
		free(dir);
		free(log);
		free(url);
	}
	json_decref(workers);
	dm_http_client_free(c);
	json_t *tls =
	        json_pack("{s:s, s:s, s:b, s:b}", "mode", dm_tls_mode_name(m->tls.mode), "phase",
	                  m->tls.phase, "pki", m->tls.pki, "ca_imported", m->tls.ca_imported);
	if (m->tls.pki) {
		char *ca = dm_cluster_meta_path(m, DM_CLUSTER_CA_CERT);
		char *cc = dm_cluster_meta_path(m, DM_CLUSTER_CLI_CERT);
		char *ck = dm_cluster_meta_path(m, DM_CLUSTER_CLI_KEY);
		json_object_set_new(tls, "ca_cert", json_string(ca));
		json_object_set_new(tls, "client_cert", json_string(cc));
		json_object_set_new(tls, "client_key", json_string(ck));
		json_object_set_new(tls, "ca", cert_json(ca));
		json_object_set_new(tls, "client", cert_json(cc));
		free(ca);
		free(cc);
		free(ck);
	}
	if (client_error)
		json_object_set_new(tls, "client_error", json_string(client_error));
	free(client_error);
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "name", m->name, "meta_dir", m->dir,
	                 "deploy_dir", t->deploy_dir, "bin_dir", m->bin_dir, "tls", tls,
	                 "instances", insts);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

void dm_cluster_display(dm_cluster_ctx *ctx, const dm_cluster_meta *m, bool as_json)
{
	json_t *d = dm_cluster_describe(ctx, m);
	FILE *out = ctx->out;
	if (as_json) {
		json_dumpf(d, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', out);
		json_decref(d);
		return;
	}
	const json_t *tls = json_object_get(d, "tls");
	fprintf(out, "Cluster:      %s\n", m->name);
	fprintf(out, "Metadata:     %s\n", m->dir);
	fprintf(out, "Deploy dir:   %s\n", m->topo->deploy_dir);
	fprintf(out, "TLS:          %s%s\n", str(tls, "mode"),
	        m->tls.pki ? "" : " (no certificates: `dm-cluster cert init` makes them)");
	if (m->tls.pki) {
		fprintf(out, "CA cert:      %s\n", str(tls, "ca_cert"));
		fprintf(out, "Client cert:  %s (key %s)\n", str(tls, "client_cert"),
		        str(tls, "client_key"));
	}
	if (json_object_get(tls, "client_error"))
		fprintf(out, "Client error: %s\n", str(tls, "client_error"));
	fprintf(out, "dmctl:        dmctl --cluster %s COMMAND\n\n", m->name);
	fprintf(out, "%-10s %-16s %-22s %-10s %-8s %-10s %-6s %-10s %-32s %-5s %s\n", "ROLE",
	        "NAME", "ADDRESS", "STATUS", "PID", "TLS", "SCHEME", "CERT-CN", "CERT-SERIAL",
	        "DAYS", "DIR");
	size_t i;
	const json_t *in;
	json_array_foreach(json_object_get(d, "instances"), i, in)
	{
		const json_t *cert = json_object_get(in, "cert");
		char pid[24] = "-", days[24] = "-";
		if (json_is_integer(json_object_get(in, "pid")))
			snprintf(pid, sizeof(pid), "%lld",
			         (long long)json_integer_value(json_object_get(in, "pid")));
		if (json_is_integer(json_object_get(cert, "days_left")))
			snprintf(days, sizeof(days), "%lld",
			         (long long)json_integer_value(json_object_get(cert, "days_left")));
		fprintf(out, "%-10s %-16s %-22s %-10s %-8s %-10s %-6s %-10s %-32s %-5s %s\n",
		        str(in, "role"), str(in, "name"), str(in, "addr"), str(in, "status"), pid,
		        str(in, "tls_mode"), str(in, "scheme"), str(cert, "cn"),
		        str(cert, "serial"), days, str(in, "dir"));
	}
	json_decref(d);
}

int dm_cluster_list(dm_cluster_ctx *ctx, bool as_json, dm_err *err)
{
	dm_strlist names = {0};
	if (dm_cluster_list_names(ctx->home, &names, err) < 0)
		return -1;
	json_t *arr = json_array();
	if (!as_json)
		fprintf(ctx->out, "%-20s %-8s %-8s %-11s %-40s %s\n", "NAME", "MASTERS", "WORKERS",
		        "TLS", "DEPLOY-DIR", "METADATA");
	for (size_t i = 0; i < names.n; i++) {
		dm_cluster_meta *m;
		dm_err e;
		if (dm_cluster_meta_load(ctx->home, names.items[i], &m, &e) < 0) {
			if (as_json)
				json_array_append_new(arr,
				                      json_pack("{s:s, s:s}", "name",
				                                names.items[i], "error", e.msg));
			else
				fprintf(ctx->out, "%-20s (unreadable: %s)\n", names.items[i],
				        e.msg);
			continue;
		}
		size_t nw = m->topo->ninsts - m->topo->nmasters;
		if (as_json)
			json_array_append_new(
			        arr,
			        json_pack("{s:s, s:I, s:I, s:s, s:s, s:s}", "name", m->name,
			                  "masters", (json_int_t)m->topo->nmasters, "workers",
			                  (json_int_t)nw, "tls_mode", dm_tls_mode_name(m->tls.mode),
			                  "deploy_dir", m->topo->deploy_dir, "meta_dir", m->dir));
		else
			fprintf(ctx->out, "%-20s %-8zu %-8zu %-11s %-40s %s\n", m->name,
			        m->topo->nmasters, nw, dm_tls_mode_name(m->tls.mode),
			        m->topo->deploy_dir, m->dir);
		dm_cluster_meta_free(m);
	}
	if (as_json) {
		json_dumpf(arr, ctx->out, JSON_INDENT(2));
		fputc('\n', ctx->out);
	}
	json_decref(arr);
	dm_strlist_fini(&names);
	return 0;
}
