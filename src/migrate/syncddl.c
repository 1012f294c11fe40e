#include "migrate/syncddl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/sql.h"

bool dm_syncddl_is(const char *q, size_t n, const char *w)
{
	size_t k = strlen(w);
	while (n && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')) {
		q++;
		n--;
	}
	return n >= k && strncasecmp(q, w, k) == 0 &&
	       (n == k || !((q[k] >= 'a' && q[k] <= 'z') || (q[k] >= 'A' && q[k] <= 'Z')));
}

/* Errors a DDL gives when it already ran: a restart between running it
 * and recording it replays it once more. */
bool dm_syncddl_already_applied(unsigned int no)
{
	switch (no) {
	case 1007: /* database exists */
	case 1008: /* database does not exist */
	case 1050: /* table exists */
	case 1051: /* unknown table */
	case 1060: /* duplicate column */
	case 1061: /* duplicate key name */
	case 1091: /* can't drop: does not exist */
	case 1146: /* table does not exist */ return true;
	default: return false;
	}
}

/* DM's event name for a statement kind. */
static const char *event_name(dm_ddl_kind k)
{
	switch (k) {
	case DM_DDL_CREATE_DATABASE: return "create database";
	case DM_DDL_DROP_DATABASE: return "drop database";
	case DM_DDL_ALTER_DATABASE: return "alter database";
	case DM_DDL_CREATE_TABLE: return "create table";
	case DM_DDL_ALTER_TABLE: return "alter table";
	case DM_DDL_DROP_TABLE: return "drop table";
	case DM_DDL_RENAME_TABLE: return "rename table";
	case DM_DDL_TRUNCATE_TABLE: return "truncate table";
	case DM_DDL_CREATE_INDEX: return "create index";
	case DM_DDL_DROP_INDEX: return "drop index";
	default: return "";
	}
}

/* The name the binlog filters judge name i by: a RENAME's target and a
 * CREATE ... LIKE source or ALTER ... RENAME target go with the statement's
 * own table. */
static size_t filtered_as(const dm_ddl *d, size_t i)
{
	if (d->kind == DM_DDL_RENAME_TABLE)
		return i & ~(size_t)1;
	if (d->kind == DM_DDL_CREATE_TABLE || d->kind == DM_DDL_ALTER_TABLE)
		return 0;
	return i;
}

/* The DDL with routed names, or NULL when the filters leave it out. */
char *dm_syncddl_for_target(const dm_rules *rules, const dm_filter *filter, const char *q, size_t n,
                            const dm_ddl *d, dm_err *err)
{
	size_t allowed = 0;
	bool *keep = dm_xcalloc(d->nnames + 1, sizeof(bool));
	for (size_t i = 0; i < d->nnames; i++) {
		const dm_ddl_name *nm = &d->names[i];
		if (nm->schema == NULL) {
			dm_err_set(err, DM_EINVAL,
			           "a DDL names `%s` without a database and the session had none; "
			           "statement: %.*s",
			           nm->table ? nm->table : "?", (int)(n < 300 ? n : 300), q);
			free(keep);
			return NULL;
		}
		const dm_ddl_name *fn = &d->names[filtered_as(d, i)];
		keep[i] = (nm->table ? dm_rules_table_allowed(rules, nm->schema, nm->table)
		                     : dm_rules_schema_allowed(rules, nm->schema)) &&
		          (fn->schema == NULL || !dm_filter_drops(filter, fn->schema, fn->table,
		                                                  event_name(d->kind), q, n));
		allowed += keep[i];
	}
	if (allowed == 0) {
		free(keep);
		return NULL;
	}
	char **schemas = dm_xcalloc(d->nnames + 1, sizeof(char *));
	char **tables = dm_xcalloc(d->nnames + 1, sizeof(char *));
	for (size_t i = 0; i < d->nnames; i++)
		dm_rules_route(rules, d->names[i].schema,
		               d->names[i].table ? d->names[i].table : "", &schemas[i], &tables[i]);
	char *out = NULL;
	if (allowed == d->nnames) {
		for (size_t i = 0; i < d->nnames; i++) {
			if (d->names[i].table == NULL) {
				free(tables[i]);
				tables[i] = NULL;
			}
		}
		out = dm_ddl_rewrite(q, n, d, (const char *const *)schemas,
		                     (const char *const *)tables);
	} else if (d->kind == DM_DDL_DROP_TABLE) {
		dm_buf b;
		dm_buf_init(&b);
		dm_buf_puts(&b, "DROP TABLE IF EXISTS ");
		bool first = true;
		for (size_t i = 0; i < d->nnames; i++) {
			if (!keep[i])
				continue;
			if (!first)
				dm_buf_puts(&b, ", ");
			dm_sql_table(&b, schemas[i], tables[i]);
			first = false;
		}
		out = dm_buf_detach(&b);
	} else {
		dm_err_set(err, DM_EINVAL,
		           "a DDL touches tables the block-allow-list or filters both keep and "
		           "leave out, "
		           "and cannot be split; apply it on the target by hand, then skip it; "
		           "statement: %.*s",
		           (int)(n < 300 ? n : 300), q);
	}
	for (size_t i = 0; i < d->nnames; i++) {
		free(schemas[i]);
		free(tables[i]);
	}
	free(schemas);
	free(tables);
	free(keep);
	return out;
}

void dm_syncddl_forget(dm_schema *schema, const dm_rules *rules, const dm_ddl *d)
{
	for (size_t i = 0; i < d->nnames; i++) {
		char *ts, *tt;
		const dm_ddl_name *nm = &d->names[i];
		if (nm->schema == NULL)
			continue;
		dm_rules_route(rules, nm->schema, nm->table ? nm->table : "", &ts, &tt);
		dm_schema_invalidate(schema, ts, nm->table ? tt : NULL);
		free(ts);
		free(tt);
	}
}
