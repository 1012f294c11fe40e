/* tlsmat: the TLS material of one connection to a source or target, as
 * Connector/C must be given it. Connector/C takes only file paths, and a
 * bad file gives only a bare handshake failure; this module names the item
 * and the reason before any traffic, and writes inline PEM to private
 * temporary files for the duration of one connect call. */
#ifndef DM_MYSQL_TLSMAT_H
#define DM_MYSQL_TLSMAT_H

#include <stdbool.h>

#include "base/err.h"
#include "tls/tls.h"

enum { DM_TLSMAT_CA, DM_TLSMAT_CERT, DM_TLSMAT_KEY, DM_TLSMAT_N };

/* One connection's view of the security block: where Connector/C reads each
 * item from (the configured file, or a private temporary copy of inline
 * PEM) and how to name it to the user. */
typedef struct dm_tlsmat {
	const char *path[DM_TLSMAT_N]; /* what Connector/C gets; NULL = not set */
	const char *pem[DM_TLSMAT_N];  /* inline content, borrowed from the config */
	char *tmp_path[DM_TLSMAT_N];   /* our temporary files, removed after connect */
	char *tmp_dir;
	bool verify_server;
} dm_tlsmat;

/* From the security block s, which must outlive t (t borrows its strings).
 * insecure_skip_verify drops the CA: Connector/C verifies whenever it gets
 * one. */
void dm_tlsmat_init(dm_tlsmat *t, const dm_tls_settings *s);
/* Removes the temporary files and directory, if any. Idempotent: call it
 * right after the connect and again on every way out. */
void dm_tlsmat_fini(dm_tlsmat *t);

/* Checks what OpenSSL will be given, so a broken file is reported by name
 * with the reason (no certificate in it, key does not match, encrypted key,
 * expired certificate) instead of a bare handshake failure. The files are
 * read again by Connector/C a moment later; a change in between only means
 * its own, less precise, message. */
int dm_tlsmat_check(const dm_tlsmat *t, dm_err *err);
/* Writes inline PEM to 0600 files in a private 0700 directory and points
 * path[] at them (MYSQL_OPT_SSL_CA/CERT/KEY take paths only). */
int dm_tlsmat_materialize(dm_tlsmat *t, dm_err *err);

/* "ssl-ca /etc/dm/ca.pem" or "ssl-ca (PEM content)"; i is DM_TLSMAT_CA,
 * _CERT or _KEY. The caller frees the string. */
char *dm_tlsmat_name(const dm_tlsmat *t, int i);

#endif
