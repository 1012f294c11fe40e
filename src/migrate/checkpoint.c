#include "migrate/checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/conn.h"
#include "mysql/sql.h"

static char *quoted(const char *meta, const char *task, const char *suffix)
{
	char *name = dm_xasprintf("%s_%s", task, suffix);
	dm_buf b;
	dm_buf_init(&b);
	dm_sql_table(&b, meta, name);
	free(name);
	return dm_buf_detach(&b);
}

void dm_ckpt_init(dm_ckpt *c, const char *meta, const char *task, const char *source)
{
	c->meta = dm_xstrdup(meta);
	c->task = dm_xstrdup(task);
	c->source = dm_xstrdup(source);
	c->snapshot_table = quoted(meta, task, "snapshot");
	c->chunk_table = quoted(meta, task, "load_checkpoint");
	c->index_table = quoted(meta, task, "load_index");
}

void dm_ckpt_fini(dm_ckpt *c)
{
	free(c->meta);
	free(c->task);
	free(c->source);
	free(c->snapshot_table);
	free(c->chunk_table);
	free(c->index_table);
	memset(c, 0, sizeof(*c));
}

static int run(MYSQL *m, dm_buf *b, dm_err *err)
{
	int rc = dm_mysql_query(m, b->data, err);
	dm_buf_fini(b);
	return rc;
}

int dm_ckpt_prepare(const dm_ckpt *c, MYSQL *target, dm_err *err)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_puts(&b, "CREATE DATABASE IF NOT EXISTS ");
	dm_sql_ident(&b, c->meta);
	if (run(target, &b, err) < 0)
		return -1;
	dm_buf_init(&b);
	dm_buf_printf(&b,
	              "CREATE TABLE IF NOT EXISTS %s ("
	              "source_id VARCHAR(64) NOT NULL PRIMARY KEY, "
	              "consistency VARCHAR(16) NOT NULL, "
	              "binlog_name VARCHAR(255) NOT NULL, "
	              "binlog_pos BIGINT UNSIGNED NOT NULL, "
	              "binlog_gtid TEXT NOT NULL, "
	              "status ENUM('copying', 'finished') NOT NULL, "
	              "resumed_consistency VARCHAR(16) NULL, "
	              "resumed_binlog_name VARCHAR(255) NULL, "
	              "resumed_binlog_pos BIGINT UNSIGNED NULL, "
	              "resumed_binlog_gtid TEXT NULL, "
	              "created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, "
	              "updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP "
	              "ON UPDATE CURRENT_TIMESTAMP) DEFAULT CHARSET = utf8mb4",
	              c->snapshot_table);
	if (run(target, &b, err) < 0)
		return -1;
	dm_buf_init(&b);
	dm_buf_printf(&b,
	              "CREATE TABLE IF NOT EXISTS %s ("
	              "source_id VARCHAR(64) NOT NULL, "
	              "schema_name VARCHAR(64) NOT NULL, "
	              "table_name VARCHAR(64) NOT NULL, "
	              "chunk_id INT NOT NULL, "
	              "target_schema VARCHAR(64) NOT NULL, "
	              "target_table VARCHAR(64) NOT NULL, "
	              "where_clause LONGTEXT NULL, "
	              "status ENUM('pending', 'done') NOT NULL, "
	              "rows_copied BIGINT NOT NULL DEFAULT 0, "
	              "bytes_copied BIGINT NOT NULL DEFAULT 0, "
	              "updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP "
	              "ON UPDATE CURRENT_TIMESTAMP, "
	              "PRIMARY KEY (source_id, schema_name, table_name, chunk_id)) "
	              "DEFAULT CHARSET = utf8mb4",
	              c->chunk_table);
	if (run(target, &b, err) < 0)
		return -1;
	dm_buf_init(&b);
	dm_buf_printf(&b,
	              "CREATE TABLE IF NOT EXISTS %s ("
	              "source_id VARCHAR(64) NOT NULL, "
	              "target_schema VARCHAR(64) NOT NULL, "
	              "target_table VARCHAR(64) NOT NULL, "
	              "seq INT NOT NULL, "
	              "index_name VARCHAR(64) NOT NULL, "
	              "clause LONGBLOB NOT NULL, "
	              "PRIMARY KEY (source_id, target_schema, target_table, seq)) "
	              "DEFAULT CHARSET = utf8mb4",
	              c->index_table);
	return run(target, &b, err);
}

/* This source's row of the snapshot table: cols of it. */
static int snapshot_row(const dm_ckpt *c, MYSQL *target, const char *cols, MYSQL_RES **res,
                        dm_err *err)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b, "SELECT %s FROM %s WHERE source_id = ", cols, c->snapshot_table);
	dm_sql_string(&b, c->source);
	int rc = dm_mysql_store(target, b.data, res, err);
	dm_buf_fini(&b);
	return rc;
}

int dm_ckpt_read_snapshot(const dm_ckpt *c, MYSQL *target, dm_snapshot *out, bool *finished,
                          dm_err *err)
{
	MYSQL_RES *res;
	if (snapshot_row(c, target, "consistency, binlog_name, binlog_pos, binlog_gtid, status",
	                 &res, err) < 0)
		return -1;
	MYSQL_ROW row = mysql_fetch_row(res);
	if (row == NULL) {
		mysql_free_result(res);
		return dm_err_set(err, DM_ENOTFOUND, "no snapshot recorded");
	}
	memset(out, 0, sizeof(*out));
	static const char *const modes[] = {"flush", "snapshot", "lock", "none"};
	out->consistency = "none";
	for (size_t i = 0; i < 4; i++)
		if (strcmp(row[0], modes[i]) == 0)
			out->consistency = modes[i];
	out->binlog_name = dm_xstrdup(row[1]);
	out->binlog_pos = strtoull(row[2], NULL, 10);
	out->binlog_gtid = dm_xstrdup(row[3]);
	*finished = strcmp(row[4], "finished") == 0;
	mysql_free_result(res);
	return 0;
}

int dm_ckpt_read_resumed(const dm_ckpt *c, MYSQL *target, char **name, uint64_t *pos, dm_err *err)
{
	MYSQL_RES *res;
	if (snapshot_row(c, target,
	                 "COALESCE(resumed_binlog_name, ''), COALESCE(resumed_binlog_pos, 0)", &res,
	                 err) < 0)
		return -1;
	MYSQL_ROW row = mysql_fetch_row(res);
	*name = dm_xstrdup(row ? row[0] : "");
	*pos = row ? strtoull(row[1], NULL, 10) : 0;
	mysql_free_result(res);
	return 0;
}

static void chunk_values(dm_buf *b, const dm_ckpt *c, const dm_table *t, const dm_chunk *ch)
{
	dm_buf_putc(b, '(');
	dm_sql_string(b, c->source);
	dm_buf_putc(b, ',');
	dm_sql_string(b, t->schema);
	dm_buf_putc(b, ',');
	dm_sql_string(b, t->name);
	dm_buf_printf(b, ",%d,", ch->id);
	dm_sql_string(b, t->tschema);
	dm_buf_putc(b, ',');
	dm_sql_string(b, t->tname);
	dm_buf_putc(b, ',');
	if (ch->where)
		dm_sql_hex(b, ch->where, strlen(ch->where));
	else
		dm_buf_puts(b, "NULL");
	dm_buf_puts(b, ",'pending')");
}

int dm_ckpt_save_plan(const dm_ckpt *c, MYSQL *target, const dm_plan *p, const dm_snapshot *s,
                      dm_err *err)
{
	if (dm_mysql_query(target, "START TRANSACTION", err) < 0)
		return -1;
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b, "DELETE FROM %s WHERE source_id = ", c->chunk_table);
	dm_sql_string(&b, c->source);
	if (run(target, &b, err) < 0)
		goto fail;
	for (size_t i = 0; i < p->nchunks;) {
		dm_buf_init(&b);
		dm_buf_printf(&b,
		              "INSERT INTO %s (source_id, schema_name, table_name, chunk_id, "
		              "target_schema, target_table, where_clause, status) VALUES ",
		              c->chunk_table);
		for (size_t n = 0; i < p->nchunks && b.len < 1000000; n++, i++) {
			if (n)
				dm_buf_putc(&b, ',');
			chunk_values(&b, c, &p->tables[p->chunks[i].table], &p->chunks[i]);
		}
		if (run(target, &b, err) < 0)
			goto fail;
	}
	dm_buf_init(&b);
	dm_buf_printf(&b,
	              "REPLACE INTO %s (source_id, consistency, binlog_name, binlog_pos, "
	              "binlog_gtid, status) VALUES (",
	              c->snapshot_table);
	dm_sql_string(&b, c->source);
	dm_buf_putc(&b, ',');
	dm_sql_string(&b, s->consistency);
	dm_buf_putc(&b, ',');
	dm_sql_string(&b, s->binlog_name);
	dm_buf_printf(&b, ",%llu,", (unsigned long long)s->binlog_pos);
	dm_sql_string(&b, s->binlog_gtid);
	dm_buf_printf(&b, ",'%s')", p->nchunks ? "copying" : "finished");
	if (run(target, &b, err) < 0)
		goto fail;
	return dm_mysql_query(target, "COMMIT", err);
fail:
	dm_mysql_query(target, "ROLLBACK", NULL);
	return -1;
}

int dm_ckpt_load_plan(const dm_ckpt *c, MYSQL *target, dm_plan *p, dm_err *err)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b,
	              "SELECT schema_name, table_name, target_schema, target_table, chunk_id, "
	              "where_clause, status, rows_copied, bytes_copied FROM %s WHERE source_id = ",
	              c->chunk_table);
	dm_sql_string(&b, c->source);
	dm_buf_puts(&b, " ORDER BY BINARY schema_name, BINARY table_name, chunk_id");
	MYSQL_RES *res;
	int rc = dm_mysql_store(target, b.data, &res, err);
	dm_buf_fini(&b);
	if (rc < 0)
		return -1;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		/* rows come ordered by table: a new table starts when the name changes */
		if (p->ntables == 0 || strcmp(p->tables[p->ntables - 1].schema, row[0]) != 0 ||
		    strcmp(p->tables[p->ntables - 1].name, row[1]) != 0)
			dm_plan_add_table(p, row[0], row[1], row[2], row[3]);
		size_t ti = p->ntables - 1;
		dm_table *t = &p->tables[ti];
		t->nchunks++;
		if (strcmp(row[6], "done") == 0) {
			int64_t rows = strtoll(row[7], NULL, 10), bytes = strtoll(row[8], NULL, 10);
			atomic_fetch_add(&t->rows_done, rows);
			atomic_fetch_add(&t->bytes_done, bytes);
			atomic_fetch_add(&t->chunks_done, 1);
			t->est_rows += rows;
			t->est_bytes += bytes;
		} else {
			dm_plan_add_chunk(p, ti, atoi(row[4]), row[5]);
		}
	}
	mysql_free_result(res);
	return 0;
}

int dm_ckpt_record_resume(const dm_ckpt *c, MYSQL *target, const dm_snapshot *s, dm_err *err)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b, "UPDATE %s SET resumed_consistency = ", c->snapshot_table);
	dm_sql_string(&b, s->consistency);
	dm_buf_puts(&b, ", resumed_binlog_name = ");
	dm_sql_string(&b, s->binlog_name);
	dm_buf_printf(&b, ", resumed_binlog_pos = %llu, resumed_binlog_gtid = ",
	              (unsigned long long)s->binlog_pos);
	dm_sql_string(&b, s->binlog_gtid);
	dm_buf_puts(&b, " WHERE source_id = ");
	dm_sql_string(&b, c->source);
	return run(target, &b, err);
}

char *dm_ckpt_chunk_done_sql(const dm_ckpt *c, const dm_table *t, int chunk, int64_t rows,
                             int64_t bytes)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b,
	              "UPDATE %s SET status = 'done', rows_copied = %lld, bytes_copied = %lld "
	              "WHERE source_id = ",
	              c->chunk_table, (long long)rows, (long long)bytes);
	dm_sql_string(&b, c->source);
	dm_buf_puts(&b, " AND schema_name = ");
	dm_sql_string(&b, t->schema);
	dm_buf_puts(&b, " AND table_name = ");
	dm_sql_string(&b, t->name);
	dm_buf_printf(&b, " AND chunk_id = %d", chunk);
	return dm_buf_detach(&b);
}

int dm_ckpt_finish(const dm_ckpt *c, MYSQL *target, dm_err *err)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_printf(&b,
	              "UPDATE %s SET status = 'finished' WHERE source_id = ", c->snapshot_table);
	dm_sql_string(&b, c->source);
	return run(target, &b, err);
}
