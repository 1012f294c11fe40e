#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "store/store_impl.h"

/* Messages quote at most this much of a key: keys can be 4 KiB. */
#define KEY_QUOTE 200

void dm_kv_free(dm_kv *kv)
{
	if (kv == NULL)
		return;
	free(kv->key);
	free(kv->value);
	free(kv);
}

void dm_kv_list_free(dm_kv_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->len; i++) {
		free(list->items[i].key);
		free(list->items[i].value);
	}
	free(list->items);
	list->items = NULL;
	list->len = 0;
}

void dm_store_event_free(dm_store_event *ev)
{
	if (ev == NULL)
		return;
	free(ev->key);
	free(ev->value);
	free(ev->error);
	free(ev);
}

bool dm_store_prefix_end(const char *prefix, char **ret_end, size_t *ret_len)
{
	size_t n = strlen(prefix);
	while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
		n--;
	if (n == 0)
		return false;
	char *end = dm_xmalloc(n + 1);
	memcpy(end, prefix, n);
	end[n - 1] = (char)((unsigned char)end[n - 1] + 1);
	end[n] = '\0';
	*ret_end = end;
	*ret_len = n;
	return true;
}

static int check_key(const char *key, dm_err *err)
{
	if (key == NULL || key[0] == '\0')
		return dm_err_set(err, DM_EINVAL, "store key must not be empty");
	size_t n = strnlen(key, DM_STORE_KEY_MAX + 1);
	if (n > DM_STORE_KEY_MAX)
		return dm_err_set(err, DM_ELIMIT, "store key \"%.*s...\" is longer than %d bytes",
		                  KEY_QUOTE, key, DM_STORE_KEY_MAX);
	return 0;
}

static int check_prefix(const char *prefix, dm_err *err)
{
	if (prefix == NULL)
		return dm_err_set(err, DM_EINVAL,
		                  "store prefix must not be NULL (use \"\" for all keys)");
	if (strnlen(prefix, DM_STORE_KEY_MAX + 1) > DM_STORE_KEY_MAX)
		return dm_err_set(err, DM_ELIMIT,
		                  "store prefix \"%.*s...\" is longer than %d bytes", KEY_QUOTE,
		                  prefix, DM_STORE_KEY_MAX);
	return 0;
}

static int check_value(const char *key, const void *value, size_t len, dm_err *err)
{
	if (value == NULL && len > 0)
		return dm_err_set(err, DM_EINVAL, "store value of \"%.*s\" is NULL with length %zu",
		                  KEY_QUOTE, key, len);
	if (len > DM_STORE_VALUE_MAX)
		return dm_err_set(err, DM_ELIMIT,
		                  "store value of \"%.*s\" is %zu bytes, more than the limit of %d",
		                  KEY_QUOTE, key, len, DM_STORE_VALUE_MAX);
	return 0;
}

static int check_txn(const dm_store_cmp *cmps, size_t ncmp, const dm_store_op *ops, size_t nops,
                     dm_err *err)
{
	if (ncmp > DM_STORE_TXN_MAX_OPS || nops > DM_STORE_TXN_MAX_OPS)
		return dm_err_set(err, DM_ELIMIT,
		                  "store txn has %zu compares and %zu ops; the limit is %d each",
		                  ncmp, nops, DM_STORE_TXN_MAX_OPS);
	if ((ncmp > 0 && cmps == NULL) || (nops > 0 && ops == NULL))
		return dm_err_set(err, DM_EINVAL, "store txn: NULL compares or ops with a count");
	for (size_t i = 0; i < ncmp; i++) {
		const dm_store_cmp *c = &cmps[i];
		if (check_key(c->key, err) < 0)
			return dm_err_prefix(err, "store txn compare %zu", i);
		switch (c->target) {
		case DM_STORE_CMP_MOD_REVISION:
		case DM_STORE_CMP_CREATE_REVISION:
		case DM_STORE_CMP_VERSION:
			if (c->number < 0)
				return dm_err_set(
				        err, DM_EINVAL,
				        "store txn compare %zu on \"%.*s\": negative number %lld",
				        i, KEY_QUOTE, c->key, (long long)c->number);
			break;
		case DM_STORE_CMP_VALUE:
			if (check_value(c->key, c->value, c->value_len, err) < 0)
				return dm_err_prefix(err, "store txn compare %zu", i);
			break;
		default:
			return dm_err_set(err, DM_EINVAL,
			                  "store txn compare %zu: unknown target %d", i,
			                  (int)c->target);
		}
	}
	for (size_t i = 0; i < nops; i++) {
		const dm_store_op *o = &ops[i];
		if (check_key(o->key, err) < 0)
			return dm_err_prefix(err, "store txn op %zu", i);
		if (o->type == DM_STORE_OP_PUT) {
			if (check_value(o->key, o->value, o->value_len, err) < 0)
				return dm_err_prefix(err, "store txn op %zu", i);
		} else if (o->type != DM_STORE_OP_DELETE) {
			return dm_err_set(err, DM_EINVAL, "store txn op %zu: unknown type %d", i,
			                  (int)o->type);
		}
		/* etcd refuses a key twice in one txn: refuse it here too, so
		 * code tested on SQLite does not break on etcd. n <= 128. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(ops[j].key, o->key) == 0)
				return dm_err_set(err, DM_EINVAL,
				                  "store txn: key \"%.*s\" appears in two ops",
				                  KEY_QUOTE, o->key);
	}
	return 0;
}

void dm_store_close(dm_store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s);
}

const char *dm_store_backend(const dm_store *s)
{
	return s->ops->name;
}

int dm_store_get(dm_store *s, const char *key, dm_kv **ret, dm_err *err)
{
	if (check_key(key, err) < 0)
		return -1;
	if (ret == NULL)
		return dm_err_set(err, DM_EINVAL, "store get of \"%.*s\" needs a result pointer",
		                  KEY_QUOTE, key);
	return s->ops->get(s, key, ret, err);
}

int dm_store_put(dm_store *s, const char *key, const void *value, size_t len, int64_t *ret_rev,
                 dm_err *err)
{
	dm_store_op op = {.type = DM_STORE_OP_PUT, .key = key, .value = value, .value_len = len};
	bool ok, changed;
	int64_t rev;
	if (check_txn(NULL, 0, &op, 1, err) < 0)
		return -1;
	if (s->ops->txn(s, NULL, 0, &op, 1, &ok, &rev, &changed, err) < 0)
		return -1;
	if (ret_rev != NULL)
		*ret_rev = rev;
	return 0;
}

int dm_store_delete(dm_store *s, const char *key, int64_t *ret_rev, dm_err *err)
{
	dm_store_op op = {.type = DM_STORE_OP_DELETE, .key = key};
	bool ok, changed;
	int64_t rev;
	if (check_txn(NULL, 0, &op, 1, err) < 0)
		return -1;
	if (s->ops->txn(s, NULL, 0, &op, 1, &ok, &rev, &changed, err) < 0)
		return -1;
	if (ret_rev != NULL)
		*ret_rev = changed ? rev : 0;
	return 0;
}

int dm_store_range(dm_store *s, const char *prefix, dm_kv_list *ret, int64_t *ret_rev, dm_err *err)
{
	if (check_prefix(prefix, err) < 0)
		return -1;
	if (ret == NULL)
		return dm_err_set(err, DM_EINVAL, "store range of \"%.*s\" needs a result list",
		                  KEY_QUOTE, prefix);
	return s->ops->range(s, prefix, ret, ret_rev, err);
}

int dm_store_delete_prefix(dm_store *s, const char *prefix, size_t *ret_deleted, int64_t *ret_rev,
                           dm_err *err)
{
	if (check_prefix(prefix, err) < 0)
		return -1;
	return s->ops->delete_prefix(s, prefix, ret_deleted, ret_rev, err);
}

int dm_store_txn(dm_store *s, const dm_store_cmp *cmps, size_t ncmp, const dm_store_op *ops,
                 size_t nops, bool *ret_succeeded, int64_t *ret_rev, dm_err *err)
{
	bool ok, changed;
	int64_t rev;
	if (check_txn(cmps, ncmp, ops, nops, err) < 0)
		return -1;
	if (s->ops->txn(s, cmps, ncmp, ops, nops, &ok, &rev, &changed, err) < 0)
		return -1;
	if (ret_succeeded != NULL)
		*ret_succeeded = ok;
	if (ret_rev != NULL)
		*ret_rev = rev;
	return 0;
}

int dm_store_compact(dm_store *s, int64_t rev, dm_err *err)
{
	if (rev < 0)
		return dm_err_set(err, DM_EINVAL, "store compaction to negative revision %lld",
		                  (long long)rev);
	return s->ops->compact(s, rev, err);
}

int dm_store_watch(dm_store *s, const char *prefix, int64_t start_rev, dm_queue *q,
                   dm_store_watcher **ret, dm_err *err)
{
	if (check_prefix(prefix, err) < 0)
		return -1;
	if (q == NULL || ret == NULL)
		return dm_err_set(err, DM_EINVAL,
		                  "store watch on \"%.*s\" needs a queue and a handle", KEY_QUOTE,
		                  prefix);
	if (start_rev < 0)
		return dm_err_set(err, DM_EINVAL, "store watch from negative revision %lld",
		                  (long long)start_rev);
	return s->ops->watch(s, prefix, start_rev, q, ret, err);
}

void dm_store_watch_cancel(dm_store_watcher *w)
{
	if (w == NULL)
		return;
	w->store->ops->watch_cancel(w);
}
