#include "config/bind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

void dm_strlist_add(dm_strlist *l, const char *s)
{
	l->items = dm_xrealloc(l->items, (l->n + 1) * sizeof(char *));
	l->items[l->n++] = dm_xstrdup(s);
}

void dm_strlist_fini(dm_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void dm_strlist_split(dm_strlist *l, const char *csv)
{
	const char *p = csv;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			char *s = dm_xstrndup(p, n);
			dm_strlist_add(l, s);
			free(s);
		}
		if (!e)
			break;
		p = e + 1;
	}
}

bool dm_strlist_has(const dm_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

static void *at(void *out, const dm_bind_field *f)
{
	return (char *)out + f->offset;
}

static const dm_bind_field *find(const dm_bind_field *fields, const char *key, size_t keylen)
{
	for (const dm_bind_field *f = fields; f->key; f++)
		if (strlen(f->key) == keylen && strncmp(f->key, key, keylen) == 0)
			return f;
	return NULL;
}

static int run_check(const dm_bind_field *f, void *out, dm_err *err)
{
	if (f->check && f->check(at(out, f), err) < 0)
		return dm_err_prefix(err, "\"%s\"", f->key);
	return 0;
}

/* Parses text into one field. Messages start with the key. */
static int set_text(const dm_bind_field *f, void *out, const char *value, dm_err *err)
{
	void *p = at(out, f);
	switch (f->kind) {
	case DM_BIND_STRING:
		free(*(char **)p);
		*(char **)p = dm_xstrdup(value);
		break;
	case DM_BIND_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (errno || *value == '\0' || *end != '\0' || v < f->min || v > f->max)
			return dm_err_set(err, DM_EINVAL,
			                  "\"%s\" must be an integer %lld-%lld, not \"%s\"", f->key,
			                  (long long)f->min, (long long)f->max, value);
		*(int64_t *)p = v;
		break;
	}
	case DM_BIND_BOOL:
		if (!strcasecmp(value, "true") || !strcmp(value, "1"))
			*(bool *)p = true;
		else if (!strcasecmp(value, "false") || !strcmp(value, "0"))
			*(bool *)p = false;
		else
			return dm_err_set(err, DM_EINVAL,
			                  "\"%s\" must be true or false, not \"%s\"", f->key,
			                  value);
		break;
	case DM_BIND_STRLIST:
		dm_strlist_fini(p);
		dm_strlist_split(p, value);
		break;
	case DM_BIND_TABLE:
		return dm_err_set(err, DM_EINVAL, "\"%s\" is a table; set its keys as %s.<key>",
		                  f->key, f->key);
	case DM_BIND_IGNORE: return 0;
	case DM_BIND_UNSUPPORTED:
		return dm_err_set(err, DM_EINVAL, "\"%s\" is not supported by dm: %s", f->key,
		                  f->help ? f->help : "remove it");
	}
	return run_check(f, out, err);
}

int dm_bind_defaults(const dm_bind_field *fields, void *out, dm_err *err)
{
	for (const dm_bind_field *f = fields; f->key; f++) {
		if (f->kind == DM_BIND_TABLE) {
			if (dm_bind_defaults(f->sub, at(out, f), err) < 0)
				return -1;
		} else if (f->def && set_text(f, out, f->def, err) < 0) {
			return dm_err_prefix(err, "default of");
		}
	}
	return 0;
}

static int type_error(const char *filename, const dm_node *n, const dm_bind_field *f,
                      const char *want, dm_err *err)
{
	return dm_err_set(err, DM_EINVAL, "%s:%d: \"%s\" must be %s, found %s", filename, n->line,
	                  f->key, want, dm_tree_type_name(n->type));
}

static int bind_one(const dm_bind_field *f, const dm_node *n, const char *filename, void *out,
                    dm_err *err)
{
	void *p = at(out, f);
	switch (f->kind) {
	case DM_BIND_STRING:
		if (n->type == DM_NODE_TABLE || n->type == DM_NODE_ARRAY || n->str == NULL)
			return type_error(filename, n, f, "a string", err);
		free(*(char **)p);
		*(char **)p = dm_xstrndup(n->str, n->len);
		break;
	case DM_BIND_INT:
		if (n->type != DM_NODE_INTEGER || n->i < f->min || n->i > f->max)
			return dm_err_set(err, DM_EINVAL,
			                  "%s:%d: \"%s\" must be an integer %lld-%lld", filename,
			                  n->line, f->key, (long long)f->min, (long long)f->max);
		*(int64_t *)p = n->i;
		break;
	case DM_BIND_BOOL:
		if (n->type != DM_NODE_BOOL)
			return type_error(filename, n, f, "true or false", err);
		*(bool *)p = n->b;
		break;
	case DM_BIND_STRLIST: {
		dm_strlist *l = p;
		if (n->type == DM_NODE_STRING) {
			dm_strlist_fini(l);
			dm_strlist_split(l, n->str);
			break;
		}
		if (n->type != DM_NODE_ARRAY)
			return type_error(filename, n, f, "a list of strings", err);
		dm_strlist_fini(l);
		for (size_t i = 0; i < n->nkids; i++) {
			const dm_node *k = n->kids[i];
			if (k->type != DM_NODE_STRING)
				return type_error(filename, k, f, "a list of strings", err);
			dm_strlist_add(l, k->str);
		}
		break;
	}
	case DM_BIND_TABLE:
		if (n->type == DM_NODE_NULL)
			return 0;
		if (n->type != DM_NODE_TABLE)
			return type_error(filename, n, f, "a table", err);
		return dm_bind_tree(f->sub, n, filename, p, err);
	case DM_BIND_IGNORE: return 0;
	case DM_BIND_UNSUPPORTED:
		return dm_err_set(err, DM_EINVAL, "%s:%d: \"%s\" is not supported by dm: %s",
		                  filename, n->line, f->key, f->help ? f->help : "remove it");
	}
	if (f->check && f->check(p, err) < 0)
		return dm_err_prefix(err, "%s:%d: \"%s\"", filename, n->line, f->key);
	return 0;
}

int dm_bind_tree(const dm_bind_field *fields, const dm_node *table, const char *filename, void *out,
                 dm_err *err)
{
	for (size_t i = 0; i < table->nkids; i++) {
		const dm_node *n = table->kids[i];
		const dm_bind_field *f = find(fields, n->key, strlen(n->key));
		if (f == NULL)
			return dm_err_set(err, DM_EINVAL, "%s:%d: unknown key \"%s\"", filename,
			                  n->line, n->key);
		if (n->type == DM_NODE_NULL && f->kind != DM_BIND_TABLE)
			continue; /* `key:` with no value keeps the default, as in DM */
		if (bind_one(f, n, filename, out, err) < 0)
			return -1;
	}
	return 0;
}

int dm_bind_set(const dm_bind_field *fields, void *out, const char *key, const char *value,
                dm_err *err)
{
	const char *dot = strchr(key, '.');
	size_t len = dot ? (size_t)(dot - key) : strlen(key);
	const dm_bind_field *f = find(fields, key, len);
	if (f == NULL)
		return dm_err_set(err, DM_EINVAL, "unknown key \"%.*s\"", (int)len, key);
	if (dot) {
		if (f->kind != DM_BIND_TABLE)
			return dm_err_set(err, DM_EINVAL, "\"%s\" is not a table", f->key);
		return dm_bind_set(f->sub, at(out, f), dot + 1, value, err);
	}
	return set_text(f, out, value, err);
}

int dm_bind_flags(const dm_bind_field *fields, void *out, int argc, char **argv,
                  const char *const *skip, dm_err *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0')
			return dm_err_set(err, DM_EINVAL,
			                  "unexpected argument \"%s\"; flags are --key=value", a);
		a += a[1] == '-' ? 2 : 1;
		const char *eq = strchr(a, '=');
		size_t len = eq ? (size_t)(eq - a) : strlen(a);
		char *key = dm_xstrndup(a, len);
		bool skipped = false;
		for (const char *const *s = skip; s && *s; s++)
			skipped |= strcmp(*s, key) == 0;
		const char *value = eq ? eq + 1 : NULL;
		if (!value) {
			if (i + 1 >= argc) {
				dm_err_set(err, DM_EINVAL, "flag --%s needs a value", key);
				free(key);
				return -1;
			}
			value = argv[++i];
		}
		int rc = skipped ? 0 : dm_bind_set(fields, out, key, value, err);
		if (rc < 0)
			dm_err_prefix(err, "command line --%s", key);
		free(key);
		if (rc < 0)
			return -1;
	}
	return 0;
}

void dm_bind_free(const dm_bind_field *fields, void *out)
{
	for (const dm_bind_field *f = fields; f->key; f++) {
		void *p = at(out, f);
		switch (f->kind) {
		case DM_BIND_STRING:
			free(*(char **)p);
			*(char **)p = NULL;
			break;
		case DM_BIND_STRLIST: dm_strlist_fini(p); break;
		case DM_BIND_TABLE: dm_bind_free(f->sub, p); break;
		default: break;
		}
	}
}
