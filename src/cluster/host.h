/* The host layer: everything dm-cluster does on the machine an instance
 * runs on goes through this one small interface, so a remote (SSH)
 * implementation can be added beside the local one without touching the
 * commands. Cluster metadata (the topology copy, meta.json, the PKI with
 * the CA key) always stays on the operator's machine and is not accessed
 * through a host.
 *
 * Paths are absolute paths on that host. Every operation fills dm_err
 * with a sentence naming the path or process; none logs. */
#ifndef DM_CLUSTER_HOST_H
#define DM_CLUSTER_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

/* A process to start in the background. */
typedef struct dm_host_proc {
	char *const *argv; /* argv[0] is the program's path; NULL-ended */
	const char *cwd;   /* working directory */
	const char *log;   /* stdout and stderr are appended here */
	const char *pid_file;
} dm_host_proc;

typedef struct dm_host dm_host;

typedef struct dm_host_ops {
	/* mkdir -p; directories it creates get mode. */
	int (*mkdirs)(dm_host *h, const char *path, unsigned mode, dm_err *err);
	/* Replaces path atomically with data (never readable by others
	 * before it has mode). */
	int (*write_file)(dm_host *h, const char *path, const void *data, size_t len, unsigned mode,
	                  dm_err *err);
	/* Copies a file from the operator's machine to path on the host. */
	int (*copy_file)(dm_host *h, const char *local_src, const char *path, unsigned mode,
	                 dm_err *err);
	/* Reads a small file; *ret is NUL-terminated, caller frees. A missing
	 * file is DM_ENOTFOUND. */
	int (*read_file)(dm_host *h, const char *path, size_t max, char **ret, dm_err *err);
	/* rm -f of one file; a missing file is not an error. */
	int (*remove_file)(dm_host *h, const char *path, dm_err *err);
	/* rm -rf; a missing path is not an error. */
	int (*remove_tree)(dm_host *h, const char *path, dm_err *err);
	/* Starts p detached (own session, stdin /dev/null, output to p->log)
	 * and writes its pid to p->pid_file. Fails if exec fails. */
	int (*start)(dm_host *h, const dm_host_proc *p, pid_t *ret_pid, dm_err *err);
	/* Whether pid is alive and runs a program whose name is prog (so a
	 * recycled pid is not taken for the instance). A process that has
	 * exited but not been reaped counts as not alive. */
	bool (*alive)(dm_host *h, pid_t pid, const char *prog);
	/* kill(2); a process already gone is not an error. */
	int (*signal)(dm_host *h, pid_t pid, int sig, dm_err *err);
	/* When pid is a child of this process that exited, reaps it and
	 * returns true with its wait status. */
	bool (*reap)(dm_host *h, pid_t pid, int *ret_status);
	void (*free)(dm_host *h);
} dm_host_ops;

/* Callers write h->ops->start(h, ...). impl belongs to the implementation. */
struct dm_host {
	const dm_host_ops *ops;
	void *impl;
};

/* This machine. Never NULL; free with dm_host_free(). */
dm_host *dm_host_local_new(void);
/* NULL is a no-op. */
void dm_host_free(dm_host *h);

/* The pid recorded in pid_file on h: 0 when there is no (valid) file. */
pid_t dm_host_read_pid(dm_host *h, const char *pid_file);

#endif
