/* Which tables and databases a DDL statement from the binlog touches, and
 * the same statement with those names routed.
 *
 * The incremental sync reads DDL as text (a QUERY event: the statement and
 * the session's default database). It filters it with the block-allow-list
 * and renames source tables to target tables before running it on the
 * target. This module is just enough of a MySQL/MariaDB lexer and parser
 * for that: it finds the statement's kind and the spans of its table and
 * database names, and leaves everything else alone.
 *
 * Lexing follows the server: keywords in any case; comments (slash-star,
 * "-- ", '#'); executable comments (slash-star-bang with an optional version,
 * MariaDB's slash-star-M-bang) whose content is read as code; backquoted
 * names with doubled backquotes; strings in '' or "" with doubled quotes and
 * backslash escapes. Double quotes always make a string (no ANSI_QUOTES).
 *
 * Statements understood (MariaDB 10.11 and MySQL 8 syntax):
 *   CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS] t (… | LIKE u | [AS] SELECT …)
 *   ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS] t … [RENAME [TO|AS] u] …
 *   DROP [TEMPORARY] TABLE[S] [IF EXISTS] t[, …] [WAIT n|NOWAIT] [RESTRICT|CASCADE]
 *   RENAME TABLE[S] [IF EXISTS] a [WAIT n|NOWAIT] TO b[, c TO d …]
 *   TRUNCATE [TABLE] t [WAIT n|NOWAIT]
 *   CREATE [OR REPLACE] [ONLINE|OFFLINE] [UNIQUE|FULLTEXT|SPATIAL] INDEX [IF NOT EXISTS] i
 *          [USING type] ON t …
 *   DROP INDEX [ONLINE|OFFLINE] [IF EXISTS] i ON t …
 *   CREATE [OR REPLACE] | DROP | ALTER  DATABASE|SCHEMA [IF [NOT] EXISTS] d …
 * Tables named elsewhere in a statement (REFERENCES in a foreign key, the
 * SELECT of CREATE … SELECT, ALTER … EXCHANGE PARTITION … WITH TABLE) are not
 * reported and not rewritten. */
#ifndef DM_MIGRATE_DDL_H
#define DM_MIGRATE_DDL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

typedef enum {
	/* Not a statement the sync replicates: DML, GRANT, CREATE USER, SET,
	 * FLUSH, CREATE VIEW/PROCEDURE/FUNCTION/TRIGGER/EVENT/SEQUENCE, BEGIN,
	 * COMMIT, SAVEPOINT, XA, ANALYZE/OPTIMIZE, … */
	DM_DDL_OTHER = 0,
	DM_DDL_CREATE_DATABASE,
	DM_DDL_DROP_DATABASE,
	DM_DDL_ALTER_DATABASE,
	DM_DDL_CREATE_TABLE,   /* names: the table, then the LIKE source if any */
	DM_DDL_ALTER_TABLE,    /* names: the table, then the RENAME target if any */
	DM_DDL_DROP_TABLE,     /* names: every dropped table */
	DM_DDL_RENAME_TABLE,   /* names: from, to, from, to, … */
	DM_DDL_TRUNCATE_TABLE, /* names: the table */
	DM_DDL_CREATE_INDEX,   /* names: the table the index is on */
	DM_DDL_DROP_INDEX,     /* names: the table the index is on */
} dm_ddl_kind;

typedef struct dm_ddl_name {
	/* Unquoted. The default database when the statement did not qualify
	 * the name; NULL when there was neither. */
	char *schema;
	/* Unquoted; NULL in database statements. */
	char *table;
	/* Span of the whole name as written (`db`.`t`, db . t, t) in the
	 * statement. ALTER DATABASE without a name has len 0 and off where a
	 * name would go (just after DATABASE/SCHEMA). */
	size_t off, len;
} dm_ddl_name;

typedef struct dm_ddl {
	dm_ddl_kind kind;
	bool temporary; /* CREATE/DROP TEMPORARY TABLE: the sync skips these */
	bool if_exists, if_not_exists;
	dm_ddl_name *names; /* in statement order; NULL when nnames is 0 */
	size_t nnames;
} dm_ddl;

/* Parses the len bytes at sql (no NUL needed) run with default database
 * default_db (may be NULL). On success fills *out, which the caller
 * releases with dm_ddl_fini(). A statement that is none of the kinds above
 * is a success with kind DM_DDL_OTHER and no names. Failing (DM_EINVAL,
 * *out untouched) is kept for statements of a known kind that are
 * malformed — a missing name, an unterminated quote or comment,
 * unbalanced parentheses, text after the end, a name in double quotes, a
 * name cut by the edge of an executable comment — and the message quotes
 * the offending text and its byte offset. */
int dm_ddl_parse(const char *sql, size_t len, const char *default_db, dm_ddl *out, dm_err *err);
/* Frees what dm_ddl_parse() allocated; safe on a zeroed dm_ddl. */
void dm_ddl_fini(dm_ddl *d);

/* The statement d was parsed from, with names[i] replaced by
 * `schemas[i]`.`tables[i]` (table names) or `schemas[i]` (database names),
 * quoted with backquotes; every other byte is kept. For a table name a NULL
 * schemas[i] writes `tables[i]` alone, a NULL tables[i] keeps the name as
 * written; for a database name a NULL schemas[i] keeps it. Either array
 * may be NULL (all entries NULL). Returns a malloc'd NUL-terminated string
 * the caller frees; never NULL. */
char *dm_ddl_rewrite(const char *sql, size_t len, const dm_ddl *d, const char *const *schemas,
                     const char *const *tables);

#endif
