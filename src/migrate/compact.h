/* Compaction of an applier's row changes (what DM calls "compact").
 *
 * An applier commits many upstream transactions as one target
 * transaction. Within such a window the changes of one row fold into one
 * net change: INSERT then UPDATE is one INSERT, UPDATE then UPDATE one
 * UPDATE, DELETE then INSERT one UPDATE, INSERT then DELETE nothing. The
 * net changes are then ordered by table and kind (deletes, updates,
 * inserts), so the applier sends few multi-row statements instead of one
 * statement per row.
 *
 * Only what cannot change the outcome is folded or reordered: changes to
 * tables whose rows are told apart by their key alone (a key compared by
 * bytes, no other unique index) that keep their key. Reordering across
 * tables is safe because the target sessions run without foreign key
 * checks and nobody sees the window before its COMMIT. Anything else is
 * refused, and the caller applies it in order after draining the window. */
#ifndef DM_MIGRATE_COMPACT_H
#define DM_MIGRATE_COMPACT_H

#include <stdbool.h>
#include <stddef.h>

#include "migrate/change.h"

/* A net change: op is DM_CH_INSERT, DM_CH_UPDATE or DM_CH_DELETE; the
 * images point into changes the window holds. */
typedef struct dm_netchange {
	int op;
	const dm_tinfo *t;
	char **before;
	char **after;
} dm_netchange;

typedef struct dm_compact dm_compact;

dm_compact *dm_compact_new(void);
void dm_compact_free(dm_compact *w);

/* Takes c into the window and returns true, or returns false and leaves c
 * to the caller: c may not be reordered (see above; an empty window
 * refuses only those), or it contradicts what the window holds for its row
 * (e.g. an INSERT of a row the window inserted), which only applying in
 * order can report. */
bool dm_compact_add(dm_compact *w, dm_rowchange *c);

/* Changes held, and the bytes they take. */
size_t dm_compact_rows(const dm_compact *w);
size_t dm_compact_bytes(const dm_compact *w);

/* The window's net changes in the order to apply them: by table (in the
 * order first seen), then deletes, updates, inserts. Valid until the next
 * dm_compact_reset; the window must not change meanwhile. */
size_t dm_compact_net(dm_compact *w, const dm_netchange **out);

/* Empties the window, freeing the changes it held. */
void dm_compact_reset(dm_compact *w);

#endif
