/* Helpers shared by tls.c and pki.c. Internal to src/tls: not an API for
 * other modules.
 *
 * `what` arguments are the name the user knows the file by ("ssl-cert",
 * "ca-key"), so every message reads "<what> <path>: <problem>". */
#ifndef DM_TLS_UTIL_H
#define DM_TLS_UTIL_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/x509.h>

#include "base/err.h"

/* Certificate and key files are small; a bigger file is the wrong file (a
 * log, a database) and reading it on every connection would hurt. */
#define DM_TLS_FILE_MAX (1024 * 1024)

/* Reads a whole regular file of at most DM_TLS_FILE_MAX bytes. On success
 * *ret is a NUL-terminated malloc'd copy (*ret_len bytes without the NUL)
 * and *ret_st is the fstat() of the descriptor the bytes came from, so the
 * stat identity and the content always belong together. The caller frees
 * with dm_tls_util_free_data(). */
int dm_tls_util_read(const char *what, const char *path, char **ret, size_t *ret_len,
                     struct stat *ret_st, dm_err *err);

/* Wipes and frees what dm_tls_util_read returned. NULL is a no-op. */
void dm_tls_util_free_data(char *data, size_t len);

/* Replaces path atomically: a temporary file in the same directory, created
 * 0600 and fchmod'ed to mode, is written, fsync'ed and renamed over path;
 * then the directory is fsync'ed. A crash leaves the old file or the new
 * one, never a torn one; a key is never readable by others, not even for a
 * moment. */
int dm_tls_util_write_atomic(const char *what, const char *path, const void *data, size_t len,
                             mode_t mode, dm_err *err);

/* Converts an ASN1_TIME to time_t (UTC). 0 on success, -1 if malformed. */
int dm_tls_util_time(const ASN1_TIME *t, time_t *ret);

/* Whole days from `from` to `to`, rounded towards minus infinity. */
long dm_tls_util_days(time_t from, time_t to);

/* "2026-01-02 03:04:05 UTC". */
void dm_tls_util_fmt_time(time_t t, char *out, size_t n);

/* The last commonName of name, copied into out. -1 if there is none, it
 * does not fit, or it contains a NUL (a CN that could fool a comparison). */
int dm_tls_util_cn(const X509_NAME *name, char *out, size_t n);

#endif
