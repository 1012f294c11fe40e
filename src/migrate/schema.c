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
	free(t->key);
	free(t->qkey_index);
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
	}
	mysql_free_result(res);
	if (t->ncols == 0)
		return dm_err_set(err, DM_ENOTFOUND,
		                  "table %s does not exist on the target: create it there (an "
		                  "incremental task does not create tables) or fix the routes",
		                  t->qname);
	return 0;
}

/* The primary key, else the first unique key whose columns are all NOT
 * NULL: the same choice the target's own replication makes. */
static int load_key(MYSQL *m, dm_tinfo *t, const bool *nullable, dm_err *err)
{
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS");
	where_table(&q, t->schema, t->table);
	dm_buf_puts(&q, " AND NON_UNIQUE = 0 ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, "
	                "SEQ_IN_INDEX");
	MYSQL_RES *res;
	int rc = dm_mysql_store(m, q.data, &res, err);
	dm_buf_fini(&q);
	if (rc < 0)
		return -1;
	size_t *cand = dm_xcalloc(t->ncols + 1, sizeof(size_t));
	size_t ncand = 0;
	char *index = NULL; /* the index whose columns cand holds */
	bool usable = true, chosen = false;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (index && strcmp(row[0], index) != 0) {
			if (usable && ncand > 0) {
				chosen = true;
				break;
			}
			ncand = 0;
			usable = true;
		}
		free(index);
		index = dm_xstrdup(row[0]);
		int c = dm_tinfo_col(t, row[1]);
		if (c < 0 || nullable[c] || ncand == t->ncols)
			usable = false;
		else
			cand[ncand++] = (size_t)c;
	}
	if (!chosen && index && usable && ncand > 0)
		chosen = true;
	mysql_free_result(res);
	if (chosen) {
		t->key = cand;
		t->nkey = ncand;
		dm_buf qi;
		dm_buf_init(&qi);
		dm_sql_ident(&qi, index);
		t->qkey_index = dm_buf_detach(&qi);
		t->key_hashable = true;
		for (size_t i = 0; i < ncand; i++)
			if (t->text[cand[i]])
				t->key_hashable = false;
	} else {
		free(cand);
	}
	free(index);
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
