/* Pre-flight checks of an upstream source: is it able to feed a binlog
 * replica the way dm reads it (ROW events with full images)?
 *
 * Failures are things replication cannot work without; each message names
 * the variable, its current value and the exact fix. Warnings are things
 * that work but worse (no column metadata in TABLE_MAP) or could not be
 * confirmed (privileges read from SHOW GRANTS, best effort). */
#ifndef DM_MYSQL_CHECK_H
#define DM_MYSQL_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "base/err.h"

typedef enum {
	DM_MYSQL_FLAVOR_MYSQL,
	DM_MYSQL_FLAVOR_MARIADB,
} dm_mysql_flavor;

/* "mysql" or "mariadb". */
const char *dm_mysql_flavor_name(dm_mysql_flavor f);

typedef struct dm_mysql_source_info {
	dm_mysql_flavor flavor;
	char version[64];  /* VERSION(), e.g. "10.11.6-MariaDB-0+deb12u1-log" */
	int version_major; /* 10, 11, 5, 8 ... */
	int version_minor;
	int version_patch;
	/* Unique per source across a task: the master compares it. */
	uint32_t server_id;
	char gtid_mode[16];           /* MySQL @@gtid_mode ("ON", "OFF"...); "" on MariaDB */
	bool gtid_strict_mode;        /* MariaDB @@gtid_strict_mode; false on MySQL */
	char binlog_row_metadata[16]; /* "FULL", "MINIMAL", "NO_LOG"; "" when unsupported */
	bool has_replication_slave;   /* REPLICATION SLAVE (binlog dump) */
	bool has_replication_client; /* REPLICATION CLIENT or BINLOG MONITOR (SHOW MASTER STATUS) */
	/* Human-readable, each naming what to change; malloc'd. */
	char **warnings;
	size_t n_warnings;
} dm_mysql_source_info;

/* Frees the warnings; the struct may be reused afterwards. */
void dm_mysql_source_info_fini(dm_mysql_source_info *info);

/* Reads the source's settings on connection m and checks log_bin=ON,
 * binlog_format=ROW, binlog_row_image=FULL and server_id != 0. `what`
 * names the link in messages ("source mysql-01"). On success *ret is
 * filled (warnings included; the caller finis it). On failure (DM_EINVAL
 * for settings, DM_EDB/DM_ENET for query errors) *ret is untouched and
 * err lists every failed check with its fix, so one round of changes is
 * enough. */
int dm_mysql_check_source(MYSQL *m, const char *what, dm_mysql_source_info *ret, dm_err *err);

#endif
