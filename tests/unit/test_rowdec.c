/* Row decoder on hand-made events. Expected bytes come from the storage
 * formats' definitions (small encoders below follow the server's
 * packing rules) and from published examples (MySQL's decimal.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/rowdec.h"

#define TID 42

/* ---- events made by hand --------------------------------------------- */

typedef struct tmap_spec {
	const uint8_t *types;
	uint32_t n;
	const uint8_t *meta;
	size_t mlen;
	const uint8_t *opt; /* optional metadata, may be NULL */
	size_t optlen;
} tmap_spec;

static dm_tmap *tmap_try(const tmap_spec *s, dm_err *err)
{
	MARIADB_RPL_EVENT ev;
	memset(&ev, 0, sizeof(ev));
	ev.event_type = TABLE_MAP_EVENT;
	struct st_mariadb_rpl_table_map_event *tm = &ev.event.table_map;
	tm->table_id = TID;
	tm->database = (MARIADB_STRING){(char *)"db", 2};
	tm->table = (MARIADB_STRING){(char *)"t", 1};
	tm->column_count = s->n;
	tm->column_types = (MARIADB_STRING){(char *)s->types, s->n};
	tm->metadata = (MARIADB_STRING){(char *)s->meta, s->mlen};
	size_t nb = (s->n + 7) / 8;
	unsigned char *raw = dm_xcalloc(1, nb + s->optlen + 1);
	memset(raw, 0xFF, nb); /* every column nullable */
	if (s->optlen > 0)
		memcpy(raw + nb, s->opt, s->optlen);
	ev.raw_data = raw;
	ev.raw_data_size = nb + s->optlen;
	tm->null_indicator = raw;
	dm_tmap *t = NULL;
	if (dm_tmap_from_event(&ev, &t, err) < 0)
		t = NULL;
	free(raw);
	return t;
}

static dm_tmap *tmap(const tmap_spec *s)
{
	dm_err err;
	dm_err_clear(&err);
	dm_tmap *t = tmap_try(s, &err);
	if (t == NULL)
		fail_msg("table map refused: %s", err.msg);
	return t;
}

/* Rows go into a text: "B[v,v] A[v,v];" per row, "-" for a column not
 * in the image, values as dm_value_sql writes them. */
static void image_text(dm_buf *b, const char *tag, const dm_tmap *t, const dm_row *r)
{
	if (r == NULL)
		return;
	dm_buf_printf(b, "%s[", tag);
	for (uint32_t i = 0; i < r->ncols; i++) {
		if (i > 0)
			dm_buf_putc(b, ',');
		if (!r->v[i].present)
			dm_buf_putc(b, '-');
		else
			dm_value_sql(b, &t->cols[i], &r->v[i]);
	}
	dm_buf_putc(b, ']');
}

typedef struct collect {
	const dm_tmap *t;
	dm_buf text;
	dm_value last; /* copy of the first column of the last after image */
	int stop_after;
	int rows;
} collect;

static int on_row(void *arg, const dm_row *before, const dm_row *after)
{
	collect *c = arg;
	image_text(&c->text, "B", c->t, before);
	image_text(&c->text, "A", c->t, after);
	dm_buf_putc(&c->text, ';');
	if (after != NULL)
		c->last = after->v[0];
	c->rows++;
	return c->stop_after > 0 && c->rows >= c->stop_after ? 7 : 0;
}

static int rows_event(const dm_tmap *t, int type, const uint8_t *cols, const uint8_t *cols2,
                      const uint8_t *data, size_t len, collect *c, dm_err *err)
{
	MARIADB_RPL_EVENT ev;
	memset(&ev, 0, sizeof(ev));
	ev.event_type = type;
	struct st_mariadb_rpl_rows_event *r = &ev.event.rows;
	r->table_id = TID;
	r->column_count = t->ncols;
	r->column_bitmap = (unsigned char *)cols;
	r->column_update_bitmap = (unsigned char *)cols2;
	r->row_data = (void *)data;
	r->row_data_size = len;
	c->t = t;
	return dm_rows_decode(t, &ev, on_row, c, err);
}

/* One nullable column of a type; one inserted row holding val. Returns the
 * SQL text of the value (caller frees), or "ERR: message". */
static char *one(uint8_t type, const uint8_t *meta, size_t mlen, const uint8_t *val, size_t vlen,
                 bool is_unsigned, dm_value *out)
{
	tmap_spec s = {&type, 1, meta, mlen, NULL, 0};
	dm_tmap *t = tmap(&s);
	dm_tmap_set_unsigned(t, 0, is_unsigned);
	uint8_t *data = dm_xmalloc(vlen + 1);
	data[0] = 0; /* NULL bitmap: not null */
	memcpy(data + 1, val, vlen);
	static const uint8_t all = 0xFF;
	collect c;
	memset(&c, 0, sizeof(c));
	dm_buf_init(&c.text);
	dm_err err;
	dm_err_clear(&err);
	char *res;
	if (rows_event(t, WRITE_ROWS_EVENT_V1, &all, NULL, data, vlen + 1, &c, &err) < 0) {
		res = dm_xasprintf("ERR: %s", err.msg);
	} else {
		assert_int_equal(c.rows, 1);
		/* "A[x];" -> "x" */
		const char *s = dm_buf_str(&c.text);
		res = dm_xstrndup(s + 2, strlen(s) - 4);
		if (out != NULL)
			*out = c.last;
	}
	dm_buf_fini(&c.text);
	free(data);
	dm_tmap_free(t);
	return res;
}

#define EXPECT(want, got)                                                                          \
	do {                                                                                       \
		char *g_ = (got);                                                                  \
		assert_string_equal(g_, want);                                                     \
		free(g_);                                                                          \
	} while (0)

/* ---- encoders from the format definitions ---------------------------- */

static void be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* DECIMAL: digits in groups of 9 (4 bytes) from the point outwards, the
 * leftover digits of each part in 1-4 bytes, big-endian; sign bit
 * flipped in the first byte, every byte inverted when negative. */
static size_t enc_decimal(const char *text, int prec, int scale, uint8_t *out)
{
	static const int d2b[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
	bool neg = text[0] == '-';
	const char *s = neg ? text + 1 : text;
	const char *dot = strchr(s, '.');
	size_t il = dot ? (size_t)(dot - s) : strlen(s);
	while (il > 0 && s[0] == '0') {
		s++;
		il--;
	}
	int intg = prec - scale;
	char ibuf[80], fbuf[80];
	memset(ibuf, '0', sizeof(ibuf));
	memset(fbuf, '0', sizeof(fbuf));
	memcpy(ibuf + intg - (int)il, s, il);
	if (dot)
		memcpy(fbuf, dot + 1, strlen(dot + 1));
	size_t o = 0;
	int lead = intg % 9, pos = 0;
	uint32_t v = 0;
	if (lead) {
		for (int i = 0; i < lead; i++)
			v = v * 10 + (uint32_t)(ibuf[pos++] - '0');
		be(out + o, v, d2b[lead]);
		o += (size_t)d2b[lead];
	}
	for (int g = 0; g < intg / 9; g++, o += 4) {
		v = 0;
		for (int i = 0; i < 9; i++)
			v = v * 10 + (uint32_t)(ibuf[pos++] - '0');
		be(out + o, v, 4);
	}
	pos = 0;
	for (int g = 0; g < scale / 9; g++, o += 4) {
		v = 0;
		for (int i = 0; i < 9; i++)
			v = v * 10 + (uint32_t)(fbuf[pos++] - '0');
		be(out + o, v, 4);
	}
	if (scale % 9) {
		v = 0;
		for (int i = 0; i < scale % 9; i++)
			v = v * 10 + (uint32_t)(fbuf[pos++] - '0');
		be(out + o, v, d2b[scale % 9]);
		o += (size_t)d2b[scale % 9];
	}
	if (neg)
		for (size_t i = 0; i < o; i++)
			out[i] ^= 0xFF;
	out[0] ^= 0x80;
	return o;
}

/* The server's packed temporal value: (int part << 24) + microseconds,
 * int part floor-divided, fraction the truncated remainder. */
static int64_t int_part(int64_t packed)
{
	return packed >= 0 ? packed / (1 << 24) : -((-packed + (1 << 24) - 1) / (1 << 24));
}

static void enc_frac(uint8_t *p, int64_t frac, unsigned fsp)
{
	if (fsp == 1 || fsp == 2)
		p[0] = (uint8_t)(int8_t)(frac / 10000);
	else if (fsp == 3 || fsp == 4)
		be(p, (uint16_t)(int16_t)(frac / 100), 2);
	else if (fsp >= 5)
		be(p, (uint32_t)(int32_t)frac & 0xFFFFFF, 3);
}

static size_t enc_time2(bool neg, unsigned h, unsigned m, unsigned s, uint32_t usec, unsigned fsp,
                        uint8_t *out)
{
	int64_t packed = ((int64_t)(h << 12 | m << 6 | s) << 24) + usec;
	if (neg)
		packed = -packed;
	if (fsp >= 5) {
		be(out, (uint64_t)(packed + 0x800000000000LL), 6);
		return 6;
	}
	be(out, (uint64_t)(int_part(packed) + 0x800000), 3);
	enc_frac(out + 3, packed % (1 << 24), fsp);
	return 3 + (fsp + 1) / 2;
}

static size_t enc_datetime2(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                            unsigned s, uint32_t usec, unsigned fsp, uint8_t *out)
{
	uint64_t ymd = ((uint64_t)(y * 13 + mo) << 5) | d, hms = h << 12 | mi << 6 | s;
	be(out, (ymd << 17 | hms) + 0x8000000000ULL, 5);
	enc_frac(out + 5, usec, fsp);
	return 5 + (fsp + 1) / 2;
}

static size_t enc_timestamp2(uint32_t sec, uint32_t usec, unsigned fsp, uint8_t *out)
{
	be(out, sec, 4);
	enc_frac(out + 4, usec, fsp);
	return 4 + (fsp + 1) / 2;
}

/* ---- numbers --------------------------------------------------------- */

static void test_integers(void **state)
{
	(void)state;
	static const uint8_t m1[] = {0x80}, m2[] = {0xFF, 0x7F}, m3[] = {0x00, 0x00, 0x80},
	                     m4[] = {0x00, 0x00, 0x00, 0x80},
	                     m8[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	EXPECT("-128", one(MYSQL_TYPE_TINY, NULL, 0, m1, 1, false, NULL));
	EXPECT("128", one(MYSQL_TYPE_TINY, NULL, 0, m1, 1, true, NULL));
	EXPECT("32767", one(MYSQL_TYPE_SHORT, NULL, 0, m2, 2, false, NULL));
	EXPECT("-8388608", one(MYSQL_TYPE_INT24, NULL, 0, m3, 3, false, NULL));
	EXPECT("8388608", one(MYSQL_TYPE_INT24, NULL, 0, m3, 3, true, NULL));
	EXPECT("-2147483648", one(MYSQL_TYPE_LONG, NULL, 0, m4, 4, false, NULL));
	EXPECT("2147483648", one(MYSQL_TYPE_LONG, NULL, 0, m4, 4, true, NULL));
	EXPECT("-1", one(MYSQL_TYPE_LONGLONG, NULL, 0, m8, 8, false, NULL));
	dm_value v;
	EXPECT("18446744073709551615", one(MYSQL_TYPE_LONGLONG, NULL, 0, m8, 8, true, &v));
	assert_int_equal(v.kind, DM_V_UINT);
	assert_true(v.u == UINT64_MAX);
}

static void test_year_float_double(void **state)
{
	(void)state;
	static const uint8_t y0[] = {0}, y1[] = {1}, y255[] = {255}, y100[] = {100};
	EXPECT("0", one(MYSQL_TYPE_YEAR, NULL, 0, y0, 1, false, NULL));
	EXPECT("1901", one(MYSQL_TYPE_YEAR, NULL, 0, y1, 1, false, NULL));
	EXPECT("2000", one(MYSQL_TYPE_YEAR, NULL, 0, y100, 1, true, NULL));
	EXPECT("2155", one(MYSQL_TYPE_YEAR, NULL, 0, y255, 1, false, NULL));

	static const uint8_t m4[] = {4}, m8[] = {8};
	float f = 0.1f;
	uint8_t fb[4];
	memcpy(fb, &f, 4); /* little-endian host, as the binlog */
	dm_value v;
	/* 17 digits: the literal is the float's exact value as a double. */
	EXPECT("0.10000000149011612", one(MYSQL_TYPE_FLOAT, m4, 1, fb, 4, false, &v));
	assert_int_equal(v.kind, DM_V_FLOAT);
	assert_true(v.f == 0.1f);
	f = 3.40282347e38f;
	memcpy(fb, &f, 4);
	EXPECT("3.4028234663852886e+38", one(MYSQL_TYPE_FLOAT, m4, 1, fb, 4, false, NULL));
	double d = 0.30000000000000004;
	uint8_t db[8];
	memcpy(db, &d, 8);
	EXPECT("0.30000000000000004", one(MYSQL_TYPE_DOUBLE, m8, 1, db, 8, false, NULL));
	d = -2.2250738585072014e-308;
	memcpy(db, &d, 8);
	EXPECT("-2.2250738585072014e-308", one(MYSQL_TYPE_DOUBLE, m8, 1, db, 8, false, NULL));
}

static char *dec(const char *text, int prec, int scale)
{
	uint8_t meta[2] = {(uint8_t)prec, (uint8_t)scale}, b[40];
	size_t n = enc_decimal(text, prec, scale, b);
	return one(MYSQL_TYPE_NEWDECIMAL, meta, 2, b, n, false, NULL);
}

static void test_decimal(void **state)
{
	(void)state;
	/* MySQL decimal.c's worked example, DECIMAL(14,4). */
	static const uint8_t pos[] = {0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2};
	static const uint8_t neg[] = {0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D};
	static const uint8_t m14[] = {14, 4};
	EXPECT("1234567890.1234", one(MYSQL_TYPE_NEWDECIMAL, m14, 2, pos, 7, false, NULL));
	EXPECT("-1234567890.1234", one(MYSQL_TYPE_NEWDECIMAL, m14, 2, neg, 7, false, NULL));
	uint8_t b[40];
	assert_int_equal(enc_decimal("1234567890.1234", 14, 4, b), 7);
	assert_memory_equal(b, pos, 7);

	EXPECT("-12.3400", dec("-12.34", 10, 4));
	EXPECT("0.0000", dec("0", 10, 4));
	EXPECT("0", dec("0", 1, 0));
	EXPECT("-9", dec("-9", 1, 0));
	EXPECT("-9999999999", dec("-9999999999", 10, 0));
	EXPECT("0.999999999", dec("0.999999999", 9, 9));
	EXPECT("-0.000000001", dec("-0.000000001", 9, 9));
	EXPECT("-12345678901234567890123456789012345.123456789012345678901234567890",
	       dec("-12345678901234567890123456789012345.12345678901234567890123456789", 65, 30));
	EXPECT("99999999999999999999999999999999999999999999999999999999999999999",
	       dec("99999999999999999999999999999999999999999999999999999999999999999", 65, 0));
	EXPECT("0.000000000000000000000000000001", dec("0.000000000000000000000000000001", 65, 30));
	EXPECT("-0.5", dec("-0.5", 5, 1));
	EXPECT("123456789.123456789", dec("123456789.123456789", 18, 9));
	/* A group above 999999999 cannot come from a server. */
	static const uint8_t bad[] = {0x80, 0xFF, 0xFF, 0xFF, 0xFF};
	static const uint8_t m9[] = {9, 0};
	char *e = one(MYSQL_TYPE_NEWDECIMAL, m9, 2, bad + 1, 4, false, NULL);
	assert_non_null(strstr(e, "invalid digit group"));
	free(e);
}

static void test_bit_enum_set(void **state)
{
	(void)state;
	static const uint8_t b1m[] = {1, 0}, b1v[] = {1};
	static const uint8_t b13m[] = {5, 1}, b13v[] = {0x1F, 0xFF};
	static const uint8_t b64m[] = {0, 8}, b64v[] = {0x80, 0, 0, 0, 0, 0, 0, 1};
	dm_value v;
	EXPECT("1", one(MYSQL_TYPE_BIT, b1m, 2, b1v, 1, false, &v));
	assert_int_equal(v.kind, DM_V_BIT);
	EXPECT("8191", one(MYSQL_TYPE_BIT, b13m, 2, b13v, 2, false, NULL));
	EXPECT("9223372036854775809", one(MYSQL_TYPE_BIT, b64m, 2, b64v, 8, false, NULL));

	/* ENUM/SET are STRING in the table map, the real type in metadata. */
	static const uint8_t e1[] = {MYSQL_TYPE_ENUM, 1}, e2[] = {MYSQL_TYPE_ENUM, 2};
	static const uint8_t v1[] = {3}, v2[] = {0x2C, 0x01};
	EXPECT("3", one(MYSQL_TYPE_STRING, e1, 2, v1, 1, false, &v));
	assert_int_equal(v.kind, DM_V_ENUM);
	EXPECT("300", one(MYSQL_TYPE_STRING, e2, 2, v2, 2, false, NULL));
	for (uint8_t n = 1; n <= 8; n++) {
		uint8_t m[] = {MYSQL_TYPE_SET, n}, val[8];
		memset(val, 0, sizeof(val));
		val[n - 1] = 0x80; /* the top member of the widest value */
		char want[32];
		snprintf(want, sizeof(want), "%llu", 1ULL << (8 * n - 1));
		EXPECT(want, one(MYSQL_TYPE_STRING, m, 2, val, n, false, &v));
		assert_int_equal(v.kind, DM_V_SET);
	}
}

/* ---- temporal -------------------------------------------------------- */

static char *t2(bool neg, unsigned h, unsigned m, unsigned s, uint32_t usec, unsigned fsp)
{
	uint8_t b[8], meta[1] = {(uint8_t)fsp};
	size_t n = enc_time2(neg, h, m, s, usec, fsp, b);
	return one(MYSQL_TYPE_TIME2, meta, 1, b, n, false, NULL);
}

static void test_time2(void **state)
{
	(void)state;
	/* Hand-checked bytes: offset 0x800000, fraction byte signed. */
	static const uint8_t zero[] = {0x80, 0, 0}, m1s[] = {0x7F, 0xFF, 0xFF};
	static const uint8_t mhalf[] = {0x7F, 0xFF, 0xFF, 0xCE};
	static const uint8_t f0[] = {0}, f1[] = {1};
	EXPECT("'00:00:00'", one(MYSQL_TYPE_TIME2, f0, 1, zero, 3, false, NULL));
	EXPECT("'-00:00:01'", one(MYSQL_TYPE_TIME2, f0, 1, m1s, 3, false, NULL));
	EXPECT("'-00:00:00.5'", one(MYSQL_TYPE_TIME2, f1, 1, mhalf, 4, false, NULL));
	uint8_t b[8];
	assert_int_equal(enc_time2(true, 0, 0, 0, 500000, 1, b), 4);
	assert_memory_equal(b, mhalf, 4);

	EXPECT("'-838:59:59'", t2(true, 838, 59, 59, 0, 0));
	EXPECT("'838:59:59'", t2(false, 838, 59, 59, 0, 0));
	EXPECT("'12:34:56.5'", t2(false, 12, 34, 56, 500000, 1));
	EXPECT("'-12:34:56.5'", t2(true, 12, 34, 56, 500000, 1));
	EXPECT("'-01:00:00.99'", t2(true, 1, 0, 0, 990000, 2));
	EXPECT("'-00:00:00.01'", t2(true, 0, 0, 0, 10000, 2));
	EXPECT("'-12:34:56.789'", t2(true, 12, 34, 56, 789000, 3));
	EXPECT("'-00:00:00.001'", t2(true, 0, 0, 0, 1000, 3));
	EXPECT("'-00:00:01.5000'", t2(true, 0, 0, 1, 500000, 4));
	EXPECT("'-00:00:00.0001'", t2(true, 0, 0, 0, 100, 4));
	EXPECT("'-838:59:58.99999'", t2(true, 838, 59, 58, 999990, 5));
	EXPECT("'-00:00:00.000001'", t2(true, 0, 0, 0, 1, 6));
	EXPECT("'-838:59:59.000000'", t2(true, 838, 59, 59, 0, 6));
	EXPECT("'838:59:59.999999'", t2(false, 838, 59, 59, 999999, 6));
	for (unsigned fsp = 0; fsp <= 6; fsp++) {
		static const uint32_t frac[] = {0, 100000, 120000, 123000, 123400, 123450, 123456};
		char want[40], digits[8];
		snprintf(digits, sizeof(digits), "%06u", frac[fsp]);
		digits[fsp] = '\0';
		snprintf(want, sizeof(want), "'-100:02:03%s%s'", fsp ? "." : "", digits);
		EXPECT(want, t2(true, 100, 2, 3, frac[fsp], fsp));
	}
}

static void test_datetime2_timestamp2(void **state)
{
	(void)state;
	static const uint8_t zero[] = {0x80, 0, 0, 0, 0}, f0[] = {0};
	EXPECT("'0000-00-00 00:00:00'", one(MYSQL_TYPE_DATETIME2, f0, 1, zero, 5, false, NULL));
	static const uint32_t frac[] = {0, 900000, 990000, 999000, 999900, 999990, 999999};
	for (unsigned fsp = 0; fsp <= 6; fsp++) {
		uint8_t b[8], meta[1] = {(uint8_t)fsp};
		size_t n = enc_datetime2(9999, 12, 31, 23, 59, 59, frac[fsp], fsp, b);
		char digits[8], want[48];
		snprintf(digits, sizeof(digits), "%06u", frac[fsp]);
		digits[fsp] = '\0';
		snprintf(want, sizeof(want), "'9999-12-31 23:59:59%s%s'", fsp ? "." : "", digits);
		EXPECT(want, one(MYSQL_TYPE_DATETIME2, meta, 1, b, n, false, NULL));

		n = enc_timestamp2(2147483647, frac[fsp], fsp, b);
		snprintf(want, sizeof(want), "'2038-01-19 03:14:07%s%s'", fsp ? "." : "", digits);
		EXPECT(want, one(MYSQL_TYPE_TIMESTAMP2, meta, 1, b, n, false, NULL));
	}
	uint8_t b[8], m3[] = {3};
	size_t n = enc_datetime2(2000, 1, 0, 10, 0, 0, 5000, 3, b);
	EXPECT("'2000-01-00 10:00:00.005'", one(MYSQL_TYPE_DATETIME2, m3, 1, b, n, false, NULL));
	/* TIMESTAMP 0 is the zero date, in UTC otherwise; i keeps the seconds. */
	dm_value v;
	n = enc_timestamp2(0, 0, 3, b);
	EXPECT("'0000-00-00 00:00:00.000'", one(MYSQL_TYPE_TIMESTAMP2, m3, 1, b, n, false, NULL));
	n = enc_timestamp2(1, 1000, 3, b);
	EXPECT("'1970-01-01 00:00:01.001'", one(MYSQL_TYPE_TIMESTAMP2, m3, 1, b, n, false, &v));
	assert_int_equal(v.kind, DM_V_TEXT);
	assert_int_equal(v.i, 1);
	assert_string_equal(v.buf, "1970-01-01 00:00:01.001");
}

static void test_old_temporal(void **state)
{
	(void)state;
	uint8_t b[8];
	/* DATE: day | month << 5 | year << 9, 3 bytes little-endian. */
	uint32_t d = 2024u << 9 | 2u << 5 | 29u;
	b[0] = (uint8_t)d, b[1] = (uint8_t)(d >> 8), b[2] = (uint8_t)(d >> 16);
	EXPECT("'2024-02-29'", one(MYSQL_TYPE_DATE, NULL, 0, b, 3, false, NULL));
	EXPECT("'2024-02-29'", one(MYSQL_TYPE_NEWDATE, NULL, 0, b, 3, false, NULL));
	memset(b, 0, 3);
	EXPECT("'0000-00-00'", one(MYSQL_TYPE_DATE, NULL, 0, b, 3, false, NULL));
	/* TIME: +-HHMMSS as a signed 3-byte integer. */
	int32_t t = -123456;
	b[0] = (uint8_t)t, b[1] = (uint8_t)(t >> 8), b[2] = (uint8_t)(t >> 16);
	EXPECT("'-12:34:56'", one(MYSQL_TYPE_TIME, NULL, 0, b, 3, false, NULL));
	t = 8385959;
	b[0] = (uint8_t)t, b[1] = (uint8_t)(t >> 8), b[2] = (uint8_t)(t >> 16);
	EXPECT("'838:59:59'", one(MYSQL_TYPE_TIME, NULL, 0, b, 3, false, NULL));
	/* DATETIME: YYYYMMDDhhmmss as an 8-byte integer. */
	uint64_t dt = 20240102030405ULL;
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(dt >> (8 * i));
	EXPECT("'2024-01-02 03:04:05'", one(MYSQL_TYPE_DATETIME, NULL, 0, b, 8, false, NULL));
	memset(b, 0, 8);
	EXPECT("'0000-00-00 00:00:00'", one(MYSQL_TYPE_DATETIME, NULL, 0, b, 8, false, NULL));
	/* TIMESTAMP: seconds, 4 bytes little-endian. */
	b[0] = 0xFF, b[1] = 0xFF, b[2] = 0xFF, b[3] = 0x7F;
	EXPECT("'2038-01-19 03:14:07'", one(MYSQL_TYPE_TIMESTAMP, NULL, 0, b, 4, false, NULL));
}

/* ---- strings ----------------------------------------------------------- */

static void test_strings(void **state)
{
	(void)state;
	/* VARCHAR: a 1-byte length up to 255 bytes, 2 bytes above. */
	static const uint8_t v200[] = {200, 0}, v300[] = {0x2C, 0x01};
	static const uint8_t s1[] = {3, 'a', 0, 'b'}, s2[] = {3, 0, 'x', 'y', 'z'};
	EXPECT("0x610062", one(MYSQL_TYPE_VARCHAR, v200, 2, s1, 4, false, NULL));
	EXPECT("0x78797a", one(MYSQL_TYPE_VARCHAR, v300, 2, s2, 5, false, NULL));
	static const uint8_t empty[] = {0};
	EXPECT("''", one(MYSQL_TYPE_VARCHAR, v200, 2, empty, 1, false, NULL));

	/* CHAR(255) utf8mb4 = 1020 bytes: two bits of the length live in
	 * the type byte (0xFE ^ 0x30 = 0xCE), and the value has a 2-byte
	 * length. CHAR(10): plain, 1-byte length. */
	static const uint8_t c1020[] = {0xCE, 0xFC}, c10[] = {0xFE, 10};
	uint8_t big[2 + 600];
	big[0] = 600 & 0xFF, big[1] = 600 >> 8;
	memset(big + 2, 'e', 600);
	dm_value v;
	char *got = one(MYSQL_TYPE_STRING, c1020, 2, big, sizeof(big), false, &v);
	assert_int_equal(strlen(got), 2 + 1200);
	assert_int_equal(v.kind, DM_V_BYTES);
	assert_int_equal(v.len, 600);
	free(got);
	static const uint8_t c3[] = {3, 'a', 'b', 'c'};
	EXPECT("0x616263", one(MYSQL_TYPE_STRING, c10, 2, c3, 4, false, NULL));
	/* More bytes than the column holds: a table map that does not fit. */
	static const uint8_t c2[] = {0xFE, 2};
	char *e = one(MYSQL_TYPE_STRING, c2, 2, c3, 4, false, NULL);
	assert_non_null(strstr(e, "ERR: rows event of `db`.`t`"));
	free(e);

	/* BLOB with a 1, 2, 3 and 4 byte length. */
	for (uint8_t n = 1; n <= 4; n++) {
		uint8_t m[] = {n}, val[4 + 2];
		memset(val, 0, sizeof(val));
		val[0] = 2;
		val[n] = 0x00;
		val[n + 1] = 0xFF;
		EXPECT("0x00ff", one(MYSQL_TYPE_BLOB, m, 1, val, (size_t)n + 2, false, NULL));
		EXPECT("0x00ff", one(MYSQL_TYPE_GEOMETRY, m, 1, val, (size_t)n + 2, false, NULL));
	}
	static const uint8_t m4[] = {4}, trunc[] = {0xFF, 0xFF, 0, 0, 'x'};
	e = one(MYSQL_TYPE_BLOB, m4, 1, trunc, sizeof(trunc), false, NULL);
	assert_non_null(strstr(e, "truncated"));
	free(e);
}

/* ---- table maps, images, events -------------------------------------- */

static void test_table_map_metadata(void **state)
{
	(void)state;
	/* id INT, y YEAR, u INT UNSIGNED, d DECIMAL(5,2), c CHAR(4), g GEOMETRY, v VARCHAR(10) */
	static const uint8_t types[] = {
	        MYSQL_TYPE_LONG,   MYSQL_TYPE_YEAR,     MYSQL_TYPE_LONG,   MYSQL_TYPE_NEWDECIMAL,
	        MYSQL_TYPE_STRING, MYSQL_TYPE_GEOMETRY, MYSQL_TYPE_VARCHAR};
	static const uint8_t meta[] = {5, 2, 0xFE, 4, 4, 10, 0};
	/* SIGNEDNESS: one bit per numeric column, YEAR included (MariaDB),
	 * most significant first: id 0, y 1, u 1, d 0 -> 0110. DEFAULT_CHARSET
	 * 45 with character column 1 (g) binary. Names, primary key (0). */
	static const uint8_t opt[] = {1,   1, 0x60, 2, 3,   45, 1,   63, 4,   15, 2,   'i', 'd', 1,
	                              'y', 1, 'u',  1, 'd', 1,  'c', 1,  'g', 1,  'v', 8,   1,   0};
	tmap_spec s = {types, 7, meta, sizeof(meta), opt, sizeof(opt)};
	dm_tmap *t = tmap(&s);
	assert_string_equal(t->schema, "db");
	assert_string_equal(t->table, "t");
	assert_true(t->table_id == TID);
	assert_true(t->has_names && t->has_signedness);
	assert_false(t->cols[0].is_unsigned);
	assert_true(t->cols[2].is_unsigned);
	assert_false(t->cols[3].is_unsigned);
	assert_int_equal(t->cols[3].meta, 5 << 8 | 2);
	assert_int_equal(t->cols[4].type, MYSQL_TYPE_STRING);
	assert_int_equal(t->cols[4].meta, 4);
	assert_int_equal(t->cols[4].charset, 45);
	assert_int_equal(t->cols[5].charset, 63);
	assert_int_equal(t->cols[6].charset, 45);
	assert_int_equal(t->cols[6].meta, 10);
	assert_string_equal(t->cols[6].name, "v");
	assert_true(t->cols[0].pk && !t->cols[1].pk);
	assert_true(t->cols[0].nullable);
	dm_tmap_free(t);

	/* No optional metadata: no names, signed, caller fills in. */
	tmap_spec bare = {types, 7, meta, sizeof(meta), NULL, 0};
	t = tmap(&bare);
	assert_false(t->has_names || t->has_signedness);
	assert_null(t->cols[0].name);
	const char *names[] = {"id", "y", "u", "d", "c", "g", "v"};
	for (uint32_t i = 0; i < 7; i++) {
		assert_false(t->has_names);
		dm_tmap_set_name(t, i, names[i]);
	}
	assert_true(t->has_names);
	dm_tmap_set_unsigned(t, 2, true);
	dm_tmap_set_pk(t, 0, true);
	dm_tmap_set_pk(t, 99, true); /* out of range: ignored */
	assert_true(t->cols[2].is_unsigned && t->cols[0].pk);
	dm_tmap_free(t);

	/* Types and metadata that cannot be right. */
	dm_err err;
	static const uint8_t unknown[] = {20};
	tmap_spec u = {unknown, 1, NULL, 0, NULL, 0};
	assert_null(tmap_try(&u, &err));
	assert_non_null(strstr(err.msg, "binlog type 20"));
	static const uint8_t dect[] = {MYSQL_TYPE_NEWDECIMAL}, decm[] = {70, 2};
	tmap_spec dd = {dect, 1, decm, 2, NULL, 0};
	assert_null(tmap_try(&dd, &err));
	assert_non_null(strstr(err.msg, "DECIMAL(70,2)"));
	tmap_spec shortm = {types, 7, meta, 3, NULL, 0};
	assert_null(tmap_try(&shortm, &err));
	assert_non_null(strstr(err.msg, "truncated"));
	dm_tmap_free(NULL);
}

static void test_images_nulls_minimal(void **state)
{
	(void)state;
	static const uint8_t types[] = {MYSQL_TYPE_LONG, MYSQL_TYPE_VARCHAR, MYSQL_TYPE_TINY};
	static const uint8_t meta[] = {10, 0};
	tmap_spec s = {types, 3, meta, sizeof(meta), NULL, 0};
	dm_tmap *t = tmap(&s);
	collect c;
	memset(&c, 0, sizeof(c));
	dm_buf_init(&c.text);
	dm_err err;
	static const uint8_t all = 0x07, first_last = 0x05, second = 0x02;

	/* WRITE, two rows: (1,'ab',NULL), (NULL,'',-1). */
	static const uint8_t w[] = {0x04, 1, 0, 0, 0, 2, 'a', 'b', 0x01, 0, 0xFF};
	assert_int_equal(rows_event(t, WRITE_ROWS_EVENT_V1, &all, NULL, w, sizeof(w), &c, &err), 0);
	assert_string_equal(dm_buf_str(&c.text), "A[1,0x6162,NULL];A[NULL,'',-1];");

	/* DELETE with a MINIMAL before image: the key only. */
	dm_buf_reset(&c.text);
	static const uint8_t dl[] = {0x00, 7, 0, 0, 0};
	static const uint8_t key = 0x01;
	assert_int_equal(rows_event(t, DELETE_ROWS_EVENT_V1, &key, NULL, dl, sizeof(dl), &c, &err),
	                 0);
	assert_string_equal(dm_buf_str(&c.text), "B[7,-,-];");

	/* UPDATE v1 (MariaDB): before (id, tiny NULL), after (varchar);
	 * the NULL bitmap counts present columns only. */
	dm_buf_reset(&c.text);
	static const uint8_t up[] = {0x02, 5, 0, 0, 0, 0x00, 1, 'z'};
	assert_int_equal(
	        rows_event(t, UPDATE_ROWS_EVENT_V1, &first_last, &second, up, sizeof(up), &c, &err),
	        0);
	assert_string_equal(dm_buf_str(&c.text), "B[5,-,NULL]A[-,0x7a,-];");

	/* UPDATE v2 (MySQL): Connector/C leaves the after-image bitmap at
	 * the start of the row data. */
	dm_buf_reset(&c.text);
	static const uint8_t up2[] = {0x02, 0x02, 5, 0, 0, 0, 0x00, 1, 'z'};
	assert_int_equal(
	        rows_event(t, UPDATE_ROWS_EVENT, &first_last, NULL, up2, sizeof(up2), &c, &err), 0);
	assert_string_equal(dm_buf_str(&c.text), "B[5,-,NULL]A[-,0x7a,-];");

	/* A non-zero callback return stops and is passed on. */
	dm_buf_reset(&c.text);
	c.rows = 0;
	c.stop_after = 1;
	assert_int_equal(rows_event(t, WRITE_ROWS_EVENT_V1, &all, NULL, w, sizeof(w), &c, &err), 7);
	assert_string_equal(dm_buf_str(&c.text), "A[1,0x6162,NULL];");
	c.stop_after = 0;

	/* No column in the image: an error, not an endless loop. */
	static const uint8_t none = 0;
	assert_int_equal(rows_event(t, WRITE_ROWS_EVENT_V1, &none, NULL, w, sizeof(w), &c, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "logs no column"));

	/* Data that does not fit: truncated row, wrong table, wrong width. */
	assert_int_equal(rows_event(t, WRITE_ROWS_EVENT_V1, &all, NULL, w, 6, &c, &err), -1);
	assert_non_null(strstr(err.msg, "rows event of `db`.`t`: inserted row: column 2"));
	MARIADB_RPL_EVENT ev;
	memset(&ev, 0, sizeof(ev));
	ev.event_type = WRITE_ROWS_EVENT_V1;
	ev.event.rows.table_id = TID + 1;
	ev.event.rows.column_count = 3;
	ev.event.rows.column_bitmap = (unsigned char *)&all;
	assert_int_equal(dm_rows_decode(t, &ev, on_row, &c, &err), -1);
	assert_non_null(strstr(err.msg, "table id 43"));
	ev.event.rows.table_id = TID;
	ev.event.rows.column_count = 4;
	assert_int_equal(dm_rows_decode(t, &ev, on_row, &c, &err), -1);
	assert_non_null(strstr(err.msg, "4 columns"));
	ev.event_type = QUERY_EVENT;
	assert_int_equal(dm_rows_decode(t, &ev, on_row, &c, &err), -1);
	dm_buf_fini(&c.text);
	dm_tmap_free(t);
}

static void test_value_sql(void **state)
{
	(void)state;
	dm_buf b;
	dm_buf_init(&b);
	dm_tcol bin8 = {.type = MYSQL_TYPE_STRING, .meta = 8, .charset = 63};
	dm_tcol text = {.type = MYSQL_TYPE_STRING, .meta = 8, .charset = 45};
	static const unsigned char one_byte[] = {0x01};
	dm_value v = {.kind = DM_V_BYTES, .present = true, .ptr = one_byte, .len = 1};
	/* BINARY(n) gets back the trailing zero bytes the binlog drops. */
	dm_value_sql(&b, &bin8, &v);
	assert_string_equal(dm_buf_str(&b), "0x0100000000000000");
	dm_buf_reset(&b);
	dm_value_sql(&b, &text, &v);
	assert_string_equal(dm_buf_str(&b), "0x01");
	dm_buf_reset(&b);
	v.present = false;
	dm_value_sql(&b, &text, &v);
	v = (dm_value){.kind = DM_V_NULL, .present = true};
	dm_buf_putc(&b, ' ');
	dm_value_sql(&b, &text, &v);
	dm_tcol dec = {.type = MYSQL_TYPE_NEWDECIMAL, .meta = 5 << 8 | 2};
	v = (dm_value){.kind = DM_V_TEXT, .present = true};
	strcpy(v.buf, "-1.50");
	dm_buf_putc(&b, ' ');
	dm_value_sql(&b, &dec, &v);
	assert_string_equal(dm_buf_str(&b), "DEFAULT NULL -1.50");
	dm_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_integers),
	        cmocka_unit_test(test_year_float_double),
	        cmocka_unit_test(test_decimal),
	        cmocka_unit_test(test_bit_enum_set),
	        cmocka_unit_test(test_time2),
	        cmocka_unit_test(test_datetime2_timestamp2),
	        cmocka_unit_test(test_old_temporal),
	        cmocka_unit_test(test_strings),
	        cmocka_unit_test(test_table_map_metadata),
	        cmocka_unit_test(test_images_nulls_minimal),
	        cmocka_unit_test(test_value_sql),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
