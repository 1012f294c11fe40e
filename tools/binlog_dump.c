/* binlog-dump: reads an upstream's binlog with dm's stream and row decoder
 * and prints one SQL statement per row change, so the output applied to a
 * copy of the upstream (as of the start position) reproduces it.
 *
 *   binlog-dump --host H [--port P] --user U [--password-file F]
 *               [--ssl-ca F] [--ssl-cert F --ssl-key F] --server-id N
 *               (--start-file F [--start-pos N] | --start-gtid D-S-N[,...])
 *               [--stop-at-eof] [--database DB]... [--heartbeat-ms N]
 *
 * The password comes from --password-file (first line) or $MYSQL_PWD.
 * Output: a session preamble (time_zone '+00:00', sql_mode that allows
 * zero dates and explicit zero ids), then per transaction "-- GTID d-s-n
 * at file:pos", BEGIN, one statement per row, "COMMIT; -- XID n, end
 * file:pos". Rows: INSERT INTO `db`.`t` (cols) VALUES (...); UPDATE ...
 * SET <columns in the after image> WHERE <key>; DELETE ... WHERE <key>,
 * both LIMIT 1, where <key> is the primary key when the table map or
 * information_schema names one and the before image has it, else every
 * column of the before image, compared with <=> (NULL-safe; FLOAT/DOUBLE
 * literals are exact, so equality holds).
 *
 * When the table map has no column names (binlog_row_metadata MINIMAL or
 * NO_LOG), names, signedness and the primary key come from the upstream's
 * information_schema over a second connection, cached per table: the
 * table must not have changed shape since the events were written.
 *
 * Limits: DDL and other statements are printed as comments only; a
 * table without a primary key is matched on every logged column, which
 * a collation may find equal for different bytes (e.g. 'a' and 'A');
 * generated columns are not told apart (the tables replayed must have
 * none); ENUM/SET/BIT are written as numbers. Exit 0 at the end of the
 * binlog (--stop-at-eof), 1 on an error, 2 on a usage error. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "mysql/binlog.h"
#include "mysql/conn.h"
#include "mysql/rowdec.h"
#include "mysql/sql.h"

#define MAX_DBS 32

/* Column facts from information_schema for one table. */
typedef struct schema_cols {
	char *schema, *table;
	uint32_t n;
	char **names;
	bool *is_unsigned, *pk, *binary;
	struct schema_cols *next;
} schema_cols;

typedef struct app {
	dm_db_config db;
	const char *dbs[MAX_DBS];
	int ndbs;
	MYSQL *is_conn; /* second connection, for information_schema */
	schema_cols *cache;
	dm_tmap **maps; /* current table maps, by table id */
	size_t nmaps;
	dm_buf sql;
	FILE *out;
} app;

static bool wanted(const app *a, const char *schema)
{
	if (a->ndbs == 0)
		return true;
	for (int i = 0; i < a->ndbs; i++)
		if (strcmp(a->dbs[i], schema) == 0)
			return true;
	return false;
}

/* ---- table maps and the information_schema fallback ------------------ */

static void cols_free(schema_cols *c)
{
	while (c != NULL) {
		schema_cols *next = c->next;
		for (uint32_t i = 0; i < c->n; i++)
			free(c->names[i]);
		free(c->names);
		free(c->is_unsigned);
		free(c->pk);
		free(c->binary);
		free(c->schema);
		free(c->table);
		free(c);
		c = next;
	}
}

static int load_cols(app *a, const char *schema, const char *table, schema_cols **out, dm_err *err)
{
	for (schema_cols *c = a->cache; c != NULL; c = c->next)
		if (strcmp(c->schema, schema) == 0 && strcmp(c->table, table) == 0) {
			*out = c;
			return 0;
		}
	if (a->is_conn == NULL &&
	    dm_mysql_connect(&a->db, "source (information_schema)", &a->is_conn, err) < 0)
		return -1;
	dm_buf q;
	dm_buf_init(&q);
	/* Fixed-size binary types: their trailing zero bytes are not logged. */
	dm_buf_puts(&q, "SELECT COLUMN_NAME, COLUMN_TYPE LIKE '%unsigned%', COLUMN_KEY = 'PRI', "
	                "DATA_TYPE IN ('binary', 'inet4', 'inet6', 'uuid') "
	                "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
	dm_sql_string(&q, schema);
	dm_buf_puts(&q, " AND TABLE_NAME = ");
	dm_sql_string(&q, table);
	dm_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
	MYSQL_RES *res;
	int rc = dm_mysql_store(a->is_conn, dm_buf_str(&q), &res, err);
	dm_buf_fini(&q);
	if (rc < 0)
		return -1;
	schema_cols *c = dm_xcalloc(1, sizeof(*c));
	c->schema = dm_xstrdup(schema);
	c->table = dm_xstrdup(table);
	uint64_t n = mysql_num_rows(res);
	c->names = dm_xcalloc(n + 1, sizeof(*c->names));
	c->is_unsigned = dm_xcalloc(n + 1, sizeof(bool));
	c->pk = dm_xcalloc(n + 1, sizeof(bool));
	c->binary = dm_xcalloc(n + 1, sizeof(bool));
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL && c->n < n) {
		c->names[c->n] = dm_xstrdup(row[0] != NULL ? row[0] : "");
		c->is_unsigned[c->n] = row[1] != NULL && strcmp(row[1], "1") == 0;
		c->pk[c->n] = row[2] != NULL && strcmp(row[2], "1") == 0;
		c->binary[c->n] = row[3] != NULL && strcmp(row[3], "1") == 0;
		c->n++;
	}
	mysql_free_result(res);
	c->next = a->cache;
	a->cache = c;
	*out = c;
	return 0;
}

/* Completes a table map logged without names (and perhaps signedness). */
static int fill_from_schema(app *a, dm_tmap *t, dm_err *err)
{
	schema_cols *c;
	if (load_cols(a, t->schema, t->table, &c, err) < 0)
		return -1;
	if (c->n != t->ncols)
		return dm_err_set(err, DM_EINVAL,
		                  "`%s`.`%s` has %u columns in information_schema but %u in the "
		                  "binlog: the table changed since; replay from a later position",
		                  t->schema, t->table, c->n, t->ncols);
	for (uint32_t i = 0; i < t->ncols; i++) {
		dm_tmap_set_name(t, i, c->names[i]);
		dm_tmap_set_pk(t, i, c->pk[i]);
		if (!t->has_signedness)
			dm_tmap_set_unsigned(t, i, c->is_unsigned[i]);
		if (t->cols[i].charset == 0 && c->binary[i])
			t->cols[i].charset = 63;
	}
	return 0;
}

static void maps_clear(app *a)
{
	for (size_t i = 0; i < a->nmaps; i++)
		dm_tmap_free(a->maps[i]);
	a->nmaps = 0;
}

static int on_table_map(app *a, const MARIADB_RPL_EVENT *ev, dm_err *err)
{
	const MARIADB_STRING *s = &ev->event.table_map.database;
	char *schema = s->str != NULL ? dm_xstrndup(s->str, s->length) : dm_xstrdup("");
	bool skip = !wanted(a, schema);
	free(schema);
	if (skip)
		return 0;
	dm_tmap *t;
	if (dm_tmap_from_event(ev, &t, err) < 0)
		return -1;
	if ((!t->has_names || !t->has_signedness) && fill_from_schema(a, t, err) < 0) {
		dm_tmap_free(t);
		return -1;
	}
	for (size_t i = 0; i < a->nmaps; i++)
		if (a->maps[i]->table_id == t->table_id) {
			dm_tmap_free(a->maps[i]);
			a->maps[i] = t;
			return 0;
		}
	a->maps = dm_xrealloc(a->maps, (a->nmaps + 1) * sizeof(*a->maps));
	a->maps[a->nmaps++] = t;
	return 0;
}

/* ---- statements ------------------------------------------------------ */

typedef struct row_ctx {
	app *a;
	const dm_tmap *t;
} row_ctx;

/* WHERE for the row the before image describes. */
static void where(dm_buf *b, const dm_tmap *t, const dm_row *before)
{
	bool by_pk = false;
	for (uint32_t i = 0; i < t->ncols; i++)
		if (t->cols[i].pk) {
			by_pk = true;
			if (!before->v[i].present) {
				by_pk = false;
				break;
			}
		}
	dm_buf_puts(b, " WHERE ");
	bool first = true;
	for (uint32_t i = 0; i < t->ncols; i++) {
		if (!before->v[i].present || (by_pk && !t->cols[i].pk))
			continue;
		if (!first)
			dm_buf_puts(b, " AND ");
		first = false;
		dm_sql_ident(b, t->cols[i].name);
		dm_buf_puts(b, " <=> ");
		dm_value_sql(b, &t->cols[i], &before->v[i]);
	}
	if (first)
		dm_buf_puts(b, "1");
	dm_buf_puts(b, " LIMIT 1");
}

/* The names, or the values, of the columns the row image has. */
static void present_list(dm_buf *b, const dm_tmap *t, const dm_row *row, bool values)
{
	bool first = true;
	for (uint32_t i = 0; i < t->ncols; i++) {
		if (!row->v[i].present)
			continue;
		if (!first)
			dm_buf_puts(b, ", ");
		first = false;
		if (values)
			dm_value_sql(b, &t->cols[i], &row->v[i]);
		else
			dm_sql_ident(b, t->cols[i].name);
	}
}

static int on_row(void *arg, const dm_row *before, const dm_row *after)
{
	row_ctx *x = arg;
	const dm_tmap *t = x->t;
	dm_buf *b = &x->a->sql;
	dm_buf_reset(b);
	bool first = true;
	if (before == NULL) {
		dm_buf_puts(b, "INSERT INTO ");
		dm_sql_table(b, t->schema, t->table);
		dm_buf_puts(b, " (");
		present_list(b, t, after, false);
		dm_buf_puts(b, ") VALUES (");
		present_list(b, t, after, true);
		dm_buf_puts(b, ")");
	} else if (after == NULL) {
		dm_buf_puts(b, "DELETE FROM ");
		dm_sql_table(b, t->schema, t->table);
		where(b, t, before);
	} else {
		dm_buf_puts(b, "UPDATE ");
		dm_sql_table(b, t->schema, t->table);
		dm_buf_puts(b, " SET ");
		for (uint32_t i = 0; i < t->ncols; i++) {
			if (!after->v[i].present)
				continue;
			if (!first)
				dm_buf_puts(b, ", ");
			first = false;
			dm_sql_ident(b, t->cols[i].name);
			dm_buf_puts(b, " = ");
			dm_value_sql(b, &t->cols[i], &after->v[i]);
		}
		where(b, t, before);
	}
	dm_buf_puts(b, ";\n");
	fwrite(b->data, 1, b->len, x->a->out);
	return 0;
}

static int on_rows(app *a, const MARIADB_RPL_EVENT *ev, dm_err *err)
{
	const dm_tmap *t = NULL;
	for (size_t i = 0; i < a->nmaps; i++)
		if (a->maps[i]->table_id == ev->event.rows.table_id)
			t = a->maps[i];
	int rc = 0;
	if (t != NULL) {
		row_ctx x = {a, t};
		rc = dm_rows_decode(t, ev, on_row, &x, err);
	}
	/* Table ids are only valid up to the end of their statement. */
	if (ev->event.rows.flags & STMT_END_F)
		maps_clear(a);
	return rc;
}

/* Statements other than row changes: transaction edges become SQL, the
 * rest (DDL, SET, ...) comments, one line each. */
static void on_query(app *a, const MARIADB_RPL_EVENT *ev)
{
	const MARIADB_STRING *q = &ev->event.query.statement;
	size_t n = q->str != NULL ? q->length : 0;
	if ((n == 5 && strncmp(q->str, "BEGIN", 5) == 0) ||
	    (n == 6 && strncmp(q->str, "COMMIT", 6) == 0)) {
		fprintf(a->out, "%.*s;\n", (int)n, q->str);
		return;
	}
	fputs("-- QUERY: ", a->out);
	for (size_t i = 0; i < n && i < 500; i++)
		fputc(q->str[i] == '\n' || q->str[i] == '\r' ? ' ' : q->str[i], a->out);
	fputs(n > 500 ? " ...\n" : "\n", a->out);
}

static int on_event(app *a, const MARIADB_RPL_EVENT *ev, const char *file, uint64_t start,
                    uint64_t end, dm_err *err)
{
	switch (ev->event_type) {
	case GTID_EVENT: {
		const struct st_mariadb_rpl_gtid_event *g = &ev->event.gtid;
		fprintf(a->out, "-- GTID %u-%u-%llu at %s:%llu\n", g->domain_id, ev->server_id,
		        (unsigned long long)g->sequence_nr, file, (unsigned long long)start);
		if (!(g->flags & FL_STANDALONE))
			fputs("BEGIN;\n", a->out);
		return 0;
	}
	case XID_EVENT:
		fprintf(a->out, "COMMIT; -- XID %llu, end %s:%llu\n",
		        (unsigned long long)ev->event.xid.transaction_nr, file,
		        (unsigned long long)end);
		maps_clear(a);
		return 0;
	case QUERY_EVENT:
	case QUERY_COMPRESSED_EVENT: on_query(a, ev); return 0;
	case TABLE_MAP_EVENT: return on_table_map(a, ev, err);
	case WRITE_ROWS_EVENT_V1:
	case UPDATE_ROWS_EVENT_V1:
	case DELETE_ROWS_EVENT_V1:
	case WRITE_ROWS_EVENT:
	case UPDATE_ROWS_EVENT:
	case DELETE_ROWS_EVENT:
	case WRITE_ROWS_COMPRESSED_EVENT_V1:
	case UPDATE_ROWS_COMPRESSED_EVENT_V1:
	case DELETE_ROWS_COMPRESSED_EVENT_V1: return on_rows(a, ev, err);
	case ROTATE_EVENT:
		fprintf(a->out, "-- ROTATE %s:%llu\n", file, (unsigned long long)end);
		return 0;
	default: return 0;
	}
}

/* ---- main ------------------------------------------------------------ */

static int usage(void)
{
	fprintf(stderr, "usage: binlog-dump --host H [--port P] --user U [--password-file F]\n"
	                "         [--ssl-ca F] [--ssl-cert F --ssl-key F] --server-id N\n"
	                "         (--start-file F [--start-pos N] | --start-gtid D-S-N[,...])\n"
	                "         [--stop-at-eof] [--database DB]... [--heartbeat-ms N]\n"
	                "the password comes from --password-file or $MYSQL_PWD\n");
	return 2;
}

static int read_password(const char *path, char **out, dm_err *err)
{
	char *data;
	size_t len;
	if (dm_file_read(path, 4096, &data, &len, err) < 0)
		return dm_err_prefix(err, "--password-file");
	data[strcspn(data, "\r\n")] = '\0';
	*out = data;
	return 0;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	enum {
		O_HOST = 1,
		O_PORT,
		O_USER,
		O_PWFILE,
		O_CA,
		O_CERT,
		O_KEY,
		O_SID,
		O_FILE,
		O_POS,
		O_GTID,
		O_EOF,
		O_DB,
		O_HB
	};
	static const struct option opts[] = {
	        {"host", required_argument, NULL, O_HOST},
	        {"port", required_argument, NULL, O_PORT},
	        {"user", required_argument, NULL, O_USER},
	        {"password-file", required_argument, NULL, O_PWFILE},
	        {"ssl-ca", required_argument, NULL, O_CA},
	        {"ssl-cert", required_argument, NULL, O_CERT},
	        {"ssl-key", required_argument, NULL, O_KEY},
	        {"server-id", required_argument, NULL, O_SID},
	        {"start-file", required_argument, NULL, O_FILE},
	        {"start-pos", required_argument, NULL, O_POS},
	        {"start-gtid", required_argument, NULL, O_GTID},
	        {"stop-at-eof", no_argument, NULL, O_EOF},
	        {"database", required_argument, NULL, O_DB},
	        {"heartbeat-ms", required_argument, NULL, O_HB},
	        {NULL, 0, NULL, 0},
	};
	app a;
	memset(&a, 0, sizeof(a));
	dm_db_config_init(&a.db);
	dm_buf_init(&a.sql);
	a.out = stdout;
	dm_binlog_opts bo = {.what = "source"};
	const char *pwfile = NULL;
	uint64_t v;
	int c, rc = 2;
	bool transient = false;
	dm_err err;
	dm_err_clear(&err);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_HOST: a.db.host = dm_xstrdup(optarg); break;
		case O_USER: a.db.user = dm_xstrdup(optarg); break;
		case O_PWFILE: pwfile = optarg; break;
		case O_CA: a.db.security.ca_file = dm_xstrdup(optarg); break;
		case O_CERT: a.db.security.cert_file = dm_xstrdup(optarg); break;
		case O_KEY: a.db.security.key_file = dm_xstrdup(optarg); break;
		case O_FILE: bo.file = optarg; break;
		case O_GTID: bo.gtid = optarg; break;
		case O_EOF: bo.stop_at_eof = true; break;
		case O_PORT:
		case O_SID:
		case O_POS:
		case O_HB:
			if (!parse_u64(optarg,
			               c == O_POS  ? UINT64_MAX
			               : c == O_HB ? 3600000
			                           : UINT32_MAX,
			               &v) ||
			    (c == O_PORT && v > 65535)) {
				fprintf(stderr, "binlog-dump: bad number '%s'\n", optarg);
				goto out;
			}
			if (c == O_PORT)
				a.db.port = (unsigned int)v;
			else if (c == O_SID)
				bo.server_id = (uint32_t)v;
			else if (c == O_POS)
				bo.pos = v;
			else
				bo.heartbeat_ms = (int)v;
			break;
		case O_DB:
			if (a.ndbs == MAX_DBS) {
				fprintf(stderr, "binlog-dump: at most %d --database\n", MAX_DBS);
				goto out;
			}
			a.dbs[a.ndbs++] = optarg;
			break;
		default: rc = usage(); goto out;
		}
	}
	if (optind != argc || a.db.host == NULL || a.db.user == NULL ||
	    (bo.file == NULL) == (bo.gtid == NULL)) {
		rc = usage();
		goto out;
	}
	rc = 1;
	if (pwfile != NULL) {
		if (read_password(pwfile, &a.db.password, &err) < 0)
			goto fail;
	} else if (getenv("MYSQL_PWD") != NULL) {
		a.db.password = dm_xstrdup(getenv("MYSQL_PWD"));
	}
	bo.source = &a.db;

	dm_binlog *b;
	if (dm_binlog_open(&bo, &b, &err) < 0)
		goto fail;
	/* A waiting stream is watched as it goes: one line, one write. */
	if (!bo.stop_at_eof)
		setvbuf(a.out, NULL, _IOLBF, 0);
	fputs("SET SESSION time_zone = '+00:00', sql_mode = 'NO_AUTO_VALUE_ON_ZERO', "
	      "foreign_key_checks = 0;\n",
	      a.out);
	for (;;) {
		uint64_t start = dm_binlog_pos(b);
		MARIADB_RPL_EVENT *ev;
		int r = dm_binlog_next(b, &ev, &err);
		if (r == 1) {
			fprintf(a.out, "-- end %s:%llu\n", dm_binlog_file(b),
			        (unsigned long long)dm_binlog_pos(b));
			rc = 0;
			break;
		}
		if (r < 0 ||
		    on_event(&a, ev, dm_binlog_file(b), start, dm_binlog_pos(b), &err) < 0) {
			transient = r < 0 && dm_binlog_error_transient(b);
			break;
		}
	}
	dm_binlog_free(b);
	if (rc == 0)
		goto out;
fail:
	fflush(a.out);
	fprintf(stderr, "binlog-dump: %s%s\n", err.msg,
	        transient ? " (transient: a new run from the last position may succeed)" : "");
out:
	maps_clear(&a);
	free(a.maps);
	cols_free(a.cache);
	if (a.is_conn != NULL)
		mysql_close(a.is_conn);
	dm_buf_fini(&a.sql);
	dm_db_config_fini(&a.db);
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	return rc;
}
