/* What a full migration copies: the upstream tables a subtask selected,
 * their downstream names, columns, chunking key, and the chunks.
 *
 * Built once per run by dm_plan_tables() (names, columns, keys, estimates)
 * and dm_plan_chunks() (key ranges), or read back from the checkpoint
 * table on resume. The copy threads only read it, except for the progress
 * counters, which are atomics. */
#ifndef DM_MIGRATE_PLAN_H
#define DM_MIGRATE_PLAN_H

#include <mysql.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "migrate/rules.h"

typedef enum dm_col_kind {
	DM_COL_BYTES,  /* strings, temporal, JSON, GEOMETRY...: raw bytes, hex in INSERT */
	DM_COL_NUMBER, /* integers, DECIMAL, FLOAT/DOUBLE, YEAR: text as the server prints it */
	DM_COL_BIT,    /* read as an unsigned number, written back with CAST */
	DM_COL_FLOAT,  /* FLOAT: read widened to DOUBLE, whose text round-trips */
} dm_col_kind;

typedef struct dm_column {
	char *name;
	char *data_type; /* information_schema's DATA_TYPE: "varchar" */
	char *charset;   /* NULL for non-string columns */
	char *collation;
	dm_col_kind kind;
} dm_column;

typedef struct dm_table {
	char *schema, *name;   /* upstream */
	char *tschema, *tname; /* downstream, after routes */
	dm_column *cols;       /* stored columns in ordinal order (generated ones left out) */
	size_t ncols;
	size_t key[16];   /* indexes into cols of the chunking key */
	size_t nkey;      /* 0: no usable key, the table is one chunk */
	int64_t est_rows; /* information_schema estimates, for progress */
	int64_t est_bytes;
	int nchunks;
	/* Progress, updated by the writers as chunks commit. */
	atomic_int_fast64_t rows_done;
	atomic_int_fast64_t bytes_done;
	atomic_int chunks_done;
} dm_table;

typedef struct dm_chunk {
	size_t table; /* index into dm_plan.tables */
	int id;       /* 0.. within its table */
	char *where;  /* SQL condition on the key; NULL: the whole table */
} dm_chunk;

typedef struct dm_plan {
	dm_table *tables;
	size_t ntables;
	dm_chunk *chunks; /* only the chunks left to copy */
	size_t nchunks;
	char **views; /* "schema\0view" pairs: upstream views to create, after tables */
	size_t nviews;
} dm_plan;

void dm_plan_init(dm_plan *p);
void dm_plan_fini(dm_plan *p);

/* Lists the tables (and views) rules select on the upstream connection m,
 * with columns, key and estimates; routes give their downstream names. */
int dm_plan_tables(MYSQL *m, const dm_rules *rules, dm_plan *p, dm_err *err);

/* Reads one table's columns and key again (a resumed run plans only the
 * tables it still has chunks of). t->schema and t->name must be set. */
int dm_plan_table_columns(MYSQL *m, dm_table *t, dm_err *err);

/* Splits every table into chunks of about `rows` rows (0: automatic, from
 * chunk_bytes and the table's average row size) using key ranges read on m,
 * which should be a connection inside the snapshot. */
int dm_plan_chunks(MYSQL *m, dm_plan *p, int64_t rows, int64_t chunk_bytes, dm_err *err);

/* Orders the chunks table by table, the tables with the largest chunks
 * (by estimate) first, so that a table of few huge rows (one long chunk)
 * starts early instead of trailing at the end. A table's chunks stay
 * together: concurrent loads into one table cost the target less CPU than
 * loads into several, and a table finished early gets its deferred indexes
 * while the others load. Chunks of one table keep their order. */
void dm_plan_order(dm_plan *p);

/* Appends a chunk (where is copied). */
void dm_plan_add_chunk(dm_plan *p, size_t table, int id, const char *where);

/* Appends a table (names copied, no columns yet, counters at zero) and
 * returns its index. */
size_t dm_plan_add_table(dm_plan *p, const char *schema, const char *name, const char *tschema,
                         const char *tname);

#endif
