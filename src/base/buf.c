#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void dm_buf_init(dm_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void dm_buf_fini(dm_buf *b)
{
	free(b->data);
	dm_buf_init(b);
}

void dm_buf_reserve(dm_buf *b, size_t n)
{
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = dm_xrealloc(b->data, cap);
	b->cap = cap;
}

void dm_buf_append(dm_buf *b, const void *data, size_t n)
{
	dm_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void dm_buf_puts(dm_buf *b, const char *s)
{
	dm_buf_append(b, s, strlen(s));
}

void dm_buf_putc(dm_buf *b, char c)
{
	dm_buf_append(b, &c, 1);
}

/* Formats into the room there is, and again only when it was too small:
 * statements are built of many short pieces, mostly with room to spare. */
void dm_buf_vprintf(dm_buf *b, const char *fmt, va_list ap)
{
	dm_buf_reserve(b, 63);
	size_t room = b->cap - b->len;
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(b->data + b->len, room, fmt, ap2);
	va_end(ap2);
	if (n <= 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		dm_buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void dm_buf_put_i64(dm_buf *b, int64_t v)
{
	/* the magnitude as unsigned: INT64_MIN has no positive int64 */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	if (v < 0)
		dm_buf_putc(b, '-');
	dm_buf_put_u64(b, u);
}

void dm_buf_put_u64(dm_buf *b, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	dm_buf_append(b, tmp + sizeof(tmp) - n, n);
}

void dm_buf_printf(dm_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dm_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void dm_buf_reset(dm_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *dm_buf_detach(dm_buf *b)
{
	char *p = b->data ? b->data : dm_xstrdup("");
	dm_buf_init(b);
	return p;
}

const char *dm_buf_str(const dm_buf *b)
{
	return b->data ? b->data : "";
}
