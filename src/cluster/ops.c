#include "cluster/ops.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/file.h"
#include "base/mem.h"
#include "cluster/conf.h"
#include "cluster/health.h"

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

/* The directory holding dm-master and dm-worker: --bin-dir/DM_BIN_DIR,
 * else the one recorded at deploy, else dm-cluster's own. Caller frees. */
static char *bin_dir(dm_cluster_ctx *ctx, const char *recorded, dm_err *err)
{
	const char *d = ctx->bin_dir ? ctx->bin_dir : recorded ? recorded : ctx->self_dir;
	const char *how = ctx->bin_dir ? "--bin-dir/DM_BIN_DIR"
	                  : recorded   ? "the directory recorded at deploy"
	                               : "the directory of dm-cluster";
	if (d == NULL) {
		dm_err_set(err, DM_ENOTFOUND,
		           "cannot tell where dm-master and dm-worker are: give --bin-dir DIR or "
		           "set DM_BIN_DIR");
		return NULL;
	}
	char *abs = realpath(d, NULL);
	if (abs == NULL) {
		dm_err_set(err, DM_ENOTFOUND, "%s %s: %s; give --bin-dir DIR or set DM_BIN_DIR",
		           how, d, strerror(errno));
		return NULL;
	}
	for (int r = 0; r < 2; r++) {
		char *p = dm_xasprintf("%s/%s", abs, dm_topo_role_name((dm_topo_role)r));
		bool ok = access(p, X_OK) == 0;
		free(p);
		if (!ok) {
			dm_err_set(
			        err, DM_ENOTFOUND,
			        "%s is not in %s (%s): build dm (make), or give --bin-dir DIR / "
			        "set DM_BIN_DIR to the directory holding dm-master and dm-worker",
			        dm_topo_role_name((dm_topo_role)r), abs, how);
			free(abs);
			return NULL;
		}
	}
	return abs;
}

/* Removes what a failed deploy wrote: instance and data directories of
 * the first n instances (they did not exist before) and the metadata. */
static void undo_deploy(dm_cluster_ctx *ctx, const dm_cluster_meta *m, size_t n)
{
	dm_host *h = ctx->host;
	for (size_t i = 0; i < n; i++) {
		char *d = dm_topo_inst_dir(m->topo, &m->topo->insts[i]);
		char *data = dm_topo_inst_data_dir(m->topo, &m->topo->insts[i]);
		h->ops->remove_tree(h, d, NULL);
		h->ops->remove_tree(h, data, NULL);
		free(d);
		free(data);
	}
	rmdir(m->topo->deploy_dir); /* only when empty */
	h->ops->remove_tree(h, m->dir, NULL);
}

/* Writes one instance's directories, TLS files and config. */
static int deploy_inst(dm_cluster_ctx *ctx, dm_cluster_meta *m, size_t idx, dm_err *err)
{
	dm_host *h = ctx->host;
	const dm_topo_inst *in = &m->topo->insts[idx];
	char *dir = dm_topo_inst_dir(m->topo, in);
	char *data = dm_topo_inst_data_dir(m->topo, in);
	char *conf = dm_cluster_inst_conf(m->topo, in);
	const char *subs[] = {"conf", "log", "run"};
	int rc = h->ops->mkdirs(h, dir, 0750, err);
	for (size_t k = 0; rc == 0 && k < 3; k++) {
		char *p = dm_xasprintf("%s/%s", dir, subs[k]);
		rc = h->ops->mkdirs(h, p, 0750, err);
		free(p);
	}
	if (rc == 0)
		rc = h->ops->mkdirs(h, data, 0700, err);
	if (rc == 0 && m->tls.pki)
		rc = dm_cluster_pki_install(m, h, in, err);
	if (rc == 0) {
		bool client = m->tls.mode != DM_TLS_OFF;
		char *text = dm_cluster_conf_render(m, in, m->tls.mode, client);
		rc = h->ops->write_file(h, conf, text, strlen(text), 0640, err);
		free(text);
		m->inst_mode[idx] = m->tls.mode;
		m->inst_client[idx] = client;
	}
	if (rc < 0)
		dm_err_prefix(err, "%s %s", dm_topo_role_name(in->role), in->name);
	free(dir);
	free(data);
	free(conf);
	return rc;
}

int dm_cluster_deploy(dm_cluster_ctx *ctx, const char *name, const char *topo_path,
                      const dm_cluster_pki_opts *pki, dm_err *err)
{
	if (dm_topo_check_name("cluster name", name, err) < 0)
		return -1;
	char *mdir = dm_xasprintf("%s/%s", ctx->home, name);
	char *bins = NULL, *text = NULL;
	dm_topo *topo = NULL;
	dm_cluster_meta *m = NULL;
	size_t done = 0;
	int rc = -1;
	struct stat st;
	if (stat(mdir, &st) == 0) {
		dm_err_set(err, DM_EEXIST,
		           "cluster \"%s\" already exists (%s): choose another name, or remove it "
		           "with `dm-cluster destroy %s --yes`",
		           name, mdir, name);
		goto out;
	}
	if (dm_topo_load(topo_path, &topo, &text, err) < 0 ||
	    dm_cluster_pki_check_opts(pki, err) < 0)
		goto out;
	if (pki->ca_cert && !topo->enable_tls) {
		dm_err_set(err, DM_EINVAL,
		           "--ca-cert/--ca-key are for a cluster with TLS: set global.enable_tls: "
		           "true in %s",
		           topo_path);
		goto out;
	}
	if ((bins = bin_dir(ctx, NULL, err)) == NULL)
		goto out;
	for (size_t i = 0; i < topo->ninsts; i++) {
		char *d = dm_topo_inst_dir(topo, &topo->insts[i]);
		char *data = dm_topo_inst_data_dir(topo, &topo->insts[i]);
		bool exists = stat(d, &st) == 0 || stat(data, &st) == 0;
		if (exists)
			dm_err_set(err, DM_EEXIST,
			           "%s %s: %s (or its data directory %s) already exists; another "
			           "cluster may use it: choose another deploy_dir or port",
			           dm_topo_role_name(topo->insts[i].role), topo->insts[i].name, d,
			           data);
		free(d);
		free(data);
		if (exists)
			goto out;
	}
	/* From here on, a failure undoes what was written. */
	if (dm_file_mkdirs(ctx->home, 0700, err) < 0)
		goto out;
	if (mkdir(mdir, 0700) < 0) {
		dm_err_set(err, DM_EIO, "cannot create %s: %s", mdir, strerror(errno));
		goto out;
	}
	m = dm_cluster_meta_new(ctx->home, name, topo, bins);
	topo = NULL;
	char *tcopy = dm_cluster_meta_path(m, DM_CLUSTER_TOPO_FILE);
	rc = dm_file_write_atomic(tcopy, text, strlen(text), 0600, err);
	free(tcopy);
	if (rc == 0 && m->topo->enable_tls) {
		fprintf(ctx->out, "Creating the cluster's certificates in %s/%s\n", m->dir,
		        DM_CLUSTER_PKI_DIR);
		rc = dm_cluster_pki_init(m, pki, err);
		m->tls.mode = DM_TLS_STRICT;
	}
	for (; rc == 0 && done < m->topo->ninsts; done++) {
		rc = deploy_inst(ctx, m, done, err);
		if (rc == 0) {
			char *d = dm_topo_inst_dir(m->topo, &m->topo->insts[done]);
			fprintf(ctx->out, "Deployed %s %s in %s\n",
			        dm_topo_role_name(m->topo->insts[done].role),
			        m->topo->insts[done].name, d);
			free(d);
		} else {
			done++; /* its directories may exist in part */
		}
	}
	if (rc == 0)
		rc = dm_cluster_meta_save(m, err);
	if (rc < 0) {
		undo_deploy(ctx, m, done);
		goto out;
	}
	fprintf(ctx->out,
	        "Cluster \"%s\" deployed (tls-mode %s); start it with `dm-cluster start %s`\n",
	        name, dm_tls_mode_name(m->tls.mode), name);
	rc = 0;
out:
	dm_cluster_meta_free(m);
	dm_topo_free(topo);
	free(text);
	free(bins);
	free(mdir);
	return rc;
}

pid_t dm_cluster_inst_running(dm_cluster_ctx *ctx, const dm_cluster_meta *m, const dm_topo_inst *i)
{
	char *pf = dm_cluster_inst_pid(m->topo, i);
	pid_t pid = dm_host_read_pid(ctx->host, pf);
	free(pf);
	if (pid > 0 && ctx->host->ops->alive(ctx->host, pid, dm_topo_role_name(i->role)))
		return pid;
	return 0;
}

void dm_cluster_log_tail(dm_host *h, const char *log, char *out, size_t n)
{
	out[0] = '\0';
	char *text;
	if (h->ops->read_file(h, log, 8 * 1024 * 1024, &text, NULL) < 0)
		return;
	size_t len = strlen(text);
	while (len > 0 && text[len - 1] == '\n')
		text[--len] = '\0';
	const char *p = text + len;
	for (int lines = 0; p > text && lines < 3;)
		if (*--p == '\n')
			lines++;
	if (*p == '\n')
		p++;
	snprintf(out, n, "%s", p);
	free(text);
}

static int wait_healthy(dm_cluster_ctx *ctx, const dm_cluster_meta *m, dm_http_client *c,
                        const dm_topo_inst *in, pid_t pid, dm_err *err)
{
	dm_host *h = ctx->host;
	double deadline = now_s() + (double)ctx->start_timeout_s;
	char *log = dm_cluster_inst_log(m->topo, in);
	char *addr = dm_topo_inst_addr(in);
	const char *role = dm_topo_role_name(in->role);
	dm_err last;
	dm_err_set(&last, DM_ETIMEOUT, "no answer yet");
	int rc = -1;
	for (;;) {
		int st = 0;
		bool reaped = h->ops->reap(h, pid, &st);
		if (reaped || !h->ops->alive(h, pid, role)) {
			char tail[600];
			dm_cluster_log_tail(h, log, tail, sizeof(tail));
			dm_err_set(err, DM_EIO,
			           "%s %s (%s) exited while starting%s; see its log %s%s%s", role,
			           in->name, addr, reaped && WIFEXITED(st) ? " with an error" : "",
			           log, *tail ? ", which ends with:\n" : "", tail);
			break;
		}
		json_t *workers = NULL;
		if (in->role == DM_TOPO_MASTER) {
			if (dm_cluster_probe_master(c, in, &last) == 0) {
				rc = 0;
				break;
			}
		} else if (dm_cluster_fetch_workers(c, m, &workers, &last) == 0) {
			bool ok = dm_cluster_worker_online(workers, in->name);
			json_decref(workers);
			if (ok) {
				rc = 0;
				break;
			}
			dm_err_set(&last, DM_ETIMEOUT, "the master does not list it as online");
		}
		if (now_s() > deadline) {
			dm_err_set(
			        err, DM_ETIMEOUT,
			        "%s %s (%s, pid %ld) is not healthy after %lds (%s); see its log "
			        "%s",
			        role, in->name, addr, (long)pid, ctx->start_timeout_s, last.msg,
			        log);
			break;
		}
		sleep_ms(POLL_MS);
	}
	free(log);
	free(addr);
	return rc;
}

static int start_inst(dm_cluster_ctx *ctx, const dm_cluster_meta *m, const char *bins,
                      const dm_topo_inst *in, pid_t *ret_pid, dm_err *err)
{
	dm_host *h = ctx->host;
	char *dir = dm_topo_inst_dir(m->topo, in);
	char *prog = dm_xasprintf("%s/%s", bins, dm_topo_role_name(in->role));
	char *conf = dm_cluster_inst_conf(m->topo, in);
	char *cflag = dm_xasprintf("--config=%s", conf);
	char *log = dm_cluster_inst_log(m->topo, in);
	char *pf = dm_cluster_inst_pid(m->topo, in);
	char *argv[] = {prog, cflag, NULL};
	dm_host_proc p = {.argv = argv, .cwd = dir, .log = log, .pid_file = pf};
	int rc = h->ops->start(h, &p, ret_pid, err);
	free(dir);
	free(prog);
	free(conf);
	free(cflag);
	free(log);
	free(pf);
	return rc;
}

int dm_cluster_start(dm_cluster_ctx *ctx, dm_cluster_meta *m, dm_err *err)
{
	char *bins = bin_dir(ctx, m->bin_dir, err);
	if (bins == NULL)
		return -1;
	dm_http_client *c = dm_cluster_client_new(m, PROBE_TIMEOUT_MS, err);
	if (c == NULL) {
		free(bins);
		return dm_err_prefix(err, "the cluster's client certificate");
	}
	const dm_topo *t = m->topo;
	pid_t *pids = dm_xcalloc(t->ninsts + 1, sizeof(pid_t));
	int rc = 0;
	/* Masters first, each healthy before the workers that join it. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		size_t from = pass == 0 ? 0 : t->nmasters, to = pass == 0 ? t->nmasters : t->ninsts;
		for (size_t i = from; i < to && rc == 0; i++) {
			const dm_topo_inst *in = &t->insts[i];
			pid_t running = dm_cluster_inst_running(ctx, m, in);
			if (running) {
				fprintf(ctx->out, "%s %s is already running (pid %ld)\n",
				        dm_topo_role_name(in->role), in->name, (long)running);
				continue;
			}
			rc = start_inst(ctx, m, bins, in, &pids[i], err);
		}
		for (size_t i = from; i < to && rc == 0; i++) {
			const dm_topo_inst *in = &t->insts[i];
			if (pids[i] == 0)
				continue;
			rc = wait_healthy(ctx, m, c, in, pids[i], err);
			if (rc == 0) {
				char *a = dm_topo_inst_addr(in);
				fprintf(ctx->out, "Started %s %s on %s, pid %ld: up\n",
				        dm_topo_role_name(in->role), in->name, a, (long)pids[i]);
				free(a);
			}
		}
	}
	if (rc < 0)
		dm_err_prefix(err,
		              "starting cluster \"%s\" failed (instances already started "
		              "keep running; `dm-cluster stop %s` stops them)",
		              m->name, m->name);
	else
		fprintf(ctx->out, "Cluster \"%s\" is up\n", m->name);
	free(pids);
	dm_http_client_free(c);
	free(bins);
	return rc;
}

static int stop_inst(dm_cluster_ctx *ctx, const dm_cluster_meta *m, const dm_topo_inst *in,
                     dm_err *err)
{
	dm_host *h = ctx->host;
	const char *role = dm_topo_role_name(in->role);
	char *pf = dm_cluster_inst_pid(m->topo, in);
	pid_t pid = dm_cluster_inst_running(ctx, m, in);
	int rc = 0;
	if (pid == 0) {
		fprintf(ctx->out, "%s %s is not running\n", role, in->name);
	} else if (h->ops->signal(h, pid, SIGTERM, err) < 0) {
		rc = -1;
	} else {
		double deadline = now_s() + (double)ctx->stop_timeout_s;
		int st;
		while (!h->ops->reap(h, pid, &st) && h->ops->alive(h, pid, role) &&
		       now_s() < deadline)
			sleep_ms(50);
		bool killed = false;
		if (h->ops->alive(h, pid, role)) {
			killed = true;
			h->ops->signal(h, pid, SIGKILL, NULL);
			for (int k = 0; k < 100 && h->ops->alive(h, pid, role); k++)
				sleep_ms(50);
		}
		if (h->ops->alive(h, pid, role))
			rc = dm_err_set(err, DM_ETIMEOUT, "%s %s (pid %ld) survives SIGKILL", role,
			                in->name, (long)pid);
		else
			fprintf(ctx->out, "Stopped %s %s (pid %ld)%s\n", role, in->name, (long)pid,
			        killed ? " with SIGKILL after it ignored SIGTERM" : "");
	}
	if (rc == 0)
		rc = h->ops->remove_file(h, pf, err);
	free(pf);
	return rc;
}

int dm_cluster_stop(dm_cluster_ctx *ctx, dm_cluster_meta *m, dm_err *err)
{
	int rc = 0;
	/* Workers first, so they do not spin reconnecting to a stopped master. */
	for (size_t k = m->topo->ninsts; k > 0; k--) {
		dm_err e;
		if (stop_inst(ctx, m, &m->topo->insts[k - 1], &e) < 0 && rc == 0) {
			*err = e;
			rc = -1;
		}
	}
	return rc;
}

int dm_cluster_destroy(dm_cluster_ctx *ctx, dm_cluster_meta *m, dm_err *err)
{
	if (dm_cluster_stop(ctx, m, err) < 0)
		return dm_err_prefix(err, "not destroyed");
	dm_host *h = ctx->host;
	for (size_t i = 0; i < m->topo->ninsts; i++) {
		char *d = dm_topo_inst_dir(m->topo, &m->topo->insts[i]);
		char *data = dm_topo_inst_data_dir(m->topo, &m->topo->insts[i]);
		int rc = h->ops->remove_tree(h, d, err);
		if (rc == 0)
			rc = h->ops->remove_tree(h, data, err);
		if (rc == 0)
			fprintf(ctx->out, "Removed %s\n", d);
		free(d);
		free(data);
		if (rc < 0)
			return -1;
	}
	rmdir(m->topo->deploy_dir); /* only when empty: it may hold other things */
	if (h->ops->remove_tree(h, m->dir, err) < 0)
		return -1;
	fprintf(ctx->out, "Cluster \"%s\" destroyed (metadata %s removed)\n", m->name, m->dir);
	return 0;
}

int dm_cluster_cert_init(dm_cluster_ctx *ctx, dm_cluster_meta *m, const dm_cluster_pki_opts *pki,
                         dm_err *err)
{
	char *pdir = dm_cluster_meta_path(m, DM_CLUSTER_PKI_DIR);
	struct stat st;
	int rc = -1;
	if (m->tls.pki || stat(pdir, &st) == 0) {
		dm_err_set(err, DM_EEXIST,
		           "cluster \"%s\" already has certificates (%s); `dm-cluster cert %s "
		           "check` shows them",
		           m->name, pdir, m->name);
		goto out;
	}
	if (dm_cluster_pki_check_opts(pki, err) < 0)
		goto out;
	rc = dm_cluster_pki_init(m, pki, err);
	for (size_t i = 0; rc == 0 && i < m->topo->ninsts; i++)
		rc = dm_cluster_pki_install(m, ctx->host, &m->topo->insts[i], err);
	if (rc == 0)
		rc = dm_cluster_meta_save(m, err);
	if (rc < 0) {
		ctx->host->ops->remove_tree(ctx->host, pdir, NULL);
		m->tls.pki = false;
		goto out;
	}
	fprintf(ctx->out,
	        "Certificates of cluster \"%s\" are in %s and installed in the instances' tls/ "
	        "directories; tls-mode stays %s\n",
	        m->name, pdir, dm_tls_mode_name(m->tls.mode));
out:
	free(pdir);
	return rc;
}
