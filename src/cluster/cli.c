#include "cluster/cli.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "cluster/ops.h"
#include "cluster/rollout.h"
#include "cluster/rotate.h"
#include "cluster/show.h"
#include "ctl/ctl.h"

#define DM_CLUSTER_VERSION "0.1.0"

typedef struct cmd {
	const char *name;
	int (*run)(dm_cluster_ctx *ctx, int argc, char **argv);
	const char *summary;
	const char *usage; /* synopsis lines, a blank line, then the details */
} cmd;

static const cmd *find_cmd(const char *name);

static int usage_error(const char *command, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static int usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "dm-cluster: %s: ", command);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	const cmd *c = find_cmd(command);
	if (c) {
		fprintf(stderr, "Usage:\n");
		for (const char *p = c->usage; *p && *p != '\n';) {
			size_t n = strcspn(p, "\n");
			fprintf(stderr, "  dm-cluster %.*s\n", (int)n, p);
			p += n;
			if (*p == '\n')
				p++;
		}
		fprintf(stderr, "(`dm-cluster %s --help` explains more)\n", command);
	}
	return DM_CLUSTER_EXIT_USAGE;
}

static int fail(const dm_err *err)
{
	fprintf(stderr, "dm-cluster: %s\n", err->msg);
	return DM_CLUSTER_EXIT_FAIL;
}

static int parse_int(const char *command, const char *flag, const char *s, long lo, long hi,
                     long *out)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : 0;
	if (s == NULL || end == s || *end != '\0' || v < lo || v > hi)
		return usage_error(command, "%s \"%s\": give a whole number from %ld to %ld", flag,
		                   s ? s : "", lo, hi);
	*out = v;
	return 0;
}

/* Parses the command's flags and checks it got npos positional
 * arguments, named by what (for the message). */
static int args(const char *command, const dm_ctl_opt *opts, int argc, char **argv, dm_strlist *pos,
                size_t npos, const char *what)
{
	dm_err err;
	if (dm_ctl_parse_opts(opts, argc, argv, pos, &err) < 0)
		return usage_error(command, "%s", err.msg);
	if (pos->n != npos)
		return usage_error(command, "expected %s, got %zu argument%s", what, pos->n,
		                   pos->n == 1 ? "" : "s");
	return 0;
}

static int load(dm_cluster_ctx *ctx, const char *name, dm_cluster_meta **m)
{
	dm_err err;
	if (dm_cluster_meta_load(ctx->home, name, m, &err) < 0)
		return fail(&err);
	return 0;
}

static int set_timeouts(const char *command, dm_cluster_ctx *ctx, const char *timeout)
{
	long v = 0;
	if (timeout == NULL)
		return 0;
	if (parse_int(command, "--timeout", timeout, 1, 3600, &v) != 0)
		return DM_CLUSTER_EXIT_USAGE;
	ctx->start_timeout_s = v;
	ctx->stop_timeout_s = v;
	return 0;
}

static int pki_opts(const char *command, const char *days, dm_cluster_pki_opts *o)
{
	long d = 0;
	if (days && parse_int(command, "--days", days, 1, 3650, &d) != 0)
		return DM_CLUSTER_EXIT_USAGE;
	o->days = (int)d;
	return 0;
}

static int cmd_deploy(dm_cluster_ctx *ctx, int argc, char **argv)
{
	const char *bin = NULL, *days = NULL;
	dm_cluster_pki_opts o = {0};
	const dm_ctl_opt opts[] = {{"bin-dir", 0, DM_CTL_OPT_STRING, &bin},
	                           {"days", 0, DM_CTL_OPT_STRING, &days},
	                           {"ca-cert", 0, DM_CTL_OPT_STRING, &o.ca_cert},
	                           {"ca-key", 0, DM_CTL_OPT_STRING, &o.ca_key},
	                           {0}};
	dm_strlist pos = {0};
	int rc = args("deploy", opts, argc, argv, &pos, 2, "NAME TOPOLOGY.yaml");
	if (rc == 0)
		rc = pki_opts("deploy", days, &o);
	if (rc == 0) {
		dm_err err;
		if (bin)
			ctx->bin_dir = bin;
		if (dm_cluster_deploy(ctx, pos.items[0], pos.items[1], &o, &err) < 0)
			rc = fail(&err);
	}
	dm_strlist_fini(&pos);
	return rc;
}

/* start, stop, restart: NAME [--timeout S] [--bin-dir DIR]. */
static int run_lifecycle(dm_cluster_ctx *ctx, int argc, char **argv, bool stop, bool start)
{
	const char *bin = NULL, *timeout = NULL;
	const dm_ctl_opt opts[] = {{"bin-dir", 0, DM_CTL_OPT_STRING, &bin},
	                           {"timeout", 0, DM_CTL_OPT_STRING, &timeout},
	                           {0}};
	dm_strlist pos = {0};
	dm_cluster_meta *m = NULL;
	int rc = args(argv[0], opts, argc, argv, &pos, 1, "NAME");
	if (rc == 0)
		rc = set_timeouts(argv[0], ctx, timeout);
	if (rc == 0)
		rc = load(ctx, pos.items[0], &m);
	if (rc == 0) {
		dm_err err;
		if (bin)
			ctx->bin_dir = bin;
		if ((stop && dm_cluster_stop(ctx, m, &err) < 0) ||
		    (start && dm_cluster_start(ctx, m, &err) < 0))
			rc = fail(&err);
	}
	dm_cluster_meta_free(m);
	dm_strlist_fini(&pos);
	return rc;
}

static int cmd_start(dm_cluster_ctx *ctx, int argc, char **argv)
{
	return run_lifecycle(ctx, argc, argv, false, true);
}

static int cmd_stop(dm_cluster_ctx *ctx, int argc, char **argv)
{
	return run_lifecycle(ctx, argc, argv, true, false);
}

static int cmd_restart(dm_cluster_ctx *ctx, int argc, char **argv)
{
	return run_lifecycle(ctx, argc, argv, true, true);
}

static int cmd_display(dm_cluster_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	const dm_ctl_opt opts[] = {{"json", 0, DM_CTL_OPT_BOOL, &json}, {0}};
	dm_strlist pos = {0};
	dm_cluster_meta *m = NULL;
	int rc = args("display", opts, argc, argv, &pos, 1, "NAME");
	if (rc == 0)
		rc = load(ctx, pos.items[0], &m);
	if (rc == 0)
		dm_cluster_display(ctx, m, json);
	dm_cluster_meta_free(m);
	dm_strlist_fini(&pos);
	return rc;
}

static int cmd_destroy(dm_cluster_ctx *ctx, int argc, char **argv)
{
	bool yes = false;
	const dm_ctl_opt opts[] = {{"yes", 'y', DM_CTL_OPT_BOOL, &yes}, {0}};
	dm_strlist pos = {0};
	dm_cluster_meta *m = NULL;
	int rc = args("destroy", opts, argc, argv, &pos, 1, "NAME");
	if (rc == 0)
		rc = load(ctx, pos.items[0], &m);
	if (rc == 0 && !yes) {
		fprintf(stderr,
		        "dm-cluster: destroy stops cluster \"%s\" and deletes its instance and "
		        "data "
		        "directories under %s and its metadata %s, certificates included; run "
		        "`dm-cluster destroy %s --yes` to do it\n",
		        m->name, m->topo->deploy_dir, m->dir, m->name);
		rc = DM_CLUSTER_EXIT_FAIL;
	}
	if (rc == 0) {
		dm_err err;
		if (dm_cluster_destroy(ctx, m, &err) < 0)
			rc = fail(&err);
	}
	dm_cluster_meta_free(m);
	dm_strlist_fini(&pos);
	return rc;
}

static int cmd_list(dm_cluster_ctx *ctx, int argc, char **argv)
{
	bool json = false;
	const dm_ctl_opt opts[] = {{"json", 0, DM_CTL_OPT_BOOL, &json}, {0}};
	dm_strlist pos = {0};
	int rc = args("list", opts, argc, argv, &pos, 0, "no arguments");
	dm_err err;
	if (rc == 0 && dm_cluster_list(ctx, json, &err) < 0)
		rc = fail(&err);
	dm_strlist_fini(&pos);
	return rc;
}

/* cert init NAME [...] | cert NAME check | cert NAME rotate [--ca] */
static int cmd_cert(dm_cluster_ctx *ctx, int argc, char **argv)
{
	const char *days = NULL;
	bool ca = false;
	dm_cluster_pki_opts o = {0};
	const dm_ctl_opt opts[] = {{"days", 0, DM_CTL_OPT_STRING, &days},
	                           {"ca-cert", 0, DM_CTL_OPT_STRING, &o.ca_cert},
	                           {"ca-key", 0, DM_CTL_OPT_STRING, &o.ca_key},
	                           {"ca", 0, DM_CTL_OPT_BOOL, &ca},
	                           {0}};
	dm_strlist pos = {0};
	dm_cluster_meta *m = NULL;
	dm_err err;
	int rc = args("cert", opts, argc, argv, &pos, 2,
	              "`init NAME`, `NAME check` or `NAME rotate`");
	bool init = rc == 0 && strcmp(pos.items[0], "init") == 0;
	bool rotate = rc == 0 && !init && strcmp(pos.items[1], "rotate") == 0;
	if (rc == 0 && !init && !rotate && strcmp(pos.items[1], "check") != 0)
		rc = usage_error("cert", "unknown cert command \"%s %s\"", pos.items[0],
		                 pos.items[1]);
	if (rc == 0 && !init && (days || o.ca_cert || o.ca_key))
		rc = usage_error("cert", "--days, --ca-cert and --ca-key belong to `cert init`");
	if (rc == 0 && !rotate && ca)
		rc = usage_error("cert", "--ca belongs to `cert NAME rotate`");
	if (rc == 0)
		rc = pki_opts("cert", days, &o);
	if (rc == 0)
		rc = load(ctx, init ? pos.items[1] : pos.items[0], &m);
	if (rc == 0 && init) {
		if (dm_cluster_cert_init(ctx, m, &o, &err) < 0)
			rc = fail(&err);
	} else if (rc == 0 && rotate) {
		if (dm_cluster_cert_rotate(ctx, m, ca, &err) < 0)
			rc = fail(&err);
	} else if (rc == 0) {
		int bad = dm_cluster_pki_check(m, ctx->out, &err);
		if (bad < 0) {
			rc = fail(&err);
		} else if (bad > 0) {
			fprintf(stderr,
			        "dm-cluster: %d certificate%s of cluster \"%s\" %s expired or "
			        "unreadable: replace them (peers refuse expired certificates)\n",
			        bad, bad == 1 ? "" : "s", m->name, bad == 1 ? "is" : "are");
			rc = DM_CLUSTER_EXIT_FAIL;
		}
	}
	dm_cluster_meta_free(m);
	dm_strlist_fini(&pos);
	return rc;
}

/* tls NAME enable [--days N] | tls NAME disable */
static int cmd_tls(dm_cluster_ctx *ctx, int argc, char **argv)
{
	const char *days = NULL;
	dm_cluster_pki_opts o = {0};
	const dm_ctl_opt opts[] = {{"days", 0, DM_CTL_OPT_STRING, &days}, {0}};
	dm_strlist pos = {0};
	dm_cluster_meta *m = NULL;
	dm_err err;
	int rc = args("tls", opts, argc, argv, &pos, 2, "`NAME enable` or `NAME disable`");
	bool enable = rc == 0 && strcmp(pos.items[1], "enable") == 0;
	if (rc == 0 && !enable && strcmp(pos.items[1], "disable") != 0)
		rc = usage_error("tls", "unknown tls command \"%s\": enable or disable",
		                 pos.items[1]);
	if (rc == 0 && !enable && days)
		rc = usage_error("tls", "--days belongs to `tls NAME enable`");
	if (rc == 0)
		rc = pki_opts("tls", days, &o);
	if (rc == 0)
		rc = load(ctx, pos.items[0], &m);
	if (rc == 0 && (enable ? dm_cluster_tls_enable(ctx, m, &o, &err)
	                       : dm_cluster_tls_disable(ctx, m, &err)) < 0)
		rc = fail(&err);
	dm_cluster_meta_free(m);
	dm_strlist_fini(&pos);
	return rc;
}

static const cmd commands[] = {
        {"deploy", cmd_deploy, "create a cluster from a topology file (does not start it)",
         "deploy NAME TOPOLOGY.yaml [--bin-dir DIR] [--days N] [--ca-cert FILE --ca-key FILE]\n\n"
         "Checks the topology (strictly: unknown keys, duplicate names or ports, missing\n"
         "fields, remote hosts are errors), then writes the metadata directory\n"
         "$DM_CLUSTER_HOME/NAME (default ~/.dm/clusters/NAME) and one directory per\n"
         "instance under global.deploy_dir: conf/, log/, run/, data/ and, with TLS, tls/.\n"
         "When a step fails, everything written is removed again.\n"
         "With global.enable_tls: true it also creates the cluster's certificates (as\n"
         "`cert init`) and writes configs with tls-mode strict.\n"
         "  --bin-dir DIR     where dm-master and dm-worker are (default: next to\n"
         "                    dm-cluster; env DM_BIN_DIR); recorded for later starts\n"
         "  --days N          lifetime of the leaf certificates (default 365)\n"
         "  --ca-cert FILE    use this CA instead of making one; --ca-key FILE is its\n"
         "                    key (must match; it is copied into the metadata only)"},
        {"start", cmd_start, "start the instances that are not running and wait for health",
         "start NAME [--timeout SECONDS] [--bin-dir DIR]\n\n"
         "Starts the master, waits until it answers its API, then the workers, and waits\n"
         "until the master lists each as online. Each runs in the background in its own\n"
         "session; output goes to <instance>/log/, the pid to <instance>/run/.\n"
         "  --timeout S   wait at most S seconds per instance (default 30)"},
        {"stop", cmd_stop, "stop the running instances",
         "stop NAME [--timeout SECONDS]\n\n"
         "Workers first, then the master: SIGTERM, then SIGKILL after the timeout\n"
         "(default 10 s). Pid files are removed."},
        {"restart", cmd_restart, "stop, then start",
         "restart NAME [--timeout SECONDS] [--bin-dir DIR]\n\nAs `stop` followed by `start`."},
        {"display", cmd_display, "show the instances, their status and certificates",
         "display NAME [--json]\n\n"
         "Per instance: role, name, address, status (up: running and healthy; unhealthy:\n"
         "running but not answering or not registered; down: not running), pid, tls-mode,\n"
         "URL scheme, and its certificate's CN, serial and days to expiry. Also the CA and\n"
         "client certificate paths (for dmctl --ssl-*, or use dmctl --cluster NAME).\n"
         "  --json   the same as one JSON object (format in docs/cluster.md)"},
        {"destroy", cmd_destroy, "stop a cluster and delete its directories and metadata",
         "destroy NAME --yes\n\n"
         "Stops every instance, deletes the instance and data directories and the\n"
         "metadata directory (certificates and CA key included). Without --yes (-y) it\n"
         "only says what it would delete."},
        {"list", cmd_list, "list the clusters in DM_CLUSTER_HOME",
         "list [--json]\n\nOne line per cluster: masters, workers, tls-mode, directories."},
        {"cert", cmd_cert, "create or check a cluster's certificates",
         "cert init NAME [--days N] [--ca-cert FILE --ca-key FILE]\n"
         "cert NAME check\n\n"
         "init creates the cluster's CA (ECDSA P-256, 10 years, pathlen 0), a certificate\n"
         "per instance (CN dm-master / dm-worker; SANs its host, 127.0.0.1, localhost),\n"
         "and the operator's client certificate (CN dm-client), in the metadata's pki/,\n"
         "and installs each instance's into <instance>/tls/. The CA key never leaves\n"
         "pki/. tls-mode is not changed. deploy does this itself with enable_tls: true.\n"
         "  --days N          lifetime of the leaf certificates (default 365)\n"
         "  --ca-cert FILE --ca-key FILE   import an existing CA instead (the key must\n"
         "                    match the certificate; nothing is written otherwise)\n"
         "check prints every certificate (CA, each instance's, the client's) with its\n"
         "days to expiry, WARN under 30 days; the exit status is 1 if one is expired.\n"
         "rotate issues new certificates (same CA, new keys and serials) for every\n"
         "instance and the client, replaces the installed files atomically and SIGHUPs\n"
         "every instance: no restart. With --ca, a new CA in three phases: ca.pem holds\n"
         "the old and the new CA (SIGHUP), new leaves from the new CA (SIGHUP), ca.pem\n"
         "holds the new CA only (SIGHUP). Phases are recorded in meta.json; after an\n"
         "interruption or a failure, run the same command again to go on."},
        {"tls", cmd_tls, "turn TLS on or off on a running cluster, without restarts",
         "tls NAME enable [--days N]\n"
         "tls NAME disable\n\n"
         "enable, in phases, each recorded in meta.json and printed with one line per\n"
         "instance (config rewritten, SIGHUP, the instance confirms; same pids):\n"
         "  certs       certificates for every instance and the client, if missing\n"
         "              (as `cert init`; --days N for their lifetime)\n"
         "  permissive  servers accept TLS and plaintext; calls between them stay plain\n"
         "  clients     every instance calls its peers over TLS\n"
         "  strict      TLS only, client certificates required, cert-allowed-cn set\n"
         "  verify      https answers, plaintext is refused, list-member shows https\n"
         "disable goes back: permissive (calls still TLS), clients (calls plaintext),\n"
         "off, verify. Every instance must be running. A run that was interrupted\n"
         "resumes at its recorded phase when run again; a phase that fails is rolled\n"
         "back to the state before the run, and the message says why."},
        {NULL, NULL, NULL, NULL},
};

static const cmd *find_cmd(const char *name)
{
	for (const cmd *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: dm-cluster COMMAND [ARGS] [FLAGS]\n\nCommands:\n");
	for (const cmd *c = commands; c->name; c++)
		fprintf(out, "  %-9s %s\n", c->name, c->summary);
	fprintf(out, "\nEnvironment:\n"
	             "  DM_CLUSTER_HOME  where clusters' metadata live (default ~/.dm/clusters)\n"
	             "  DM_BIN_DIR       where dm-master and dm-worker are (default: next to "
	             "dm-cluster)\n"
	             "  DM_CLUSTER_TEST_STOP_AFTER_PHASE  test hook: `tls` and `cert rotate` "
	             "stop\n"
	             "                   after recording that phase done (e.g. clients)\n\n"
	             "`dm-cluster COMMAND --help` explains a command; see docs/cluster.md.\n"
	             "Exit status: 0 done, 1 failed, 2 usage error.\n");
}

static void command_usage(FILE *out, const cmd *c)
{
	fprintf(out, "%s: %s\n\nUsage:\n", c->name, c->summary);
	const char *p = c->usage;
	while (*p && *p != '\n') {
		size_t n = strcspn(p, "\n");
		fprintf(out, "  dm-cluster %.*s\n", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
	if (*p)
		fprintf(out, "%s\n", p);
}

static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	return dm_xstrdup(buf);
}

int dm_cluster_main(int argc, char **argv)
{
	bool help = false;
	const char *name = NULL;
	int first = 1;
	for (; first < argc; first++) {
		const char *a = argv[first];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			help = true;
		} else if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("dm-cluster %s\n", DM_CLUSTER_VERSION);
			return DM_CLUSTER_EXIT_OK;
		} else {
			break;
		}
	}
	if (first < argc)
		name = argv[first];
	if (name && strcmp(name, "help") == 0) {
		help = true;
		first++;
		name = first < argc ? argv[first] : NULL;
	}
	if (name == NULL) {
		usage(help ? stdout : stderr);
		return help ? DM_CLUSTER_EXIT_OK : DM_CLUSTER_EXIT_USAGE;
	}
	const cmd *c = find_cmd(name);
	if (c == NULL) {
		fprintf(stderr, "dm-cluster: unknown command \"%s\"; the commands are:\n", name);
		for (const cmd *k = commands; k->name; k++)
			fprintf(stderr, "  %-9s %s\n", k->name, k->summary);
		return DM_CLUSTER_EXIT_USAGE;
	}
	for (int i = first + 1; i < argc && !help; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		help = strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0;
	}
	if (help) {
		command_usage(stdout, c);
		return DM_CLUSTER_EXIT_OK;
	}
	dm_err err;
	dm_cluster_ctx ctx = {.start_timeout_s = DM_CLUSTER_START_TIMEOUT_S,
	                      .stop_timeout_s = DM_CLUSTER_STOP_TIMEOUT_S,
	                      .out = stdout};
	ctx.home = dm_cluster_home(&err);
	if (ctx.home == NULL)
		return fail(&err);
	const char *env_bin = getenv("DM_BIN_DIR");
	if (env_bin && *env_bin)
		ctx.bin_dir = env_bin;
	const char *stop_after = getenv("DM_CLUSTER_TEST_STOP_AFTER_PHASE");
	if (stop_after && *stop_after)
		ctx.stop_after_phase = stop_after;
	ctx.self_dir = self_dir();
	ctx.host = dm_host_local_new();
	int rc = c->run(&ctx, argc - first, argv + first);
	dm_host_free(ctx.host);
	free(ctx.self_dir);
	free(ctx.home);
	return rc;
}
