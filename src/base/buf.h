/* Growable byte buffer, always NUL-terminated so it doubles as a string.
 *
 * A dm_buf is a value: dm_buf_init() it, append, then dm_buf_fini() it or
 * take its memory with dm_buf_detach(). */
#ifndef DM_BASE_BUF_H
#define DM_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dm_buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
} dm_buf;

void dm_buf_init(dm_buf *b);
void dm_buf_fini(dm_buf *b);
/* Makes room for n more bytes (plus the NUL). */
void dm_buf_reserve(dm_buf *b, size_t n);
void dm_buf_append(dm_buf *b, const void *data, size_t n);
void dm_buf_puts(dm_buf *b, const char *s);
void dm_buf_putc(dm_buf *b, char c);
void dm_buf_printf(dm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dm_buf_vprintf(dm_buf *b, const char *fmt, va_list ap);
/* Decimal, as printf's %lld / %llu would write them, without printf. */
void dm_buf_put_i64(dm_buf *b, int64_t v);
void dm_buf_put_u64(dm_buf *b, uint64_t v);
/* Empties the buffer, keeping its memory. */
void dm_buf_reset(dm_buf *b);
/* Returns the contents as a malloc'd string the caller frees (never NULL,
 * "" for an empty buffer) and leaves b empty and initialised. */
char *dm_buf_detach(dm_buf *b);
/* Current contents as a string; "" when nothing was appended. Borrowed. */
const char *dm_buf_str(const dm_buf *b);

#endif
