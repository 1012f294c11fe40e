/* MySQL's binary JSON (column type 245) rendered as text by the row
 * decoder: documents built by hand from the format's definition (small
 * and large containers, inlined and pointed-to values, opaque types). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/rowdec.h"

#define EXPECT(want, got)                                                                          \
	do {                                                                                       \
		char *g_ = (got);                                                                  \
		assert_string_equal(g_, want);                                                     \
		free(g_);                                                                          \
	} while (0)

typedef struct got {
	dm_buf text;
} got;

static int on_row(void *arg, const dm_row *before, const dm_row *after)
{
	(void)before;
	got *g = arg;
	const dm_value *v = &after->v[0];
	assert_int_equal(v->kind, DM_V_BYTES);
	dm_buf_append(&g->text, v->ptr, v->len);
	return 0;
}

/* A JSON column (4-byte length) holding doc in one inserted row; the
 * text the decoder made of it, or "ERR: message". */
static char *json(const uint8_t *doc, size_t n)
{
	uint8_t type = MYSQL_TYPE_JSON, meta = 4, nulls = 0xFF;
	MARIADB_RPL_EVENT tm;
	memset(&tm, 0, sizeof(tm));
	tm.event_type = TABLE_MAP_EVENT;
	tm.event.table_map.table_id = 1;
	tm.event.table_map.column_count = 1;
	tm.event.table_map.column_types = (MARIADB_STRING){(char *)&type, 1};
	tm.event.table_map.metadata = (MARIADB_STRING){(char *)&meta, 1};
	tm.event.table_map.null_indicator = &nulls;
	dm_tmap *t;
	dm_err err;
	assert_int_equal(dm_tmap_from_event(&tm, &t, &err), 0);

	uint8_t *row = dm_xmalloc(n + 5), cols = 1;
	row[0] = 0, row[1] = (uint8_t)n, row[2] = (uint8_t)(n >> 8), row[3] = (uint8_t)(n >> 16);
	row[4] = (uint8_t)(n >> 24);
	memcpy(row + 5, doc, n);
	MARIADB_RPL_EVENT ev;
	memset(&ev, 0, sizeof(ev));
	ev.event_type = WRITE_ROWS_EVENT;
	ev.event.rows.table_id = 1;
	ev.event.rows.column_count = 1;
	ev.event.rows.column_bitmap = &cols;
	ev.event.rows.row_data = row;
	ev.event.rows.row_data_size = n + 5;
	got g;
	dm_buf_init(&g.text);
	char *res = dm_rows_decode(t, &ev, on_row, &g, &err) < 0 ? dm_xasprintf("ERR: %s", err.msg)
	                                                         : dm_xstrdup(dm_buf_str(&g.text));
	dm_buf_fini(&g.text);
	free(row);
	dm_tmap_free(t);
	return res;
}

/* DECIMAL(4,2) 12.34 as stored (test_rowdec.c has the general encoder):
 * one byte per side for two digits, the sign bit flipped. */
static size_t enc_12_34(uint8_t *out)
{
	out[0] = 0x80 | 12, out[1] = 34;
	return 2;
}

static void test_mysql_json(void **state)
{
	(void)state;
	/* {"a": [1, "x", true, null, 1.5]} in the small format: object of 1
	 * (count, size, key entry, value entry, key), then the array at 12. */
	static const uint8_t doc[] = {
	        0x00,                                          /* small object */
	        0x01, 0x00, 0x29, 0x00,                        /* 1 member, 41 bytes */
	        0x0B, 0x00, 0x01, 0x00,                        /* key at 11, length 1 */
	        0x02, 0x0C, 0x00,                              /* small array at 12 */
	        'a',                                           /* key */
	        0x05, 0x00, 0x1D, 0x00,                        /* array: 5 elements, 29 bytes */
	        0x05, 0x01, 0x00,                              /* int16 1, inlined */
	        0x0C, 0x13, 0x00,                              /* string at 19 */
	        0x04, 0x01, 0x00,                              /* true */
	        0x04, 0x00, 0x00,                              /* null */
	        0x0B, 0x15, 0x00,                              /* double at 21 */
	        0x01, 'x',                                     /* "x" */
	        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F /* 1.5 */
	};
	EXPECT("{\"a\": [1, \"x\", true, null, 1.5]}", json(doc, sizeof(doc)));

	/* Large format: 32-bit counts and offsets, 32-bit integers inlined. */
	static const uint8_t larr[] = {0x03, 2,    0,    0,    0,    18, 0, 0, 0, 0x07,
	                               0xFB, 0xFF, 0xFF, 0xFF, 0x08, 7,  0, 0, 0};
	EXPECT("[-5, 7]", json(larr, sizeof(larr)));
	static const uint8_t lobj[] = {0x01, 1, 0, 0,    0,  22, 0, 0, 0,   19, 0,  0,
	                               0,    1, 0, 0x0C, 20, 0,  0, 0, 'k', 1,  'v'};
	EXPECT("{\"k\": \"v\"}", json(lobj, sizeof(lobj)));

	/* Scalars: a string needing escapes, uint64, int32 negative, opaque
	 * DECIMAL(4,2) 12.34, opaque DATETIME 2024-01-02 03:04:05.000006. */
	static const uint8_t str[] = {0x0C, 0x04, '"', '\\', '\n', 0x01};
	EXPECT("\"\\\"\\\\\\n\\u0001\"", json(str, sizeof(str)));
	static const uint8_t u64[] = {0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	EXPECT("18446744073709551615", json(u64, sizeof(u64)));
	static const uint8_t i32[] = {0x07, 0xFE, 0xFF, 0xFF, 0xFF};
	EXPECT("-2", json(i32, sizeof(i32)));
	uint8_t dec[16] = {0x0F, MYSQL_TYPE_NEWDECIMAL, 0, 4, 2};
	size_t dn = enc_12_34(dec + 5);
	dec[2] = (uint8_t)(dn + 2);
	EXPECT("12.34", json(dec, 5 + dn));
	uint64_t ymd = (2024 * 13 + 1) << 5 | 2, hms = 3 << 12 | 4 << 6 | 5;
	uint64_t packed = ((ymd << 17 | hms) << 24) + 6;
	uint8_t dt[11] = {0x0F, MYSQL_TYPE_DATETIME, 8};
	for (int i = 0; i < 8; i++)
		dt[3 + i] = (uint8_t)(packed >> (8 * i));
	EXPECT("\"2024-01-02 03:04:05.000006\"", json(dt, sizeof(dt)));
	static const uint8_t dbl[] = {0x0B, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F};
	EXPECT("1.0", json(dbl, sizeof(dbl)));

	/* Broken documents are refused, not read past their end. */
	static const uint8_t bad1[] = {0x00, 0x05, 0x00, 0xFF, 0x00};
	char *e = json(bad1, sizeof(bad1));
	assert_non_null(strstr(e, "MySQL JSON value is malformed"));
	free(e);
	static const uint8_t bad2[] = {0x0C, 0x09, 'a'};
	e = json(bad2, sizeof(bad2));
	assert_non_null(strstr(e, "malformed"));
	free(e);
	/* 200 entries sharing one array of 200 entries: refused, not 40000
	 * values of text from a 1 KB document. */
	static uint8_t fan[2 + 4 + 4 + 200 * 3 + 4 + 200 * 3];
	size_t inner = 4 + 200 * 3, outer = 4 + 200 * 3 + inner;
	fan[0] = 0x02, fan[1] = 200, fan[2] = 0, fan[3] = (uint8_t)outer,
	fan[4] = (uint8_t)(outer >> 8);
	for (int i = 0; i < 200; i++) {
		uint8_t *ve = fan + 5 + i * 3;
		ve[0] = 0x02, ve[1] = (uint8_t)(outer - inner),
		ve[2] = (uint8_t)((outer - inner) >> 8);
	}
	uint8_t *in = fan + 1 + outer - inner;
	in[0] = 200, in[1] = 0, in[2] = (uint8_t)inner, in[3] = (uint8_t)(inner >> 8);
	for (int i = 0; i < 200; i++)
		in[4 + i * 3] = 0x04; /* null, inlined */
	e = json(fan, 1 + outer);
	assert_non_null(strstr(e, "far larger"));
	free(e);
	static const uint8_t bad3[] = {0x42};
	e = json(bad3, sizeof(bad3));
	assert_non_null(strstr(e, "unknown value type"));
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_mysql_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
