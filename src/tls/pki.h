/* A small certificate authority for dm clusters (dm-cluster, tests).
 *
 * Keys are ECDSA P-256, signatures SHA-256. Files are replaced atomically
 * (temporary file, fsync, rename), keys with mode 0600 from the moment they
 * exist, certificates 0644. Every function reports failures through dm_err
 * and never puts key material in a message. */
#ifndef DM_TLS_PKI_H
#define DM_TLS_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "base/err.h"

#define DM_PKI_CA_DAYS   3650 /* default CA lifetime: 10 years */
#define DM_PKI_LEAF_DAYS 825  /* default leaf lifetime */

/* Creates a self-signed CA: CN=cn, basicConstraints critical CA:TRUE
 * pathlen:0, keyUsage critical keyCertSign,cRLSign, subject and authority
 * key identifiers. days <= 0 means DM_PKI_CA_DAYS. */
int dm_pki_create_ca(const char *cn, int days, const char *cert_path, const char *key_path,
                     dm_err *err);

typedef struct dm_pki_issue_opts {
	const char *ca_cert_path;
	const char *ca_key_path;
	const char *cn;
	/* subjectAltName entries: an IPv4/IPv6 literal becomes an IP SAN,
	 * anything else must be a DNS name. May be empty. */
	const char *const *sans;
	size_t n_sans;
	/* The certificate is valid from now + not_before_offset_days (minus
	 * one hour for clock skew) to now + not_before_offset_days + days.
	 * days <= 0 means DM_PKI_LEAF_DAYS. Tests use a negative offset for
	 * expired certificates and a positive one for not-yet-valid ones. */
	int days;
	int not_before_offset_days;
	const char *cert_path;
	const char *key_path;
} dm_pki_issue_opts;

/* Issues a leaf with a fresh key: basicConstraints CA:FALSE, keyUsage
 * digitalSignature,keyEncipherment, extendedKeyUsage serverAuth,clientAuth
 * (one certificate serves both ends of a link), a random positive 128-bit
 * serial. The key is written before the certificate. */
int dm_pki_issue(const dm_pki_issue_opts *o, dm_err *err);

/* Checks that cert_path holds a CA certificate (basicConstraints CA:TRUE)
 * and key_path its unencrypted private key, before anything is issued
 * with them. Reads only. */
int dm_pki_check_ca(const char *cert_path, const char *key_path, dm_err *err);

#define DM_PKI_NAME_MAX 256

typedef struct dm_pki_info {
	char cn[DM_PKI_NAME_MAX];        /* "" when the subject has no CN */
	char issuer_cn[DM_PKI_NAME_MAX]; /* "" when the issuer has no CN */
	char serial_hex[64];             /* upper-case hex, no separators */
	char sans[512];                  /* "DNS:localhost, IP:127.0.0.1"; may be cut */
	time_t not_before;
	time_t not_after;
	long days_left; /* whole days until not_after; negative once expired */
	bool is_ca;
} dm_pki_info;

/* Describes the first certificate of a PEM file. *out is not written on
 * failure. */
int dm_pki_cert_info(const char *path, dm_pki_info *out, dm_err *err);

#endif
