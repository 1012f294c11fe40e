#include "migrate/snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/par.h"
#include "mysql/sql.h"

void dm_snapshot_fini(dm_snapshot *s)
{
	free(s->binlog_name);
	free(s->binlog_gtid);
	memset(s, 0, sizeof(*s));
}

/* A connection for reading rows: binary character set (no transcoding),
 * UTC, long network timeouts (a reader may wait for slow writers). */
static int connect_reader(const dm_db_config *src, const char *what, MYSQL **ret, dm_err *err)
{
	dm_db_config c;
	dm_db_config_init(&c);
	dm_db_config_copy(&c, src);
	free(c.charset);
	c.charset = dm_xstrdup("binary");
	int rc = dm_mysql_connect(&c, what, ret, err);
	dm_db_config_fini(&c);
	if (rc < 0)
		return -1;
	if (dm_mysql_query(*ret, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", err) <
	            0 ||
	    dm_mysql_query(*ret,
	                   "SET SESSION time_zone = '+00:00', net_write_timeout = 3600, "
	                   "net_read_timeout = 3600",
	                   err) < 0) {
		mysql_close(*ret);
		*ret = NULL;
		return -1;
	}
	return 0;
}

/* The server's binlog position now (SHOW MASTER STATUS); *file is malloc'd. */
static int position_now(MYSQL *m, char **file, uint64_t *pos, dm_err *err)
{
	MYSQL_RES *res;
	if (dm_mysql_store(m, "SHOW MASTER STATUS", &res, err) < 0)
		return -1;
	MYSQL_ROW row = mysql_fetch_row(res);
	*file = dm_xstrdup(row && row[0] ? row[0] : "");
	*pos = row && row[1] ? strtoull(row[1], NULL, 10) : 0;
	mysql_free_result(res);
	return 0;
}

/* SHOW MASTER STATUS and the GTID set, on a connection that holds a lock
 * (or for `none`, on any). */
static int master_status(MYSQL *m, dm_snapshot *out, dm_err *err)
{
	free(out->binlog_name);
	out->binlog_name = NULL;
	if (position_now(m, &out->binlog_name, &out->binlog_pos, err) < 0)
		return -1;
	char *gtid = NULL;
	if (dm_mysql_query_value(m,
	                         dm_mysql_is_mariadb(m) ? "SELECT @@GLOBAL.gtid_binlog_pos"
	                                                : "SELECT @@GLOBAL.gtid_executed",
	                         &gtid, err) < 0)
		return -1;
	free(out->binlog_gtid);
	out->binlog_gtid = gtid ? gtid : dm_xstrdup("");
	return 0;
}

static void close_all(MYSQL **readers, int n)
{
	for (int i = 0; i < n; i++) {
		if (readers[i])
			mysql_close(readers[i]);
		readers[i] = NULL;
	}
}

typedef struct opening {
	const dm_db_config *src;
	const char *what;
	MYSQL **readers;
} opening;

static int open_one(void *arg, int i, dm_err *err)
{
	opening *o = arg;
	return connect_reader(o->src, o->what, &o->readers[i], err);
}

/* All at once: a TLS handshake each. */
static int open_readers(const dm_db_config *src, const char *what, int n, MYSQL **readers,
                        dm_err *err)
{
	opening o = {src, what, readers};
	if (dm_par_each(n, open_one, &o, err) < 0) {
		close_all(readers, n);
		return -1;
	}
	return 0;
}

static int start_snapshots(MYSQL **readers, int n, dm_err *err)
{
	for (int i = 0; i < n; i++)
		if (dm_mysql_query(readers[i], "START TRANSACTION WITH CONSISTENT SNAPSHOT", err) <
		    0)
			return -1;
	return 0;
}

/* Under a lock that stops commits: position, then every snapshot. */
static int locked(MYSQL *coord, const char *lock_sql, MYSQL **readers, int n, dm_snapshot *out,
                  dm_err *err)
{
	if (dm_mysql_query(coord, lock_sql, err) < 0)
		return -1;
	int rc = master_status(coord, out, err);
	if (rc == 0)
		rc = start_snapshots(readers, n, err);
	dm_err e2;
	if (dm_mysql_query(coord, "UNLOCK TABLES", &e2) < 0 && rc == 0) {
		*err = e2;
		rc = -1;
	}
	return rc;
}

static int snapshot_status(MYSQL *m, char **file, uint64_t *pos, dm_err *err)
{
	MYSQL_RES *res;
	if (dm_mysql_store(m, "SHOW STATUS LIKE 'binlog_snapshot_%'", &res, err) < 0)
		return -1;
	MYSQL_ROW row;
	*file = NULL;
	*pos = 0;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (strcasecmp(row[0], "Binlog_snapshot_file") == 0)
			*file = dm_xstrdup(row[1] ? row[1] : "");
		else if (strcasecmp(row[0], "Binlog_snapshot_position") == 0)
			*pos = row[1] ? strtoull(row[1], NULL, 10) : 0;
	}
	mysql_free_result(res);
	if (*file == NULL)
		return dm_err_set(err, DM_EINVAL,
		                  "the upstream has no Binlog_snapshot_file status (not MariaDB?); "
		                  "use consistency flush or lock");
	return 0;
}

/* The GTID set at out's position. While no commit followed the snapshot
 * (the server's position is the same before and after reading it) that is
 * gtid_binlog_pos; else BINLOG_GTID_POS(), which reads the binlog file from
 * its start: seconds on a large one. */
static int snapshot_gtid(MYSQL *m, dm_snapshot *out, dm_err *err)
{
	free(out->binlog_gtid);
	out->binlog_gtid = NULL;
	if (out->binlog_name[0] == '\0') {
		out->binlog_gtid = dm_xstrdup("");
		return 0;
	}
	char *f1 = NULL, *f2 = NULL, *gtid = NULL;
	uint64_t p1 = 0, p2 = 0;
	int rc = position_now(m, &f1, &p1, err);
	if (rc == 0)
		rc = dm_mysql_query_value(m, "SELECT @@GLOBAL.gtid_binlog_pos", &gtid, err);
	if (rc == 0)
		rc = position_now(m, &f2, &p2, err);
	bool still = rc == 0 && strcmp(f1, out->binlog_name) == 0 && p1 == out->binlog_pos &&
	             strcmp(f2, f1) == 0 && p2 == p1;
	free(f1);
	free(f2);
	if (rc == 0 && !still) {
		free(gtid);
		gtid = NULL;
		dm_buf q;
		dm_buf_init(&q);
		dm_buf_puts(&q, "SELECT BINLOG_GTID_POS(");
		dm_sql_string(&q, out->binlog_name);
		dm_buf_printf(&q, ", %llu)", (unsigned long long)out->binlog_pos);
		rc = dm_mysql_query_value(m, q.data, &gtid, err);
		dm_buf_fini(&q);
	}
	out->binlog_gtid = gtid ? gtid : dm_xstrdup("");
	return rc;
}

/* Lock-free: consistent when every reader's snapshot sits at the same
 * binlog position. DM_ECONFLICT when they never agreed. */
static int lock_free(MYSQL **readers, int n, dm_snapshot *out, dm_log *log, dm_err *err)
{
	for (int attempt = 1; attempt <= 8; attempt++) {
		if (start_snapshots(readers, n, err) < 0)
			return -1;
		char *first = NULL;
		uint64_t first_pos = 0;
		bool same = true;
		for (int i = 0; i < n && same; i++) {
			char *f;
			uint64_t pos;
			if (snapshot_status(readers[i], &f, &pos, err) < 0) {
				free(first);
				return -1;
			}
			if (i == 0) {
				first = f;
				first_pos = pos;
				continue;
			}
			same = strcmp(f, first) == 0 && pos == first_pos;
			free(f);
		}
		if (same) {
			free(out->binlog_name);
			out->binlog_name = first;
			out->binlog_pos = first_pos;
			return snapshot_gtid(readers[0], out, err);
		}
		free(first);
		dm_log_debug(log,
		             "snapshot attempt %d: commits fell between the readers' "
		             "snapshots; trying again",
		             attempt);
		for (int i = 0; i < n; i++)
			if (dm_mysql_query(readers[i], "ROLLBACK", err) < 0)
				return -1;
	}
	return dm_err_set(err, DM_ECONFLICT,
	                  "the upstream commits too often for %d readers to open one snapshot "
	                  "without a lock; use consistency auto or flush",
	                  n);
}

static char *lock_tables_sql(const dm_plan *plan)
{
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_puts(&b, "LOCK TABLES ");
	for (size_t i = 0; i < plan->ntables; i++) {
		if (i)
			dm_buf_puts(&b, ", ");
		dm_sql_table(&b, plan->tables[i].schema, plan->tables[i].name);
		dm_buf_puts(&b, " READ");
	}
	return dm_buf_detach(&b);
}

int dm_snapshot_open(MYSQL *coord, const dm_db_config *src, const char *what, const char *mode,
                     const dm_plan *plan, int n, MYSQL **readers, dm_snapshot *out, dm_log *log,
                     dm_err *err)
{
	memset(out, 0, sizeof(*out));
	memset(readers, 0, (size_t)n * sizeof(*readers));
	if (open_readers(src, what, n, readers, err) < 0)
		return -1;
	int rc;
	if (strcmp(mode, "flush") == 0) {
		out->consistency = "flush";
		rc = locked(coord, "FLUSH TABLES WITH READ LOCK", readers, n, out, err);
	} else if (strcmp(mode, "lock") == 0) {
		out->consistency = "lock";
		char *sql = lock_tables_sql(plan);
		rc = plan->ntables ? locked(coord, sql, readers, n, out, err)
		                   : master_status(coord, out, err);
		free(sql);
	} else if (strcmp(mode, "none") == 0) {
		out->consistency = "none";
		rc = master_status(coord, out, err);
		if (rc == 0)
			rc = start_snapshots(readers, n, err);
	} else if (strcmp(mode, "snapshot") == 0) {
		out->consistency = "snapshot";
		rc = lock_free(readers, n, out, log, err);
	} else {
		rc = -1;
		if (dm_mysql_is_mariadb(coord)) {
			out->consistency = "snapshot";
			rc = lock_free(readers, n, out, log, err);
			if (rc < 0) {
				dm_log_info(log,
				            "no lock-free snapshot (%s); using FLUSH TABLES WITH "
				            "READ LOCK",
				            err->msg);
				for (int i = 0; i < n; i++)
					dm_mysql_query(readers[i], "ROLLBACK", NULL);
			}
		}
		if (rc < 0) {
			out->consistency = "flush";
			rc = locked(coord, "FLUSH TABLES WITH READ LOCK", readers, n, out, err);
		}
		if (rc < 0 && mysql_errno(coord) == 1227 /* ER_SPECIFIC_ACCESS_DENIED */) {
			dm_log_info(log,
			            "FLUSH TABLES WITH READ LOCK refused (%s); using LOCK TABLES",
			            err->msg);
			out->consistency = "lock";
			char *sql = lock_tables_sql(plan);
			rc = locked(coord, sql, readers, n, out, err);
			free(sql);
		}
	}
	if (rc < 0) {
		close_all(readers, n);
		dm_snapshot_fini(out);
		return dm_err_prefix(err, "opening a consistent snapshot (consistency %s)", mode);
	}
	if (out->binlog_name == NULL)
		out->binlog_name = dm_xstrdup("");
	if (out->binlog_gtid == NULL)
		out->binlog_gtid = dm_xstrdup("");
	return 0;
}
