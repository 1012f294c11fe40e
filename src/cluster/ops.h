/* dm-cluster's operations on a whole cluster. The CLI (cli.c) parses the
 * command line and calls these; each prints its progress to ctx->out and
 * returns 0, or -1 with err saying what failed and what to do. */
#ifndef DM_CLUSTER_OPS_H
#define DM_CLUSTER_OPS_H

#include <stdbool.h>
#include <stdio.h>

#include "base/err.h"
#include "cluster/certs.h"
#include "cluster/host.h"
#include "cluster/meta.h"

#define DM_CLUSTER_START_TIMEOUT_S 30
#define DM_CLUSTER_STOP_TIMEOUT_S  10

typedef struct dm_cluster_ctx {
	char *home;           /* metadata root (dm_cluster_home) */
	dm_host *host;        /* where instances run */
	const char *bin_dir;  /* --bin-dir / DM_BIN_DIR; NULL: not given */
	char *self_dir;       /* directory of the dm-cluster executable, or NULL */
	long start_timeout_s; /* health wait per instance */
	long stop_timeout_s;  /* SIGTERM grace before SIGKILL */
	/* Test hook (env DM_CLUSTER_TEST_STOP_AFTER_PHASE): a roll-out stops
	 * right after recording that this phase is done. NULL: never. */
	const char *stop_after_phase;
	FILE *out;
} dm_cluster_ctx;

/* Checks everything (name free, topology, CA options, binaries, instance
 * directories absent), then writes the metadata dir, the PKI when
 * global.enable_tls is true (a CA to import needs it), and the instance
 * directories with their configs. On failure, whatever it wrote is
 * removed again. */
int dm_cluster_deploy(dm_cluster_ctx *ctx, const char *name, const char *topo_path,
                      const dm_cluster_pki_opts *pki, dm_err *err);
/* Starts the instances that are not running (masters first) and waits
 * until each is healthy. */
int dm_cluster_start(dm_cluster_ctx *ctx, dm_cluster_meta *m, dm_err *err);
/* Stops running instances (workers first): SIGTERM, wait, SIGKILL. */
int dm_cluster_stop(dm_cluster_ctx *ctx, dm_cluster_meta *m, dm_err *err);
/* Stops, removes instance and data directories and the metadata. */
int dm_cluster_destroy(dm_cluster_ctx *ctx, dm_cluster_meta *m, dm_err *err);
/* Creates the PKI of a deployed cluster that has none and installs the
 * certificates into the instances; tls-mode stays as it is. */
int dm_cluster_cert_init(dm_cluster_ctx *ctx, dm_cluster_meta *m, const dm_cluster_pki_opts *pki,
                         dm_err *err);

/* The last lines of a log (for an error message) in out; "" when it
 * cannot be read. */
void dm_cluster_log_tail(dm_host *h, const char *log, char *out, size_t n);

/* The pid of a running instance, or 0. */
pid_t dm_cluster_inst_running(dm_cluster_ctx *ctx, const dm_cluster_meta *m, const dm_topo_inst *i);

#endif
