#include "migrate/change.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

dm_txnpos *dm_txnpos_new(const char *name, uint64_t pos, dm_txnpos *flush, bool safe)
{
	dm_txnpos *p = dm_xcalloc(1, sizeof(*p));
	atomic_init(&p->refs, 1);
	dm_binpos_init(&p->start);
	dm_binpos_set(&p->start, name, pos, "");
	dm_binpos_init(&p->end);
	p->flush = flush ? dm_txnpos_ref(flush) : NULL;
	p->safe = safe;
	return p;
}

dm_txnpos *dm_txnpos_ref(dm_txnpos *p)
{
	atomic_fetch_add(&p->refs, 1);
	return p;
}

void dm_txnpos_unref(dm_txnpos *p)
{
	while (p && atomic_fetch_sub(&p->refs, 1) == 1) {
		dm_txnpos *next = p->flush;
		dm_binpos_fini(&p->start);
		dm_binpos_fini(&p->end);
		free(p);
		p = next;
	}
}

dm_rowchange *dm_rowchange_new(int op, const dm_tinfo *t, char **before, char **after)
{
	size_t n = t->ncols, bytes = sizeof(dm_rowchange) + 2 * n * sizeof(char *);
	for (size_t i = 0; i < n; i++) {
		bytes += before && before[i] ? strlen(before[i]) + 1 : 0;
		bytes += after && after[i] ? strlen(after[i]) + 1 : 0;
	}
	/* not calloc: only the slots need zeroing, not the (long) values */
	dm_rowchange *c = dm_xmalloc(bytes);
	c->op = op;
	c->t = t;
	c->before = c->after = NULL;
	c->size = bytes;
	char **slots = (char **)(c + 1);
	memset(slots, 0, 2 * n * sizeof(char *));
	char *p = (char *)(slots + 2 * n);
	char **src[2] = {before, after};
	char ***dst[2] = {&c->before, &c->after};
	for (int k = 0; k < 2; k++) {
		if (src[k] == NULL)
			continue;
		*dst[k] = slots + (size_t)k * n;
		for (size_t i = 0; i < n; i++) {
			if (src[k][i] == NULL)
				continue;
			size_t len = strlen(src[k][i]) + 1;
			memcpy(p, src[k][i], len);
			(*dst[k])[i] = p;
			p += len;
		}
	}
	return c;
}

void dm_apply_item_free(dm_apply_item *it)
{
	if (it == NULL)
		return;
	free(it->row);
	dm_txnpos_unref(it->at);
	free(it);
}
