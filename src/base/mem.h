/* Allocation that does not fail.
 *
 * Running out of memory is not a condition dm recovers from: the daemons'
 * memory is bounded by design (bounded queues, size limits on every input),
 * so an allocation failure means the machine is broken. These wrappers print
 * one line and abort instead of spreading NULL checks through every caller. */
#ifndef DM_BASE_MEM_H
#define DM_BASE_MEM_H

#include <stddef.h>

void *dm_xmalloc(size_t n);
void *dm_xcalloc(size_t count, size_t size);
void *dm_xrealloc(void *p, size_t n);
char *dm_xstrdup(const char *s);
char *dm_xstrndup(const char *s, size_t n);
/* printf into a new string; the caller frees it. */
char *dm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Overwrites n bytes in a way the compiler cannot drop, then frees.
 * For passwords and key material. NULL is a no-op. */
void dm_free_secret(char *s);

#endif
