/* MySQL's binary JSON (column type 245 in MySQL binlogs) as JSON text.
 *
 * A value is a type byte and its data. Objects and arrays come in a small
 * (16-bit counts and offsets) and a large (32-bit) form: element count,
 * total size, key entries (offset, length), value entries (type and an
 * offset into the container, or the value itself when it fits), then keys
 * and values. Scalars: literals, little-endian integers, doubles,
 * length-prefixed utf8mb4 strings, and "opaque" values tagged with a
 * MySQL column type (DECIMAL and temporal values, rendered as MySQL's
 * JSON_UNQUOTE would show them; anything else as MySQL's base64 form). */
#include "mysql/rowdec_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MySQL refuses documents nested deeper than this. */
#define JSON_MAX_DEPTH 100
/* Text is a few times the binary size at most (an escaped control byte
 * is 6 characters); entries pointing at one shared value could multiply
 * it without end, which no server writes. */
#define JSON_MAX_GROWTH 16

enum {
	J_SMALL_OBJ = 0x00,
	J_LARGE_OBJ = 0x01,
	J_SMALL_ARR = 0x02,
	J_LARGE_ARR = 0x03,
	J_LITERAL = 0x04,
	J_INT16 = 0x05,
	J_UINT16 = 0x06,
	J_INT32 = 0x07,
	J_UINT32 = 0x08,
	J_INT64 = 0x09,
	J_UINT64 = 0x0a,
	J_DOUBLE = 0x0b,
	J_STRING = 0x0c,
	J_OPAQUE = 0x0f,
};

typedef struct jctx {
	dm_buf *out;
	size_t limit; /* out->len beyond which the document is refused */
	dm_err *err;
} jctx;

static int bad(jctx *x, const char *what)
{
	return dm_err_set(x->err, DM_EINVAL, "MySQL JSON value is malformed (%s)", what);
}

/* Variable-length size: 7 bits per byte, low group first, top bit set
 * while more bytes follow; at most 5 bytes (32 bits). */
static int varlen(jctx *x, const unsigned char *p, size_t len, size_t *n, size_t *used)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 5 && i < len; i++) {
		v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
		if ((p[i] & 0x80) == 0) {
			if (v > UINT32_MAX)
				break;
			*n = (size_t)v;
			*used = i + 1;
			return 0;
		}
	}
	return bad(x, "string length");
}

static void quote(dm_buf *out, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	dm_buf_putc(out, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		switch (c) {
		case '"': dm_buf_puts(out, "\\\""); break;
		case '\\': dm_buf_puts(out, "\\\\"); break;
		case '\b': dm_buf_puts(out, "\\b"); break;
		case '\f': dm_buf_puts(out, "\\f"); break;
		case '\n': dm_buf_puts(out, "\\n"); break;
		case '\r': dm_buf_puts(out, "\\r"); break;
		case '\t': dm_buf_puts(out, "\\t"); break;
		default:
			if (c < 0x20) {
				char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
				dm_buf_puts(out, u);
			} else {
				dm_buf_putc(out, (char)c);
			}
		}
	}
	dm_buf_putc(out, '"');
}

/* Shortest text that reads back as the same double, as MySQL prints. */
static void put_double(dm_buf *out, double d)
{
	char s[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	dm_buf_puts(out, s);
	/* Keep it a double when read back: "1" would become an integer. */
	if (strpbrk(s, ".eEn") == NULL)
		dm_buf_puts(out, ".0");
}

static void base64(dm_buf *out, const unsigned char *p, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[5] = {t[v >> 18 & 63], t[v >> 12 & 63], i + 1 < n ? t[v >> 6 & 63] : '=',
		             i + 2 < n ? t[v & 63] : '=', 0};
		dm_buf_puts(out, q);
	}
}

/* Opaque DECIMAL: precision, scale, then the column's binary form; the
 * DATETIME/DATE/TIME kinds: the server's 8-byte packed integer
 * (hms << 24 | microseconds, with ymd above hms for dates). */
static int opaque(jctx *x, unsigned type, const unsigned char *p, size_t n)
{
	if (type == MYSQL_TYPE_NEWDECIMAL) {
		if (n < 2)
			return bad(x, "decimal");
		dm_value v;
		if (dm_rowdec_decimal(p + 2, n - 2, p[0], p[1], &v, x->err) < 0)
			return bad(x, "decimal");
		dm_buf_puts(x->out, v.buf);
		return 0;
	}
	bool date = type == MYSQL_TYPE_DATE, time = type == MYSQL_TYPE_TIME;
	bool datetime = type == MYSQL_TYPE_DATETIME || type == MYSQL_TYPE_TIMESTAMP ||
	                type == MYSQL_TYPE_DATETIME2 || type == MYSQL_TYPE_TIMESTAMP2;
	if ((date || time || datetime) && n == 8) {
		int64_t packed = (int64_t)dm_le(p, 8);
		bool neg = packed < 0;
		uint64_t a = neg ? (uint64_t)-packed : (uint64_t)packed;
		uint64_t usec = a % (1 << 24), ymdhms = a >> 24;
		uint64_t ymd = ymdhms >> 17, ym = ymd >> 5, hms = ymdhms % (1 << 17);
		char s[64];
		if (time)
			snprintf(s, sizeof(s), "%s%02llu:%02llu:%02llu.%06llu", neg ? "-" : "",
			         (unsigned long long)(ymdhms >> 12),
			         (unsigned long long)(ymdhms >> 6 & 63),
			         (unsigned long long)(ymdhms & 63), (unsigned long long)usec);
		else if (date)
			snprintf(s, sizeof(s), "%04llu-%02llu-%02llu",
			         (unsigned long long)(ym / 13), (unsigned long long)(ym % 13),
			         (unsigned long long)(ymd & 31));
		else
			snprintf(s, sizeof(s), "%04llu-%02llu-%02llu %02llu:%02llu:%02llu.%06llu",
			         (unsigned long long)(ym / 13), (unsigned long long)(ym % 13),
			         (unsigned long long)(ymd & 31), (unsigned long long)(hms >> 12),
			         (unsigned long long)(hms >> 6 & 63),
			         (unsigned long long)(hms & 63), (unsigned long long)usec);
		quote(x->out, (const unsigned char *)s, strlen(s));
		return 0;
	}
	dm_buf_printf(x->out, "\"base64:type%u:", type);
	base64(x->out, p, n);
	dm_buf_putc(x->out, '"');
	return 0;
}

static int value(jctx *x, unsigned type, const unsigned char *p, size_t len, int depth);

/* Whether a value of this type sits in its value entry instead of being
 * pointed to (large containers also inline 32-bit integers). */
static bool inlined(unsigned type, bool large)
{
	return type == J_LITERAL || type == J_INT16 || type == J_UINT16 ||
	       (large && (type == J_INT32 || type == J_UINT32));
}

static int container(jctx *x, unsigned type, const unsigned char *p, size_t len, int depth)
{
	bool large = type == J_LARGE_OBJ || type == J_LARGE_ARR;
	bool obj = type == J_SMALL_OBJ || type == J_LARGE_OBJ;
	size_t w = large ? 4 : 2;
	if (depth > JSON_MAX_DEPTH)
		return bad(x, "nested too deep");
	if (len < 2 * w)
		return bad(x, "container header");
	size_t count = (size_t)dm_le(p, (int)w), size = (size_t)dm_le(p + w, (int)w);
	if (size > len)
		return bad(x, "container size");
	size_t key_entry = w + 2, value_entry = 1 + w;
	size_t hdr = 2 * w + count * ((obj ? key_entry : 0) + value_entry);
	if (count > size || hdr > size)
		return bad(x, "container entries");
	dm_buf_putc(x->out, obj ? '{' : '[');
	for (size_t i = 0; i < count; i++) {
		if (x->out->len > x->limit)
			return bad(x, "its text would be far larger than the value");
		if (i > 0)
			dm_buf_puts(x->out, ", ");
		if (obj) {
			const unsigned char *ke = p + 2 * w + i * key_entry;
			size_t ko = (size_t)dm_le(ke, (int)w), kl = (size_t)dm_le(ke + w, 2);
			if (ko > size || kl > size - ko)
				return bad(x, "key offset");
			quote(x->out, p + ko, kl);
			dm_buf_puts(x->out, ": ");
		}
		const unsigned char *ve =
		        p + 2 * w + (obj ? count * key_entry : 0) + i * value_entry;
		unsigned vt = ve[0];
		if (inlined(vt, large)) {
			if (value(x, vt, ve + 1, w, depth + 1) < 0)
				return -1;
			continue;
		}
		size_t vo = (size_t)dm_le(ve + 1, (int)w);
		if (vo >= size)
			return bad(x, "value offset");
		if (value(x, vt, p + vo, size - vo, depth + 1) < 0)
			return -1;
	}
	dm_buf_putc(x->out, obj ? '}' : ']');
	return 0;
}

static int value(jctx *x, unsigned type, const unsigned char *p, size_t len, int depth)
{
	static const int width[] = {[J_INT16] = 2, [J_UINT16] = 2, [J_INT32] = 4, [J_UINT32] = 4,
	                            [J_INT64] = 8, [J_UINT64] = 8, [J_DOUBLE] = 8};
	switch (type) {
	case J_SMALL_OBJ:
	case J_LARGE_OBJ:
	case J_SMALL_ARR:
	case J_LARGE_ARR: return container(x, type, p, len, depth);
	case J_LITERAL:
		if (len < 1 || p[0] > 2)
			return bad(x, "literal");
		dm_buf_puts(x->out, p[0] == 0 ? "null" : p[0] == 1 ? "true" : "false");
		return 0;
	case J_INT16:
	case J_UINT16:
	case J_INT32:
	case J_UINT32:
	case J_INT64:
	case J_UINT64:
	case J_DOUBLE: {
		int n = width[type];
		if (len < (size_t)n)
			return bad(x, "number");
		uint64_t u = dm_le(p, n);
		if (type == J_DOUBLE) {
			double d;
			memcpy(&d, &u, 8);
			put_double(x->out, d);
		} else if (type == J_UINT16 || type == J_UINT32 || type == J_UINT64) {
			dm_buf_printf(x->out, "%llu", (unsigned long long)u);
		} else {
			uint64_t m = n == 8 ? 0 : 1ULL << (n * 8 - 1);
			int64_t i = n == 8 ? (int64_t)u : (int64_t)((u ^ m) - m);
			dm_buf_printf(x->out, "%lld", (long long)i);
		}
		return 0;
	}
	case J_STRING:
	case J_OPAQUE: {
		size_t off = type == J_OPAQUE ? 1 : 0, n = 0, used = 0;
		if (len < off + 1 || varlen(x, p + off, len - off, &n, &used) < 0)
			return bad(x, "string");
		if (n > len - off - used)
			return bad(x, "string length");
		const unsigned char *s = p + off + used;
		if (type == J_STRING) {
			quote(x->out, s, n);
			return 0;
		}
		return opaque(x, p[0], s, n);
	}
	default: return bad(x, "unknown value type");
	}
}

int dm_rowdec_json(const unsigned char *data, size_t len, dm_buf *out, dm_err *err)
{
	jctx x = {out, out->len + len * JSON_MAX_GROWTH + 4096, err};
	/* An empty value is how the server logs a JSON null in some paths. */
	if (len == 0) {
		dm_buf_puts(out, "null");
		return 0;
	}
	return value(&x, data[0], data + 1, len - 1, 0);
}
