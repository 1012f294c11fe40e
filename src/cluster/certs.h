/* A cluster's PKI: its CA, the instances' certificates and the operator's
 * client certificate, kept in the metadata directory (meta.h), and their
 * installation into instance directories.
 *
 * The CA key never leaves pki/: instances get ca.pem, their own
 * certificate and key. Keys are mode 0600, certificates 0644. */
#ifndef DM_CLUSTER_CERTS_H
#define DM_CLUSTER_CERTS_H

#include <stdio.h>

#include "base/err.h"
#include "cluster/host.h"
#include "cluster/meta.h"

#define DM_CLUSTER_LEAF_DAYS 365
/* cert check warns below this many days. */
#define DM_CLUSTER_WARN_DAYS 30

/* Files of an instance's TLS material, relative to its directory. */
#define DM_CLUSTER_INST_CA   "tls/ca.pem"
#define DM_CLUSTER_INST_CERT "tls/cert.pem"
#define DM_CLUSTER_INST_KEY  "tls/key.pem"

typedef struct dm_cluster_pki_opts {
	int days;            /* leaves; <= 0: DM_CLUSTER_LEAF_DAYS */
	const char *ca_cert; /* import this CA (with ca_key) instead of making one */
	const char *ca_key;
} dm_cluster_pki_opts;

/* Checks options before anything is written: --ca-cert and --ca-key go
 * together, the key matches the certificate and it is a CA; days is
 * within 1-3650. */
int dm_cluster_pki_check_opts(const dm_cluster_pki_opts *o, dm_err *err);

/* Creates pki/ in m's directory: the CA (new, or a copy of the imported
 * one), the client certificate (CN dm-client) and one certificate per
 * instance (CN dm-master / dm-worker; SANs: its host, 127.0.0.1,
 * localhost). Sets m->tls.pki and leaf_days; does not save m. On failure
 * pki/ may hold part of the files: the caller removes it. */
int dm_cluster_pki_init(dm_cluster_meta *m, const dm_cluster_pki_opts *o, dm_err *err);

/* Issues new leaves (fresh keys, new serials, leaf_days) for the client
 * and every instance into pki/, signed by the CA at ca_rel/ca_key_rel
 * (relative to the metadata dir). Each file is replaced atomically, the
 * key before its certificate. */
int dm_cluster_pki_reissue(const dm_cluster_meta *m, const char *ca_rel, const char *ca_key_rel,
                           dm_err *err);

/* Copies ca.pem and the instance's certificate and key into
 * <instance dir>/tls/ on its host. */
int dm_cluster_pki_install(const dm_cluster_meta *m, dm_host *h, const dm_topo_inst *i,
                           dm_err *err);

/* Prints one line per certificate (CA, each instance's installed copy,
 * the client) with its CN and days left, "WARN" under
 * DM_CLUSTER_WARN_DAYS and "EXPIRED" once expired. Returns the number of
 * expired or unreadable certificates (0: all fine), or -1 when the cluster
 * has no PKI. */
int dm_cluster_pki_check(const dm_cluster_meta *m, FILE *out, dm_err *err);

#endif
