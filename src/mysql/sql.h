/* Pieces of SQL text built from untrusted names and values.
 *
 * Everything here appends to a dm_buf. Identifiers are quoted with
 * backquotes (a backquote inside is doubled), byte strings become hex
 * literals so no character set or escaping mode can change them. */
#ifndef DM_MYSQL_SQL_H
#define DM_MYSQL_SQL_H

#include <stddef.h>

#include "base/buf.h"

/* `name` */
void dm_sql_ident(dm_buf *b, const char *name);
/* `schema`.`table` */
void dm_sql_table(dm_buf *b, const char *schema, const char *table);
/* 0x6869 for "hi", '' for the empty string. */
void dm_sql_hex(dm_buf *b, const void *data, size_t len);
/* 'it''s' for a text the caller knows is valid in the connection's
 * character set (names, messages): quotes and backslashes escaped. */
void dm_sql_string(dm_buf *b, const char *s);

#endif
