#include "migrate/compact.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/mem.h"

/* What a window holds for one row, net. DELINS: deleted, then inserted
 * with an image that does not set every column (defaults apply), so it
 * stays a DELETE and an INSERT. */
enum { NET_NONE, NET_INS, NET_UPD, NET_DEL, NET_DELINS };

typedef struct entry {
	const dm_tinfo *t;
	char **keyimg; /* an image that holds the row's key */
	uint64_t hash;
	int state;
	char **before, **after;
	bool own_after; /* after was merged here (allocated) */
	size_t rank;    /* the table's, in the order tables were first seen */
} entry;

struct dm_compact {
	dm_rowchange **held;
	size_t nheld, capheld, bytes;
	entry *e;
	size_t ne, cape;
	uint32_t *slots; /* entry index + 1; 0: free */
	size_t nslots;
	const dm_tinfo **tables;
	size_t ntables, captables;
	dm_netchange *net, *spare; /* spare: net in order, then swapped */
	uint64_t *order;           /* sort keys: rank, phase, index */
	size_t nnet, capnet;
};

dm_compact *dm_compact_new(void)
{
	dm_compact *w = dm_xcalloc(1, sizeof(*w));
	w->nslots = 1024;
	w->slots = dm_xcalloc(w->nslots, sizeof(uint32_t));
	return w;
}

void dm_compact_free(dm_compact *w)
{
	if (w == NULL)
		return;
	dm_compact_reset(w);
	free(w->held);
	free(w->e);
	free(w->slots);
	free(w->tables);
	free(w->net);
	free(w->spare);
	free(w->order);
	free(w);
}

/* ---- keys ---------------------------------------------------------------- */

static bool has_key(const dm_tinfo *t, char **img)
{
	for (size_t k = 0; k < t->nkey; k++)
		if (img[t->key[k]] == NULL)
			return false;
	return true;
}

static bool eligible(const dm_rowchange *c)
{
	const dm_tinfo *t = c->t;
	if (t->nkey == 0 || !t->key_hashable || t->nuniq > 0)
		return false;
	char **img = c->before ? c->before : c->after;
	if (!has_key(t, img))
		return false;
	if (c->before && c->after) /* an UPDATE must keep its key */
		for (size_t k = 0; k < t->nkey; k++) {
			const char *a = c->after[t->key[k]];
			if (a && strcmp(a, c->before[t->key[k]]) != 0)
				return false;
		}
	return true;
}

static uint64_t hash_key(const dm_tinfo *t, char **img)
{
	uint64_t h = dm_hash_add(DM_HASH_SEED, &t, sizeof(t));
	for (size_t k = 0; k < t->nkey; k++)
		h = dm_hash_str(h, img[t->key[k]]);
	return h;
}

static bool same_key(const entry *e, const dm_tinfo *t, char **img)
{
	if (e->t != t)
		return false;
	for (size_t k = 0; k < t->nkey; k++)
		if (strcmp(e->keyimg[t->key[k]], img[t->key[k]]) != 0)
			return false;
	return true;
}

static void grow_slots(dm_compact *w)
{
	free(w->slots);
	w->nslots *= 2;
	w->slots = dm_xcalloc(w->nslots, sizeof(uint32_t));
	for (size_t i = 0; i < w->ne; i++) {
		size_t s = (size_t)w->e[i].hash & (w->nslots - 1);
		while (w->slots[s] != 0)
			s = (s + 1) & (w->nslots - 1);
		w->slots[s] = (uint32_t)(i + 1);
	}
}

/* The row's entry, created (NET_NONE) when the window has none. */
static entry *find(dm_compact *w, const dm_tinfo *t, char **img)
{
	uint64_t h = hash_key(t, img);
	size_t s = (size_t)h & (w->nslots - 1);
	for (; w->slots[s] != 0; s = (s + 1) & (w->nslots - 1)) {
		entry *e = &w->e[w->slots[s] - 1];
		if (e->hash == h && same_key(e, t, img))
			return e;
	}
	if (w->ne == w->cape) {
		w->cape = w->cape ? w->cape * 2 : 256;
		w->e = dm_xrealloc(w->e, w->cape * sizeof(entry));
	}
	size_t rank = 0;
	while (rank < w->ntables && w->tables[rank] != t)
		rank++;
	if (rank == w->ntables) {
		if (w->ntables == w->captables) {
			w->captables = w->captables ? w->captables * 2 : 8;
			w->tables = dm_xrealloc(w->tables, w->captables * sizeof(*w->tables));
		}
		w->tables[w->ntables++] = t;
	}
	entry *e = &w->e[w->ne++];
	*e = (entry){.t = t, .keyimg = img, .hash = h, .state = NET_NONE, .rank = rank};
	w->slots[s] = (uint32_t)w->ne;
	if (w->ne * 2 > w->nslots)
		grow_slots(w);
	return e;
}

/* ---- folding ------------------------------------------------------------- */

static bool complete(const dm_tinfo *t, char **img)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (img[i] == NULL && !t->generated[i])
			return false;
	return true;
}

/* e->after with the columns upd sets replaced: a new array when needed. */
static void merge_after(entry *e, char **upd)
{
	size_t n = e->t->ncols;
	if (!e->own_after) {
		char **m = dm_xcalloc(n, sizeof(char *));
		memcpy(m, e->after, n * sizeof(char *));
		e->after = m;
		e->own_after = true;
	}
	for (size_t i = 0; i < n; i++)
		if (upd[i])
			e->after[i] = upd[i];
}

static void drop_after(entry *e)
{
	if (e->own_after)
		free(e->after);
	e->after = NULL;
	e->own_after = false;
}

/* Folds c into e; false when c contradicts e (nothing changes then). */
static bool fold(entry *e, const dm_rowchange *c)
{
	switch (c->op) {
	case DM_CH_INSERT:
		if (e->state == NET_NONE) {
			e->state = NET_INS;
			e->after = c->after;
			return true;
		}
		if (e->state != NET_DEL)
			return false;
		/* deleted, then inserted again: an UPDATE, if the new image sets
		 * every column (else the columns it omits must get defaults) */
		e->state = complete(e->t, c->after) ? NET_UPD : NET_DELINS;
		e->after = c->after;
		return true;
	case DM_CH_UPDATE:
		if (e->state == NET_NONE) {
			e->state = NET_UPD;
			e->before = c->before;
			e->after = c->after;
			return true;
		}
		if (e->state == NET_DEL)
			return false;
		merge_after(e, c->after);
		return true;
	default: /* DELETE */
		switch (e->state) {
		case NET_NONE:
			e->state = NET_DEL;
			e->before = c->before;
			return true;
		case NET_INS:
			e->state = NET_NONE; /* never reached the target */
			drop_after(e);
			return true;
		case NET_UPD:
		case NET_DELINS:
			e->state = NET_DEL; /* e->before: the row as the target has it */
			drop_after(e);
			return true;
		default: return false;
		}
	}
}

bool dm_compact_add(dm_compact *w, dm_rowchange *c)
{
	if (!eligible(c))
		return false;
	entry *e = find(w, c->t, c->before ? c->before : c->after);
	if (!fold(e, c))
		return false; /* a new NET_NONE entry is harmless: it emits nothing */
	if (w->nheld == w->capheld) {
		w->capheld = w->capheld ? w->capheld * 2 : 256;
		w->held = dm_xrealloc(w->held, w->capheld * sizeof(*w->held));
	}
	w->held[w->nheld++] = c;
	w->bytes += c->size;
	return true;
}

size_t dm_compact_rows(const dm_compact *w)
{
	return w->nheld;
}

size_t dm_compact_bytes(const dm_compact *w)
{
	return w->bytes;
}

/* ---- the net changes ----------------------------------------------------- */

static int phase(int op)
{
	return op == DM_CH_DELETE ? 0 : op == DM_CH_UPDATE ? 1 : 2;
}

static void put(dm_compact *w, const entry *e, int op)
{
	if (w->nnet == w->capnet) {
		w->capnet = w->capnet ? w->capnet * 2 : 256;
		w->net = dm_xrealloc(w->net, w->capnet * sizeof(*w->net));
		w->spare = dm_xrealloc(w->spare, w->capnet * sizeof(*w->spare));
		w->order = dm_xrealloc(w->order, w->capnet * sizeof(*w->order));
	}
	w->net[w->nnet++] = (dm_netchange){
	        .op = op,
	        .t = e->t,
	        .before = op == DM_CH_INSERT ? NULL : e->before,
	        .after = op == DM_CH_DELETE ? NULL : e->after,
	};
	w->order[w->nnet - 1] = ((uint64_t)(e->rank * 3 + (size_t)phase(op)) << 32) | (w->nnet - 1);
}

static int by_order(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

size_t dm_compact_net(dm_compact *w, const dm_netchange **out)
{
	w->nnet = 0;
	for (size_t i = 0; i < w->ne; i++) {
		const entry *e = &w->e[i];
		switch (e->state) {
		case NET_INS: put(w, e, DM_CH_INSERT); break;
		case NET_UPD: put(w, e, DM_CH_UPDATE); break;
		case NET_DEL: put(w, e, DM_CH_DELETE); break;
		case NET_DELINS:
			put(w, e, DM_CH_DELETE);
			put(w, e, DM_CH_INSERT);
			break;
		default: break;
		}
	}
	qsort(w->order, w->nnet, sizeof(uint64_t), by_order);
	for (size_t i = 0; i < w->nnet; i++)
		w->spare[i] = w->net[w->order[i] & 0xffffffffu];
	dm_netchange *sorted = w->spare;
	w->spare = w->net;
	w->net = sorted;
	*out = w->net;
	return w->nnet;
}

void dm_compact_reset(dm_compact *w)
{
	for (size_t i = 0; i < w->ne; i++)
		if (w->e[i].own_after)
			free(w->e[i].after);
	w->ne = 0;
	memset(w->slots, 0, w->nslots * sizeof(uint32_t));
	w->ntables = 0;
	w->nnet = 0;
	for (size_t i = 0; i < w->nheld; i++)
		free(w->held[i]);
	w->nheld = 0;
	w->bytes = 0;
}
