/* Turning TLS on or off on a running cluster, without restarting a
 * process, in phases recorded in meta.json (tls.phase "enable:<phase>" or
 * "disable:<phase>", tls.target_mode):
 *
 *   enable:  certs       issue and install certificates if missing
 *            permissive  servers accept TLS and plaintext; their own calls
 *                        to peers stay plaintext (tls-client off)
 *            clients     every instance calls its peers over TLS
 *            strict      servers accept TLS only, client certificates and
 *                        cert-allowed-cn required
 *            verify      https answers, plaintext refused, list-member https
 *   disable: permissive  servers accept both again; calls stay TLS
 *            clients     calls to peers go plaintext
 *            off         servers plaintext only
 *            verify      the reverse checks
 *
 * Each phase changes one instance at a time (master first): config
 * rewritten, SIGHUP, the instance confirms over its API. The phase in
 * meta.json is the one under way: a rerun continues there. A failed phase
 * rolls back, phase by phase, to the state before the run; if the
 * rollback fails too, the phase stays recorded for a rerun. */
#ifndef DM_CLUSTER_ROLLOUT_H
#define DM_CLUSTER_ROLLOUT_H

#include "base/err.h"
#include "cluster/certs.h"
#include "cluster/meta.h"
#include "cluster/ops.h"

/* pki: for the certs phase when the cluster has no certificates yet. */
int dm_cluster_tls_enable(dm_cluster_ctx *ctx, dm_cluster_meta *m, const dm_cluster_pki_opts *pki,
                          dm_err *err);
int dm_cluster_tls_disable(dm_cluster_ctx *ctx, dm_cluster_meta *m, dm_err *err);

/* Verifies that every instance answers as mode says (strict: https with
 * the cluster CA and plaintext refused; off: the reverse) and that the
 * master lists every member with the matching scheme. One line per
 * check. */
int dm_cluster_tls_verify(dm_cluster_ctx *ctx, const dm_cluster_meta *m, dm_tls_mode mode,
                          dm_err *err);

#endif
