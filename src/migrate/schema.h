/* What the sync unit knows about target tables: column names in order,
 * which are generated, the key that identifies a row and the other unique
 * indexes.
 *
 * It is read from the target, not the upstream: the target table is at
 * the same point of the binlog as the events being applied (DDL is applied
 * in stream order, and the cache entry is dropped when it is), whereas the
 * upstream's current schema may already be ahead. Binlog events carry
 * column names only with binlog_row_metadata=FULL; without them columns are
 * matched by position against this.
 *
 * Entries live until dm_schema_invalidate or dm_schema_free; pointers to
 * them are handed to appliers, so invalidate only when no applier holds
 * work (the sync unit flushes before applying DDL). One thread uses it. */
#ifndef DM_MIGRATE_SCHEMA_H
#define DM_MIGRATE_SCHEMA_H

#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

typedef struct dm_tinfo {
	char *schema, *table; /* target names */
	char *qname;          /* `schema`.`table` */
	size_t ncols;
	char **cols;     /* column names, ordinal order */
	char **qcols;    /* the same, quoted */
	bool *generated; /* computed by the target: never written */
	bool *text;      /* compares by a collation, not bytes */
	bool *unsig;     /* an UNSIGNED integer column */
	/* FLOAT: a literal compares with it as a double, which never matches
	 * a value widened from FLOAT; a WHERE compares through CAST(… AS FLOAT) */
	bool *flt;
	size_t nkey;
	size_t *key; /* indices of the PK, else a NOT NULL unique key; nkey 0: none */
	/* Rows may be told apart by hashing their key bytes: there is a key
	 * and no part of it compares through a collation ('a' = 'A'). */
	bool key_hashable;
	char *qkey_index; /* the key's index, quoted (NULL when nkey is 0) */
	/* Unique indexes other than key (uniq_len[u] columns each, indices in
	 * uniq[u]): two rows that agree on every column of one, none NULL,
	 * collide like two rows with the same key. uniq_hashable[u]: they
	 * agree exactly when those columns' bytes do; false when a column
	 * compares through a collation, is indexed by a prefix, or when the
	 * index has expression parts (MySQL 8; uniq[u] lists only its
	 * columns, possibly none). */
	size_t nuniq;
	size_t *uniq_len;
	size_t **uniq;
	bool *uniq_hashable;
} dm_tinfo;

typedef struct dm_schema dm_schema;

dm_schema *dm_schema_new(void);
void dm_schema_free(dm_schema *s);

/* The target table's info, loaded on first use. DM_ENOTFOUND when the
 * table does not exist on the target. The result belongs to s. */
int dm_schema_get(dm_schema *s, MYSQL *target, const char *schema, const char *table,
                  const dm_tinfo **out, dm_err *err);

/* Forgets a table (table NULL: every table of schema; schema NULL too:
 * everything). */
void dm_schema_invalidate(dm_schema *s, const char *schema, const char *table);

/* The column named name (case-insensitive), or -1. */
int dm_tinfo_col(const dm_tinfo *t, const char *name);

#endif
