/* Source pre-flight checks: binlog settings, flavor, privileges. */
#include "mysql/check.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/conn.h"

const char *dm_mysql_flavor_name(dm_mysql_flavor f)
{
	return f == DM_MYSQL_FLAVOR_MARIADB ? "mariadb" : "mysql";
}

void dm_mysql_source_info_fini(dm_mysql_source_info *info)
{
	for (size_t i = 0; i < info->n_warnings; i++)
		free(info->warnings[i]);
	free(info->warnings);
	info->warnings = NULL;
	info->n_warnings = 0;
}

static void add_warning(dm_mysql_source_info *info, char *msg)
{
	info->warnings =
	        dm_xrealloc(info->warnings, (info->n_warnings + 1) * sizeof(*info->warnings));
	info->warnings[info->n_warnings++] = msg;
}

/* The global variables we read, fetched in one round trip. SHOW VARIABLES
 * with a name list (rather than SELECT @@x) because a variable that does
 * not exist on this version (gtid_mode on MariaDB, binlog_row_metadata
 * before MariaDB 10.5 / MySQL 8.0) must be absent, not an error. */
enum {
	V_LOG_BIN,
	V_BINLOG_FORMAT,
	V_ROW_IMAGE,
	V_SERVER_ID,
	V_GTID_MODE,
	V_GTID_STRICT,
	V_ROW_METADATA,
	V_VERSION,
	V_VERSION_COMMENT,
	V_N
};

static const char *const var_names[V_N] = {
        "log_bin",         "binlog_format",    "binlog_row_image",    "server_id",
        "gtid_mode",       "gtid_strict_mode", "binlog_row_metadata", "version",
        "version_comment",
};

static int read_vars(MYSQL *m, char *vals[V_N], dm_err *err)
{
	dm_buf q;
	dm_buf_init(&q);
	dm_buf_puts(&q, "SHOW GLOBAL VARIABLES WHERE Variable_name IN (");
	for (int i = 0; i < V_N; i++)
		dm_buf_printf(&q, "%s'%s'", i > 0 ? "," : "", var_names[i]);
	dm_buf_puts(&q, ")");
	int rc = 0;
	MYSQL_RES *res = NULL;
	if (mysql_real_query(m, q.data, q.len) != 0 || (res = mysql_store_result(m)) == NULL) {
		rc = dm_err_set(err, DM_EDB, "cannot read server variables (MySQL error %u: %s)",
		                mysql_errno(m), mysql_error(m));
		goto out;
	}
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL)
			continue;
		for (int i = 0; i < V_N; i++) {
			if (vals[i] == NULL && strcasecmp(row[0], var_names[i]) == 0)
				vals[i] = dm_xstrdup(row[1] != NULL ? row[1] : "");
		}
	}
out:
	mysql_free_result(res);
	dm_buf_fini(&q);
	return rc;
}

static bool value_is(const char *v, const char *want)
{
	return v != NULL && strcasecmp(v, want) == 0;
}

static const char *shown(const char *v)
{
	return v != NULL ? v : "(not present on this server)";
}

/* One failure: variable, value, requirement, and the exact fix both for
 * the running server and for its config file. */
static void fail_dynamic(dm_buf *b, const char *var, const char *val, const char *want,
                         const char *sql_value, const char *cnf)
{
	dm_buf_printf(b,
	              "%s%s is %s, must be %s — run SET GLOBAL %s = %s and add `%s` under "
	              "[mysqld] in the server's config file",
	              b->len > 0 ? "; " : "", var, shown(val), want, var, sql_value, cnf);
}

/* 'user'@'host' from CURRENT_USER()'s user@host, for GRANT statements. */
static char *account_of(MYSQL *m)
{
	char *cu = NULL;
	if (dm_mysql_query_value(m, "SELECT CURRENT_USER()", &cu, NULL) < 0 || cu == NULL)
		return dm_xstrdup("<dm's account>");
	char *at = strrchr(cu, '@');
	char *r;
	if (at == NULL) {
		r = dm_xasprintf("'%s'", cu);
	} else {
		*at = '\0';
		r = dm_xasprintf("'%s'@'%s'", cu, at + 1);
	}
	free(cu);
	return r;
}

/* Whether a comma-separated privilege list (upper case, as SHOW GRANTS
 * prints it) names priv. */
static bool priv_listed(const char *list, const char *priv)
{
	size_t n = strlen(priv);
	const char *p = list;
	while ((p = strstr(p, priv)) != NULL) {
		bool start = p == list || p[-1] == ' ' || p[-1] == ',';
		bool end = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
		if (start && end)
			return true;
		p += n;
	}
	return false;
}

/* Best effort: global grants from SHOW GRANTS. Privileges that reach the
 * account through a role, or a proxy user, are not seen, hence warnings,
 * not failures; the binlog dump itself is the final word. */
static void check_grants(MYSQL *m, dm_mysql_source_info *info)
{
	MYSQL_RES *res = NULL;
	if (mysql_query(m, "SHOW GRANTS") != 0 || (res = mysql_store_result(m)) == NULL) {
		add_warning(info, dm_xasprintf("could not read the account's privileges with SHOW "
		                               "GRANTS (MySQL error %u: %s); make sure it has "
		                               "REPLICATION SLAVE and REPLICATION CLIENT",
		                               mysql_errno(m), mysql_error(m)));
		return;
	}
	bool roles = false;
	MYSQL_ROW row;
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || strncasecmp(row[0], "GRANT ", 6) != 0)
			continue;
		const char *on = strstr(row[0], " ON ");
		if (on == NULL) {
			roles = true; /* "GRANT `role` TO `user`@`host`" */
			continue;
		}
		/* Only global grants carry these privileges. */
		const char *target = on + 4;
		if (strncmp(target, "*.*", 3) != 0)
			continue;
		char *list = dm_xstrndup(row[0] + 6, (size_t)(on - (row[0] + 6)));
		for (char *p = list; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		if (priv_listed(list, "ALL PRIVILEGES") || priv_listed(list, "ALL")) {
			info->has_replication_slave = true;
			info->has_replication_client = true;
		}
		if (priv_listed(list, "REPLICATION SLAVE"))
			info->has_replication_slave = true;
		/* MariaDB 10.5 renamed REPLICATION CLIENT to BINLOG MONITOR and
		 * prints the new name. */
		if (priv_listed(list, "REPLICATION CLIENT") || priv_listed(list, "BINLOG MONITOR"))
			info->has_replication_client = true;
		free(list);
	}
	mysql_free_result(res);
	if (info->has_replication_slave && info->has_replication_client)
		return;
	char *acct = account_of(m);
	const char *client =
	        info->flavor == DM_MYSQL_FLAVOR_MARIADB ? "BINLOG MONITOR" : "REPLICATION CLIENT";
	dm_buf b;
	dm_buf_init(&b);
	if (!info->has_replication_slave && !info->has_replication_client)
		dm_buf_printf(&b, "REPLICATION SLAVE, %s", client);
	else if (!info->has_replication_slave)
		dm_buf_puts(&b, "REPLICATION SLAVE");
	else
		dm_buf_puts(&b, client);
	add_warning(info, dm_xasprintf("SHOW GRANTS does not list %s ON *.* for %s%s: reading the "
	                               "binlog needs them — run GRANT %s ON *.* TO %s",
	                               dm_buf_str(&b), acct,
	                               roles ? " (privileges granted through a role are not "
	                                       "checked)"
	                                     : "",
	                               dm_buf_str(&b), acct));
	dm_buf_fini(&b);
	free(acct);
}

static char *link_of(MYSQL *m, const char *what)
{
	const char *host = NULL;
	unsigned int port = 0;
	if (mariadb_get_infov(m, MARIADB_CONNECTION_HOST, (void *)&host) != 0 || host == NULL)
		return dm_xstrdup(what);
	if (mariadb_get_infov(m, MARIADB_CONNECTION_PORT, (void *)&port) != 0)
		port = 0;
	if (strchr(host, ':') != NULL)
		return dm_xasprintf("%s [%s]:%u", what, host, port);
	return dm_xasprintf("%s %s:%u", what, host, port);
}

int dm_mysql_check_source(MYSQL *m, const char *what, dm_mysql_source_info *ret, dm_err *err)
{
	if (what == NULL)
		what = "source";
	char *link = link_of(m, what);
	char *v[V_N] = {0};
	dm_mysql_source_info info;
	memset(&info, 0, sizeof(info));
	dm_buf fails;
	dm_buf_init(&fails);
	int rc = -1;

	if (read_vars(m, v, err) < 0) {
		dm_err_prefix(err, "%s", link);
		goto out;
	}

	snprintf(info.version, sizeof(info.version), "%s", v[V_VERSION] ? v[V_VERSION] : "");
	sscanf(info.version, "%d.%d.%d", &info.version_major, &info.version_minor,
	       &info.version_patch);
	bool maria = (v[V_VERSION] && strstr(v[V_VERSION], "MariaDB")) ||
	             (v[V_VERSION_COMMENT] && strstr(v[V_VERSION_COMMENT], "MariaDB"));
	info.flavor = maria ? DM_MYSQL_FLAVOR_MARIADB : DM_MYSQL_FLAVOR_MYSQL;
	if (v[V_SERVER_ID] != NULL)
		info.server_id = (uint32_t)strtoul(v[V_SERVER_ID], NULL, 10);
	if (!maria && v[V_GTID_MODE] != NULL)
		snprintf(info.gtid_mode, sizeof(info.gtid_mode), "%s", v[V_GTID_MODE]);
	info.gtid_strict_mode = maria && value_is(v[V_GTID_STRICT], "ON");
	if (v[V_ROW_METADATA] != NULL)
		snprintf(info.binlog_row_metadata, sizeof(info.binlog_row_metadata), "%s",
		         v[V_ROW_METADATA]);

	if (!value_is(v[V_LOG_BIN], "ON") && !value_is(v[V_LOG_BIN], "1"))
		dm_buf_printf(&fails,
		              "log_bin is %s, must be ON — binary logging is turned on only at "
		              "start-up: add `log-bin = mysql-bin` and a unique `server-id` under "
		              "[mysqld] in the server's config file and restart it",
		              shown(v[V_LOG_BIN]));
	if (!value_is(v[V_BINLOG_FORMAT], "ROW"))
		fail_dynamic(&fails, "binlog_format", v[V_BINLOG_FORMAT], "ROW", "'ROW'",
		             "binlog_format = ROW");
	/* Servers before binlog_row_image existed always log full images. */
	if (v[V_ROW_IMAGE] != NULL && !value_is(v[V_ROW_IMAGE], "FULL"))
		fail_dynamic(&fails, "binlog_row_image", v[V_ROW_IMAGE], "FULL", "'FULL'",
		             "binlog_row_image = FULL");
	if (info.server_id == 0)
		fail_dynamic(&fails, "server_id", shown(v[V_SERVER_ID]),
		             "a non-zero number unique among the servers", "<n>",
		             "server-id = <n>");
	if (fails.len > 0) {
		dm_err_set(err, DM_EINVAL, "%s (%s %s) cannot be replicated by dm: %s", link,
		           dm_mysql_flavor_name(info.flavor), info.version, dm_buf_str(&fails));
		goto out;
	}

	if (v[V_ROW_METADATA] == NULL)
		add_warning(&info, dm_xasprintf("%s has no binlog_row_metadata (added in MariaDB "
		                                "10.5 and MySQL 8.0.1): row events carry no "
		                                "column names or keys, dm uses the table's "
		                                "current schema, which is wrong while a DDL "
		                                "is pending",
		                                info.version));
	else if (!value_is(v[V_ROW_METADATA], "FULL"))
		add_warning(&info, dm_xasprintf("binlog_row_metadata is %s, FULL is recommended: "
		                                "without it row events carry no column names or "
		                                "keys and dm uses the table's current schema — "
		                                "run SET GLOBAL binlog_row_metadata = 'FULL' and "
		                                "add `binlog_row_metadata = FULL` under [mysqld] "
		                                "in the server's config file",
		                                v[V_ROW_METADATA]));
	check_grants(m, &info);

	*ret = info;
	memset(&info, 0, sizeof(info));
	rc = 0;
out:
	dm_mysql_source_info_fini(&info);
	for (int i = 0; i < V_N; i++)
		free(v[i]);
	dm_buf_fini(&fails);
	free(link);
	return rc;
}
