/* Certificate rotation on a running cluster, without restarting a process.
 *
 *   rotate       leaves   new leaves (same CA) for every instance and the
 *                         client, installed atomically, SIGHUP every instance
 *   rotate --ca  bundle   a new CA (pki/ca-next.*); ca.pem becomes the old
 *                         and the new CA (pki/ca-prev.pem keeps the old);
 *                         installed, SIGHUP all
 *                leaves   new leaves signed by the new CA, SIGHUP all
 *                reduce   ca.pem and ca.key become the new CA alone,
 *                         SIGHUP all
 *
 * Phases are recorded in meta.json as "rotate:<phase>" / "rotate-ca:<phase>"
 * and a rerun resumes there. A failed phase is not undone (the old leaves
 * are gone once replaced): its message says to rerun, which repeats it. */
#ifndef DM_CLUSTER_ROTATE_H
#define DM_CLUSTER_ROTATE_H

#include <stdbool.h>

#include "base/err.h"
#include "cluster/meta.h"
#include "cluster/ops.h"

#define DM_CLUSTER_CA_PREV     "pki/ca-prev.pem"
#define DM_CLUSTER_CA_NEXT     "pki/ca-next.pem"
#define DM_CLUSTER_CA_NEXT_KEY "pki/ca-next.key"

int dm_cluster_cert_rotate(dm_cluster_ctx *ctx, dm_cluster_meta *m, bool new_ca, dm_err *err);

#endif
