/* task.yaml: the YAML reader and the life cycle of
 * dm_task_config. Keys are in task_fields.c, checks in task_check.c, JSON in
 * task_json.c and task_openapi.c. */
#include "config/task.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "base/file.h"
#include "base/mem.h"
#include "config/task_impl.h"
#include "config/yaml.h"
#include "mysql/conn.h"

enum { MAX_CONFIG_BYTES = 1 << 20 };

/* ---- generic access to the rule arrays ---------------------------------- */

/* The arrays are typed pointers in dm_task_config; memcpy reads and writes
 * them without pretending they are void *. */
static void *items_of(const dm_task_section *s, const dm_task_config *cfg)
{
	void *p;
	memcpy(&p, (const char *)cfg + s->items_off, sizeof(p));
	return p;
}

size_t dm_task_section_count(const dm_task_section *s, const dm_task_config *cfg)
{
	size_t n;
	memcpy(&n, (const char *)cfg + s->n_off, sizeof(n));
	return n;
}

void *dm_task_section_item(const dm_task_section *s, const dm_task_config *cfg, size_t i)
{
	return (char *)items_of(s, cfg) + i * s->size;
}

void *dm_task_section_add(const dm_task_section *s, dm_task_config *cfg, const char *name, int line)
{
	size_t n = dm_task_section_count(s, cfg);
	void *items = dm_xrealloc(items_of(s, cfg), (n + 1) * s->size);
	char *e = (char *)items + n * s->size;
	memset(e, 0, s->size);
	dm_bind_defaults(s->fields, e, NULL); /* integers and booleans only */
	dm_task_rule_head *h = (dm_task_rule_head *)e;
	h->name = dm_xstrdup(name);
	h->line = line;
	n++;
	memcpy((char *)cfg + s->items_off, &items, sizeof(items));
	memcpy((char *)cfg + s->n_off, &n, sizeof(n));
	return e;
}

long dm_task_section_find(const dm_task_section *s, const dm_task_config *cfg, const char *name)
{
	size_t n = dm_task_section_count(s, cfg);
	for (size_t i = 0; name != NULL && i < n; i++) {
		const dm_task_rule_head *h = dm_task_section_item(s, cfg, i);
		if (strcmp(h->name, name) == 0)
			return (long)i;
	}
	return -1;
}

dm_task_instance *dm_task_instance_add(dm_task_config *cfg, int line)
{
	cfg->instances =
	        dm_xrealloc(cfg->instances, (cfg->n_instances + 1) * sizeof(dm_task_instance));
	dm_task_instance *in = &cfg->instances[cfg->n_instances++];
	memset(in, 0, sizeof(*in));
	dm_bind_defaults(dm_task_instance_fields, in, NULL);
	in->line = line;
	return in;
}

dm_task_table *dm_task_tables_add(dm_task_tables *t)
{
	t->items = dm_xrealloc(t->items, (t->n + 1) * sizeof(dm_task_table));
	dm_task_table *e = &t->items[t->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

static void tables_fini(dm_task_tables *t)
{
	for (size_t i = 0; i < t->n; i++)
		dm_bind_free(dm_task_table_fields, &t->items[i]);
	free(t->items);
	t->items = NULL;
	t->n = 0;
}

/* ---- life cycle ---------------------------------------------------------- */

void dm_task_config_init(dm_task_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	dm_bind_defaults(dm_task_fields, cfg, NULL); /* booleans only */
	dm_config_db_init(&cfg->target);
}

void dm_task_config_fini(dm_task_config *cfg)
{
	dm_bind_free(dm_task_fields, cfg);
	free(cfg->on_duplicate);
	dm_config_db_fini(&cfg->target);
	for (size_t i = 0; i < cfg->n_instances; i++)
		dm_bind_free(dm_task_instance_fields, &cfg->instances[i]);
	free(cfg->instances);
	for (int k = 0; k < DM_TASK_NSECTIONS; k++) {
		const dm_task_section *s = &dm_task_sections[k];
		for (size_t i = 0; i < dm_task_section_count(s, cfg); i++) {
			dm_task_rule_head *h = dm_task_section_item(s, cfg, i);
			free(h->name);
			dm_bind_free(s->fields, h);
			if (k == DM_TASK_BALS) {
				tables_fini(&((dm_task_bal *)h)->do_tables);
				tables_fini(&((dm_task_bal *)h)->ignore_tables);
			}
		}
		free(items_of(s, cfg));
	}
	dm_task_config_init(cfg);
}

/* A field that shares its offset with an earlier one is an alias. */
static bool is_alias(const dm_bind_field *fields, const dm_bind_field *f)
{
	for (const dm_bind_field *g = fields; g != f; g++)
		if (g->offset == f->offset && g->kind == f->kind && g->kind != DM_BIND_IGNORE &&
		    g->kind != DM_BIND_UNSUPPORTED)
			return true;
	return false;
}

/* Deep copy of the bound members (dst zeroed). */
static void copy_fields(const dm_bind_field *fields, void *dst, const void *src)
{
	for (const dm_bind_field *f = fields; f->key; f++) {
		if (is_alias(fields, f))
			continue;
		char *d = (char *)dst + f->offset;
		const char *s = (const char *)src + f->offset;
		switch (f->kind) {
		case DM_BIND_STRING: {
			const char *v = *(char *const *)s;
			*(char **)d = v ? dm_xstrdup(v) : NULL;
			break;
		}
		case DM_BIND_INT: memcpy(d, s, sizeof(int64_t)); break;
		case DM_BIND_BOOL: memcpy(d, s, sizeof(bool)); break;
		case DM_BIND_STRLIST: {
			const dm_strlist *l = (const dm_strlist *)s;
			for (size_t i = 0; i < l->n; i++)
				dm_strlist_add((dm_strlist *)d, l->items[i]);
			break;
		}
		case DM_BIND_TABLE: copy_fields(f->sub, d, s); break;
		default: break;
		}
	}
}

static void copy_tables(dm_task_tables *dst, const dm_task_tables *src)
{
	for (size_t i = 0; i < src->n; i++)
		copy_fields(dm_task_table_fields, dm_task_tables_add(dst), &src->items[i]);
}

void dm_task_config_copy(dm_task_config *dst, const dm_task_config *src)
{
	dm_task_config t;
	dm_task_config_init(&t);
	copy_fields(dm_task_fields, &t, src);
	t.on_duplicate = src->on_duplicate ? dm_xstrdup(src->on_duplicate) : NULL;
	dm_config_db_copy(&t.target, &src->target);
	for (size_t i = 0; i < src->n_instances; i++) {
		dm_task_instance *in = dm_task_instance_add(&t, src->instances[i].line);
		memset(in, 0, sizeof(*in));
		copy_fields(dm_task_instance_fields, in, &src->instances[i]);
		in->has_meta = src->instances[i].has_meta;
		in->line = src->instances[i].line;
	}
	for (int k = 0; k < DM_TASK_NSECTIONS; k++) {
		const dm_task_section *s = &dm_task_sections[k];
		for (size_t i = 0; i < dm_task_section_count(s, src); i++) {
			const dm_task_rule_head *h = dm_task_section_item(s, src, i);
			dm_task_rule_head *e = dm_task_section_add(s, &t, h->name, h->line);
			copy_fields(s->fields, e, h);
			if (k == DM_TASK_BALS) {
				copy_tables(&((dm_task_bal *)e)->do_tables,
				            &((const dm_task_bal *)h)->do_tables);
				copy_tables(&((dm_task_bal *)e)->ignore_tables,
				            &((const dm_task_bal *)h)->ignore_tables);
			}
		}
	}
	dm_task_config_fini(dst);
	*dst = t;
}

/* ---- YAML ---------------------------------------------------------------- */

static void wipe_tree(dm_node *n)
{
	if (n == NULL)
		return;
	if (n->str != NULL)
		OPENSSL_cleanse(n->str, n->len);
	for (size_t i = 0; i < n->nkids; i++)
		wipe_tree(n->kids[i]);
}

static bool present(const dm_node *n)
{
	return n != NULL && n->type != DM_NODE_NULL;
}

static int not_type(const char *file, const dm_node *n, const char *key, const char *want,
                    dm_err *err)
{
	return dm_err_set(err, DM_EINVAL, "%s:%d: \"%s\" must be %s, found %s", file, n->line, key,
	                  want, dm_tree_type_name(n->type));
}

static int yaml_tables(dm_task_tables *t, const dm_node *n, const char *file, const char *key,
                       dm_err *err)
{
	if (!present(n))
		return 0;
	if (n->type != DM_NODE_ARRAY)
		return not_type(file, n, key, "a list of {db-name, tbl-name}", err);
	for (size_t i = 0; i < n->nkids; i++) {
		const dm_node *k = n->kids[i];
		if (k->type != DM_NODE_TABLE)
			return not_type(file, k, key, "a list of {db-name, tbl-name}", err);
		if (dm_bind_tree(dm_task_table_fields, k, file, dm_task_tables_add(t), err) < 0)
			return -1;
	}
	return 0;
}

static int yaml_section(dm_task_config *cfg, int k, const dm_node *root, const char *file,
                        dm_err *err)
{
	const dm_task_section *s = &dm_task_sections[k];
	const dm_node *n = dm_tree_get(root, s->key);
	const dm_node *old = s->alias ? dm_tree_get(root, s->alias) : NULL;
	if (present(n) && present(old))
		return dm_err_set(err, DM_EINVAL,
		                  "%s:%d: \"%s\" and \"%s\" (its old name) are both set; keep only "
		                  "\"%s\"",
		                  file, old->line, s->key, s->alias, s->key);
	const char *key = present(n) ? s->key : s->alias;
	if (!present(n))
		n = old;
	if (!present(n))
		return 0;
	if (n->type != DM_NODE_TABLE)
		return not_type(file, n, key, "a table of named rules", err);
	static const char *const bal_special[] = {"do-tables", "ignore-tables", NULL};
	for (size_t i = 0; i < n->nkids; i++) {
		const dm_node *r = n->kids[i];
		if (r->type != DM_NODE_TABLE)
			return dm_err_set(err, DM_EINVAL,
			                  "%s:%d: %s \"%s\" must be a table, found %s", file,
			                  r->line, key, r->key, dm_tree_type_name(r->type));
		void *e = dm_task_section_add(s, cfg, r->key, r->line);
		if (dm_config_bind_except(s->fields, r, file, e,
		                          k == DM_TASK_BALS ? bal_special : NULL, err) < 0)
			return -1;
		if (k == DM_TASK_BALS) {
			dm_task_bal *b = e;
			if (yaml_tables(&b->do_tables, dm_tree_get(r, "do-tables"), file,
			                "do-tables", err) < 0 ||
			    yaml_tables(&b->ignore_tables, dm_tree_get(r, "ignore-tables"), file,
			                "ignore-tables", err) < 0)
				return -1;
		}
	}
	return 0;
}

static int yaml_instances(dm_task_config *cfg, const dm_node *n, const char *file, dm_err *err)
{
	if (!present(n))
		return 0;
	if (n->type != DM_NODE_ARRAY)
		return not_type(file, n, "mysql-instances", "a list", err);
	for (size_t i = 0; i < n->nkids; i++) {
		const dm_node *k = n->kids[i];
		if (k->type != DM_NODE_TABLE)
			return not_type(file, k, "mysql-instances", "a list of tables", err);
		const dm_node *bal = dm_tree_get(k, "block-allow-list");
		const dm_node *bwl = dm_tree_get(k, "black-white-list");
		if (present(bal) && present(bwl))
			return dm_err_set(
			        err, DM_EINVAL,
			        "%s:%d: \"block-allow-list\" and \"black-white-list\" (its "
			        "old name) are both set; keep only \"block-allow-list\"",
			        file, bwl->line);
		dm_task_instance *in = dm_task_instance_add(cfg, k->line);
		if (dm_bind_tree(dm_task_instance_fields, k, file, in, err) < 0)
			return -1;
		in->has_meta = present(dm_tree_get(k, "meta"));
	}
	return 0;
}

static int load_tree(dm_task_config *cfg, const dm_node *root, const char *file, dm_err *err)
{
	/* DM keys that only switch sharding on: false is harmless. */
	static const char *const sharding[] = {"is-sharding", "strict-optimistic-shard-mode", NULL};
	static const char *const special[] = {"target-database",
	                                      "mysql-instances",
	                                      "routes",
	                                      "filters",
	                                      "block-allow-list",
	                                      "black-white-list",
	                                      "mydumpers",
	                                      "loaders",
	                                      "syncers",
	                                      "is-sharding",
	                                      "strict-optimistic-shard-mode",
	                                      NULL};
	if (dm_config_bind_except(dm_task_fields, root, file, cfg, special, err) < 0)
		return -1;
	for (int i = 0; sharding[i] != NULL; i++) {
		const dm_node *n = dm_tree_get(root, sharding[i]);
		if (!present(n))
			continue;
		if (n->type != DM_NODE_BOOL)
			return not_type(file, n, sharding[i], "true or false", err);
		if (n->b)
			return dm_err_set(
			        err, DM_EINVAL,
			        "%s:%d: \"%s\" true is not supported by dm: " SHARD_REASON, file,
			        n->line, sharding[i]);
	}
	const dm_node *n = dm_tree_get(root, "target-database");
	if (present(n)) {
		if (n->type != DM_NODE_TABLE)
			return not_type(file, n, "target-database", "a table", err);
		if (dm_config_db_bind(&cfg->target, n, file, "target-database", err) < 0)
			return -1;
	}
	for (int k = 0; k < DM_TASK_NSECTIONS; k++)
		if (yaml_section(cfg, k, root, file, err) < 0)
			return -1;
	return yaml_instances(cfg, dm_tree_get(root, "mysql-instances"), file, err);
}

int dm_task_config_load_text(const char *text, size_t len, const char *filename,
                             dm_task_config *cfg, dm_err *err)
{
	dm_task_config_init(cfg);
	dm_node *root = NULL;
	if (dm_yaml_parse(text, len, filename, &root, err) < 0)
		return -1;
	int rc = load_tree(cfg, root, filename, err);
	wipe_tree(root);
	dm_tree_free(root);
	if (rc == 0)
		rc = dm_task_validate(cfg, filename, false, err);
	if (rc < 0)
		dm_task_config_fini(cfg);
	return rc;
}

int dm_task_config_load_file(const char *path, dm_task_config *cfg, dm_err *err)
{
	char *text;
	size_t len;
	dm_task_config_init(cfg);
	if (dm_file_read(path, MAX_CONFIG_BYTES, &text, &len, err) < 0)
		return dm_err_prefix(err, "cannot read the task config");
	const char *base = strrchr(path, '/');
	int rc = dm_task_config_load_text(text, len, base ? base + 1 : path, cfg, err);
	OPENSSL_cleanse(text, len);
	free(text);
	return rc;
}

int dm_task_config_load_pem(dm_task_config *cfg, dm_err *err)
{
	return dm_config_db_load_pem(&cfg->target, "target-database.security", err);
}

void dm_task_config_target_db_config(const dm_task_config *cfg, struct dm_db_config *out)
{
	dm_config_db_to_db_config(&cfg->target, out);
}

/* ---- helpers for the units -------------------------------------------- */

void dm_task_config_subtask_sources(const dm_task_config *cfg, dm_strlist *out)
{
	for (size_t i = 0; i < cfg->n_instances; i++)
		dm_strlist_add(out, cfg->instances[i].source_id);
}

static const void *find(const dm_task_config *cfg, int k, const char *name)
{
	long i = dm_task_section_find(&dm_task_sections[k], cfg, name);
	return i < 0 ? NULL : dm_task_section_item(&dm_task_sections[k], cfg, (size_t)i);
}

const dm_task_route *dm_task_config_route(const dm_task_config *cfg, const char *name)
{
	return find(cfg, DM_TASK_ROUTES, name);
}

const dm_task_filter *dm_task_config_filter(const dm_task_config *cfg, const char *name)
{
	return find(cfg, DM_TASK_FILTERS, name);
}

const dm_task_bal *dm_task_config_bal(const dm_task_config *cfg, const char *name)
{
	return find(cfg, DM_TASK_BALS, name);
}

void dm_task_config_units(const dm_task_config *cfg, size_t i, dm_task_units *out)
{
	const dm_task_instance *in = &cfg->instances[i];
	*out = (dm_task_units){
	        .dump_threads = 4,
	        .chunk_filesize = "64",
	        .consistency = "auto",
	        .load_threads = 16,
	        .import_mode = "logical",
	        .on_duplicate = cfg->on_duplicate ? cfg->on_duplicate : "replace",
	        .sync_threads = 16,
	        .batch = 100,
	        .safe_mode_ms = 60000,
	        .enable_ansi_quotes = cfg->ansi_quotes,
	};
	const dm_task_mydumper *m = find(cfg, DM_TASK_MYDUMPERS, in->mydumper_config_name);
	if (m != NULL) {
		out->dump_threads = m->threads;
		out->chunk_filesize = m->chunk_filesize;
		out->rows = m->rows;
		out->consistency = m->consistency;
	}
	const dm_task_loader *l = find(cfg, DM_TASK_LOADERS, in->loader_config_name);
	if (l != NULL) {
		out->load_threads = l->pool_size;
		out->import_mode = l->import_mode;
		if (l->on_duplicate != NULL)
			out->on_duplicate = l->on_duplicate;
	}
	const dm_task_syncer *s = find(cfg, DM_TASK_SYNCERS, in->syncer_config_name);
	if (s != NULL) {
		out->sync_threads = s->worker_count;
		out->batch = s->batch;
		out->safe_mode = s->safe_mode;
		dm_task_parse_duration(s->safe_mode_duration, &out->safe_mode_ms, NULL);
		out->enable_ansi_quotes |= s->enable_ansi_quotes;
	}
	if (in->mydumper_thread > 0)
		out->dump_threads = in->mydumper_thread;
	if (in->loader_thread > 0)
		out->load_threads = in->loader_thread;
	if (in->syncer_thread > 0)
		out->sync_threads = in->syncer_thread;
}
