/* The API's Task object: DM OpenAPI's keys where DM has them, task.yaml's
 * rule sections (keys with '_' for '-') for the rest, so nothing the struct
 * holds is lost on the way through dm-master. The rule sections reuse the
 * YAML field tables: one table describes a key in both formats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/task_impl.h"

static bool in_list(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* "schema-pattern" in a table is "schema_pattern" in JSON. */
static bool snake_eq(const char *field_key, const char *json_key)
{
	for (; *field_key && *json_key; field_key++, json_key++)
		if ((*field_key == '-' ? '_' : *field_key) != *json_key)
			return false;
	return *field_key == *json_key;
}

static void snake(char *buf, size_t n, const char *key)
{
	snprintf(buf, n, "%s", key);
	for (char *p = buf; *p; p++)
		if (*p == '-')
			*p = '_';
}

static bool is_alias(const dm_bind_field *fields, const dm_bind_field *f)
{
	for (const dm_bind_field *g = fields; g != f; g++)
		if (g->offset == f->offset && g->kind == f->kind && g->kind != DM_BIND_IGNORE &&
		    g->kind != DM_BIND_UNSUPPORTED)
			return true;
	return false;
}

static void set_str(json_t *o, const char *key, const char *s)
{
	json_t *v = s != NULL ? json_string(s) : NULL;
	if (v != NULL)
		json_object_set_new(o, key, v);
}

/* Writes the bound members. Unset strings, empty lists and integers that
 * are 0 with no default (meaning "not set") are left out. */
static void emit_fields(json_t *o, const dm_bind_field *fields, const void *src,
                        const char *const *hidden)
{
	for (const dm_bind_field *f = fields; f->key; f++) {
		if (f->kind == DM_BIND_IGNORE || f->kind == DM_BIND_UNSUPPORTED ||
		    in_list(hidden, f->key) || is_alias(fields, f))
			continue;
		const char *p = (const char *)src + f->offset;
		char name[64];
		snake(name, sizeof(name), f->key);
		switch (f->kind) {
		case DM_BIND_STRING: set_str(o, name, *(char *const *)p); break;
		case DM_BIND_INT: {
			int64_t v;
			memcpy(&v, p, sizeof(v));
			if (v != 0 || f->def != NULL)
				json_object_set_new(o, name, json_integer(v));
			break;
		}
		case DM_BIND_BOOL:
			json_object_set_new(o, name, json_boolean(*(const bool *)p));
			break;
		case DM_BIND_STRLIST:
			if (((const dm_strlist *)p)->n > 0)
				json_object_set_new(
				        o, name,
				        dm_config_json_from_strlist((const dm_strlist *)p));
			break;
		case DM_BIND_TABLE: {
			json_t *sub = json_object();
			emit_fields(sub, f->sub, p, NULL);
			json_object_set_new(o, name, sub);
			break;
		}
		default: break;
		}
	}
}

static const dm_bind_field *find_json_field(const dm_bind_field *fields, const char *key,
                                            const char *const *hidden)
{
	for (const dm_bind_field *f = fields; f->key; f++)
		if (snake_eq(f->key, key) && !in_list(hidden, f->key))
			return f;
	return NULL;
}

static int bind_json(const dm_bind_field *fields, const json_t *obj, const char *where, void *out,
                     const char *const *extra, const char *const *hidden, dm_err *err);

static int bind_json_one(const dm_bind_field *f, const char *k, const json_t *v, const char *where,
                         void *out, dm_err *err)
{
	char *p = (char *)out + f->offset;
	switch (f->kind) {
	case DM_BIND_STRING:
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be a string", where, k);
		free(*(char **)p);
		*(char **)p = dm_xstrdup(json_string_value(v));
		break;
	case DM_BIND_INT:
		if (!json_is_integer(v) || json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max)
			return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be an integer %lld-%lld",
			                  where, k, (long long)f->min, (long long)f->max);
		*(int64_t *)(void *)p = json_integer_value(v);
		break;
	case DM_BIND_BOOL:
		if (!json_is_boolean(v))
			return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be true or false", where,
			                  k);
		*(bool *)p = json_is_true(v);
		break;
	case DM_BIND_STRLIST: {
		if (!json_is_array(v))
			return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be a list of strings",
			                  where, k);
		dm_strlist *l = (dm_strlist *)(void *)p;
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *e = json_array_get(v, i);
			if (!json_is_string(e) ||
			    strlen(json_string_value(e)) != json_string_length(e))
				return dm_err_set(err, DM_EINVAL,
				                  "%s: \"%s\" must be a list of strings", where, k);
		}
		dm_strlist_fini(l);
		for (size_t i = 0; i < json_array_size(v); i++)
			dm_strlist_add(l, json_string_value(json_array_get(v, i)));
		break;
	}
	case DM_BIND_TABLE: {
		char sub[256];
		snprintf(sub, sizeof(sub), "%s.%s", where, k);
		if (bind_json(f->sub, v, sub, p, NULL, NULL, err) < 0)
			return -1;
		break;
	}
	case DM_BIND_IGNORE: return 0;
	case DM_BIND_UNSUPPORTED:
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" is not supported by dm: %s", where, k,
		                  f->help ? f->help : "remove it");
	}
	if (f->check && f->check(p, err) < 0)
		return dm_err_prefix(err, "%s: \"%s\"", where, k);
	return 0;
}

/* The JSON twin of dm_bind_tree: keys in extra are the caller's, fields
 * named in hidden are not reachable from JSON. */
static int bind_json(const dm_bind_field *fields, const json_t *obj, const char *where, void *out,
                     const char *const *extra, const char *const *hidden, dm_err *err)
{
	if (!json_is_object(obj))
		return dm_err_set(err, DM_EINVAL, "%s: must be a JSON object", where);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		if (in_list(extra, k))
			continue;
		const dm_bind_field *f = find_json_field(fields, k, hidden);
		if (f == NULL)
			return dm_err_set(err, DM_EINVAL, "%s: unknown key \"%s\"", where, k);
		if (json_is_null(v))
			continue;
		if (bind_json_one(f, k, v, where, out, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- output ------------------------------------------------------------- */

static json_t *tables_to_json(const dm_task_tables *t)
{
	json_t *a = json_array();
	for (size_t i = 0; i < t->n; i++) {
		json_t *e = json_object();
		emit_fields(e, dm_task_table_fields, &t->items[i], NULL);
		json_array_append_new(a, e);
	}
	return a;
}

static const char *const instance_hidden[] = {"source-id", "meta", NULL};

json_t *dm_task_config_to_json(const dm_task_config *cfg, bool include_secrets)
{
	static const char *const hidden[] = {"online-ddl", NULL};
	json_t *o = json_object();
	emit_fields(o, dm_task_fields, cfg, hidden);
	json_object_set_new(o, "enhance_online_schema_change", json_boolean(cfg->online_ddl));
	set_str(o, "on_duplicate", cfg->on_duplicate ? cfg->on_duplicate : "replace");
	json_t *t = json_object();
	dm_config_db_to_json(&cfg->target, t, include_secrets);
	json_object_set_new(o, "target_config", t);

	json_t *list = json_array();
	for (size_t i = 0; i < cfg->n_instances; i++) {
		const dm_task_instance *in = &cfg->instances[i];
		json_t *e = json_object();
		set_str(e, "source_name", in->source_id);
		if (in->has_meta) {
			set_str(e, "binlog_name", in->meta.binlog_name);
			json_object_set_new(e, "binlog_pos", json_integer(in->meta.binlog_pos));
			set_str(e, "binlog_gtid", in->meta.binlog_gtid);
		}
		emit_fields(e, dm_task_instance_fields, in, instance_hidden);
		json_array_append_new(list, e);
	}
	json_object_set_new(o, "source_config", json_pack("{so}", "source_conf", list));

	for (int k = 0; k < DM_TASK_NSECTIONS; k++) {
		const dm_task_section *s = &dm_task_sections[k];
		size_t n = dm_task_section_count(s, cfg);
		if (n == 0)
			continue;
		json_t *so = json_object();
		for (size_t i = 0; i < n; i++) {
			const dm_task_rule_head *h = dm_task_section_item(s, cfg, i);
			json_t *e = json_object();
			emit_fields(e, s->fields, h, NULL);
			if (k == DM_TASK_BALS) {
				const dm_task_bal *b = (const dm_task_bal *)h;
				if (b->do_tables.n)
					json_object_set_new(e, "do_tables",
					                    tables_to_json(&b->do_tables));
				if (b->ignore_tables.n)
					json_object_set_new(e, "ignore_tables",
					                    tables_to_json(&b->ignore_tables));
			}
			json_object_set_new(so, h->name, e);
		}
		char key[64];
		snake(key, sizeof(key), s->key);
		json_object_set_new(o, key, so);
	}
	return o;
}

/* ---- input -------------------------------------------------------------- */

static bool has(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return v != NULL && !json_is_null(v);
}

static int tables_from_json(dm_task_tables *t, const json_t *obj, const char *key,
                            const char *where, dm_err *err)
{
	const json_t *a = json_object_get(obj, key);
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return dm_err_set(err, DM_EINVAL,
		                  "%s: \"%s\" must be a list of {db_name, tbl_name}", where, key);
	for (size_t i = 0; i < json_array_size(a); i++) {
		char sub[256];
		snprintf(sub, sizeof(sub), "%s.%s[%zu]", where, key, i);
		if (bind_json(dm_task_table_fields, json_array_get(a, i), sub,
		              dm_task_tables_add(t), NULL, NULL, err) < 0)
			return -1;
	}
	return 0;
}

static int sections_from_json(dm_task_config *cfg, const json_t *root, dm_err *err)
{
	static const char *const bal_special[] = {"do_tables", "ignore_tables", NULL};
	for (int k = 0; k < DM_TASK_NSECTIONS; k++) {
		const dm_task_section *s = &dm_task_sections[k];
		char key[64], where[256];
		snake(key, sizeof(key), s->key);
		const json_t *so = json_object_get(root, key);
		if (so == NULL || json_is_null(so))
			continue;
		if (!json_is_object(so))
			return dm_err_set(err, DM_EINVAL,
			                  "task: \"%s\" must be an object of named rules", key);
		const char *name;
		json_t *e;
		json_object_foreach((json_t *)so, name, e)
		{
			snprintf(where, sizeof(where), "task.%s.%s", key, name);
			void *r = dm_task_section_add(s, cfg, name, 0);
			if (bind_json(s->fields, e, where, r,
			              k == DM_TASK_BALS ? bal_special : NULL, NULL, err) < 0)
				return -1;
			if (k == DM_TASK_BALS &&
			    (tables_from_json(&((dm_task_bal *)r)->do_tables, e, "do_tables", where,
			                      err) < 0 ||
			     tables_from_json(&((dm_task_bal *)r)->ignore_tables, e,
			                      "ignore_tables", where, err) < 0))
				return -1;
		}
	}
	return 0;
}

static const char *const meta_keys[] = {"source_name", "binlog_name", "binlog_pos", "binlog_gtid",
                                        NULL};

static int instances_from_json(dm_task_config *cfg, const json_t *list, bool openapi, dm_err *err)
{
	if (list == NULL || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return dm_err_set(err, DM_EINVAL,
		                  "task.source_config: \"source_conf\" must be a list");
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *e = json_array_get(list, i);
		char where[96];
		snprintf(where, sizeof(where), "task.source_config.source_conf[%zu]", i);
		dm_task_instance *in = dm_task_instance_add(cfg, 0);
		int rc = openapi ? dm_config_json_keys(e, where, meta_keys, err)
		                 : bind_json(dm_task_instance_fields, e, where, in, meta_keys,
		                             instance_hidden, err);
		if (rc < 0 ||
		    dm_config_json_string(e, "source_name", where, &in->source_id, err) < 0 ||
		    dm_config_json_string(e, "binlog_name", where, &in->meta.binlog_name, err) <
		            0 ||
		    dm_config_json_int(e, "binlog_pos", 0, UINT32_MAX, where, &in->meta.binlog_pos,
		                       err) < 0 ||
		    dm_config_json_string(e, "binlog_gtid", where, &in->meta.binlog_gtid, err) < 0)
			return -1;
		in->has_meta =
		        has(e, "binlog_name") || has(e, "binlog_pos") || has(e, "binlog_gtid");
	}
	return 0;
}

static int false_only(const json_t *o, const char *key, const char *why, dm_err *err)
{
	bool v = false;
	if (dm_config_json_bool(o, key, "task", &v, err) < 0)
		return -1;
	if (v)
		return dm_err_set(err, DM_EINVAL, "task: \"%s\" true is not supported by dm: %s",
		                  key, why);
	return 0;
}

int dm_task_config_from_json(const json_t *json, dm_task_config *cfg, dm_err *err)
{
	static const char *const extra[] = {"enhance_online_schema_change",
	                                    "on_duplicate",
	                                    "target_config",
	                                    "source_config",
	                                    "routes",
	                                    "filters",
	                                    "block_allow_list",
	                                    "mydumpers",
	                                    "loaders",
	                                    "syncers",
	                                    "binlog_filter_rule",
	                                    "table_migrate_rule",
	                                    "status_list",
	                                    "strict_optimistic_shard_mode",
	                                    NULL};
	static const char *const hidden[] = {"online-ddl", NULL};
	static const char *const target_keys[] = {"host",     "port",    "user", "password",
	                                          "security", "session", NULL};
	static const char *const sc_keys[] = {"source_conf", "full_migrate_conf",
	                                      "incr_migrate_conf", NULL};
	dm_task_config_init(cfg);
	if (bind_json(dm_task_fields, json, "task", cfg, extra, hidden, err) < 0 ||
	    false_only(json, "enhance_online_schema_change",
	               "gh-ost/pt-osc shadow tables are not handled", err) < 0 ||
	    false_only(json, "strict_optimistic_shard_mode",
	               "merging sharded tables is not supported yet", err) < 0 ||
	    dm_config_json_string(json, "on_duplicate", "task", &cfg->on_duplicate, err) < 0)
		goto fail;
	const json_t *t = json_object_get(json, "target_config");
	if (t != NULL && !json_is_null(t) &&
	    (dm_config_json_keys(t, "task.target_config", target_keys, err) < 0 ||
	     dm_config_db_from_json(&cfg->target, t, "task.target_config", err) < 0))
		goto fail;
	const json_t *sc = json_object_get(json, "source_config");
	if (sc != NULL && !json_is_null(sc) &&
	    dm_config_json_keys(sc, "task.source_config", sc_keys, err) < 0)
		goto fail;
	/* Two ways to say which tables go where: DM OpenAPI's rule keys or
	 * task.yaml's named rules. Mixing them would leave one silently unused. */
	bool openapi = has(json, "table_migrate_rule") || has(json, "binlog_filter_rule") ||
	               has(sc, "full_migrate_conf") || has(sc, "incr_migrate_conf");
	if (openapi) {
		for (int k = 0; k < DM_TASK_NSECTIONS; k++) {
			char key[64];
			snake(key, sizeof(key), dm_task_sections[k].key);
			if (has(json, key)) {
				dm_err_set(err, DM_EINVAL,
				           "task: \"%s\" (dm's named rules) cannot be combined "
				           "with DM "
				           "OpenAPI's table_migrate_rule, binlog_filter_rule, "
				           "full_migrate_conf or incr_migrate_conf; use one form",
				           key);
				goto fail;
			}
		}
	}
	if (sections_from_json(cfg, json, err) < 0 ||
	    instances_from_json(cfg, sc ? json_object_get(sc, "source_conf") : NULL, openapi, err) <
	            0)
		goto fail;
	if (openapi && dm_task_openapi_rules(cfg, json, err) < 0)
		goto fail;
	if (dm_task_validate(cfg, "task", true, err) < 0)
		goto fail;
	return 0;
fail:
	dm_task_config_fini(cfg);
	return -1;
}
