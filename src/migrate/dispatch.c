#include "migrate/dispatch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/mem.h"

#define MAP_SLOTS (1u << 17)
#define MAP_MAX   (MAP_SLOTS / 2)
/* A flush is a barrier: the reader waits while every applier empties its
 * queue and commits, and the target idles meanwhile. At 2,000 the 200
 * flushes of bench/incremental.sh's 400,000 transactions took a fifth of
 * its time (12.3 s, against 9.7 s at 20,000). Fewer flushes only mean a
 * longer stretch read again, and skipped, after a restart. It may grow
 * from one build to the next, never shrink (docs/incremental.md). */
#define FLUSH_TXNS 20000
/* A table with more unique indexes than this besides its key is keyed by
 * the table itself: a row's keys stay a small fixed array. */
#define MAX_UNIQ 8
/* the key and each unique index, for the before and the after image */
#define MAX_KEYS    (2 * (1 + MAX_UNIQ))
#define ACK_WAIT_MS 100
#define NO_APPLIER  (-1)

typedef struct held {
	dm_rowchange *c;
	uint64_t keys[MAX_KEYS]; /* keys[0]: the key of the first image */
	int nkeys;
} held;

struct dm_dispatch {
	dm_applier **ap;
	int n;
	dm_queue *acks;
	atomic_bool *cancel;
	dm_txnpos *last;  /* last committed transaction (held) */
	dm_txnpos *flush; /* last flush point (held) */
	dm_txnpos *tp;    /* the open transaction, or NULL */
	held *rows;
	size_t nrows, caprows;
	bool streaming; /* the open transaction outgrew the hold */
	bool barrier;   /* a change of the open transaction has unknown keys */
	bool *touched;  /* appliers given changes of the open transaction */
	/* key hash -> applier, since the last flush; 0 marks a free slot */
	uint64_t *keys;
	int8_t *owner;
	size_t nkeys;
	int txns; /* since the last flush */
};

dm_dispatch *dm_dispatch_new(dm_applier **appliers, int n, dm_queue *acks, dm_txnpos *at,
                             atomic_bool *cancel)
{
	dm_dispatch *d = dm_xcalloc(1, sizeof(*d));
	d->ap = appliers;
	d->n = n;
	d->acks = acks;
	d->cancel = cancel;
	d->last = dm_txnpos_ref(at);
	d->flush = dm_txnpos_ref(at);
	d->touched = dm_xcalloc((size_t)n, sizeof(bool));
	d->keys = dm_xcalloc(MAP_SLOTS, sizeof(uint64_t));
	d->owner = dm_xcalloc(MAP_SLOTS, sizeof(int8_t));
	return d;
}

void dm_dispatch_abort(dm_dispatch *d)
{
	for (size_t i = 0; i < d->nrows; i++)
		free(d->rows[i].c);
	d->nrows = 0;
	dm_txnpos_unref(d->tp);
	d->tp = NULL;
	d->streaming = false;
	d->barrier = false;
	memset(d->touched, 0, (size_t)d->n * sizeof(bool));
}

void dm_dispatch_free(dm_dispatch *d)
{
	if (d == NULL)
		return;
	dm_dispatch_abort(d);
	free(d->rows);
	free(d->touched);
	free(d->keys);
	free(d->owner);
	dm_txnpos_unref(d->last);
	dm_txnpos_unref(d->flush);
	free(d);
}

/* ---- keys ------------------------------------------------------------- */

/* Every row of the table: what rows that bytes cannot tell apart share. */
static uint64_t table_key(const dm_tinfo *t)
{
	uint64_t h = dm_hash_str(DM_HASH_SEED, t->qname);
	return h ? h : 1;
}

/* The row's key in img, or the table itself when the row cannot be told
 * apart by bytes. Never 0 (0 marks a free slot). */
static uint64_t key_of(const dm_tinfo *t, char **img)
{
	bool usable = t->key_hashable;
	for (size_t k = 0; usable && k < t->nkey; k++)
		usable = img[t->key[k]] != NULL;
	if (!usable)
		return table_key(t);
	uint64_t h = dm_hash_str(DM_HASH_SEED, t->qname);
	for (size_t k = 0; k < t->nkey; k++)
		h = dm_hash_str(h, img[t->key[k]]);
	return h ? h : 1;
}

enum { UK_NONE, UK_KEY, UK_UNKNOWN };

/* What img collides with through unique index u: nothing (UK_NONE: a
 * column is NULL, and NULLs never collide), the rows *key holds (UK_KEY:
 * that index's values, or the table when they compare through a
 * collation or a prefix), or an unknown set (UK_UNKNOWN: the image lacks
 * a column, as binlog_row_image MINIMAL leaves them out). */
static int uniq_key(const dm_tinfo *t, size_t u, char **img, uint64_t *key)
{
	bool absent = false;
	for (size_t k = 0; k < t->uniq_len[u]; k++) {
		const char *lit = img[t->uniq[u][k]];
		if (lit == NULL)
			absent = true;
		else if (strcmp(lit, "NULL") == 0)
			return UK_NONE;
	}
	if (absent)
		return UK_UNKNOWN;
	if (!t->uniq_hashable[u]) {
		*key = table_key(t);
		return UK_KEY;
	}
	/* the index's number (never a literal's text) keeps its values apart
	 * from the key's and from another index's */
	uint64_t h = dm_hash_str(DM_HASH_SEED, t->qname);
	h = dm_hash_add(h, &u, sizeof(u));
	for (size_t k = 0; k < t->uniq_len[u]; k++)
		h = dm_hash_str(h, img[t->uniq[u][k]]);
	*key = h ? h : 1;
	return UK_KEY;
}

static void add_key(held *h, uint64_t key)
{
	for (int k = 0; k < h->nkeys; k++)
		if (h->keys[k] == key)
			return;
	h->keys[h->nkeys++] = key;
}

/* The change's keys: its key and unique index values in both images (a
 * row that frees a unique value and the row that takes it share a key).
 * False when they cannot cover what it collides with. */
static bool keys_of(held *h)
{
	const dm_rowchange *c = h->c;
	const dm_tinfo *t = c->t;
	char **img[2] = {c->before, c->after};
	bool known = true;
	h->nkeys = 0;
	for (int i = 0; i < 2; i++) {
		if (img[i] == NULL)
			continue;
		add_key(h, key_of(t, img[i]));
		if (t->nuniq > MAX_UNIQ) {
			add_key(h, table_key(t));
			continue;
		}
		for (size_t u = 0; u < t->nuniq; u++) {
			uint64_t key;
			int rc = uniq_key(t, u, img[i], &key);
			if (rc == UK_KEY)
				add_key(h, key);
			else if (rc == UK_UNKNOWN)
				known = false;
		}
	}
	return known;
}

static size_t slot(const dm_dispatch *d, uint64_t key)
{
	size_t i = (size_t)(key ^ (key >> 29)) & (MAP_SLOTS - 1);
	while (d->keys[i] != 0 && d->keys[i] != key)
		i = (i + 1) & (MAP_SLOTS - 1);
	return i;
}

static int owner_of(const dm_dispatch *d, uint64_t key)
{
	size_t i = slot(d, key);
	return d->keys[i] == key ? d->owner[i] : NO_APPLIER;
}

static void own(dm_dispatch *d, uint64_t key, int applier)
{
	size_t i = slot(d, key);
	if (d->keys[i] == 0) {
		d->keys[i] = key;
		d->nkeys++;
	}
	d->owner[i] = (int8_t)applier;
}

/* ---- sending ------------------------------------------------------------ */

static int send(dm_dispatch *d, int applier, int kind, dm_rowchange *c, dm_txnpos *at)
{
	dm_apply_item *it = dm_xcalloc(1, sizeof(*it));
	it->kind = kind;
	it->row = c;
	it->at = dm_txnpos_ref(at);
	return dm_applier_push(d->ap[applier], it) ? 0 : -1;
}

static void flush_point(dm_dispatch *d)
{
	if (d->tp && d->tp->flush == NULL)
		d->tp->flush = dm_txnpos_ref(d->flush);
}

int dm_dispatch_flush(dm_dispatch *d)
{
	for (int i = 0; i < d->n; i++)
		if (send(d, i, DM_ITEM_FLUSH, NULL, d->last) < 0)
			return -1;
	for (int got = 0; got < d->n;) {
		void *p;
		int rc = dm_queue_pop(d->acks, &p, ACK_WAIT_MS);
		if (rc == DM_QUEUE_OK)
			got++;
		else if (atomic_load(d->cancel))
			return -1;
	}
	dm_txnpos_unref(d->flush);
	d->flush = dm_txnpos_ref(d->last);
	memset(d->keys, 0, MAP_SLOTS * sizeof(uint64_t));
	d->nkeys = 0;
	d->txns = 0;
	return 0;
}

void dm_dispatch_tick(dm_dispatch *d)
{
	for (int i = 0; i < d->n; i++)
		send(d, i, DM_ITEM_MARK, NULL, d->last);
}

const dm_binpos *dm_dispatch_last_end(const dm_dispatch *d)
{
	return &d->last->end;
}

/* ---- transactions ------------------------------------------------------- */

void dm_dispatch_begin(dm_dispatch *d, dm_txnpos *tp)
{
	dm_dispatch_abort(d);
	d->tp = dm_txnpos_ref(tp);
}

bool dm_dispatch_in_txn(const dm_dispatch *d)
{
	return d->tp != NULL;
}

dm_txnpos *dm_dispatch_open(dm_dispatch *d)
{
	return d->tp;
}

/* A transaction too big to hold: everything before it is committed,
 * then it goes, as it comes, to applier 0; a flush after it releases its
 * keys (it did not record them). */
static int start_streaming(dm_dispatch *d)
{
	if (dm_dispatch_flush(d) < 0)
		return -1;
	flush_point(d);
	d->streaming = true;
	d->touched[0] = true;
	for (size_t i = 0; i < d->nrows; i++) {
		dm_rowchange *c = d->rows[i].c;
		d->rows[i].c = NULL;
		if (send(d, 0, DM_ITEM_ROW, c, d->tp) < 0)
			return -1;
	}
	d->nrows = 0;
	return 0;
}

int dm_dispatch_row(dm_dispatch *d, dm_rowchange *c)
{
	if (d->streaming)
		return send(d, 0, DM_ITEM_ROW, c, d->tp);
	if (d->nrows == d->caprows) {
		d->caprows = d->caprows ? d->caprows * 2 : 64;
		d->rows = dm_xrealloc(d->rows, d->caprows * sizeof(*d->rows));
	}
	held *h = &d->rows[d->nrows++];
	h->c = c;
	/* a change whose unique values are unknown may collide with any row
	 * of its table, before or after it: its transaction waits for
	 * everything before it and everything after waits for it */
	if (!keys_of(h))
		d->barrier = true;
	if (d->nrows > DM_DISPATCH_HOLD)
		return start_streaming(d);
	return 0;
}

/* Picks each held change's applier; false on a conflict. */
static bool route(dm_dispatch *d, int *to)
{
	for (size_t r = 0; r < d->nrows; r++) {
		held *h = &d->rows[r];
		int a = NO_APPLIER;
		for (int k = 0; k < h->nkeys; k++) {
			int o = owner_of(d, h->keys[k]);
			if (o != NO_APPLIER && a != NO_APPLIER && o != a)
				return false;
			if (o != NO_APPLIER)
				a = o;
		}
		if (a == NO_APPLIER)
			a = (int)(h->keys[0] % (uint64_t)d->n);
		for (int k = 0; k < h->nkeys; k++)
			own(d, h->keys[k], a);
		to[r] = a;
	}
	return true;
}

int dm_dispatch_commit(dm_dispatch *d)
{
	int rc = 0;
	if (!d->streaming && d->nrows > 0) {
		int *to = dm_xcalloc(d->nrows, sizeof(int));
		/* a key map snapshot to undo a half-routed transaction would cost
		 * as much as the map: on a conflict, flush (which clears it) and
		 * route again onto one applier; a barrier goes the same way */
		if (d->barrier || !route(d, to)) {
			rc = dm_dispatch_flush(d);
			int a = (int)(d->rows[0].keys[0] % (uint64_t)d->n);
			for (size_t r = 0; r < d->nrows; r++) {
				to[r] = a;
				for (int k = 0; k < d->rows[r].nkeys; k++)
					own(d, d->rows[r].keys[k], a);
			}
		}
		flush_point(d);
		for (size_t r = 0; rc == 0 && r < d->nrows; r++) {
			d->touched[to[r]] = true;
			dm_rowchange *c = d->rows[r].c;
			d->rows[r].c = NULL;
			rc = send(d, to[r], DM_ITEM_ROW, c, d->tp);
		}
		free(to);
	}
	flush_point(d);
	for (int i = 0; rc == 0 && i < d->n; i++)
		if (d->touched[i])
			rc = send(d, i, DM_ITEM_MARK, NULL, d->tp);
	if (rc == 0) {
		dm_txnpos_unref(d->last);
		d->last = dm_txnpos_ref(d->tp);
		d->txns++;
	}
	bool was_streaming = d->streaming, was_barrier = d->barrier;
	dm_dispatch_abort(d);
	if (rc == 0 &&
	    (was_streaming || was_barrier || d->txns >= FLUSH_TXNS || d->nkeys > MAP_MAX))
		rc = dm_dispatch_flush(d);
	return rc;
}
