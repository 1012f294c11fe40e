/* A consistent read view of the upstream for the full copy, and the binlog
 * position it corresponds to (where `all` mode's sync starts).
 *
 * Modes (task.yaml mydumpers.consistency):
 *   flush     FLUSH TABLES WITH READ LOCK, record the position, open every
 *             reader's START TRANSACTION WITH CONSISTENT SNAPSHOT, unlock:
 *             writes upstream wait for a few milliseconds only.
 *   snapshot  no lock: every reader opens its snapshot and reads MariaDB's
 *             Binlog_snapshot_file/position; when all readers report the
 *             same position no commit fell between them and the view is
 *             consistent. Retried a few times, then refused.
 *   lock      as flush with LOCK TABLES ... READ on the selected tables
 *             (for users without the RELOAD privilege).
 *   none      snapshots opened without coordination; the position is read
 *             first and is only a hint.
 *   auto      snapshot on MariaDB, else flush, else lock.
 * Consistency holds for transactional (InnoDB) tables. */
#ifndef DM_MIGRATE_SNAPSHOT_H
#define DM_MIGRATE_SNAPSHOT_H

#include <mysql.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"
#include "migrate/plan.h"
#include "mysql/conn.h"

typedef struct dm_snapshot {
	char *binlog_name; /* "" when the upstream has no binlog */
	uint64_t binlog_pos;
	char *binlog_gtid;       /* "" when unknown */
	const char *consistency; /* the mode used: a literal */
} dm_snapshot;

void dm_snapshot_fini(dm_snapshot *s);

/* Opens n connections to src in readers[] (closed by the caller with
 * mysql_close) inside one consistent snapshot, following mode. coord is an
 * extra connection to the same server used for locks; plan lists the tables
 * for `lock`. On failure no reader is left open. */
int dm_snapshot_open(MYSQL *coord, const dm_db_config *src, const char *what, const char *mode,
                     const dm_plan *plan, int n, MYSQL **readers, dm_snapshot *out, dm_log *log,
                     dm_err *err);

#endif
