/* Fuzz target: the row decoder (mysql/rowdec.h) on a table map and a rows
 * event cut from the input, the way a damaged or hostile binlog would
 * reach it. Layout of the input:
 *
 *   [0]          column count - 1 (mod 16)
 *   [n bytes]    column types, each an index into the types below
 *   [2n bytes]   per-column metadata, as much as the types take
 *   [1]          length L of the optional metadata, then L bytes
 *   [1]          event kind (write/update/delete, v1 or v2)
 *   [2 x n/8]    column bitmaps (before, after)
 *   [rest]       row data
 *
 * Checks: the decoder returns 0 or -1 with a message, every present
 * value has a kind, TEXT values are NUL-terminated with len == strlen,
 * BYTES of non-JSON columns lie inside the row data, and every value
 * renders as SQL. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "fuzz_common.h"
#include "mysql/rowdec.h"

static const uint8_t types[] = {
        MYSQL_TYPE_TINY,
        MYSQL_TYPE_SHORT,
        MYSQL_TYPE_INT24,
        MYSQL_TYPE_LONG,
        MYSQL_TYPE_LONGLONG,
        MYSQL_TYPE_FLOAT,
        MYSQL_TYPE_DOUBLE,
        MYSQL_TYPE_YEAR,
        MYSQL_TYPE_DATE,
        MYSQL_TYPE_TIME,
        MYSQL_TYPE_DATETIME,
        MYSQL_TYPE_TIMESTAMP,
        MYSQL_TYPE_TIME2,
        MYSQL_TYPE_DATETIME2,
        MYSQL_TYPE_TIMESTAMP2,
        MYSQL_TYPE_VARCHAR,
        MYSQL_TYPE_BIT,
        MYSQL_TYPE_NEWDECIMAL,
        MYSQL_TYPE_STRING,
        MYSQL_TYPE_BLOB,
        MYSQL_TYPE_GEOMETRY,
        MYSQL_TYPE_JSON,
        MYSQL_TYPE_VAR_STRING,
        MYSQL_TYPE_ENUM,
        MYSQL_TYPE_SET,
        MYSQL_TYPE_MEDIUM_BLOB,
        140,
        0x20,
};

static const int kinds[] = {WRITE_ROWS_EVENT_V1, UPDATE_ROWS_EVENT_V1, DELETE_ROWS_EVENT_V1,
                            WRITE_ROWS_EVENT,    UPDATE_ROWS_EVENT,    DELETE_ROWS_EVENT};

typedef struct ctx {
	const dm_tmap *t;
	const uint8_t *data, *end;
	dm_buf sql;
} ctx;

static void check_row(ctx *x, const dm_row *r)
{
	if (r == NULL)
		return;
	FUZZ_ASSERT(r->ncols == x->t->ncols);
	for (uint32_t i = 0; i < r->ncols; i++) {
		const dm_value *v = &r->v[i];
		const dm_tcol *c = &x->t->cols[i];
		if (!v->present)
			continue;
		FUZZ_ASSERT(v->kind >= DM_V_NULL && v->kind <= DM_V_SET);
		if (v->kind == DM_V_TEXT)
			FUZZ_ASSERT(v->len == strlen(v->buf) && v->len < sizeof(v->buf));
		if (v->kind == DM_V_BYTES && c->type != MYSQL_TYPE_JSON)
			FUZZ_ASSERT(v->ptr >= x->data && v->ptr + v->len <= x->end);
		dm_buf_reset(&x->sql);
		dm_value_sql(&x->sql, c, v);
		FUZZ_ASSERT(x->sql.len > 0);
	}
}

static int on_row(void *arg, const dm_row *before, const dm_row *after)
{
	ctx *x = arg;
	FUZZ_ASSERT(before != NULL || after != NULL);
	check_row(x, before);
	check_row(x, after);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	if (size < 1)
		return 0;
	uint32_t n = (uint32_t)(*p++ % 16) + 1;
	size_t nb = (n + 7) / 8;
	if ((size_t)(end - p) < n + 2 * n + 1)
		return 0;
	uint8_t ct[16];
	for (uint32_t i = 0; i < n; i++)
		ct[i] = types[p[i] % sizeof(types)];
	p += n;
	const uint8_t *meta = p;
	p += 2 * n;
	size_t optlen = *p++;
	if ((size_t)(end - p) < optlen + 1 + 2 * nb)
		return 0;
	/* raw = NULL bitmap + optional metadata, as in a real event. */
	uint8_t raw[1 + 2 + 255];
	memset(raw, 0xFF, nb);
	memcpy(raw + nb, p, optlen);
	p += optlen;

	MARIADB_RPL_EVENT tm;
	memset(&tm, 0, sizeof(tm));
	tm.event_type = TABLE_MAP_EVENT;
	tm.event.table_map.table_id = 9;
	tm.event.table_map.database = (MARIADB_STRING){(char *)"db", 2};
	tm.event.table_map.table = (MARIADB_STRING){(char *)"t", 1};
	tm.event.table_map.column_count = n;
	tm.event.table_map.column_types = (MARIADB_STRING){(char *)ct, n};
	tm.event.table_map.metadata = (MARIADB_STRING){(char *)meta, 2 * n};
	tm.event.table_map.null_indicator = raw;
	tm.raw_data = raw;
	tm.raw_data_size = nb + optlen;
	dm_tmap *t = NULL;
	dm_err err;
	dm_err_clear(&err);
	if (dm_tmap_from_event(&tm, &t, &err) < 0) {
		FUZZ_ASSERT(t == NULL && err.code != DM_OK && err.msg[0] != '\0');
		return 0;
	}
	FUZZ_ASSERT(t->ncols == n && strcmp(t->schema, "db") == 0);

	int kind = kinds[*p++ % 6];
	const uint8_t *cols1 = p, *cols2 = p + nb;
	p += 2 * nb;
	MARIADB_RPL_EVENT ev;
	memset(&ev, 0, sizeof(ev));
	ev.event_type = kind;
	ev.event.rows.table_id = 9;
	ev.event.rows.column_count = n;
	ev.event.rows.column_bitmap = (unsigned char *)cols1;
	if (kind == UPDATE_ROWS_EVENT_V1)
		ev.event.rows.column_update_bitmap = (unsigned char *)cols2;
	ev.event.rows.row_data = (void *)p;
	ev.event.rows.row_data_size = (size_t)(end - p);
	ctx x = {t, p, end, {0}};
	dm_buf_init(&x.sql);
	dm_err_clear(&err);
	int rc = dm_rows_decode(t, &ev, on_row, &x, &err);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc < 0)
		FUZZ_ASSERT(err.code != DM_OK && err.msg[0] != '\0');
	dm_buf_fini(&x.sql);
	dm_tmap_free(t);
	return 0;
}
