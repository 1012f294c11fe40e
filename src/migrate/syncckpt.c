#include "migrate/syncckpt.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "mysql/conn.h"
#include "mysql/sql.h"

static unsigned long long file_seq(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot ? strtoull(dot + 1, NULL, 10) : 0;
}

void dm_binpos_init(dm_binpos *p)
{
	p->name = dm_xstrdup("");
	p->pos = 0;
	p->gtid = dm_xstrdup("");
	p->seq = 0;
}

void dm_binpos_fini(dm_binpos *p)
{
	free(p->name);
	free(p->gtid);
	p->name = p->gtid = NULL;
}

void dm_binpos_set(dm_binpos *p, const char *name, uint64_t pos, const char *gtid)
{
	char *n = dm_xstrdup(name ? name : ""), *g = dm_xstrdup(gtid ? gtid : "");
	free(p->name);
	free(p->gtid);
	p->name = n;
	p->gtid = g;
	p->pos = pos;
	p->seq = file_seq(n);
}

void dm_binpos_copy(dm_binpos *dst, const dm_binpos *src)
{
	dm_binpos_set(dst, src->name, src->pos, src->gtid);
}

int dm_binpos_cmp(const dm_binpos *a, const dm_binpos *b)
{
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	if (a->pos != b->pos)
		return a->pos < b->pos ? -1 : 1;
	return 0;
}

void dm_syncckpt_init(dm_syncckpt *c, const char *meta, const char *task, const char *source)
{
	char *name = dm_xasprintf("%s_syncer_checkpoint", task);
	dm_buf b;
	dm_buf_init(&b);
	dm_sql_table(&b, meta, name);
	free(name);
	c->table = dm_buf_detach(&b);
	c->meta = dm_xstrdup(meta);
	c->source = dm_xstrdup(source);
}

void dm_syncckpt_fini(dm_syncckpt *c)
{
	free(c->meta);
	free(c->table);
	free(c->source);
	c->meta = c->table = c->source = NULL;
}

int dm_syncckpt_prepare(const dm_syncckpt *c, MYSQL *target, dm_err *err)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_puts(&b, "CREATE DATABASE IF NOT EXISTS ");
	dm_sql_ident(&b, c->meta);
	int rc0 = dm_mysql_query(target, b.data, err);
	dm_buf_reset(&b);
	if (rc0 < 0) {
		dm_buf_fini(&b);
		return -1;
	}
	dm_buf_printf(&b,
	              "CREATE TABLE IF NOT EXISTS %s ("
	              "source_id VARCHAR(64) NOT NULL, "
	              "applier INT NOT NULL, "
	              "workers INT NOT NULL, "
	              "binlog_name VARCHAR(255) NOT NULL, "
	              "binlog_pos BIGINT UNSIGNED NOT NULL, "
	              "binlog_gtid TEXT NOT NULL, "
	              "flush_name VARCHAR(255) NOT NULL, "
	              "flush_pos BIGINT UNSIGNED NOT NULL, "
	              "flush_gtid TEXT NOT NULL, "
	              "safe_until_name VARCHAR(255) NOT NULL DEFAULT '', "
	              "safe_until_pos BIGINT UNSIGNED NOT NULL DEFAULT 0, "
	              "updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) "
	              "ON UPDATE CURRENT_TIMESTAMP(6), "
	              "PRIMARY KEY (source_id, applier)) DEFAULT CHARSET = utf8mb4",
	              c->table);
	int rc = dm_mysql_query(target, b.data, err);
	dm_buf_fini(&b);
	return rc;
}

void dm_syncckpt_state_fini(dm_syncckpt_state *st)
{
	for (int i = 0; i < st->workers; i++)
		dm_binpos_fini(&st->applied[i]);
	free(st->applied);
	dm_binpos_fini(&st->flush);
	dm_binpos_fini(&st->safe_until);
	memset(st, 0, sizeof(*st));
}

int dm_syncckpt_load(const dm_syncckpt *c, MYSQL *target, dm_syncckpt_state *st, dm_err *err)
{
	memset(st, 0, sizeof(*st));
	dm_binpos_init(&st->flush);
	dm_binpos_init(&st->safe_until);
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b,
	              "SELECT applier, workers, binlog_name, binlog_pos, binlog_gtid, flush_name, "
	              "flush_pos, flush_gtid, safe_until_name, safe_until_pos FROM %s "
	              "WHERE source_id = ",
	              c->table);
	dm_sql_string(&b, c->source);
	dm_buf_puts(&b, " ORDER BY applier");
	MYSQL_RES *res;
	int rc = dm_mysql_store(target, b.data, &res, err);
	dm_buf_fini(&b);
	if (rc < 0)
		return -1;
	size_t n = mysql_num_rows(res);
	st->applied = dm_xcalloc(n + 1, sizeof(dm_binpos));
	MYSQL_ROW row;
	bool first = true;
	while ((row = mysql_fetch_row(res)) != NULL) {
		dm_binpos *a = &st->applied[st->workers++];
		dm_binpos_init(a);
		dm_binpos_set(a, row[2], strtoull(row[3], NULL, 10), row[4]);
		dm_binpos f;
		dm_binpos_init(&f);
		dm_binpos_set(&f, row[5], strtoull(row[6], NULL, 10), row[7]);
		if (first || dm_binpos_cmp(&f, &st->flush) < 0)
			dm_binpos_copy(&st->flush, &f);
		dm_binpos_fini(&f);
		dm_binpos s;
		dm_binpos_init(&s);
		dm_binpos_set(&s, row[8], strtoull(row[9], NULL, 10), "");
		if (dm_binpos_cmp(&s, &st->safe_until) > 0)
			dm_binpos_copy(&st->safe_until, &s);
		dm_binpos_fini(&s);
		first = false;
	}
	mysql_free_result(res);
	return 0;
}

static void values_row(dm_buf *b, const dm_syncckpt *c, int applier, int workers,
                       const dm_binpos *at, const dm_binpos *safe)
{
	dm_buf_putc(b, '(');
	dm_sql_string(b, c->source);
	dm_buf_printf(b, ", %d, %d, ", applier, workers);
	for (int k = 0; k < 2; k++) {
		dm_sql_string(b, at->name);
		dm_buf_printf(b, ", %llu, ", (unsigned long long)at->pos);
		dm_sql_string(b, at->gtid);
		dm_buf_puts(b, ", ");
	}
	dm_sql_string(b, safe ? safe->name : "");
	dm_buf_printf(b, ", %llu)", safe ? (unsigned long long)safe->pos : 0ULL);
}

int dm_syncckpt_reset(const dm_syncckpt *c, MYSQL *target, int workers, const dm_binpos *at,
                      const dm_binpos *safe_until, dm_err *err)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b, "DELETE FROM %s WHERE source_id = ", c->table);
	dm_sql_string(&b, c->source);
	int rc = dm_mysql_query(target, "START TRANSACTION", err);
	if (rc == 0)
		rc = dm_mysql_query(target, b.data, err);
	dm_buf_reset(&b);
	dm_buf_printf(&b,
	              "INSERT INTO %s (source_id, applier, workers, binlog_name, binlog_pos, "
	              "binlog_gtid, flush_name, flush_pos, flush_gtid, safe_until_name, "
	              "safe_until_pos) VALUES ",
	              c->table);
	for (int i = 0; i < workers; i++) {
		if (i)
			dm_buf_puts(&b, ", ");
		values_row(&b, c, i, workers, at, safe_until);
	}
	if (rc == 0)
		rc = dm_mysql_query(target, b.data, err);
	if (rc == 0)
		rc = dm_mysql_query(target, "COMMIT", err);
	else
		mysql_query(target, "ROLLBACK");
	dm_buf_fini(&b);
	return rc;
}

void dm_syncckpt_save_sql(const dm_syncckpt *c, dm_buf *out, int applier, const dm_binpos *applied,
                          const dm_binpos *flush)
{
	dm_buf_printf(out, "UPDATE %s SET binlog_name = ", c->table);
	dm_sql_string(out, applied->name);
	dm_buf_printf(out, ", binlog_pos = %llu, binlog_gtid = ", (unsigned long long)applied->pos);
	dm_sql_string(out, applied->gtid);
	dm_buf_puts(out, ", flush_name = ");
	dm_sql_string(out, flush->name);
	dm_buf_printf(out, ", flush_pos = %llu, flush_gtid = ", (unsigned long long)flush->pos);
	dm_sql_string(out, flush->gtid);
	dm_buf_puts(out, " WHERE source_id = ");
	dm_sql_string(out, c->source);
	dm_buf_printf(out, " AND applier = %d", applier);
}
