#include "migrate/schema.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/conn.h"
#include "mysql/sql.h"

#define BUCKETS 1024

typedef struct entry {
	struct entry *next;
	dm_tinfo t;
} entry;

struct dm_schema {
	entry *b[BUCKETS];
};

/* Names compare case-insensitively, as the target does on this platform
 * for lower_case_table_names=0 only when they are equal; folding is the
 * cautious choice for a cache key: two spellings share one entry. */
static unsigned bucket(const char *schema, const char *table)
{
	uint32_t h = 2166136261u;
	for (const char *p = schema; *p; p++)
		h = (h ^ (uint32_t)(unsigned char)(*p | 0x20)) * 16777619u;
	h = (h ^ '.') * 16777619u;
	for (const char *p = table; *p; p++)
		h = (h ^ (uint32_t)(unsigned char)(*p | 0x20)) * 16777619u;
	return h % BUCKETS;
}

dm_schema *dm_schema_new(void)
{
	return dm_xcalloc(1, sizeof(dm_schema));
}

static void tinfo_fini(dm_tinfo *t)
{
	for (size_t i = 0; i < t->ncols; i++) {
		free(t->cols[i]);
		free(t->qcols[i]);
	}
	free(t->cols);
	free(t->qcols);
	free(t->generated);
	free(t->text);
	free(t->unsig);
	free(t->flt);
	free(t->key);
	free(t->qkey_index);
	for (size_t u = 0; u < t->nuniq; u++)
		free(t->uniq[u]);
	free(t->uniq);
	free(t->uniq_len);
	free(t->uniq_hashable);
	free(t->schema);
	free(t->table);
	free(t->qname);
}

void dm_schema_invalidate(dm_schema *s, const char *schema, const char *table)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		entry **pp = &s->b[i];
		while (*pp) {
			entry *e = *pp;
			bool hit = schema == NULL ||
			           (strcasecmp(e->t.schema, schema) == 0 &&
			            (table == NULL || strcasecmp(e->t.table, table) == 0));
			if (hit) {
				*pp = e->next;
				tinfo_fini(&e->t);
				free(e);
			} else {
				pp = &e->next;
			}
		}
	}
}

void dm_schema_free(dm_schema *s)
{
	if (s == NULL)
		return;
	dm_schema_invalidate(s, NULL, NULL);
	free(s);
}

int dm_tinfo_col(const dm_tinfo *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcasecmp(t->cols[i], name) == 0)
			return (int)i;
	return -1;
}

static void where_table(dm_buf *q, const char *schema, const char *table)
{
	dm_buf_puts(q, " WHERE TABLE_SCHEMA = ");
	dm_sql_string(q, schema);
	dm_buf_puts(q, " AND TABLE_NAME = ");
	dm_sql_string(q, table);
}

static int load_columns(MYSQL *m, dm_tinfo *t, bool **nullable, dm_err *err)
{
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "SELECT COLUMN_NAME, EXTRA, COLLATION_NAME, IS_NULLABLE, COLUMN_TYPE "
	                "FROM information_schema.COLUMNS");
	where_table(&q, t->schema, t->table);
	dm_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
	MYSQL_RES *res;
	int rc = dm_mysql_store(m, q.data, &res, err);
	dm_buf_fini(&q);
	if (rc < 0)
		return -1;
	size_t n = mysql_num_rows(res);
	t->cols = dm_xcalloc(n + 1, sizeof(char *));
	t->qcols = dm_xcalloc(n + 1, sizeof(char *));
	t->generated = dm_xcalloc(n + 1, sizeof(bool));
	t->text = dm_xcalloc(n + 1, sizeof(bool));
	t->unsig = dm_xcalloc(n + 1, sizeof(bool));
	t->flt = dm_xcalloc(n + 1, sizeof(bool));
	*nullable = dm_xcalloc(n + 1, sizeof(bool));
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		size_t i = t->ncols++;
		t->cols[i] = dm_xstrdup(row[0]);
		dm_buf b;
		dm_buf_init(&b);
		dm_sql_ident(&b, row[0]);
		t->qcols[i] = dm_buf_detach(&b);
		t->generated[i] = row[1] && strcasestr(row[1], "GENERATED") != NULL;
		t->text[i] = row[2] != NULL;
		(*nullable)[i] = row[3] && strcmp(row[3], "YES") == 0;
		t->unsig[i] = row[4] && strcasestr(row[4], "unsigned") != NULL;
		t->flt[i] = row[4] && strncasecmp(row[4], "float", 5) == 0;
	}
	mysql_free_result(res);
	if (t->ncols == 0)
		return dm_err_set(err, DM_ENOTFOUND,
		                  "table %s does not exist on the target: create it there (an "
		                  "incremental task does not create tables) or fix the routes",
		                  t->qname);
	return 0;
}

/* One unique index as information_schema.STATISTICS lists it. */
typedef struct uindex {
	char *qname;  /* its name, quoted */
	size_t *cols; /* its named columns (t->ncols + 1 slots) */
	size_t n;
	bool unknown;  /* names a column the table does not list */
	bool expr;     /* has an expression part (no column name) */
	bool nullable; /* a column of it may be NULL */
	bool prefix;   /* a column of it is indexed by a prefix only */
	bool text;     /* a column of it compares through a collation */
} uindex;

/* The key: the primary key, else the first unique key whose columns are
 * all NOT NULL: the same choice the target's own replication makes. The
 * other unique indexes: every one whose columns the table lists, so the
 * dispatcher can order rows that would collide through them. */
static int load_key(MYSQL *m, dm_tinfo *t, const bool *nullable, dm_err *err)
{
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART "
	                "FROM information_schema.STATISTICS");
	where_table(&q, t->schema, t->table);
	dm_buf_puts(&q, " AND NON_UNIQUE = 0 ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, "
	                "SEQ_IN_INDEX");
	MYSQL_RES *res;
	int rc = dm_mysql_store(m, q.data, &res, err);
	dm_buf_fini(&q);
	if (rc < 0)
		return -1;
	uindex *ix = NULL;
	size_t nix = 0;
	char *index = NULL; /* the name of ix[nix - 1] */
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (index == NULL || strcmp(row[0], index) != 0) {
			free(index);
			index = dm_xstrdup(row[0]);
			ix = dm_xrealloc(ix, (nix + 1) * sizeof(*ix));
			dm_buf qi;
			dm_buf_init(&qi);
			dm_sql_ident(&qi, index);
			ix[nix++] = (uindex){.qname = dm_buf_detach(&qi),
			                     .cols = dm_xcalloc(t->ncols + 1, sizeof(size_t))};
		}
		uindex *x = &ix[nix - 1];
		int c = row[1] ? dm_tinfo_col(t, row[1]) : -1;
		if (row[1] == NULL) {
			x->expr = true;
		} else if (c < 0 || x->n == t->ncols) {
			x->unknown = true;
		} else {
			x->cols[x->n++] = (size_t)c;
			x->nullable |= nullable[c];
			x->text |= t->text[c];
			x->prefix |= row[2] != NULL;
		}
	}
	mysql_free_result(res);
	free(index);
	size_t chosen = nix;
	for (size_t i = 0; i < nix && chosen == nix; i++)
		if (!ix[i].unknown && !ix[i].expr && !ix[i].nullable && ix[i].n > 0)
			chosen = i;
	t->uniq = dm_xcalloc(nix + 1, sizeof(size_t *));
	t->uniq_len = dm_xcalloc(nix + 1, sizeof(size_t));
	t->uniq_hashable = dm_xcalloc(nix + 1, sizeof(bool));
	for (size_t i = 0; i < nix; i++) {
		uindex *x = &ix[i];
		bool hashable = !x->text && !x->prefix && !x->expr;
		if (i == chosen) {
			t->key = x->cols;
			t->nkey = x->n;
			t->key_hashable = hashable;
			t->qkey_index = x->qname;
			x->qname = NULL;
		} else if (!x->unknown) {
			t->uniq[t->nuniq] = x->cols;
			t->uniq_len[t->nuniq] = x->n;
			t->uniq_hashable[t->nuniq] = hashable;
			t->nuniq++;
		} else {
			free(x->cols);
		}
		free(x->qname);
	}
	free(ix);
	return 0;
}

int dm_schema_get(dm_schema *s, MYSQL *target, const char *schema, const char *table,
                  const dm_tinfo **out, dm_err *err)
{
	unsigned h = bucket(schema, table);
	for (entry *e = s->b[h]; e; e = e->next) {
		if (strcasecmp(e->t.schema, schema) == 0 && strcasecmp(e->t.table, table) == 0) {
			*out = &e->t;
			return 0;
		}
	}
	entry *e = dm_xcalloc(1, sizeof(*e));
	e->t.schema = dm_xstrdup(schema);
	e->t.table = dm_xstrdup(table);
	dm_buf b;
	dm_buf_init(&b);
	dm_sql_table(&b, schema, table);
	e->t.qname = dm_buf_detach(&b);
	bool *nullable = NULL;
	if (load_columns(target, &e->t, &nullable, err) < 0 ||
	    load_key(target, &e->t, nullable, err) < 0) {
		free(nullable);
		tinfo_fini(&e->t);
		free(e);
		return -1;
	}
	free(nullable);
	e->next = s->b[h];
	s->b[h] = e;
	*out = &e->t;
	return 0;
}
