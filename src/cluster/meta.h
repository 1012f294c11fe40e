/* A cluster's metadata directory on the operator's machine:
 *
 *   $DM_CLUSTER_HOME/<name>/          (default ~/.dm/clusters/<name>, 0700)
 *     meta.json       state: binaries, deploy dir, TLS state per cluster
 *                     and per instance (format in docs/cluster.md)
 *     topology.yaml   the topology as deployed (a copy of the user's file)
 *     pki/            ca.pem, ca.key (never leaves this directory),
 *                     client.pem/.key (CN dm-client, for dmctl and
 *                     dm-cluster), <instance>.pem/.key
 *
 * meta.json is authoritative for the TLS state; the topology copy for the
 * instances. Both are replaced atomically. */
#ifndef DM_CLUSTER_META_H
#define DM_CLUSTER_META_H

#include <stdbool.h>

#include "base/err.h"
#include "cluster/topo.h"
#include "config/bind.h"
#include "tls/tls.h"

#define DM_CLUSTER_META_FORMAT 1

#define DM_CLUSTER_META_FILE "meta.json"
#define DM_CLUSTER_TOPO_FILE "topology.yaml"
#define DM_CLUSTER_PKI_DIR   "pki"
#define DM_CLUSTER_CA_CERT   "pki/ca.pem"
#define DM_CLUSTER_CA_KEY    "pki/ca.key"
#define DM_CLUSTER_CLI_CERT  "pki/client.pem"
#define DM_CLUSTER_CLI_KEY   "pki/client.key"

/* The CN of the operator's certificate (dmctl, dm-cluster's checks). */
#define DM_CLUSTER_CLIENT_CN "dm-client"

/* Phase of the cluster's TLS state: "stable", or the phase of a roll-out
 * under way ("enable:permissive", "rotate-ca:bundle", ...; see rollout.h)
 * with target_mode, so an interrupted one can be seen and resumed. */
#define DM_CLUSTER_TLS_STABLE "stable"

typedef struct dm_cluster_tls {
	bool pki;          /* pki/ holds a CA, a client and instance certificates */
	bool ca_imported;  /* the CA came from --ca-cert/--ca-key */
	int leaf_days;     /* lifetime given to leaves issued by dm-cluster */
	dm_tls_mode mode;  /* the mode the cluster's configs are written with */
	char *phase;       /* DM_CLUSTER_TLS_STABLE, or a roll-out's phase */
	char *target_mode; /* NULL unless a roll-out is under way */
} dm_cluster_tls;

typedef struct dm_cluster_meta {
	char *name;
	char *dir; /* the metadata directory */
	char *created;
	char *bin_dir; /* where dm-master and dm-worker were found at deploy */
	dm_topo *topo;
	dm_cluster_tls tls;
	/* Parallel to topo->insts: the tls-mode each instance's config was
	 * last written with (a roll-out changes them one by one). */
	dm_tls_mode *inst_mode;
	/* Parallel too: whether the instance's own calls to its peers use TLS
	 * (its tls-client; differs from "mode is not off" only while TLS is
	 * rolled on or off). */
	bool *inst_client;
} dm_cluster_meta;

/* $DM_CLUSTER_HOME, else $HOME/.dm/clusters. Caller frees. */
char *dm_cluster_home(dm_err *err);

/* A new in-memory meta for a cluster being deployed; takes topo. Nothing
 * is written. */
dm_cluster_meta *dm_cluster_meta_new(const char *home, const char *name, dm_topo *topo,
                                     const char *bin_dir);
/* Reads <home>/<name>/meta.json and topology.yaml. A cluster that does
 * not exist is DM_ENOTFOUND with a hint to `dm-cluster list`. */
int dm_cluster_meta_load(const char *home, const char *name, dm_cluster_meta **ret, dm_err *err);
/* Writes meta.json (atomically, mode 0600). */
int dm_cluster_meta_save(const dm_cluster_meta *m, dm_err *err);
/* NULL is a no-op. */
void dm_cluster_meta_free(dm_cluster_meta *m);

/* <dir>/<rel>. Caller frees. */
char *dm_cluster_meta_path(const dm_cluster_meta *m, const char *rel);
/* pki/<instance>.pem and .key, relative to the metadata dir. Caller frees. */
char *dm_cluster_inst_cert_rel(const dm_topo_inst *i, bool key);

/* Names of the clusters under home, sorted. Missing home: none. */
int dm_cluster_list_names(const char *home, dm_strlist *out, dm_err *err);

/* What a client (dmctl, dm-cluster) needs to reach the cluster's master:
 * its address and, when the cluster has a PKI and the master's config
 * accepts TLS (tls-mode not off; during a roll-out, permissive counts), the
 * CA and the operator's certificate and key. out must be initialised; its
 * mode is off for a plaintext cluster. */
void dm_cluster_client_settings(const dm_cluster_meta *m, dm_strlist *addrs, dm_tls_settings *out);

#endif
