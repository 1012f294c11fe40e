/* dm-cluster display and list: what runs where, and its TLS state. */
#ifndef DM_CLUSTER_SHOW_H
#define DM_CLUSTER_SHOW_H

#include <stdbool.h>

#include <jansson.h>

#include "base/err.h"
#include "cluster/ops.h"

/* The cluster as display --json prints it (docs/cluster.md): metadata
 * and TLS files, then per instance role, name, address, status
 * (up | down | unhealthy), pid, tls_mode, scheme and its certificate's
 * CN, serial and days left. New reference. */
json_t *dm_cluster_describe(dm_cluster_ctx *ctx, const dm_cluster_meta *m);

/* Prints dm_cluster_describe as a table, or as JSON. */
void dm_cluster_display(dm_cluster_ctx *ctx, const dm_cluster_meta *m, bool json);

/* Prints the clusters under ctx->home (a table, or a JSON array). */
int dm_cluster_list(dm_cluster_ctx *ctx, bool json, dm_err *err);

#endif
