/* One value of each column type as the binlog stores it (the server's
 * Field::pack() formats), and values as SQL literals. */
#include "mysql/rowdec_impl.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mysql/sql.h"

/* Offsets that make the packed temporal integers non-negative on disk. */
#define DATETIMEF_INT_OFS 0x8000000000LL
#define TIMEF_INT_OFS     0x800000LL
#define TIMEF_OFS         0x800000000000LL

static int need(const unsigned char *p, const unsigned char *end, size_t n, const char *what,
                dm_err *err)
{
	if ((size_t)(end - p) < n)
		return dm_err_set(err, DM_EINVAL, "%s value truncated (%zu bytes needed, %zu left)",
		                  what, n, (size_t)(end - p));
	return 0;
}

static int64_t sign_extend(uint64_t v, int bytes)
{
	if (bytes >= 8)
		return (int64_t)v;
	uint64_t m = 1ULL << (bytes * 8 - 1);
	return (int64_t)((v ^ m) - m);
}

/* ---- decimal --------------------------------------------------------- */

static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t pow10s[10] = {1,      10,      100,      1000,      10000,
                                    100000, 1000000, 10000000, 100000000, 1000000000};

/* Storage size of DECIMAL(prec,scale): groups of 9 digits in 4 bytes,
 * leftover digits in 1-4 bytes, integer and fraction parts apart. */
static size_t decimal_size(int prec, int scale)
{
	int intg = prec - scale;
	return (size_t)(intg / 9 * 4 + dig2bytes[intg % 9] + scale / 9 * 4 + dig2bytes[scale % 9]);
}

/* Big-endian groups; the first byte's top bit is the sign (set for
 * non-negative), and a negative number has every byte inverted. */
static int decimal_text(const unsigned char *p, int prec, int scale, dm_value *v, dm_err *err)
{
	unsigned char b[40];
	size_t n = decimal_size(prec, scale);
	memcpy(b, p, n);
	bool neg = (b[0] & 0x80) == 0;
	b[0] ^= 0x80;
	if (neg)
		for (size_t i = 0; i < n; i++)
			b[i] ^= 0xFF;
	char digits[100] = {0};
	size_t nd = 0, o = 0;
	int intg = prec - scale;
	/* Groups in order: leading partial integer group, whole integer
	 * groups, whole fraction groups, trailing partial fraction group. */
	int groups[4][2] = {{intg % 9, 1}, {9, intg / 9}, {9, scale / 9}, {scale % 9, 1}};
	for (int g = 0; g < 4; g++) {
		int ndig = groups[g][0];
		for (int r = 0; ndig > 0 && r < groups[g][1]; r++) {
			int nb = dig2bytes[ndig];
			uint32_t x = (uint32_t)dm_be(b + o, nb);
			o += (size_t)nb;
			if (x >= pow10s[ndig])
				return dm_err_set(err, DM_EINVAL,
				                  "DECIMAL(%d,%d) value has an invalid digit group",
				                  prec, scale);
			for (int d = ndig - 1; d >= 0; d--)
				digits[nd++] = (char)('0' + x / pow10s[d] % 10);
		}
	}
	size_t ni = (size_t)intg, lead = 0;
	while (lead + 1 < ni && digits[lead] == '0')
		lead++;
	bool zero = true;
	for (size_t i = 0; i < nd; i++)
		zero = zero && digits[i] == '0';
	char *s = v->buf;
	if (neg && !zero)
		*s++ = '-';
	if (ni == 0)
		*s++ = '0';
	memcpy(s, digits + lead, ni - lead);
	s += ni - lead;
	if (scale > 0) {
		*s++ = '.';
		memcpy(s, digits + ni, (size_t)scale);
		s += scale;
	}
	*s = '\0';
	v->kind = DM_V_TEXT;
	v->len = (size_t)(s - v->buf);
	v->ptr = (const unsigned char *)v->buf;
	return 0;
}

int dm_rowdec_decimal(const unsigned char *p, size_t len, int prec, int scale, dm_value *v,
                      dm_err *err)
{
	if (prec < 1 || prec > 65 || scale < 0 || scale > 38 || scale > prec)
		return dm_err_set(err, DM_EINVAL, "DECIMAL(%d,%d)", prec, scale);
	if (len < decimal_size(prec, scale))
		return dm_err_set(err, DM_EINVAL, "DECIMAL(%d,%d) value truncated", prec, scale);
	return decimal_text(p, prec, scale, v, err);
}

/* ---- temporal -------------------------------------------------------- */

/* Appends ".ffffff" cut to fsp digits (nothing for fsp 0). */
static int frac_text(char *s, size_t n, unsigned fsp, uint32_t usec)
{
	if (fsp == 0)
		return 0;
	return snprintf(s, n, ".%0*u", (int)fsp, usec / pow10s[6 - fsp]);
}

static void set_text(dm_value *v, int len)
{
	v->kind = DM_V_TEXT;
	v->len = (size_t)len;
	v->ptr = (const unsigned char *)v->buf;
}

static void datetime_text(dm_value *v, unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                          unsigned s, unsigned fsp, uint32_t usec)
{
	int n = snprintf(v->buf, sizeof(v->buf), "%04u-%02u-%02u %02u:%02u:%02u", y, mo, d, h, mi,
	                 s);
	n += frac_text(v->buf + n, sizeof(v->buf) - (size_t)n, fsp, usec);
	set_text(v, n);
}

/* Fractional part after the integer part of the *2 types: 0-3 bytes. */
static int frac_bytes(unsigned fsp)
{
	return (int)(fsp + 1) / 2;
}

/* Microseconds from the fraction bytes of DATETIME2/TIMESTAMP2 (as stored:
 * hundredths, 1/10000ths or microseconds, signed). */
static int64_t frac_usec(const unsigned char *p, unsigned fsp)
{
	switch (frac_bytes(fsp)) {
	case 1: return sign_extend(p[0], 1) * 10000;
	case 2: return sign_extend(dm_be(p, 2), 2) * 100;
	case 3: return sign_extend(dm_be(p, 3), 3);
	default: return 0;
	}
}

static int datetime2(const unsigned char *p, unsigned fsp, dm_value *v, dm_err *err)
{
	int64_t ip = (int64_t)dm_be(p, 5) - DATETIMEF_INT_OFS;
	int64_t usec = frac_usec(p + 5, fsp);
	if (ip < 0 || usec < 0 || usec > 999999)
		return dm_err_set(err, DM_EINVAL, "negative or invalid DATETIME value");
	uint64_t ymd = (uint64_t)ip >> 17, ym = ymd >> 5, hms = (uint64_t)ip & 0x1FFFF;
	datetime_text(v, (unsigned)(ym / 13), (unsigned)(ym % 13), (unsigned)(ymd & 31),
	              (unsigned)(hms >> 12), (unsigned)(hms >> 6 & 63), (unsigned)(hms & 63), fsp,
	              (uint32_t)usec);
	return 0;
}

static void timestamp_text(dm_value *v, int64_t sec, unsigned fsp, uint32_t usec)
{
	v->i = sec;
	if (sec == 0 && usec == 0) {
		datetime_text(v, 0, 0, 0, 0, 0, 0, fsp, 0);
		v->i = 0;
		return;
	}
	time_t t = (time_t)sec;
	struct tm tm;
	gmtime_r(&t, &tm);
	datetime_text(v, (unsigned)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday,
	              (unsigned)tm.tm_hour, (unsigned)tm.tm_min, (unsigned)tm.tm_sec, fsp, usec);
	v->i = sec;
}

static int timestamp2(const unsigned char *p, unsigned fsp, dm_value *v, dm_err *err)
{
	int64_t usec = frac_usec(p + 4, fsp);
	if (usec < 0 || usec > 999999)
		return dm_err_set(err, DM_EINVAL, "invalid TIMESTAMP fraction");
	timestamp_text(v, (int64_t)dm_be(p, 4), fsp, (uint32_t)usec);
	return 0;
}

static void time_text(dm_value *v, bool neg, uint64_t h, unsigned mi, unsigned s, unsigned fsp,
                      uint32_t usec)
{
	int n = snprintf(v->buf, sizeof(v->buf), "%s%02llu:%02u:%02u", neg ? "-" : "",
	                 (unsigned long long)h, mi, s);
	n += frac_text(v->buf + n, sizeof(v->buf) - (size_t)n, fsp, usec);
	set_text(v, n);
}

/* TIME2: a signed packed value (hms << 24) + microseconds stored with an
 * offset; for 1-4 fractional digits the fraction is its own signed byte
 * group, so a negative time with a fraction borrows one from the
 * integer part. */
static void time2(const unsigned char *p, unsigned fsp, dm_value *v)
{
	int64_t packed;
	int64_t ip = (int64_t)dm_be(p, 3) - TIMEF_INT_OFS;
	switch (frac_bytes(fsp)) {
	case 0: packed = ip * (1LL << 24); break;
	case 1:
	case 2: {
		int nb = frac_bytes(fsp);
		int64_t f = (int64_t)dm_be(p + 3, nb);
		if (ip < 0 && f != 0) {
			ip++;
			f -= nb == 1 ? 0x100 : 0x10000;
		}
		packed = ip * (1LL << 24) + f * (nb == 1 ? 10000 : 100);
		break;
	}
	default: packed = (int64_t)dm_be(p, 6) - TIMEF_OFS; break;
	}
	bool neg = packed < 0;
	uint64_t a = neg ? (uint64_t)-packed : (uint64_t)packed;
	uint64_t hms = a >> 24;
	time_text(v, neg, (hms >> 12) % 1024, (unsigned)(hms >> 6 & 63), (unsigned)(hms & 63), fsp,
	          (uint32_t)(a % (1 << 24)));
}

/* ---- values ---------------------------------------------------------- */

static void set_int(dm_value *v, const dm_tcol *c, uint64_t raw, int bytes)
{
	if (c->is_unsigned) {
		v->kind = DM_V_UINT;
		v->u = raw;
	} else {
		v->kind = DM_V_INT;
		v->i = sign_extend(raw, bytes);
	}
}

static int bytes_value(const unsigned char **p, const unsigned char *end, int lenbytes,
                       const char *what, dm_value *v, dm_err *err)
{
	if (need(*p, end, (size_t)lenbytes, what, err) < 0)
		return -1;
	uint64_t n = dm_le(*p, lenbytes);
	*p += lenbytes;
	if (need(*p, end, n, what, err) < 0)
		return -1;
	v->kind = DM_V_BYTES;
	v->ptr = *p;
	v->len = (size_t)n;
	*p += n;
	return 0;
}

int dm_rowdec_value(const dm_tcol *c, const unsigned char **pp, const unsigned char *end,
                    dm_value *v, dm_scratch *scratch, dm_err *err)
{
	const unsigned char *p = *pp;
	size_t n = 0; /* fixed size, for the common advance below */
	unsigned fsp = c->meta;
	switch (c->type) {
	case MYSQL_TYPE_TINY: n = 1; break;
	case MYSQL_TYPE_SHORT: n = 2; break;
	case MYSQL_TYPE_INT24: n = 3; break;
	case MYSQL_TYPE_LONG: n = 4; break;
	case MYSQL_TYPE_LONGLONG: n = 8; break;
	case MYSQL_TYPE_YEAR:
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
	case MYSQL_TYPE_DATE:
	case MYSQL_TYPE_TIME:
	case MYSQL_TYPE_DATETIME:
	case MYSQL_TYPE_TIMESTAMP:
	case MYSQL_TYPE_ENUM:
	case MYSQL_TYPE_SET:
	case MYSQL_TYPE_BIT:
	case MYSQL_TYPE_NEWDECIMAL:
	case MYSQL_TYPE_TIME2:
	case MYSQL_TYPE_DATETIME2:
	case MYSQL_TYPE_TIMESTAMP2: break;
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_STRING:
		if (bytes_value(pp, end, c->meta > 255 ? 2 : 1, "string", v, err) < 0)
			return -1;
		if (c->type == MYSQL_TYPE_STRING && v->len > c->meta)
			return dm_err_set(err, DM_EINVAL,
			                  "CHAR value of %zu bytes in CHAR(%u bytes)", v->len,
			                  c->meta);
		return 0;
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_GEOMETRY: return bytes_value(pp, end, c->meta, "blob", v, err);
	case MYSQL_TYPE_JSON: {
		if (bytes_value(pp, end, c->meta, "JSON", v, err) < 0)
			return -1;
		dm_buf b;
		dm_buf_init(&b);
		if (dm_rowdec_json(v->ptr, v->len, &b, err) < 0) {
			dm_buf_fini(&b);
			return -1;
		}
		v->len = b.len;
		v->ptr = (const unsigned char *)dm_scratch_take(scratch, &b);
		return 0;
	}
	case DM_TYPE_VARCHAR_COMPRESSED:
	case DM_TYPE_BLOB_COMPRESSED:
		return dm_err_set(err, DM_EINVAL,
		                  "MariaDB COMPRESSED columns are not supported; remove the "
		                  "COMPRESSED attribute upstream (ALTER TABLE ... MODIFY)");
	default: return dm_err_set(err, DM_EINVAL, "binlog type %u is not supported", c->type);
	}
	if (n > 0) {
		if (need(p, end, n, "integer", err) < 0)
			return -1;
		set_int(v, c, dm_le(p, (int)n), (int)n);
		*pp = p + n;
		return 0;
	}

	/* The rest: fixed sizes that depend on the type or its metadata. */
	switch (c->type) {
	case MYSQL_TYPE_YEAR: n = 1; break;
	case MYSQL_TYPE_FLOAT: n = 4; break;
	case MYSQL_TYPE_DOUBLE: n = 8; break;
	case MYSQL_TYPE_DATE:
	case MYSQL_TYPE_TIME: n = 3; break;
	case MYSQL_TYPE_DATETIME: n = 8; break;
	case MYSQL_TYPE_TIMESTAMP: n = 4; break;
	case MYSQL_TYPE_ENUM:
	case MYSQL_TYPE_SET: n = c->meta; break;
	case MYSQL_TYPE_BIT: n = (size_t)(c->meta + 7) / 8; break;
	case MYSQL_TYPE_NEWDECIMAL: n = decimal_size(c->meta >> 8, c->meta & 0xFF); break;
	case MYSQL_TYPE_TIME2: n = 3 + (size_t)frac_bytes(fsp); break;
	case MYSQL_TYPE_DATETIME2: n = 5 + (size_t)frac_bytes(fsp); break;
	case MYSQL_TYPE_TIMESTAMP2: n = 4 + (size_t)frac_bytes(fsp); break;
	default: break;
	}
	if (need(p, end, n, "fixed-size", err) < 0)
		return -1;
	*pp = p + n;
	switch (c->type) {
	case MYSQL_TYPE_YEAR:
		v->kind = DM_V_INT;
		v->i = p[0] == 0 ? 0 : 1900 + p[0];
		return 0;
	case MYSQL_TYPE_FLOAT: {
		uint32_t u = (uint32_t)dm_le(p, 4);
		v->kind = DM_V_FLOAT;
		memcpy(&v->f, &u, 4);
		return 0;
	}
	case MYSQL_TYPE_DOUBLE: {
		uint64_t u = dm_le(p, 8);
		v->kind = DM_V_DOUBLE;
		memcpy(&v->d, &u, 8);
		return 0;
	}
	case MYSQL_TYPE_DATE: {
		uint32_t x = (uint32_t)dm_le(p, 3);
		set_text(v, snprintf(v->buf, sizeof(v->buf), "%04u-%02u-%02u", x >> 9, x >> 5 & 15,
		                     x & 31));
		return 0;
	}
	case MYSQL_TYPE_TIME: {
		int64_t x = sign_extend(dm_le(p, 3), 3);
		uint64_t a = x < 0 ? (uint64_t)-x : (uint64_t)x;
		time_text(v, x < 0, a / 10000, (unsigned)(a / 100 % 100), (unsigned)(a % 100), 0,
		          0);
		return 0;
	}
	case MYSQL_TYPE_DATETIME: {
		uint64_t x = dm_le(p, 8), d = x / 1000000, t = x % 1000000;
		datetime_text(v, (unsigned)(d / 10000), (unsigned)(d / 100 % 100),
		              (unsigned)(d % 100), (unsigned)(t / 10000), (unsigned)(t / 100 % 100),
		              (unsigned)(t % 100), 0, 0);
		return 0;
	}
	case MYSQL_TYPE_TIMESTAMP: timestamp_text(v, (int64_t)dm_le(p, 4), 0, 0); return 0;
	case MYSQL_TYPE_ENUM:
	case MYSQL_TYPE_SET:
		v->kind = c->type == MYSQL_TYPE_ENUM ? DM_V_ENUM : DM_V_SET;
		v->u = dm_le(p, (int)n);
		return 0;
	case MYSQL_TYPE_BIT:
		v->kind = DM_V_BIT;
		v->u = dm_be(p, (int)n);
		return 0;
	case MYSQL_TYPE_NEWDECIMAL: return decimal_text(p, c->meta >> 8, c->meta & 0xFF, v, err);
	case MYSQL_TYPE_TIME2: time2(p, fsp, v); return 0;
	case MYSQL_TYPE_DATETIME2: return datetime2(p, fsp, v, err);
	case MYSQL_TYPE_TIMESTAMP2: return timestamp2(p, fsp, v, err);
	default: return dm_err_set(err, DM_EINTERNAL, "binlog type %u fell through", c->type);
	}
}

/* ---- SQL literals ---------------------------------------------------- */

static bool is_quoted_text(uint8_t type)
{
	return type != MYSQL_TYPE_NEWDECIMAL && type != MYSQL_TYPE_DECIMAL;
}

void dm_value_sql(dm_buf *out, const dm_tcol *col, const dm_value *v)
{
	if (!v->present) {
		dm_buf_puts(out, "DEFAULT");
		return;
	}
	switch (v->kind) {
	case DM_V_NULL: dm_buf_puts(out, "NULL"); break;
	case DM_V_INT: dm_buf_put_i64(out, v->i); break;
	case DM_V_UINT:
	case DM_V_BIT:
	case DM_V_ENUM:
	case DM_V_SET: dm_buf_put_u64(out, v->u); break;
	/* 17 digits identify a double exactly; a float widens to double
	 * without loss, so both round-trip and compare equal. */
	case DM_V_DOUBLE: dm_buf_printf(out, "%.17g", v->d); break;
	case DM_V_FLOAT: dm_buf_printf(out, "%.17g", (double)v->f); break;
	case DM_V_BYTES:
		/* The binlog drops the trailing zero bytes of BINARY(n), and the
		 * fixed-size binary types built on it (INET6, UUID) refuse a
		 * shorter value: give them back. */
		if (col->type == MYSQL_TYPE_STRING && col->charset == 63 && v->len < col->meta) {
			dm_buf_puts(out, "0x");
			for (size_t i = 0; i < col->meta; i++)
				dm_buf_printf(out, "%02x", i < v->len ? v->ptr[i] : 0);
		} else {
			dm_sql_hex(out, v->ptr, v->len);
		}
		break;
	case DM_V_TEXT:
		if (is_quoted_text(col->type)) {
			dm_buf_putc(out, '\'');
			dm_buf_append(out, v->buf, strlen(v->buf));
			dm_buf_putc(out, '\'');
		} else {
			dm_buf_append(out, v->buf, strlen(v->buf));
		}
		break;
	}
}
