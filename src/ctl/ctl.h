/* dmctl: the operator's command line, a client of dm-master's HTTP API
 * (docs/dmctl.md). main.c only calls dm_ctl_main(); the commands live in
 * cmd_*.c, grouped as DM groups them, and share the helpers below.
 *
 * Output follows DM's dmctl: pretty JSON {"result": bool, "msg": ...} on
 * stdout. Exit status: 0 when result is true, 1 when it is false or the
 * master could not be asked, 2 for usage errors. */
#ifndef DM_CTL_CTL_H
#define DM_CTL_CTL_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "base/err.h"
#include "config/bind.h"
#include "net/client.h"
#include "tls/tls.h"

#define DM_CTL_VERSION "0.1.0"

enum {
	DM_CTL_EXIT_OK = 0,
	DM_CTL_EXIT_FAIL = 1,
	DM_CTL_EXIT_USAGE = 2,
};

#define DM_CTL_RPC_TIMEOUT_DEFAULT_S 30

/* The command line split into dmctl's global flags and the command with its
 * own arguments. Global flags may come before or after the command, with
 * one or two dashes, as --flag=value or --flag value (DM's style). Strings
 * are borrowed from argv except the cmd_argv array itself. */
typedef struct dm_ctl_args {
	const char *master_addr; /* NULL: not given */
	const char *ssl_ca;
	const char *ssl_cert;
	const char *ssl_key;
	const char *rpc_timeout;
	const char *cluster;
	bool help;
	bool version;
	dm_strlist sources;  /* -s/--source, repeatable and comma-separated (copies) */
	const char *command; /* NULL: none given */
	/* The command's own arguments, in order, without the global flags;
	 * cmd_argv[0] is the command. A "--" is kept: it ends the command's
	 * flags too. */
	int cmd_argc;
	char **cmd_argv;
} dm_ctl_args;

/* 0, or -1 with a usage error (unknown flag before the command, missing
 * value). *a is initialised by the call; free with dm_ctl_args_fini(). */
int dm_ctl_parse_args(int argc, char **argv, dm_ctl_args *a, dm_err *err);
void dm_ctl_args_fini(dm_ctl_args *a);

/* "30", "30s", "1m30s", "10m" -> milliseconds (a bare number is seconds). */
int dm_ctl_parse_timeout(const char *s, long *ret_ms, dm_err *err);

/* One run of dmctl. No global state: everything a command needs is here. */
typedef struct dm_ctl {
	dm_strlist addrs;
	dm_tls_settings tls;
	bool use_tls;
	long timeout_ms;
	dm_strlist sources;     /* -s */
	dm_http_client *client; /* made on the first call */
	FILE *out;
	FILE *err;
} dm_ctl;

/* ---- command-local flags --------------------------------------------- */

typedef enum dm_ctl_opt_kind {
	DM_CTL_OPT_BOOL,   /* bool *; "--x", "--x=true", "--x=false" */
	DM_CTL_OPT_STRING, /* const char **, borrowed from argv */
	DM_CTL_OPT_LIST,   /* dm_strlist *; repeatable, comma-separated */
} dm_ctl_opt_kind;

typedef struct dm_ctl_opt {
	const char *name; /* long name, matched after one or two dashes */
	char shortname;   /* 0: none */
	dm_ctl_opt_kind kind;
	void *dst;
} dm_ctl_opt;

/* Parses argv[1..] (argv[0] is the command) against opts (ended by a zero
 * entry); the other arguments are appended to pos. After "--" everything
 * is positional. Unknown flags are usage errors naming the flag. */
int dm_ctl_parse_opts(const dm_ctl_opt *opts, int argc, char **argv, dm_strlist *pos, dm_err *err);

/* ---- the command table ----------------------------------------------- */

typedef struct dm_ctl_cmd {
	const char *name;
	int (*run)(dm_ctl *ctl, int argc, char **argv);
	const char *summary; /* one line for `dmctl --help` */
	const char *usage;   /* `dmctl COMMAND --help`: synopsis and flags */
	bool takes_sources;  /* whether -s/--source means something to it */
} dm_ctl_cmd;

/* NULL-name ended. */
extern const dm_ctl_cmd dm_ctl_commands[];
const dm_ctl_cmd *dm_ctl_find_command(const char *name);

/* The whole program; returns the exit status. */
int dm_ctl_main(int argc, char **argv);

/* ---- helpers for the commands ---------------------------------------- */

/* Prints "dmctl: COMMAND: <msg>" and the command's synopsis to stderr;
 * returns DM_CTL_EXIT_USAGE. */
int dm_ctl_usage_error(dm_ctl *ctl, const char *command, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Prints "dmctl: <msg>" to stderr; returns DM_CTL_EXIT_FAIL. */
int dm_ctl_fail(dm_ctl *ctl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Answers of dm_ctl_request. */
enum {
	DM_CTL_ANSWER_OK = 0,    /* 2xx */
	DM_CTL_ANSWER_ERROR = 1, /* the master refused: err holds its error_msg */
};

/* Sends one request to the master. Returns DM_CTL_ANSWER_OK with the JSON
 * body in *ret (NULL when empty; caller decrefs; ret may be NULL),
 * DM_CTL_ANSWER_ERROR when the master answered 4xx/5xx (err.msg is its
 * error_msg, *ret_status the status), or -1 when there was no answer (err
 * says why and what to check). ret_status may be NULL. */
int dm_ctl_request(dm_ctl *ctl, const char *method, const char *path, json_t *body, json_t **ret,
                   long *ret_status, dm_err *err);

/* Percent-encodes one path segment (names come from the user). */
char *dm_ctl_escape(const char *s);

/* Pretty JSON (4-space indent, as DM's dmctl) and a newline on ctl->out;
 * then returns 0 if obj's "result" is true, else 1. Steals obj. */
int dm_ctl_print_result(dm_ctl *ctl, json_t *obj);
/* {"result": false, "msg": msg}, printed; returns DM_CTL_EXIT_FAIL. */
int dm_ctl_print_failure(dm_ctl *ctl, const char *msg);

/* Whether arg names a YAML file rather than a task or source name: it ends
 * with .yaml or .yml, or is an existing regular file. */
bool dm_ctl_is_file(const char *arg);

/* ---- pure helpers of query-status (unit-tested) ---------------------- */

/* DM's one-line summary of a task from its subtasks' statuses (the API's
 * SubTaskStatus objects): "Running", "Paused", "New", "Stopped",
 * "Finished", or "Error - ... Please run `query-status NAME` ...".
 * Malloc'd. */
char *dm_ctl_task_summary(const char *task, const json_t *subtasks);
/* Whether a subtask status reports a real error (not just "the worker has
 * not reported yet"). */
bool dm_ctl_subtask_failed(const json_t *st);
/* The API's SubTaskStatus list (any tasks) -> DM's query-status "sources"
 * array, grouped by source in order of first appearance. Sets *all_ok to
 * whether every source is bound. New reference. */
json_t *dm_ctl_status_by_source(const json_t *subtasks, bool *all_ok);

/* ---- the commands (cmd_*.c) ------------------------------------------ */

/* `operate-source -p`: a source.yaml to start from. */
extern const char dm_ctl_sample_source[];

int dm_ctl_cmd_operate_source(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_start_task(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_stop_task(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_pause_task(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_resume_task(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_query_status(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_list_member(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_offline_member(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_transfer_source(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_config(dm_ctl *ctl, int argc, char **argv);
int dm_ctl_cmd_encrypt(dm_ctl *ctl, int argc, char **argv);

#endif
