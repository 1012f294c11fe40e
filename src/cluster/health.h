/* Is an instance up? Asked of the cluster's master over its own API,
 * with the operator's client certificate when the cluster uses TLS:
 * a master is healthy when GET /api/v1/cluster/masters answers 200 on its
 * address, a worker when the master lists it as registered and not
 * offline (a worker admits only the master's certificate, and being
 * registered is what matters). */
#ifndef DM_CLUSTER_HEALTH_H
#define DM_CLUSTER_HEALTH_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"
#include "cluster/meta.h"
#include "net/client.h"

/* A client for m's masters; timeout_ms bounds each call. NULL with err
 * when the TLS material does not load. */
dm_http_client *dm_cluster_client_new(const dm_cluster_meta *m, long timeout_ms, dm_err *err);

/* 0 when the master i answers GET /api/v1/cluster/masters with 200 and
 * its own name (not another master that holds the port). */
int dm_cluster_probe_master(dm_http_client *c, const dm_topo_inst *i, dm_err *err);

/* The masters' worker list (the API's "data" array, new reference) in
 * *ret. */
int dm_cluster_fetch_workers(dm_http_client *c, const dm_cluster_meta *m, json_t **ret,
                             dm_err *err);

/* Whether workers (from dm_cluster_fetch_workers; may be NULL) lists name
 * as online. */
bool dm_cluster_worker_online(const json_t *workers, const char *name);

#endif
