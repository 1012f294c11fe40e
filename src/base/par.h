/* Independent slow steps run side by side.
 *
 * For setup that waits on the network, such as opening several database
 * connections (a TLS handshake each): done one after another their waits
 * add up, done together they overlap. */
#ifndef DM_BASE_PAR_H
#define DM_BASE_PAR_H

#include "base/err.h"

/* Runs fn(arg, i, err) for every i in [0, n), each on its own thread, and
 * waits for all of them. Returns 0, or -1 with the error of the lowest i
 * that failed; the steps that succeeded are left done for the caller to
 * undo. */
int dm_par_each(int n, int (*fn)(void *arg, int i, dm_err *err), void *arg, dm_err *err);

#endif
