#include "mysql/sql.h"

#include <string.h>

void dm_sql_ident(dm_buf *b, const char *name)
{
	dm_buf_putc(b, '`');
	for (const char *p = name; *p; p++) {
		if (*p == '`')
			dm_buf_putc(b, '`');
		dm_buf_putc(b, *p);
	}
	dm_buf_putc(b, '`');
}

void dm_sql_table(dm_buf *b, const char *schema, const char *table)
{
	dm_sql_ident(b, schema);
	dm_buf_putc(b, '.');
	dm_sql_ident(b, table);
}

void dm_sql_hex(dm_buf *b, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	if (len == 0) {
		dm_buf_puts(b, "''");
		return;
	}
	dm_buf_reserve(b, 2 + 2 * len);
	char *out = b->data + b->len;
	const unsigned char *p = data;
	*out++ = '0';
	*out++ = 'x';
	for (size_t i = 0; i < len; i++) {
		*out++ = digits[p[i] >> 4];
		*out++ = digits[p[i] & 15];
	}
	*out = '\0';
	b->len += 2 + 2 * len;
}

void dm_sql_string(dm_buf *b, const char *s)
{
	dm_buf_putc(b, '\'');
	for (const char *p = s; *p; p++) {
		if (*p == '\'' || *p == '\\')
			dm_buf_putc(b, *p);
		dm_buf_putc(b, *p);
	}
	dm_buf_putc(b, '\'');
}
