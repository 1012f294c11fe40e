/* Which upstream tables a subtask migrates and what they are called
 * downstream: task.yaml's block-allow-list and routes, compiled once per
 * subtask.
 *
 * Patterns: a value starting with '~' is a POSIX extended regular
 * expression (DM writes Go regexps; the common subset is the same),
 * anything else a wildcard where '*' matches any run of characters and '?'
 * one character. Unless the task is case-sensitive, matching ignores ASCII
 * case, as DM does.
 *
 * Block-allow-list, as DM applies it:
 *   1. schema: if do-dbs is set, the schema must match one of them;
 *      otherwise it must match none of ignore-dbs;
 *   2. table: if do-tables is set, the table must match one of them;
 *      otherwise it must match none of ignore-tables.
 * The system schemas (mysql, information_schema, performance_schema, sys)
 * and the task's meta-schema are never migrated.
 *
 * Routes: a rule with a table-pattern renames matching tables (schema and,
 * when target-table is set, table); a rule without one renames the schema
 * of every table in it. Table rules win over schema rules; among rules of
 * one kind the first in route-rules order wins. Several upstream tables may
 * route to one downstream table (shard merging of data; DDL merging is not
 * supported). */
#ifndef DM_MIGRATE_RULES_H
#define DM_MIGRATE_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "config/task.h"

typedef struct dm_rules dm_rules;

/* Compiles the rules instance `instance` of cfg uses. On success *out is
 * the caller's, freed with dm_rules_free(). A bad regular expression is
 * DM_EINVAL naming the rule and the pattern. */
int dm_rules_new(const dm_task_config *cfg, size_t instance, dm_rules **out, dm_err *err);
void dm_rules_free(dm_rules *r);

/* Step 1 alone: whether any table of this schema can be migrated. */
bool dm_rules_schema_allowed(const dm_rules *r, const char *schema);
/* Steps 1 and 2. */
bool dm_rules_table_allowed(const dm_rules *r, const char *schema, const char *table);
/* The downstream name of an upstream table: *tschema and *ttable are
 * malloc'd copies the caller frees. Without a matching rule, the same
 * names. */
void dm_rules_route(const dm_rules *r, const char *schema, const char *table, char **tschema,
                    char **ttable);

/* Pattern matching on its own (for tests and the binlog filters):
 * wildcard or "~regex". */
typedef struct dm_pattern dm_pattern;
int dm_pattern_new(const char *text, bool case_sensitive, dm_pattern **out, dm_err *err);
bool dm_pattern_match(const dm_pattern *p, const char *s);
void dm_pattern_free(dm_pattern *p);

#endif
