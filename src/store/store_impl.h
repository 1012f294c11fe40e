/* What a store backend implements. Only src/store/ includes this.
 *
 * store.c validates arguments (key and value sizes, txn shape) once for all
 * backends, then calls these ops; a backend may therefore assume valid
 * input. Each backend embeds dm_store as the first member of its own struct
 * and dm_store_watcher as the first member of its watch. */
#ifndef DM_STORE_STORE_IMPL_H
#define DM_STORE_STORE_IMPL_H

#include "store/store.h"

typedef struct dm_store_ops {
	const char *name;
	int (*get)(dm_store *s, const char *key, dm_kv **ret, dm_err *err);
	int (*range)(dm_store *s, const char *prefix, dm_kv_list *ret, int64_t *ret_rev,
	             dm_err *err);
	/* *ret_changed: whether any key changed (and so the revision moved). */
	int (*txn)(dm_store *s, const dm_store_cmp *cmps, size_t ncmp, const dm_store_op *ops,
	           size_t nops, bool *ret_succeeded, int64_t *ret_rev, bool *ret_changed,
	           dm_err *err);
	int (*delete_prefix)(dm_store *s, const char *prefix, size_t *ret_deleted, int64_t *ret_rev,
	                     dm_err *err);
	int (*compact)(dm_store *s, int64_t rev, dm_err *err);
	int (*watch)(dm_store *s, const char *prefix, int64_t start_rev, dm_queue *q,
	             dm_store_watcher **ret, dm_err *err);
	void (*watch_cancel)(dm_store_watcher *w);
	void (*close)(dm_store *s);
} dm_store_ops;

struct dm_store {
	const dm_store_ops *ops;
};

struct dm_store_watcher {
	dm_store *store;
};

/* The smallest key greater than every key starting with prefix, as etcd's
 * range_end: the prefix with its last byte below 0xff incremented and what
 * follows dropped. Returns false when there is none (empty prefix, or all
 * 0xff): the range is then unbounded above. *ret_end is malloc'd. */
bool dm_store_prefix_end(const char *prefix, char **ret_end, size_t *ret_len);

#endif
