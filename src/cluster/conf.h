/* An instance's directory layout and its generated dm-master.toml /
 * dm-worker.toml.
 *
 *   <deploy_dir>/dm-master-<port>/
 *     conf/dm-master.toml   generated; rewritten by deploy (and by TLS
 *                           roll-outs, followed by SIGHUP)
 *     log/dm-master.log     the daemon's stdout and stderr
 *     run/dm-master.pid
 *     tls/ca.pem, cert.pem, key.pem (0600)   when the cluster has a PKI
 *     data/                 the data directory (global.data_dir)
 */
#ifndef DM_CLUSTER_CONF_H
#define DM_CLUSTER_CONF_H

#include "cluster/meta.h"
#include "tls/tls.h"

/* <instance dir>/conf/dm-master.toml etc. Caller frees. */
char *dm_cluster_inst_conf(const dm_topo *t, const dm_topo_inst *i);
char *dm_cluster_inst_log(const dm_topo *t, const dm_topo_inst *i);
char *dm_cluster_inst_pid(const dm_topo *t, const dm_topo_inst *i);

/* The complete config of instance i with tls-mode `mode`: name,
 * addresses, data-dir, the topology's extra keys, and, unless mode is
 * off, the instance's installed TLS files and cert-allowed-cn (a master
 * admits dm-master, dm-worker and dm-client; a worker admits dm-master).
 * With mode permissive, tls_client says whether the instance's own calls
 * to its peers use TLS (tls-client on/off); other modes imply it.
 * The only place configs are made, so a roll-out rewrites them with the
 * state of each step. mode other than off needs m->tls.pki. Caller frees. */
char *dm_cluster_conf_render(const dm_cluster_meta *m, const dm_topo_inst *i, dm_tls_mode mode,
                             bool tls_client);

#endif
