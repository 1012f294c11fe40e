/* dmctl's frame: the command line, the command table, talking to the
 * master, and printing. The commands themselves are in cmd_*.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/mem.h"
#include "config/task.h"
#include "ctl/ctl.h"

/* ---- the command line ------------------------------------------------ */

enum gflag {
	G_MASTER_ADDR,
	G_SSL_CA,
	G_SSL_CERT,
	G_SSL_KEY,
	G_RPC_TIMEOUT,
	G_CLUSTER,
	G_HELP,
	G_VERSION,
	G_SOURCE,
};

static const struct {
	const char *name;
	enum gflag flag;
	bool takes_value;
} global_flags[] = {
        {"master-addr", G_MASTER_ADDR, true},
        {"ssl-ca", G_SSL_CA, true},
        {"ssl-cert", G_SSL_CERT, true},
        {"ssl-key", G_SSL_KEY, true},
        {"rpc-timeout", G_RPC_TIMEOUT, true},
        {"cluster", G_CLUSTER, true},
        {"help", G_HELP, false},
        {"h", G_HELP, false},
        {"version", G_VERSION, false},
        {"V", G_VERSION, false},
        {"source", G_SOURCE, true},
        {"s", G_SOURCE, true},
};

/* "-x", "--x", "-x=v", "--x=v": the name (not NUL-ended: *len) and the
 * value after '=' (or NULL). False for "-", "--" and non-flags. */
static bool split_flag(const char *arg, const char **name, size_t *len, const char **value)
{
	if (arg[0] != '-' || arg[1] == '\0' || strcmp(arg, "--") == 0)
		return false;
	const char *n = arg + 1;
	if (*n == '-')
		n++;
	const char *eq = strchr(n, '=');
	*name = n;
	*len = eq ? (size_t)(eq - n) : strlen(n);
	*value = eq ? eq + 1 : NULL;
	return *len > 0;
}

static int parse_bool(const char *flag, const char *value, bool *out, dm_err *err)
{
	if (value == NULL || strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
		*out = false;
		return 0;
	}
	return dm_err_set(err, DM_EINVAL, "%s=%s: expected true or false", flag, value);
}

int dm_ctl_parse_args(int argc, char **argv, dm_ctl_args *a, dm_err *err)
{
	memset(a, 0, sizeof(*a));
	a->cmd_argv = dm_xcalloc((size_t)argc + 1, sizeof(char *));
	bool flags_done = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *value;
		size_t len;
		if (!flags_done && strcmp(arg, "--") == 0) {
			flags_done = true;
			if (a->command)
				a->cmd_argv[a->cmd_argc++] = argv[i];
			continue;
		}
		if (!flags_done && split_flag(arg, &name, &len, &value)) {
			size_t k, n = sizeof(global_flags) / sizeof(global_flags[0]);
			for (k = 0; k < n; k++)
				if (strlen(global_flags[k].name) == len &&
				    strncmp(global_flags[k].name, name, len) == 0)
					break;
			if (k == n) {
				if (a->command == NULL)
					return dm_err_set(
					        err, DM_EINVAL,
					        "unknown flag %s (a command's own flags go "
					        "after the command)",
					        arg);
				a->cmd_argv[a->cmd_argc++] = argv[i];
				continue;
			}
			if (global_flags[k].takes_value && value == NULL) {
				if (i + 1 >= argc)
					return dm_err_set(err, DM_EINVAL, "%s needs a value", arg);
				value = argv[++i];
			}
			switch (global_flags[k].flag) {
			case G_MASTER_ADDR: a->master_addr = value; break;
			case G_SSL_CA: a->ssl_ca = value; break;
			case G_SSL_CERT: a->ssl_cert = value; break;
			case G_SSL_KEY: a->ssl_key = value; break;
			case G_RPC_TIMEOUT: a->rpc_timeout = value; break;
			case G_CLUSTER: a->cluster = value; break;
			case G_SOURCE: dm_strlist_split(&a->sources, value); break;
			case G_HELP:
				if (parse_bool(arg, value, &a->help, err) < 0)
					return -1;
				break;
			case G_VERSION:
				if (parse_bool(arg, value, &a->version, err) < 0)
					return -1;
				break;
			}
			continue;
		}
		if (a->command == NULL)
			a->command = arg;
		a->cmd_argv[a->cmd_argc++] = argv[i];
	}
	return 0;
}

void dm_ctl_args_fini(dm_ctl_args *a)
{
	dm_strlist_fini(&a->sources);
	free(a->cmd_argv);
	memset(a, 0, sizeof(*a));
}

int dm_ctl_parse_timeout(const char *s, long *ret_ms, dm_err *err)
{
	char *end;
	int64_t ms;
	long long v = strtoll(s, &end, 10);
	if (end != s && *end == '\0') {
		ms = v > 0 && v <= 24LL * 3600 ? v * 1000 : 0;
	} else if (s[0] == '-' || dm_task_parse_duration(s, &ms, NULL) < 0) {
		return dm_err_set(
		        err, DM_EINVAL,
		        "--rpc-timeout \"%s\": give seconds (30) or a duration (30s, 10m)", s);
	}
	if (ms <= 0 || ms > 24LL * 3600 * 1000)
		return dm_err_set(err, DM_EINVAL,
		                  "--rpc-timeout \"%s\": must be more than 0 and at most 24h", s);
	*ret_ms = (long)ms;
	return 0;
}

int dm_ctl_parse_opts(const dm_ctl_opt *opts, int argc, char **argv, dm_strlist *pos, dm_err *err)
{
	bool flags_done = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *value;
		size_t len;
		if (!flags_done && strcmp(arg, "--") == 0) {
			flags_done = true;
			continue;
		}
		if (flags_done || !split_flag(arg, &name, &len, &value)) {
			dm_strlist_add(pos, arg);
			continue;
		}
		const dm_ctl_opt *o;
		for (o = opts; o->name; o++) {
			if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
				break;
			if (o->shortname && len == 1 && name[0] == o->shortname)
				break;
		}
		if (o->name == NULL)
			return dm_err_set(err, DM_EINVAL, "unknown flag %s", arg);
		if (o->kind == DM_CTL_OPT_BOOL) {
			if (parse_bool(arg, value, o->dst, err) < 0)
				return -1;
			continue;
		}
		if (value == NULL) {
			if (i + 1 >= argc)
				return dm_err_set(err, DM_EINVAL, "%s needs a value", arg);
			value = argv[++i];
		}
		if (o->kind == DM_CTL_OPT_STRING)
			*(const char **)o->dst = value;
		else
			dm_strlist_split(o->dst, value);
	}
	return 0;
}

/* ---- the command table ----------------------------------------------- */

const dm_ctl_cmd dm_ctl_commands[] = {
        {"operate-source", dm_ctl_cmd_operate_source,
         "create, update, remove or show upstream sources",
         "operate-source create SOURCE.yaml... [-w WORKER]\n"
         "operate-source update SOURCE.yaml...\n"
         "operate-source stop SOURCE-ID|SOURCE.yaml... [-s SOURCE-ID]\n"
         "operate-source show [-s SOURCE-ID]\n"
         "operate-source -p | --print-sample-config\n\n"
         "create reads each source.yaml and the ssl-ca/ssl-cert/ssl-key files it names,\n"
         "  and sends their contents (the worker may run on another host). When one file\n"
         "  fails, the sources created before it by the same command are removed again.\n"
         "  -w, --worker NAME   bind the source to this free worker (one file only)\n"
         "update replaces a source's settings; a file without a password keeps the\n"
         "  stored one.\n"
         "stop removes the source from the cluster (as DM's does).\n"
         "show lists the sources and the workers they are bound to.",
         true},
        {"start-task", dm_ctl_cmd_start_task, "create a task from task.yaml and start it",
         "start-task TASK.yaml [--remove-meta] [-s SOURCE-ID]...\n\n"
         "Reads task.yaml and the target's ssl files, creates the task on dm-master and\n"
         "starts it on all its sources (or those given with -s).\n"
         "  --remove-meta   drop the task's checkpoints first and migrate from scratch",
         true},
        {"stop-task", dm_ctl_cmd_stop_task, "stop a task and remove it",
         "stop-task TASK-NAME|TASK.yaml [-s SOURCE-ID]...\n"
         "stop-task -s SOURCE-ID...\n\n"
         "Stops the task and removes it from the cluster, as DM does. With -s, only\n"
         "those sources' subtasks are stopped and the task stays. With -s and no task,\n"
         "every task on those sources is stopped there.",
         true},
        {"pause-task", dm_ctl_cmd_pause_task, "pause a running task",
         "pause-task TASK-NAME|TASK.yaml [-s SOURCE-ID]...\n"
         "pause-task -s SOURCE-ID...\n\n"
         "Pauses the task's Running subtasks (all, or those of the sources given).",
         true},
        {"resume-task", dm_ctl_cmd_resume_task, "resume a paused task",
         "resume-task TASK-NAME|TASK.yaml [-s SOURCE-ID]...\n"
         "resume-task -s SOURCE-ID...\n\n"
         "Resumes the task's Paused subtasks (all, or those of the sources given).",
         true},
        {"query-status", dm_ctl_cmd_query_status, "show the status of tasks",
         "query-status [TASK-NAME|TASK.yaml] [-s SOURCE-ID]... [--more]\n\n"
         "Without a task: one line per task (taskName, taskStatus, sources); with a\n"
         "task, -s or --more: each source's subtasks in detail.",
         true},
        {"list-member", dm_ctl_cmd_list_member, "list the master and the workers",
         "list-member [-l|--leader] [-m|--master] [-w|--worker] [-n|--name NAME,...]\n\n"
         "Without -l/-m/-w all three groups are shown. -n keeps only the named members.",
         false},
        {"offline-member", dm_ctl_cmd_offline_member, "remove an offline worker from the cluster",
         "offline-member --worker -n NAME\n\n"
         "The worker must be offline (its dm-worker stopped). --master is not supported:\n"
         "dm runs a single dm-master.",
         false},
        {"transfer-source", dm_ctl_cmd_transfer_source, "move a source to another worker",
         "transfer-source SOURCE-ID WORKER-NAME\n\n"
         "The worker must be online and free.",
         false},
        {"config", dm_ctl_cmd_config, "show a stored task or source configuration",
         "config task TASK-NAME [-p FILE]\n"
         "config source SOURCE-ID [-p FILE]\n\n"
         "Prints the configuration dm-master stores, as JSON (the API's Task or Source\n"
         "object). Passwords and private keys are never included.\n"
         "  -p, --path FILE   write it to FILE instead",
         false},
        {"encrypt", dm_ctl_cmd_encrypt, "encrypt a password with the cluster's secret key",
         "encrypt PLAINTEXT\n\n"
         "Prints the ciphertext, to use as a password in source.yaml or task.yaml.\n"
         "dm-master encrypts it; the key never leaves the master. Put \"--\" before a\n"
         "plaintext that starts with \"-\".",
         false},
        {NULL, NULL, NULL, NULL, false},
};

const dm_ctl_cmd *dm_ctl_find_command(const char *name)
{
	for (const dm_ctl_cmd *c = dm_ctl_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: dmctl --master-addr=HOST:PORT[,HOST:PORT] [FLAGS] COMMAND [ARGS]\n\n"
	             "Commands:\n");
	for (const dm_ctl_cmd *c = dm_ctl_commands; c->name; c++)
		fprintf(out, "  %-16s %s\n", c->name, c->summary);
	fprintf(out,
	        "\nFlags (before or after the command):\n"
	        "  --master-addr HOST:PORT[,...]  dm-master's address (or env DM_MASTER_ADDR)\n"
	        "  --ssl-ca FILE                  CA that signed dm-master's certificate\n"
	        "  --ssl-cert FILE                this client's certificate (for TLS)\n"
	        "  --ssl-key FILE                 its private key\n"
	        "  --cluster NAME                 a cluster deployed by dm-cluster: its master's\n"
	        "                                 address and certificates (no "
	        "--master-addr/--ssl-*)\n"
	        "  --rpc-timeout SECONDS          per request (default %d; 30s, 10m work too)\n"
	        "  -s, --source SOURCE-ID         limit a command to sources (repeatable)\n"
	        "  -h, --help                     this text; `dmctl COMMAND --help` for one\n"
	        "  -V, --version                  print the version\n\n"
	        "Output is JSON; the exit status is 0 when \"result\" is true, 1 when it is\n"
	        "false or dm-master cannot be reached, 2 for usage errors. See docs/dmctl.md.\n",
	        DM_CTL_RPC_TIMEOUT_DEFAULT_S);
}

static void command_usage(FILE *out, const dm_ctl_cmd *c)
{
	fprintf(out, "%s: %s\n\nUsage:\n", c->name, c->summary);
	const char *p = c->usage;
	/* Indent the synopsis lines (up to the first blank line). */
	while (*p && *p != '\n') {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(out, "  dmctl %.*s\n", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
	if (*p)
		fprintf(out, "%s\n", p);
	fprintf(out, "\nGlobal flags (--master-addr, --ssl-*, --rpc-timeout): `dmctl --help`.\n");
}

int dm_ctl_usage_error(dm_ctl *ctl, const char *command, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(ctl->err, "dmctl: %s: ", command);
	vfprintf(ctl->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctl->err);
	const dm_ctl_cmd *c = dm_ctl_find_command(command);
	if (c) {
		const char *p = c->usage;
		fprintf(ctl->err, "Usage:\n");
		while (*p && *p != '\n') {
			size_t n = strcspn(p, "\n");
			fprintf(ctl->err, "  dmctl %.*s\n", (int)n, p);
			p += n;
			if (*p == '\n')
				p++;
		}
		fprintf(ctl->err, "(`dmctl %s --help` explains more)\n", command);
	}
	return DM_CTL_EXIT_USAGE;
}

int dm_ctl_fail(dm_ctl *ctl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(ctl->err, "dmctl: ");
	vfprintf(ctl->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctl->err);
	return DM_CTL_EXIT_FAIL;
}

/* ---- talking to the master ------------------------------------------- */

static int make_client(dm_ctl *ctl, dm_err *err)
{
	dm_http_client_opts opts = {0};
	opts.timeout_ms = ctl->timeout_ms;
	opts.connect_timeout_ms = ctl->timeout_ms < DM_HTTP_CONNECT_TIMEOUT_MS_DEFAULT
	                                  ? ctl->timeout_ms
	                                  : DM_HTTP_CONNECT_TIMEOUT_MS_DEFAULT;
	ctl->client = dm_http_client_new(ctl->use_tls ? &ctl->tls : NULL, &opts, err);
	if (ctl->client == NULL)
		return dm_err_prefix(err, "--ssl-ca/--ssl-cert/--ssl-key");
	char **w;
	size_t n = dm_http_client_take_warnings(ctl->client, &w);
	/* Loading checks the material more than once: print each once. */
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t k = 0; k < i; k++)
			dup |= strcmp(w[k], w[i]) == 0;
		if (!dup)
			fprintf(ctl->err, "dmctl: warning: %s\n", w[i]);
	}
	if (n)
		dm_tls_warnings_free(w, n);
	return 0;
}

/* Adds what to check to a transport failure. */
static void explain_failure(dm_ctl *ctl, dm_err *err)
{
	char msg[DM_ERR_MSG_MAX];
	snprintf(msg, sizeof(msg), "%s", err->msg);
	/* Alerts from the server (an unknown CA, a refused certificate)
	 * arrive as read errors, not as curl's TLS codes. */
	bool tls = err->code == DM_ETLS ||
	           (ctl->use_tls &&
	            (strstr(msg, "SSL") || strstr(msg, "alert") || strstr(msg, "certificate")));
	bool refused = strstr(msg, "refused") || strstr(msg, "resolve") || strstr(msg, "No route");
	const dm_tls_settings *t = &ctl->tls;
	if (tls) {
		dm_err_set(err, DM_ETLS,
		           "%s; check the TLS flags: --ssl-ca %s must be the CA that signed "
		           "dm-master's certificate (which must name the host in --master-addr), "
		           "--ssl-cert %s and --ssl-key %s a certificate and key from a CA that "
		           "dm-master's ssl-ca holds; and dm-master must use TLS",
		           msg, t->ca_file ? t->ca_file : "(not given)",
		           t->cert_file ? t->cert_file : "(not given)",
		           t->key_file ? t->key_file : "(not given)");
	} else if (err->code == DM_ETIMEOUT) {
		dm_err_set(err, err->code,
		           "%s; dm-master did not answer within %ld ms (--rpc-timeout); check that "
		           "it runs and is not overloaded",
		           msg, ctl->timeout_ms);
	} else if (ctl->use_tls && (t->cert_file == NULL || t->key_file == NULL) && !refused) {
		dm_err_set(err, err->code,
		           "%s; dm-master requires a client certificate: give --ssl-cert and "
		           "--ssl-key with --ssl-ca",
		           msg);
	} else {
		dm_err_set(err, err->code, "%s; check --master-addr and whether dm-master runs%s",
		           msg,
		           ctl->use_tls || refused
		                   ? ""
		                   : " (if it uses TLS, give --ssl-ca, --ssl-cert and --ssl-key)");
	}
}

int dm_ctl_request(dm_ctl *ctl, const char *method, const char *path, json_t *body, json_t **ret,
                   long *ret_status, dm_err *err)
{
	if (ret)
		*ret = NULL;
	if (ctl->client == NULL && make_client(ctl, err) < 0)
		return -1;
	long status = 0;
	json_t *answer = NULL;
	if (dm_http_client_call(ctl->client, method, &ctl->addrs, path, body, &status, &answer,
	                        err) < 0) {
		explain_failure(ctl, err);
		return -1;
	}
	if (ret_status)
		*ret_status = status;
	if (status >= 200 && status < 300) {
		if (ret)
			*ret = answer;
		else
			json_decref(answer);
		return DM_CTL_ANSWER_OK;
	}
	const char *msg = json_string_value(json_object_get(answer, "error_msg"));
	if (msg == NULL)
		msg = json_string_value(json_object_get(answer, "error"));
	if (msg != NULL)
		dm_err_set(err, status == 404 ? DM_ENOTFOUND : DM_EINVAL, "%s", msg);
	else
		dm_err_set(err, DM_EINVAL,
		           "dm-master answered HTTP %ld to %s %s without an explanation; is "
		           "--master-addr a dm-master?",
		           status, method, path);
	json_decref(answer);
	return DM_CTL_ANSWER_ERROR;
}

char *dm_ctl_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	dm_buf b;
	dm_buf_init(&b);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			dm_buf_putc(&b, (char)*p);
		} else {
			dm_buf_putc(&b, '%');
			dm_buf_putc(&b, hex[*p >> 4]);
			dm_buf_putc(&b, hex[*p & 15]);
		}
	}
	return dm_buf_detach(&b);
}

int dm_ctl_print_result(dm_ctl *ctl, json_t *obj)
{
	json_dumpf(obj, ctl->out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	fputc('\n', ctl->out);
	fflush(ctl->out);
	bool ok = json_is_true(json_object_get(obj, "result"));
	json_decref(obj);
	return ok ? DM_CTL_EXIT_OK : DM_CTL_EXIT_FAIL;
}

int dm_ctl_print_failure(dm_ctl *ctl, const char *msg)
{
	return dm_ctl_print_result(ctl, json_pack("{s:b, s:s}", "result", 0, "msg", msg));
}

bool dm_ctl_is_file(const char *arg)
{
	size_t n = strlen(arg);
	if ((n > 5 && strcmp(arg + n - 5, ".yaml") == 0) ||
	    (n > 4 && strcmp(arg + n - 4, ".yml") == 0))
		return true;
	struct stat st;
	return stat(arg, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- main ------------------------------------------------------------ */

static int setup(dm_ctl *ctl, const dm_ctl_args *a, const dm_ctl_cmd *cmd)
{
	dm_err err;
	if (a->cluster) {
		/* The dmctl program resolves --cluster (src/ctl/main.c) before
		 * calling dm_ctl_main; only another caller gets here. */
		dm_ctl_fail(ctl, "--cluster is resolved by the dmctl program; give --master-addr "
		                 "and --ssl-* instead");
		return DM_CTL_EXIT_USAGE;
	}
	if (a->sources.n > 0 && !cmd->takes_sources)
		return dm_ctl_usage_error(ctl, cmd->name, "-s/--source does not apply to %s",
		                          cmd->name);
	const char *addr = a->master_addr ? a->master_addr : getenv("DM_MASTER_ADDR");
	if (addr == NULL || *addr == '\0')
		return dm_ctl_usage_error(ctl, cmd->name,
		                          "--master-addr is required (or set DM_MASTER_ADDR), "
		                          "e.g. --master-addr=127.0.0.1:8261");
	dm_strlist_split(&ctl->addrs, addr);
	if (ctl->addrs.n == 0)
		return dm_ctl_usage_error(ctl, cmd->name, "--master-addr \"%s\" has no address",
		                          addr);
	ctl->use_tls = a->ssl_ca || a->ssl_cert || a->ssl_key;
	for (size_t i = 0; i < ctl->addrs.n; i++)
		if (!ctl->use_tls && strncmp(ctl->addrs.items[i], "https://", 8) == 0)
			return dm_ctl_usage_error(ctl, cmd->name,
			                          "--master-addr %s asks for https: give --ssl-ca, "
			                          "--ssl-cert and --ssl-key too",
			                          ctl->addrs.items[i]);
	if (ctl->use_tls) {
		ctl->tls.mode = DM_TLS_STRICT;
		ctl->tls.ca_file = a->ssl_ca ? dm_xstrdup(a->ssl_ca) : NULL;
		ctl->tls.cert_file = a->ssl_cert ? dm_xstrdup(a->ssl_cert) : NULL;
		ctl->tls.key_file = a->ssl_key ? dm_xstrdup(a->ssl_key) : NULL;
	}
	ctl->timeout_ms = DM_CTL_RPC_TIMEOUT_DEFAULT_S * 1000L;
	if (a->rpc_timeout && dm_ctl_parse_timeout(a->rpc_timeout, &ctl->timeout_ms, &err) < 0)
		return dm_ctl_usage_error(ctl, cmd->name, "%s", err.msg);
	for (size_t i = 0; i < a->sources.n; i++)
		dm_strlist_add(&ctl->sources, a->sources.items[i]);
	return DM_CTL_EXIT_OK;
}

int dm_ctl_main(int argc, char **argv)
{
	dm_ctl ctl;
	memset(&ctl, 0, sizeof(ctl));
	dm_tls_settings_init(&ctl.tls);
	ctl.out = stdout;
	ctl.err = stderr;
	dm_ctl_args a;
	dm_err err;
	int rc;
	if (dm_ctl_parse_args(argc, argv, &a, &err) < 0) {
		fprintf(stderr, "dmctl: %s\nRun `dmctl --help` for usage.\n", err.msg);
		rc = DM_CTL_EXIT_USAGE;
		goto out;
	}
	if (a.version) {
		printf("dmctl %s\n", DM_CTL_VERSION);
		rc = DM_CTL_EXIT_OK;
		goto out;
	}
	const char *name = a.command;
	/* `dmctl help [COMMAND]`, as in DM. */
	if (name && strcmp(name, "help") == 0) {
		a.help = true;
		name = a.cmd_argc > 1 ? a.cmd_argv[1] : NULL;
	}
	if (name == NULL) {
		usage(a.help ? stdout : stderr);
		rc = a.help ? DM_CTL_EXIT_OK : DM_CTL_EXIT_USAGE;
		goto out;
	}
	const dm_ctl_cmd *cmd = dm_ctl_find_command(name);
	if (cmd == NULL) {
		fprintf(stderr, "dmctl: unknown command \"%s\"; the commands are:\n", name);
		for (const dm_ctl_cmd *c = dm_ctl_commands; c->name; c++)
			fprintf(stderr, "  %-16s %s\n", c->name, c->summary);
		rc = DM_CTL_EXIT_USAGE;
		goto out;
	}
	if (a.help) {
		command_usage(stdout, cmd);
		rc = DM_CTL_EXIT_OK;
		goto out;
	}
	rc = setup(&ctl, &a, cmd);
	if (rc == DM_CTL_EXIT_OK)
		rc = cmd->run(&ctl, a.cmd_argc, a.cmd_argv);
out:
	dm_http_client_free(ctl.client);
	dm_tls_settings_fini(&ctl.tls);
	dm_strlist_fini(&ctl.addrs);
	dm_strlist_fini(&ctl.sources);
	dm_ctl_args_fini(&a);
	return rc;
}
