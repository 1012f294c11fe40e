/* Shared between rowdec.c (table maps, row framing), rowdec_value.c (one
 * value of each column type, SQL literals) and rowdec_json.c (MySQL's
 * binary JSON). Not part of the public face: mysql/rowdec.h is. */
#ifndef DM_MYSQL_ROWDEC_IMPL_H
#define DM_MYSQL_ROWDEC_IMPL_H

#include "mysql/rowdec.h"

/* Binlog types Connector/C has no names for. */
#define DM_TYPE_VARCHAR_COMPRESSED 140 /* MariaDB COMPRESSED columns */
#define DM_TYPE_BLOB_COMPRESSED    141
#define DM_TYPE_VECTOR             242 /* MySQL 9 */

/* Scratch memory for values that are not bytes of the event (MySQL JSON
 * rendered as text): one allocation per value, all freed after the
 * callback saw the row. */
typedef struct dm_scratch {
	char **items;
	size_t n, cap;
} dm_scratch;

char *dm_scratch_take(dm_scratch *s, dm_buf *b);
void dm_scratch_clear(dm_scratch *s);

/* Decodes one non-NULL value of column c from [*p, end) into v (kind,
 * union, ptr/len or buf) and advances *p. -1 with err naming the problem
 * (the caller adds table and column). */
int dm_rowdec_value(const dm_tcol *c, const unsigned char **p, const unsigned char *end,
                    dm_value *v, dm_scratch *scratch, dm_err *err);

/* DECIMAL(prec,scale) in its binary form (len bytes available) as text in
 * v (kind DM_V_TEXT). */
int dm_rowdec_decimal(const unsigned char *p, size_t len, int prec, int scale, dm_value *v,
                      dm_err *err);

/* MySQL binary JSON (type 245) of len bytes as JSON text appended to out. */
int dm_rowdec_json(const unsigned char *data, size_t len, dm_buf *out, dm_err *err);

/* Little-endian unsigned integer of n (1-8) bytes. */
static inline uint64_t dm_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Big-endian unsigned integer of n (1-8) bytes. */
static inline uint64_t dm_be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

#endif
