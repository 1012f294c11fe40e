/* What the sync unit does with a statement read from the binlog: is it
 * the one it looks for, which target statement does a DDL become (after
 * the block-allow-list and routes), and which cached table shapes it
 * makes stale. */
#ifndef DM_MIGRATE_SYNCDDL_H
#define DM_MIGRATE_SYNCDDL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "migrate/ddl.h"
#include "migrate/filter.h"
#include "migrate/rules.h"
#include "migrate/schema.h"

/* Whether the statement's first word is w (case-insensitive). */
bool dm_syncddl_is(const char *q, size_t n, const char *w);

/* Errors a DDL gives when it already ran: a restart between running it
 * and recording it replays it once more. */
bool dm_syncddl_already_applied(unsigned int mysql_errno);

/* The DDL with routed names (malloc'd). NULL with err untouched when the
 * block-allow-list or the binlog filters (may be NULL) leave it out; NULL with err filled when it
 * cannot be applied (no database for a name, or a mix of kept and dropped tables that is not a DROP
 * TABLE). Clear err->msg before calling. */
char *dm_syncddl_for_target(const dm_rules *rules, const dm_filter *filter, const char *q, size_t n,
                            const dm_ddl *d, dm_err *err);

/* Drops the cached shapes of every target table the DDL names. */
void dm_syncddl_forget(dm_schema *schema, const dm_rules *rules, const dm_ddl *d);

#endif
