#include "migrate/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/conn.h"
#include "mysql/sql.h"

void dm_plan_init(dm_plan *p)
{
	memset(p, 0, sizeof(*p));
}

static void table_fini(dm_table *t)
{
	free(t->schema);
	free(t->name);
	free(t->tschema);
	free(t->tname);
	for (size_t i = 0; i < t->ncols; i++) {
		free(t->cols[i].name);
		free(t->cols[i].data_type);
		free(t->cols[i].charset);
		free(t->cols[i].collation);
	}
	free(t->cols);
}

void dm_plan_fini(dm_plan *p)
{
	for (size_t i = 0; i < p->ntables; i++)
		table_fini(&p->tables[i]);
	free(p->tables);
	for (size_t i = 0; i < p->nchunks; i++)
		free(p->chunks[i].where);
	free(p->chunks);
	for (size_t i = 0; i < p->nviews; i++)
		free(p->views[i]);
	free(p->views);
	memset(p, 0, sizeof(*p));
}

void dm_plan_add_chunk(dm_plan *p, size_t table, int id, const char *where)
{
	p->chunks = dm_xrealloc(p->chunks, (p->nchunks + 1) * sizeof(*p->chunks));
	p->chunks[p->nchunks++] =
	        (dm_chunk){.table = table, .id = id, .where = where ? dm_xstrdup(where) : NULL};
}

static int64_t chunk_estimate(const dm_table *t)
{
	return t->nchunks > 0 ? t->est_bytes / t->nchunks : t->est_bytes;
}

/* Largest estimated chunk first; equal ones in plan order (the tables
 * are one array, so their addresses are in plan order). */
static int by_chunk_estimate(const void *a, const void *b)
{
	const dm_table *x = *(const dm_table *const *)a, *y = *(const dm_table *const *)b;
	int64_t ex = chunk_estimate(x), ey = chunk_estimate(y);
	if (ex != ey)
		return ex > ey ? -1 : 1;
	return (x > y) - (x < y);
}

void dm_plan_order(dm_plan *p)
{
	if (p->nchunks < 2 || p->ntables < 2)
		return;
	const dm_table **order = dm_xcalloc(p->ntables, sizeof(*order));
	for (size_t i = 0; i < p->ntables; i++)
		order[i] = &p->tables[i];
	qsort(order, p->ntables, sizeof(*order), by_chunk_estimate);
	size_t *rank = dm_xcalloc(p->ntables, sizeof(*rank));
	for (size_t r = 0; r < p->ntables; r++)
		rank[order[r] - p->tables] = r;
	/* a stable counting sort of the chunks by their table's rank */
	size_t *start = dm_xcalloc(p->ntables + 1, sizeof(*start));
	for (size_t i = 0; i < p->nchunks; i++)
		start[rank[p->chunks[i].table] + 1]++;
	for (size_t r = 1; r <= p->ntables; r++)
		start[r] += start[r - 1];
	dm_chunk *out = dm_xcalloc(p->nchunks, sizeof(*out));
	for (size_t i = 0; i < p->nchunks; i++)
		out[start[rank[p->chunks[i].table]]++] = p->chunks[i];
	free(p->chunks);
	p->chunks = out;
	free(order);
	free(rank);
	free(start);
}

size_t dm_plan_add_table(dm_plan *p, const char *schema, const char *name, const char *tschema,
                         const char *tname)
{
	p->tables = dm_xrealloc(p->tables, (p->ntables + 1) * sizeof(*p->tables));
	dm_table *t = &p->tables[p->ntables];
	memset(t, 0, sizeof(*t));
	t->schema = dm_xstrdup(schema);
	t->name = dm_xstrdup(name);
	t->tschema = dm_xstrdup(tschema);
	t->tname = dm_xstrdup(tname);
	atomic_init(&t->rows_done, 0);
	atomic_init(&t->bytes_done, 0);
	atomic_init(&t->chunks_done, 0);
	return p->ntables++;
}

static char *dup_field(const char *s)
{
	return s ? dm_xstrdup(s) : NULL;
}

static dm_col_kind kind_of(const char *type)
{
	static const char *const numbers[] = {"tinyint", "smallint", "mediumint", "int",  "bigint",
	                                      "decimal", "float",    "double",    "year", NULL};
	if (strcasecmp(type, "bit") == 0)
		return DM_COL_BIT;
	if (strcasecmp(type, "float") == 0)
		return DM_COL_FLOAT;
	for (const char *const *n = numbers; *n; n++)
		if (strcasecmp(type, *n) == 0)
			return DM_COL_NUMBER;
	return DM_COL_BYTES;
}

static bool is_integer(const char *type)
{
	static const char *const ints[] = {"tinyint", "smallint", "mediumint",
	                                   "int",     "bigint",   NULL};
	for (const char *const *n = ints; *n; n++)
		if (strcasecmp(type, *n) == 0)
			return true;
	return false;
}

/* WHERE TABLE_SCHEMA = '...' AND TABLE_NAME = '...' */
static void where_table(dm_buf *b, const dm_table *t)
{
	dm_buf_puts(b, " WHERE TABLE_SCHEMA = ");
	dm_sql_string(b, t->schema);
	dm_buf_puts(b, " AND TABLE_NAME = ");
	dm_sql_string(b, t->name);
}

int dm_plan_table_columns(MYSQL *m, dm_table *t, dm_err *err)
{
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_SET_NAME, COLLATION_NAME, EXTRA "
	                "FROM information_schema.COLUMNS");
	where_table(&q, t);
	dm_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
	MYSQL_RES *res;
	int rc = dm_mysql_store(m, q.data, &res, err);
	dm_buf_fini(&q);
	if (rc < 0)
		return -1;
	t->cols = dm_xcalloc(mysql_num_rows(res) + 1, sizeof(*t->cols));
	t->ncols = 0;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[4] && strcasestr(row[4], "GENERATED"))
			continue; /* computed downstream from the other columns */
		dm_column *c = &t->cols[t->ncols++];
		c->name = dm_xstrdup(row[0]);
		c->data_type = dm_xstrdup(row[1]);
		c->charset = dup_field(row[2]);
		c->collation = dup_field(row[3]);
		c->kind = kind_of(c->data_type);
	}
	mysql_free_result(res);
	if (t->ncols == 0)
		return dm_err_set(
		        err, DM_ENOTFOUND,
		        "table `%s`.`%s` has no columns upstream (dropped?) but is part of "
		        "the copy: recreate it upstream, then resume-task",
		        t->schema, t->name);

	/* The chunking key: the primary key, else a unique key on NOT NULL
	 * columns (a NULL would fall outside every range). */
	dm_buf_init(&q);
	dm_buf_puts(&q, "SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, NULLABLE "
	                "FROM information_schema.STATISTICS");
	where_table(&q, t);
	dm_buf_puts(&q, " ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX");
	rc = dm_mysql_store(m, q.data, &res, err);
	dm_buf_fini(&q);
	if (rc < 0)
		return -1;
	char *cur = NULL;
	bool usable = false;
	t->nkey = 0;
	size_t key[16], nkey = 0;
	for (;;) {
		row = mysql_fetch_row(res);
		if (row == NULL || cur == NULL || strcmp(cur, row[0]) != 0) {
			if (cur && usable && nkey > 0) {
				memcpy(t->key, key, nkey * sizeof(key[0]));
				t->nkey = nkey;
				break;
			}
			if (row == NULL)
				break;
			free(cur);
			cur = dm_xstrdup(row[0]);
			usable = strcmp(row[2], "0") == 0;
			nkey = 0;
		}
		if (row[3] && strcasecmp(row[3], "YES") == 0)
			usable = false;
		size_t ci = t->ncols;
		for (size_t i = 0; i < t->ncols; i++)
			if (strcmp(t->cols[i].name, row[1]) == 0)
				ci = i;
		if (ci == t->ncols || nkey == 16)
			usable = false; /* a generated key column, or too wide */
		else
			key[nkey++] = ci;
	}
	free(cur);
	mysql_free_result(res);
	return 0;
}

static void add_table(dm_plan *p, const dm_rules *rules, MYSQL_ROW row)
{
	char *ts, *tt;
	dm_rules_route(rules, row[0], row[1], &ts, &tt);
	size_t i = dm_plan_add_table(p, row[0], row[1], ts, tt); /* reallocates tables */
	dm_table *t = &p->tables[i];
	free(ts);
	free(tt);
	t->est_rows = row[3] ? strtoll(row[3], NULL, 10) : 0;
	t->est_bytes = row[4] ? strtoll(row[4], NULL, 10) : 0;
}

int dm_plan_tables(MYSQL *m, const dm_rules *rules, dm_plan *p, dm_err *err)
{
	MYSQL_RES *res;
	if (dm_mysql_store(m,
	                   "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS, DATA_LENGTH "
	                   "FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN "
	                   "('mysql', 'information_schema', 'performance_schema', 'sys') "
	                   "ORDER BY TABLE_SCHEMA, TABLE_NAME",
	                   &res, err) < 0)
		return dm_err_prefix(err, "listing upstream tables");
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (!dm_rules_table_allowed(rules, row[0], row[1]))
			continue;
		if (strcmp(row[2], "VIEW") == 0) {
			size_t a = strlen(row[0]), b = strlen(row[1]);
			char *v = dm_xmalloc(a + b + 2);
			memcpy(v, row[0], a + 1);
			memcpy(v + a + 1, row[1], b + 1);
			p->views = dm_xrealloc(p->views, (p->nviews + 1) * sizeof(*p->views));
			p->views[p->nviews++] = v;
		} else if (strcmp(row[2], "SEQUENCE") != 0) {
			add_table(p, rules, row);
		}
	}
	mysql_free_result(res);
	for (size_t i = 0; i < p->ntables; i++)
		if (dm_plan_table_columns(m, &p->tables[i], err) < 0)
			return -1;
	return 0;
}

/* ---- chunking -------------------------------------------------------- */

/* The key column compared with a value read from a binary-charset
 * connection: strings are re-labelled with the column's own character set
 * and collation, so ranges follow the index order. */
static void key_value(dm_buf *b, const dm_column *c, const char *v, unsigned long len)
{
	if (c->kind == DM_COL_NUMBER || c->kind == DM_COL_FLOAT) {
		dm_buf_append(b, v, len);
	} else if (c->charset) {
		dm_buf_puts(b, "CONVERT(");
		dm_sql_hex(b, v, len);
		dm_buf_printf(b, " USING %s) COLLATE %s", c->charset, c->collation);
	} else if (strcasecmp(c->data_type, "binary") == 0 ||
	           strcasecmp(c->data_type, "varbinary") == 0 || strcasestr(c->data_type, "blob")) {
		dm_sql_hex(b, v, len);
	} else {
		/* temporal: plain ASCII the server parses back */
		dm_buf_putc(b, '\'');
		dm_buf_append(b, v, len);
		dm_buf_putc(b, '\'');
	}
}

/* key > (values) in lexicographic order, expanded so the optimizer reads
 * it as a range: (k1 > v1 OR (k1 = v1 AND (k2 > v2 ...))); with greater
 * false, its negation (key <= values). */
static void key_cmp(dm_buf *b, const dm_table *t, MYSQL_ROW vals, const unsigned long *lens,
                    bool greater)
{
	if (!greater)
		dm_buf_puts(b, "NOT ");
	dm_buf_putc(b, '(');
	for (size_t i = 0; i < t->nkey; i++) {
		const dm_column *c = &t->cols[t->key[i]];
		if (i > 0) {
			dm_buf_puts(b, " OR (");
			dm_sql_ident(b, t->cols[t->key[i - 1]].name);
			dm_buf_puts(b, " = ");
			key_value(b, &t->cols[t->key[i - 1]], vals[i - 1], lens[i - 1]);
			dm_buf_puts(b, " AND (");
		}
		dm_sql_ident(b, c->name);
		dm_buf_puts(b, " > ");
		key_value(b, c, vals[i], lens[i]);
	}
	for (size_t i = 1; i < t->nkey; i++)
		dm_buf_puts(b, "))");
	dm_buf_putc(b, ')');
}

static int64_t chunk_rows(const dm_table *t, int64_t rows, int64_t chunk_bytes)
{
	if (rows > 0)
		return rows;
	int64_t avg = t->est_rows > 0 ? t->est_bytes / t->est_rows : 0;
	if (avg < 1)
		avg = 1;
	int64_t r = chunk_bytes / avg;
	/* several chunks per large table, so readers share it */
	if (t->est_rows / 4 < r)
		r = t->est_rows / 4;
	if (r > 200000)
		r = 200000;
	if (r < 10000)
		r = 10000;
	return r;
}

static void put_i128(dm_buf *b, __int128 v)
{
	if (v < 0)
		dm_buf_printf(b, "%lld", (long long)v);
	else
		dm_buf_printf(b, "%llu", (unsigned long long)v);
}

/* Integer single-column keys: ranges from MIN and MAX, no index walk. */
static int chunk_by_arithmetic(MYSQL *m, dm_plan *p, size_t ti, int64_t rows, dm_err *err)
{
	dm_table *t = &p->tables[ti];
	const char *k = t->cols[t->key[0]].name;
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "SELECT MIN(");
	dm_sql_ident(&q, k);
	dm_buf_puts(&q, "), MAX(");
	dm_sql_ident(&q, k);
	dm_buf_puts(&q, ") FROM ");
	dm_sql_table(&q, t->schema, t->name);
	MYSQL_RES *res;
	int rc = dm_mysql_store(m, q.data, &res, err);
	if (rc < 0) {
		dm_buf_fini(&q);
		return -1;
	}
	MYSQL_ROW row = mysql_fetch_row(res);
	if (row == NULL || row[0] == NULL) {
		mysql_free_result(res);
		dm_buf_fini(&q);
		t->nchunks = 1;
		dm_plan_add_chunk(p, ti, 0, NULL);
		return 0;
	}
	bool neg = row[0][0] == '-';
	__int128 lo = neg ? strtoll(row[0], NULL, 10) : (__int128)strtoull(row[0], NULL, 10);
	__int128 hi =
	        row[1][0] == '-' ? strtoll(row[1], NULL, 10) : (__int128)strtoull(row[1], NULL, 10);
	mysql_free_result(res);
	/* Keys are unique, so the table has at most hi - lo + 1 rows. When the
	 * estimate is at least half of that it cannot be far too low, and
	 * counting (a full index scan: minutes on a large table) is skipped;
	 * an estimate too high only makes chunks smaller. */
	int64_t count = t->est_rows;
	if (count <= 0 || (__int128)count * 2 < hi - lo + 1) {
		dm_buf_reset(&q);
		dm_buf_puts(&q, "SELECT COUNT(*) FROM ");
		dm_sql_table(&q, t->schema, t->name);
		char *v = NULL;
		rc = dm_mysql_query_value(m, q.data, &v, err);
		count = v ? strtoll(v, NULL, 10) : 0;
		free(v);
		if (rc < 0) {
			dm_buf_fini(&q);
			return -1;
		}
		if (count > t->est_rows)
			t->est_rows = count;
	}
	dm_buf_fini(&q);
	int64_t n = (count + rows - 1) / rows;
	if (n < 1)
		n = 1;
	if ((__int128)n > hi - lo + 1)
		n = (int64_t)(hi - lo + 1);
	if (n > 100000)
		n = 100000;
	t->nchunks = (int)n;
	if (n == 1) {
		dm_plan_add_chunk(p, ti, 0, NULL);
		return 0;
	}
	dm_buf w;
	dm_buf_init(&w);
	__int128 prev = 0;
	for (int64_t i = 0; i < n; i++) {
		__int128 b = lo + (hi - lo + 1) * (i + 1) / n - 1;
		dm_buf_reset(&w);
		if (i > 0) {
			dm_sql_ident(&w, k);
			dm_buf_puts(&w, " > ");
			put_i128(&w, prev);
		}
		if (i < n - 1) {
			if (i > 0)
				dm_buf_puts(&w, " AND ");
			dm_sql_ident(&w, k);
			dm_buf_puts(&w, " <= ");
			put_i128(&w, b);
		}
		dm_plan_add_chunk(p, ti, (int)i, w.data);
		prev = b;
	}
	dm_buf_fini(&w);
	return 0;
}

/* Any other key: walk the index, taking every rows-th key as a boundary. */
static int chunk_by_walk(MYSQL *m, dm_plan *p, size_t ti, int64_t rows, dm_err *err)
{
	dm_table *t = &p->tables[ti];
	dm_buf q, w, prev;
	dm_buf_init(&q);
	dm_buf_init(&w);
	dm_buf_init(&prev); /* the previous boundary's "> ..." condition */
	int id = 0, rc = 0;
	for (;;) {
		dm_buf_reset(&q);
		dm_buf_puts(&q, "SELECT ");
		for (size_t i = 0; i < t->nkey; i++) {
			if (i)
				dm_buf_puts(&q, ", ");
			dm_sql_ident(&q, t->cols[t->key[i]].name);
		}
		dm_buf_puts(&q, " FROM ");
		dm_sql_table(&q, t->schema, t->name);
		if (prev.len)
			dm_buf_printf(&q, " WHERE %s", prev.data);
		dm_buf_puts(&q, " ORDER BY ");
		for (size_t i = 0; i < t->nkey; i++) {
			if (i)
				dm_buf_puts(&q, ", ");
			dm_sql_ident(&q, t->cols[t->key[i]].name);
		}
		dm_buf_printf(&q, " LIMIT 1 OFFSET %lld", (long long)rows - 1);
		MYSQL_RES *res;
		if ((rc = dm_mysql_store(m, q.data, &res, err)) < 0)
			break;
		MYSQL_ROW row = mysql_fetch_row(res);
		dm_buf_reset(&w);
		if (prev.len)
			dm_buf_puts(&w, prev.data);
		if (row == NULL) {
			mysql_free_result(res);
			dm_plan_add_chunk(p, ti, id++, w.len ? w.data : NULL);
			break;
		}
		unsigned long *lens = mysql_fetch_lengths(res);
		if (w.len)
			dm_buf_puts(&w, " AND ");
		key_cmp(&w, t, row, lens, false);
		dm_plan_add_chunk(p, ti, id++, w.data);
		dm_buf_reset(&prev);
		key_cmp(&prev, t, row, lens, true);
		mysql_free_result(res);
	}
	t->nchunks = id;
	dm_buf_fini(&q);
	dm_buf_fini(&w);
	dm_buf_fini(&prev);
	return rc;
}

int dm_plan_chunks(MYSQL *m, dm_plan *p, int64_t rows, int64_t chunk_bytes, dm_err *err)
{
	for (size_t i = 0; i < p->ntables; i++) {
		dm_table *t = &p->tables[i];
		int rc = 0;
		if (t->nkey == 0) {
			t->nchunks = 1;
			dm_plan_add_chunk(p, i, 0, NULL);
		} else if (t->nkey == 1 && is_integer(t->cols[t->key[0]].data_type)) {
			rc = chunk_by_arithmetic(m, p, i, chunk_rows(t, rows, chunk_bytes), err);
		} else {
			rc = chunk_by_walk(m, p, i, chunk_rows(t, rows, chunk_bytes), err);
		}
		if (rc < 0)
			return dm_err_prefix(err, "splitting `%s`.`%s` into chunks", t->schema,
			                     t->name);
	}
	return 0;
}
