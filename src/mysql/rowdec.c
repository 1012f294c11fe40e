/* Table maps (column types, metadata, optional metadata) and the framing
 * of rows events: column bitmaps, NULL bitmaps, before/after images. */
#include "mysql/rowdec_impl.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

/* Optional metadata field types (TABLE_MAP after the NULL bitmap). */
enum {
	OPT_SIGNEDNESS = 1,
	OPT_DEFAULT_CHARSET = 2,
	OPT_COLUMN_CHARSET = 3,
	OPT_COLUMN_NAME = 4,
	OPT_SIMPLE_PRIMARY_KEY = 8,
	OPT_PRIMARY_KEY_WITH_PREFIX = 9,
};

/* A column count beyond MySQL's and MariaDB's 4096 means a broken event. */
#define DM_ROWDEC_MAX_COLS 4096

static bool bit(const unsigned char *bm, uint32_t i)
{
	return (bm[i / 8] >> (i % 8)) & 1;
}

/* Length-encoded integer from [*p, end); false when truncated or NULL
 * (251), which no metadata field uses. */
static bool lenenc(const unsigned char **p, const unsigned char *end, uint64_t *out)
{
	if (*p >= end)
		return false;
	unsigned char c = **p;
	int n = c < 251 ? 0 : c == 252 ? 2 : c == 253 ? 3 : c == 254 ? 8 : -1;
	if (n < 0 || end - *p < 1 + n)
		return false;
	*out = n == 0 ? c : dm_le(*p + 1, n);
	*p += 1 + n;
	return true;
}

/* ---- table map ------------------------------------------------------- */

/* Bytes of per-column metadata in the TABLE_MAP for a binlog type, -1
 * for a type this decoder does not know. */
static int meta_bytes(uint8_t type)
{
	switch (type) {
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_YEAR:
	case MYSQL_TYPE_DATE:
	case MYSQL_TYPE_NEWDATE:
	case MYSQL_TYPE_TIME:
	case MYSQL_TYPE_DATETIME:
	case MYSQL_TYPE_TIMESTAMP:
	case MYSQL_TYPE_NULL: return 0;
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
	case MYSQL_TYPE_TIME2:
	case MYSQL_TYPE_DATETIME2:
	case MYSQL_TYPE_TIMESTAMP2:
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_GEOMETRY:
	case MYSQL_TYPE_JSON:
	case DM_TYPE_BLOB_COMPRESSED: return 1;
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_BIT:
	case MYSQL_TYPE_NEWDECIMAL:
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_ENUM:
	case MYSQL_TYPE_SET:
	case DM_TYPE_VARCHAR_COMPRESSED:
	case MYSQL_TYPE_DECIMAL: return 2;
	default: return -1;
	}
}

/* Sets c->type/meta from the binlog type and its raw metadata bytes. */
static int set_type(dm_tcol *c, uint8_t type, const unsigned char *m, dm_err *err)
{
	c->type = type;
	switch (type) {
	case MYSQL_TYPE_NEWDATE: c->type = MYSQL_TYPE_DATE; break;
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_GEOMETRY:
	case MYSQL_TYPE_JSON:
	case DM_TYPE_BLOB_COMPRESSED:
		c->meta = m[0];
		if (type >= MYSQL_TYPE_TINY_BLOB && type <= MYSQL_TYPE_BLOB)
			c->type = MYSQL_TYPE_BLOB;
		if ((type == MYSQL_TYPE_FLOAT && c->meta != 4) ||
		    (type == MYSQL_TYPE_DOUBLE && c->meta != 8) ||
		    (type != MYSQL_TYPE_FLOAT && type != MYSQL_TYPE_DOUBLE &&
		     (c->meta < 1 || c->meta > 4)))
			return dm_err_set(err, DM_EINVAL, "type %u with metadata %u", type,
			                  c->meta);
		break;
	case MYSQL_TYPE_TIME2:
	case MYSQL_TYPE_DATETIME2:
	case MYSQL_TYPE_TIMESTAMP2:
		c->meta = m[0];
		if (c->meta > 6)
			return dm_err_set(err, DM_EINVAL, "type %u with %u fractional digits", type,
			                  c->meta);
		break;
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_VAR_STRING:
	case DM_TYPE_VARCHAR_COMPRESSED: c->meta = (uint16_t)dm_le(m, 2); break;
	case MYSQL_TYPE_BIT: {
		unsigned bits = m[0], bytes = m[1];
		c->meta = (uint16_t)(bytes * 8 + bits);
		if (bits > 7 || c->meta < 1 || c->meta > 64)
			return dm_err_set(err, DM_EINVAL, "BIT with metadata %u/%u", bits, bytes);
		break;
	}
	case MYSQL_TYPE_NEWDECIMAL:
		c->meta = (uint16_t)(m[0] << 8 | m[1]);
		if (m[0] < 1 || m[0] > 65 || m[1] > 38 || m[1] > m[0])
			return dm_err_set(err, DM_EINVAL, "DECIMAL(%u,%u)", m[0], m[1]);
		break;
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_ENUM:
	case MYSQL_TYPE_SET: {
		/* Real type in the first byte; CHAR lengths above 255 borrow
		 * two bits of it (inverted, so the byte keeps 0x30 clear). */
		unsigned b0 = m[0], b1 = m[1];
		if ((b0 & 0x30) != 0x30) {
			c->type = (uint8_t)(b0 | 0x30);
			c->meta = (uint16_t)(b1 | (((b0 & 0x30) ^ 0x30) << 4));
		} else {
			c->type = (uint8_t)b0;
			c->meta = (uint16_t)b1;
		}
		if (c->type == MYSQL_TYPE_ENUM && (c->meta < 1 || c->meta > 2))
			return dm_err_set(err, DM_EINVAL, "ENUM of %u bytes", c->meta);
		if (c->type == MYSQL_TYPE_SET && (c->meta < 1 || c->meta > 8))
			return dm_err_set(err, DM_EINVAL, "SET of %u bytes", c->meta);
		if (c->type != MYSQL_TYPE_STRING && c->type != MYSQL_TYPE_ENUM &&
		    c->type != MYSQL_TYPE_SET)
			return dm_err_set(err, DM_EINVAL, "CHAR with real type %u", c->type);
		break;
	}
	default: break;
	}
	return 0;
}

/* Types the SIGNEDNESS bitmap has a bit for, in column order. MariaDB
 * counts YEAR (an unsigned TINYINT to it), MySQL does not. */
static bool is_numeric(uint8_t type, bool mariadb)
{
	switch (type) {
	case MYSQL_TYPE_YEAR: return mariadb;
	case MYSQL_TYPE_TINY:
	case MYSQL_TYPE_SHORT:
	case MYSQL_TYPE_INT24:
	case MYSQL_TYPE_LONG:
	case MYSQL_TYPE_LONGLONG:
	case MYSQL_TYPE_FLOAT:
	case MYSQL_TYPE_DOUBLE:
	case MYSQL_TYPE_NEWDECIMAL:
	case MYSQL_TYPE_DECIMAL: return true;
	default: return false;
	}
}

/* Types the charset fields list, in column order (ENUM/SET have their
 * own fields, which this decoder does not need). MariaDB lists GEOMETRY
 * (as binary), MySQL does not. */
static bool is_character(uint8_t type, bool mariadb)
{
	switch (type) {
	case MYSQL_TYPE_GEOMETRY: return mariadb;
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_BLOB:
	case DM_TYPE_VARCHAR_COMPRESSED:
	case DM_TYPE_BLOB_COMPRESSED: return true;
	default: return false;
	}
}

static void set_charsets(dm_tmap *t, bool mariadb, uint32_t nchar, const uint32_t *cs)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < t->ncols && k < nchar; i++)
		if (is_character(t->cols[i].type, mariadb))
			t->cols[i].charset = cs[k++];
}

/* Optional metadata. Fields this decoder does not use are skipped; a
 * field that does not fit the columns is ignored rather than trusted
 * (names and keys can still come from the caller). */
static int parse_optional(dm_tmap *t, bool mariadb, const unsigned char *p,
                          const unsigned char *end, dm_err *err)
{
	uint32_t nnum = 0, nchar = 0;
	for (uint32_t i = 0; i < t->ncols; i++) {
		nnum += is_numeric(t->cols[i].type, mariadb);
		nchar += is_character(t->cols[i].type, mariadb);
	}
	uint32_t *cs = dm_xcalloc(nchar + 1, sizeof(*cs));
	while (p < end) {
		unsigned kind = *p++;
		uint64_t len;
		if (!lenenc(&p, end, &len) || len > (uint64_t)(end - p)) {
			free(cs);
			return dm_err_set(err, DM_EINVAL, "optional metadata field %u is truncated",
			                  kind);
		}
		const unsigned char *q = p, *qe = p + len;
		p = qe;
		uint64_t v, w;
		switch (kind) {
		case OPT_SIGNEDNESS:
			if (len != (nnum + 7) / 8)
				break;
			for (uint32_t i = 0, k = 0; i < t->ncols; i++)
				if (is_numeric(t->cols[i].type, mariadb)) {
					t->cols[i].is_unsigned = (q[k / 8] >> (7 - k % 8)) & 1;
					k++;
				}
			t->has_signedness = true;
			break;
		case OPT_DEFAULT_CHARSET:
			if (!lenenc(&q, qe, &v))
				break;
			for (uint32_t k = 0; k < nchar; k++)
				cs[k] = (uint32_t)v;
			/* Then (character column index, collation) for the others. */
			while (q < qe && lenenc(&q, qe, &v) && lenenc(&q, qe, &w))
				if (v < nchar)
					cs[v] = (uint32_t)w;
			set_charsets(t, mariadb, nchar, cs);
			break;
		case OPT_COLUMN_CHARSET: {
			uint32_t k = 0;
			while (q < qe && k < nchar && lenenc(&q, qe, &v))
				cs[k++] = (uint32_t)v;
			if (k == nchar && q == qe)
				set_charsets(t, mariadb, nchar, cs);
			break;
		}
		case OPT_COLUMN_NAME: {
			uint32_t i = 0;
			for (; i < t->ncols && q < qe; i++) {
				if (!lenenc(&q, qe, &v) || v > (uint64_t)(qe - q))
					break;
				free(t->cols[i].name);
				t->cols[i].name = dm_xstrndup((const char *)q, (size_t)v);
				q += v;
			}
			t->has_names = i == t->ncols;
			break;
		}
		case OPT_SIMPLE_PRIMARY_KEY:
		case OPT_PRIMARY_KEY_WITH_PREFIX:
			while (q < qe && lenenc(&q, qe, &v)) {
				if (kind == OPT_PRIMARY_KEY_WITH_PREFIX && !lenenc(&q, qe, &w))
					break;
				if (v < t->ncols)
					t->cols[v].pk = true;
			}
			break;
		default: break;
		}
	}
	free(cs);
	if (!t->has_names)
		for (uint32_t i = 0; i < t->ncols; i++) {
			free(t->cols[i].name);
			t->cols[i].name = NULL;
		}
	return 0;
}

/* Checksum bytes at the end of raw_data, and the server's flavour (from
 * its format description): the stream sets ev->rpl; an event made by
 * hand (tests) has no checksum and counts as MariaDB's. */
static size_t checksum_len(const MARIADB_RPL_EVENT *ev)
{
	return ev->rpl != NULL && ev->rpl->use_checksum ? 4 : 0;
}

static bool from_mariadb(const MARIADB_RPL_EVENT *ev)
{
	return ev->rpl == NULL || ev->rpl->server_type == RPL_SERVER_MARIADB;
}

static char *mstr(const MARIADB_STRING *s)
{
	return s->str != NULL ? dm_xstrndup(s->str, s->length) : dm_xstrdup("");
}

int dm_tmap_from_event(const MARIADB_RPL_EVENT *ev, dm_tmap **out, dm_err *err)
{
	if (ev->event_type != TABLE_MAP_EVENT)
		return dm_err_set(err, DM_EINVAL, "event type %d is not a TABLE_MAP",
		                  (int)ev->event_type);
	const struct st_mariadb_rpl_table_map_event *tm = &ev->event.table_map;
	dm_tmap *t = dm_xcalloc(1, sizeof(*t));
	t->table_id = tm->table_id;
	t->schema = mstr(&tm->database);
	t->table = mstr(&tm->table);
	t->ncols = tm->column_count;
	int rc = -1;
	if (t->ncols == 0 || t->ncols > DM_ROWDEC_MAX_COLS || tm->column_types.length < t->ncols ||
	    tm->null_indicator == NULL) {
		dm_err_set(err, DM_EINVAL, "%u columns", t->ncols);
		goto out;
	}
	t->cols = dm_xcalloc(t->ncols, sizeof(*t->cols));
	t->vals = dm_xcalloc(2 * (size_t)t->ncols, sizeof(*t->vals));
	const unsigned char *types = (const unsigned char *)tm->column_types.str;
	const unsigned char *m = (const unsigned char *)tm->metadata.str;
	size_t mlen = tm->metadata.length, mo = 0;
	for (uint32_t i = 0; i < t->ncols; i++) {
		int n = meta_bytes(types[i]);
		if (n < 0) {
			dm_err_set(err, DM_EINVAL,
			           "column %u has binlog type %u, which this decoder does not know",
			           i + 1, types[i]);
			goto out;
		}
		if (mo + (size_t)n > mlen) {
			dm_err_set(err, DM_EINVAL, "the column metadata is truncated at column %u",
			           i + 1);
			goto out;
		}
		static const unsigned char none[2] = {0, 0};
		if (set_type(&t->cols[i], types[i], n > 0 ? m + mo : none, err) < 0) {
			dm_err_prefix(err, "column %u", i + 1);
			goto out;
		}
		mo += (size_t)n;
		t->cols[i].nullable = bit(tm->null_indicator, i);
	}
	/* The optional metadata runs from after the NULL bitmap to the end
	 * of the event (less the checksum). */
	const unsigned char *raw = ev->raw_data, *opt = tm->null_indicator + (t->ncols + 7) / 8;
	if (raw != NULL && opt > raw && opt <= raw + ev->raw_data_size) {
		const unsigned char *end = raw + ev->raw_data_size - checksum_len(ev);
		if (opt < end && parse_optional(t, from_mariadb(ev), opt, end, err) < 0)
			goto out;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	if (rc < 0)
		dm_err_prefix(err, "table map of `%s`.`%s`", t->schema, t->table);
	dm_tmap_free(t);
	return rc;
}

void dm_tmap_free(dm_tmap *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; t->cols != NULL && i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
	free(t->vals);
	free(t->schema);
	free(t->table);
	free(t);
}

void dm_tmap_set_unsigned(dm_tmap *t, uint32_t col, bool is_unsigned)
{
	if (col < t->ncols)
		t->cols[col].is_unsigned = is_unsigned;
}

void dm_tmap_set_name(dm_tmap *t, uint32_t col, const char *name)
{
	if (col >= t->ncols)
		return;
	free(t->cols[col].name);
	t->cols[col].name = name != NULL ? dm_xstrdup(name) : NULL;
	t->has_names = true;
	for (uint32_t i = 0; i < t->ncols; i++)
		t->has_names = t->has_names && t->cols[i].name != NULL;
}

void dm_tmap_set_pk(dm_tmap *t, uint32_t col, bool pk)
{
	if (col < t->ncols)
		t->cols[col].pk = pk;
}

/* ---- rows ------------------------------------------------------------ */

typedef struct rows_ctx {
	const dm_tmap *t;
	const unsigned char *p, *end;
	dm_scratch scratch;
} rows_ctx;

static int image(rows_ctx *x, const unsigned char *cols, dm_row *row, dm_err *err)
{
	const dm_tmap *t = x->t;
	uint32_t present = 0;
	for (uint32_t i = 0; i < t->ncols; i++)
		present += bit(cols, i);
	size_t nb = (present + 7) / 8;
	if ((size_t)(x->end - x->p) < nb)
		return dm_err_set(err, DM_EINVAL, "the NULL bitmap of a row is truncated");
	const unsigned char *nulls = x->p;
	x->p += nb;
	memset(row->v, 0, t->ncols * sizeof(*row->v));
	for (uint32_t i = 0, k = 0; i < t->ncols; i++) {
		dm_value *v = &row->v[i];
		v->kind = DM_V_NULL;
		if (!bit(cols, i))
			continue;
		v->present = true;
		if (bit(nulls, k++))
			continue;
		if (dm_rowdec_value(&t->cols[i], &x->p, x->end, v, &x->scratch, err) < 0) {
			const char *name = t->cols[i].name;
			if (name != NULL)
				return dm_err_prefix(err, "column %u (`%s`)", i + 1, name);
			return dm_err_prefix(err, "column %u", i + 1);
		}
	}
	return 0;
}

static bool is_rows(int type, int *kind, bool *v2)
{
	*v2 = false;
	switch (type) {
	case WRITE_ROWS_EVENT: *v2 = true; /* fall through */
	case WRITE_ROWS_EVENT_V1:
	case WRITE_ROWS_COMPRESSED_EVENT_V1: *kind = WRITE_ROWS; return true;
	case UPDATE_ROWS_EVENT: *v2 = true; /* fall through */
	case UPDATE_ROWS_EVENT_V1:
	case UPDATE_ROWS_COMPRESSED_EVENT_V1: *kind = UPDATE_ROWS; return true;
	case DELETE_ROWS_EVENT: *v2 = true; /* fall through */
	case DELETE_ROWS_EVENT_V1:
	case DELETE_ROWS_COMPRESSED_EVENT_V1: *kind = DELETE_ROWS; return true;
	default: return false;
	}
}

static int decode(rows_ctx *x, const MARIADB_RPL_EVENT *ev, dm_rows_cb cb, void *arg,
                  dm_row *before, dm_row *after, dm_err *err)
{
	const struct st_mariadb_rpl_rows_event *re = &ev->event.rows;
	int kind;
	bool v2;
	if (!is_rows(ev->event_type, &kind, &v2))
		return dm_err_set(err, DM_EINVAL, "event type %d is not a rows event",
		                  (int)ev->event_type);
	if (re->table_id != x->t->table_id)
		return dm_err_set(err, DM_EINVAL,
		                  "the rows event is for table id %llu, the table map for %llu",
		                  (unsigned long long)re->table_id,
		                  (unsigned long long)x->t->table_id);
	if (re->column_count != x->t->ncols)
		return dm_err_set(err, DM_EINVAL,
		                  "the rows event has %u columns, the table map %u (the table "
		                  "changed without a new table map?)",
		                  re->column_count, x->t->ncols);
	if (re->column_bitmap == NULL || (re->row_data == NULL && re->row_data_size != 0))
		return dm_err_set(err, DM_EINVAL, "the rows event has no column bitmap or data");
	x->p = re->row_data;
	x->end = x->p + re->row_data_size;
	const unsigned char *cols1 = re->column_bitmap, *cols2 = re->column_update_bitmap;
	size_t nb = (x->t->ncols + 7) / 8;
	if (kind == UPDATE_ROWS && cols2 == NULL && v2) {
		/* Connector/C reads the second bitmap of v1 updates only; for
		 * v2 it is the start of the row data. */
		if ((size_t)(x->end - x->p) < nb)
			return dm_err_set(err, DM_EINVAL,
			                  "the update's after-image bitmap is missing");
		cols2 = x->p;
		x->p += nb;
	}
	if (kind == UPDATE_ROWS && cols2 == NULL)
		return dm_err_set(err, DM_EINVAL, "the update event has no after-image bitmap");

	while (x->p < x->end) {
		const dm_row *b = NULL, *a = NULL;
		const unsigned char *start = x->p;
		if (kind == WRITE_ROWS) {
			if (image(x, cols1, after, err) < 0)
				return dm_err_prefix(err, "inserted row");
			a = after;
		} else if (kind == DELETE_ROWS) {
			if (image(x, cols1, before, err) < 0)
				return dm_err_prefix(err, "deleted row");
			b = before;
		} else {
			if (image(x, cols1, before, err) < 0)
				return dm_err_prefix(err, "updated row, before image");
			if (image(x, cols2, after, err) < 0)
				return dm_err_prefix(err, "updated row, after image");
			b = before;
			a = after;
		}
		/* Images of no column take no bytes: the data would never end. */
		if (x->p == start)
			return dm_err_set(err, DM_EINVAL, "the rows event logs no column");
		int rc = cb(arg, b, a);
		dm_scratch_clear(&x->scratch);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int dm_rows_decode(const dm_tmap *t, const MARIADB_RPL_EVENT *ev, dm_rows_cb cb, void *arg,
                   dm_err *err)
{
	rows_ctx x = {.t = t};
	dm_row before = {t->ncols, t->vals};
	dm_row after = {t->ncols, t->vals + t->ncols};
	dm_err e;
	dm_err_clear(&e);
	int rc = decode(&x, ev, cb, arg, &before, &after, &e);
	if (rc == -1 && e.code != DM_OK) {
		dm_err_set(err, e.code, "rows event of `%s`.`%s`: %s", t->schema, t->table, e.msg);
		rc = -1;
	}
	dm_scratch_clear(&x.scratch);
	free(x.scratch.items);
	return rc;
}

char *dm_scratch_take(dm_scratch *s, dm_buf *b)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->items = dm_xrealloc(s->items, s->cap * sizeof(*s->items));
	}
	char *p = dm_buf_detach(b);
	s->items[s->n++] = p;
	return p;
}

void dm_scratch_clear(dm_scratch *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	s->n = 0;
}
