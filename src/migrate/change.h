/* What flows from the binlog reader to the appliers: row changes, the
 * upstream transactions they belong to, and the items that carry them. */
#ifndef DM_MIGRATE_CHANGE_H
#define DM_MIGRATE_CHANGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/schema.h"
#include "migrate/syncckpt.h"

/* One upstream transaction's place in the binlog, shared (refcounted) by
 * its row changes and every applier that saw them. `end` is filled in by
 * the dispatcher when the transaction's commit is read, before the MARK
 * that announces it; appliers read it only after that MARK. */
typedef struct dm_txnpos {
	atomic_int refs;
	dm_binpos start;         /* the transaction starts here */
	dm_binpos end;           /* and ends here (the next one starts) */
	struct dm_txnpos *flush; /* the flush point in force: its end (held) */
	bool safe;               /* apply in safe mode */
} dm_txnpos;

/* refs = 1, end empty; takes a reference on flush (may be NULL). */
dm_txnpos *dm_txnpos_new(const char *name, uint64_t pos, dm_txnpos *flush, bool safe);
dm_txnpos *dm_txnpos_ref(dm_txnpos *p);
void dm_txnpos_unref(dm_txnpos *p);

enum { DM_CH_INSERT = 1, DM_CH_UPDATE, DM_CH_DELETE };

/* One row change, in one allocation (free() it): literals are SQL text for
 * the target, indexed like t's columns; NULL: not in the image. */
typedef struct dm_rowchange {
	int op;
	const dm_tinfo *t;
	char **before; /* NULL for INSERT */
	char **after;  /* NULL for DELETE */
	size_t size;   /* bytes of the allocation */
} dm_rowchange;

/* Builds a dm_rowchange: sizes first, then the strings. */
dm_rowchange *dm_rowchange_new(int op, const dm_tinfo *t, char **before, char **after);

enum {
	DM_ITEM_ROW = 1, /* row (owned by the item) of the transaction at */
	DM_ITEM_MARK,    /* everything up to `at` has been sent */
	DM_ITEM_FLUSH,   /* commit up to `at`, then ack */
};

typedef struct dm_apply_item {
	int kind;
	dm_rowchange *row;
	dm_txnpos *at; /* held */
} dm_apply_item;

/* Frees an item and its row, dropping its reference. */
void dm_apply_item_free(dm_apply_item *it);

#endif
