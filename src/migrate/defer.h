/* Deferred secondary indexes (docs/full-migration.md).
 *
 * A table the full copy creates in the target gets its plain secondary
 * indexes (`KEY`, not PRIMARY, UNIQUE, FULLTEXT, SPATIAL) only once its
 * rows are in: InnoDB then builds each index in one sorted pass instead of
 * inserting every row into it at a random place, which costs the target
 * about a quarter less CPU for a table like sysbench's. Keys that decide
 * what a row is (primary and unique) stay, so on-duplicate behaves the same.
 *
 * The indexes put off are recorded in the checkpoint before the table is
 * created, and forgotten only once added, so a crash in between still ends
 * with every index in place: whatever is recorded and missing is added when
 * the table's last chunk commits, and again at the end of every run. A
 * table that already exists, has or is referenced by a foreign key, is not
 * InnoDB, or whose AUTO_INCREMENT column needs the key, is created whole. */
#ifndef DM_MIGRATE_DEFER_H
#define DM_MIGRATE_DEFER_H

#include <mysql.h>
#include <stddef.h>

#include "base/err.h"
#include "base/log.h"
#include "migrate/checkpoint.h"

typedef struct dm_defer_index {
	char *name;   /* the index name, unquoted */
	char *clause; /* "KEY `k_1` (`k`)": what follows ADD in ALTER TABLE */
} dm_defer_index;

typedef struct dm_defer {
	dm_defer_index *items;
	size_t n;
} dm_defer;

void dm_defer_init(dm_defer *d);
void dm_defer_fini(dm_defer *d);
/* Appends an index (both strings copied). */
void dm_defer_add(dm_defer *d, const char *name, const char *clause);

/* Splits what follows the table name in SHOW CREATE TABLE (" (\n  `id` ...
 * \n) ENGINE=InnoDB ...") into the definition to create the table with
 * (*body, caller frees) and the indexes to add afterwards (appended to d).
 * When nothing can be put off, *body is a copy of def and d is unchanged. */
void dm_defer_split(const char *def, char **body, dm_defer *d);

/* Records in the checkpoint that `tschema`.`tname` is to get d's indexes
 * (replacing what was recorded for it), before the table is created
 * without them. */
int dm_defer_record(const dm_ckpt *c, MYSQL *target, const char *tschema, const char *tname,
                    const dm_defer *d, dm_err *err);

/* Adds to `tschema`.`tname` the indexes the checkpoint has pending for it
 * that the table does not have yet (by name), in one ALTER TABLE, then
 * forgets them. Nothing to do is a quick no-op. */
int dm_defer_apply(const dm_ckpt *c, MYSQL *target, const char *tschema, const char *tname,
                   dm_log *log, dm_err *err);

#endif
