/* Changing a running instance without restarting it: rewrite its config,
 * SIGHUP it, and wait until it says (over its own API) that it applied the
 * new config. Shared by the TLS roll-outs (rollout.c) and certificate
 * rotation (rotate.c), with the phase bookkeeping they have in common.
 *
 * dm-cluster reaches an instance the way its current config admits:
 * plaintext unless it is strict; a strict master with the operator's
 * certificate (CN dm-client), a strict worker with the first master's
 * certificate from pki/ (a worker admits only CN dm-master). */
#ifndef DM_CLUSTER_RELOAD_H
#define DM_CLUSTER_RELOAD_H

#include <stdbool.h>

#include "base/err.h"
#include "cluster/meta.h"
#include "cluster/ops.h"
#include "net/client.h"

/* How long an instance may take to apply a SIGHUP, and a worker to reach
 * its master after it. */
#define DM_CLUSTER_RELOAD_TIMEOUT_S 15

typedef struct dm_cluster_probes {
	dm_http_client *plain;
	dm_http_client *op;        /* operator's certificate; NULL without a PKI */
	dm_http_client *as_master; /* the first master's certificate; ditto */
	bool *dirty;               /* per instance: its config may differ from what meta says */
} dm_cluster_probes;

/* What an instance reports about itself. */
typedef struct dm_cluster_inst_state {
	dm_tls_mode mode;
	bool client;
	long reloads;
	long calls_ok; /* workers: calls the master answered */
} dm_cluster_inst_state;

/* Builds the probe clients (TLS ones only when m has a PKI). */
int dm_cluster_probes_init(dm_cluster_probes *p, const dm_cluster_meta *m, dm_err *err);
void dm_cluster_probes_fini(dm_cluster_probes *p);

/* The TLS client that reaches instance i: the operator for a master, the
 * master's certificate for a worker. NULL without a PKI. */
dm_http_client *dm_cluster_probe_tls(const dm_cluster_probes *p, const dm_topo_inst *i);

/* Asks instance i for its state, over plaintext or TLS (tls), once. */
int dm_cluster_inst_state_get(dm_http_client *c, const dm_topo_inst *i, dm_cluster_inst_state *ret,
                              dm_err *err);

/* Brings instance idx to (mode, client): writes its config, SIGHUPs it,
 * waits until it reports the new state with a higher reload count and,
 * for a worker, until it has reached the master since. Records the state
 * in m and saves meta.json. An instance whose recorded state already is
 * (mode, client) is only reported, unless force (a rotation reloads every
 * instance for its new files). Prints one line for the instance. */
int dm_cluster_inst_apply(dm_cluster_ctx *ctx, dm_cluster_probes *p, dm_cluster_meta *m, size_t idx,
                          dm_tls_mode mode, bool client, bool force, dm_err *err);

/* Every instance must run before a roll-out starts. */
int dm_cluster_check_running(dm_cluster_ctx *ctx, const dm_cluster_meta *m, const char *what,
                             dm_err *err);

/* Records phase (and target_mode, NULL to clear) in meta.json. */
int dm_cluster_set_phase(dm_cluster_meta *m, const char *phase, const char *target, dm_err *err);

/* The test hook: true when DM_CLUSTER_TEST_STOP_AFTER_PHASE (in ctx) names
 * phase; err then says so and that resume_cmd (the whole command line)
 * resumes. */
bool dm_cluster_stop_hook(const dm_cluster_ctx *ctx, const dm_cluster_meta *m, const char *phase,
                          const char *resume_cmd, dm_err *err);

#endif
