/* Binlog event filters: task.yaml's `filters` rules that an instance names
 * in `filter-rules`, applied by the incremental sync to every row event and
 * every DDL it would replicate (the full copy does not use them).
 *
 * A rule applies to an event when its schema-pattern matches the upstream
 * schema and, if it has a table-pattern, the table matches it too (a rule
 * with a table-pattern never applies to a database statement). For each
 * applying rule, in filter-rules order, the event "matches" when its name
 * is in `events` or, for a statement with text (DDL), any `sql-pattern`
 * finds it. Then:
 *   - an Ignore rule that matches drops the event;
 *   - a Do rule that does not match drops it (Do lists what passes).
 * An event no rule drops is replicated. Event lists are read in order as
 * DM does: "all" matches everything, "none" nothing, "all dml"/"all ddl"
 * every event of that class and "none dml"/"none ddl" none of it; the
 * first of those words that concerns the event decides.
 *
 * sql-pattern is a POSIX extended regular expression with GNU's \s \w \b
 * (Go's common subset), matched ignoring case as DM does. */
#ifndef DM_MIGRATE_FILTER_H
#define DM_MIGRATE_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "config/task.h"

typedef struct dm_filter dm_filter;

/* Compiles the filters instance `instance` of cfg names. *out is the
 * caller's (dm_filter_free); NULL when the instance names none. A bad
 * pattern is DM_EINVAL naming the rule, the key and the pattern. */
int dm_filter_new(const dm_task_config *cfg, size_t instance, dm_filter **out, dm_err *err);
void dm_filter_free(dm_filter *f);

/* Whether the filters drop `event` (a DM event name: "insert", "update",
 * "delete", "create table", "drop database", ...) on schema.table (table
 * NULL for a database statement). sql (n bytes, may be NULL) is the
 * statement's text. f may be NULL: nothing is dropped. */
bool dm_filter_drops(const dm_filter *f, const char *schema, const char *table, const char *event,
                     const char *sql, size_t n);

#endif
