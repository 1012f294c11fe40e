/* Error values with a sentence for the user.
 *
 * Convention: a function that can fail takes a `dm_err *err` (may be NULL),
 * returns 0 on success or a negative value on failure, and on failure fills
 * err with what failed and what to do about it. Out-parameters are not
 * written on failure. */
#ifndef DM_BASE_ERR_H
#define DM_BASE_ERR_H

#include <stddef.h>

enum dm_err_code {
	DM_OK = 0,
	DM_EINVAL,    /* bad input: config, request, argument */
	DM_EIO,       /* file or socket I/O */
	DM_ENOTFOUND, /* a named thing does not exist */
	DM_EEXIST,    /* a named thing already exists */
	DM_ECONFLICT, /* compare-and-swap lost, stage conflict */
	DM_ETLS,      /* certificate, key or handshake problem */
	DM_ENET,      /* connection refused, reset, DNS */
	DM_ETIMEOUT,  /* deadline passed */
	DM_EDB,       /* MySQL/MariaDB error */
	DM_ELIMIT,    /* a configured limit was exceeded */
	DM_EINTERNAL, /* a bug: please report */
};

#define DM_ERR_MSG_MAX 1024

typedef struct dm_err {
	enum dm_err_code code;
	char msg[DM_ERR_MSG_MAX];
} dm_err;

/* Fills err (if not NULL) and returns -1, so callers can write
 * `return dm_err_set(err, DM_EINVAL, "...", ...);`. */
int dm_err_set(dm_err *err, enum dm_err_code code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Puts "<prefix>: " in front of an existing message (no-op when err is
 * NULL). Returns -1 for the same tail-call use as dm_err_set. */
int dm_err_prefix(dm_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets err to DM_OK with an empty message. */
void dm_err_clear(dm_err *err);

/* Name of a code, e.g. "invalid" for DM_EINVAL. Never NULL. */
const char *dm_err_code_name(enum dm_err_code code);

#endif
