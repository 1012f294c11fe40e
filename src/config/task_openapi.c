/* DM OpenAPI's table_migrate_rule, binlog_filter_rule, full_migrate_conf
 * and incr_migrate_conf turned into task.yaml's named rules, the way DM's
 * OpenAPITaskToSubTaskConfigs does, so DM API clients can create tasks:
 * per source, rules with a target become routes, binlog_filter_rule names
 * become Ignore filters on the rule's tables, and the rules' tables make
 * the source's block-allow-list. Generated names follow DM's ("route-01",
 * "filter-01", "balist-01", "dump-01", "load-01", "sync-01"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/task_impl.h"

static const char *opt_str(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int check_string(const json_t *o, const char *key, bool required, const char *where,
                        dm_err *err)
{
	const json_t *v = json_object_get(o, key);
	if (v == NULL || json_is_null(v)) {
		if (required)
			return dm_err_set(err, DM_EINVAL, "%s: \"%s\" is required", where, key);
		return 0;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return dm_err_set(err, DM_EINVAL, "%s: \"%s\" must be a string", where, key);
	return 0;
}

static int check_strlist(const json_t *o, const char *key, const char *where, dm_err *err)
{
	dm_strlist tmp = {0};
	int rc = dm_config_json_strlist(o, key, where, &tmp, err);
	dm_strlist_fini(&tmp);
	return rc;
}

static int check_templates(const json_t *bfr, dm_err *err)
{
	static const char *const keys[] = {"ignore_event", "ignore_sql", NULL};
	if (bfr == NULL || json_is_null(bfr))
		return 0;
	if (!json_is_object(bfr))
		return dm_err_set(err, DM_EINVAL,
		                  "task: \"binlog_filter_rule\" must be an object of named rules");
	const char *name;
	json_t *r;
	json_object_foreach((json_t *)bfr, name, r)
	{
		char where[256];
		snprintf(where, sizeof(where), "task.binlog_filter_rule.%s", name);
		if (dm_config_json_keys(r, where, keys, err) < 0 ||
		    check_strlist(r, "ignore_event", where, err) < 0 ||
		    check_strlist(r, "ignore_sql", where, err) < 0)
			return -1;
	}
	return 0;
}

/* Shape of one table_migrate_rule entry, and that its source is listed. */
static int check_rule(const dm_task_config *cfg, const json_t *r, const char *where, dm_err *err)
{
	static const char *const keys[] = {"source", "target", "binlog_filter_rule", NULL};
	static const char *const src_keys[] = {"source_name", "schema", "table", NULL};
	static const char *const dst_keys[] = {"schema", "table", NULL};
	char sub[128];
	if (dm_config_json_keys(r, where, keys, err) < 0)
		return -1;
	const json_t *src = json_object_get(r, "source");
	snprintf(sub, sizeof(sub), "%s.source", where);
	if (src == NULL || json_is_null(src))
		return dm_err_set(err, DM_EINVAL, "%s: \"source\" is required", where);
	if (dm_config_json_keys(src, sub, src_keys, err) < 0 ||
	    check_string(src, "source_name", true, sub, err) < 0 ||
	    check_string(src, "schema", true, sub, err) < 0 ||
	    check_string(src, "table", false, sub, err) < 0)
		return -1;
	const json_t *dst = json_object_get(r, "target");
	snprintf(sub, sizeof(sub), "%s.target", where);
	if (dst != NULL && !json_is_null(dst) &&
	    (dm_config_json_keys(dst, sub, dst_keys, err) < 0 ||
	     check_string(dst, "schema", false, sub, err) < 0 ||
	     check_string(dst, "table", false, sub, err) < 0))
		return -1;
	if (check_strlist(r, "binlog_filter_rule", where, err) < 0)
		return -1;
	const char *name = opt_str(src, "source_name");
	for (size_t i = 0; i < cfg->n_instances; i++)
		if (cfg->instances[i].source_id && !strcmp(cfg->instances[i].source_id, name))
			return 0;
	return dm_err_set(err, DM_EINVAL,
	                  "%s: source_name \"%.64s\" is not listed in source_config.source_conf",
	                  where, name);
}

static void *add(dm_task_config *cfg, int k, const char *prefix, size_t *counter, char *name,
                 size_t n)
{
	snprintf(name, n, "%s-%02zu", prefix, ++*counter);
	return dm_task_section_add(&dm_task_sections[k], cfg, name, 0);
}

static void dup_opt(char **dst, const char *s)
{
	if (s != NULL && *s != '\0')
		*dst = dm_xstrdup(s);
}

/* One table_migrate_rule applied to its source's instance. */
static int apply_rule(dm_task_config *cfg, dm_task_instance *in, const json_t *r, const json_t *bfr,
                      size_t idx, size_t counters[3], dm_task_bal **bal, dm_err *err)
{
	const json_t *src = json_object_get(r, "source"), *dst = json_object_get(r, "target");
	const char *schema = opt_str(src, "schema"), *table = opt_str(src, "table");
	const char *tschema = opt_str(dst, "schema"), *ttable = opt_str(dst, "table");
	bool has_table = table != NULL && *table != '\0';
	char name[32];
	if (tschema != NULL || ttable != NULL) {
		dm_task_route *rt =
		        add(cfg, DM_TASK_ROUTES, "route", &counters[0], name, sizeof(name));
		rt->schema_pattern = dm_xstrdup(schema);
		dup_opt(&rt->table_pattern, table);
		dup_opt(&rt->target_schema, tschema);
		dup_opt(&rt->target_table, ttable);
		dm_strlist_add(&in->route_rules, name);
	}
	const json_t *names = json_object_get(r, "binlog_filter_rule");
	for (size_t j = 0; json_is_array(names) && j < json_array_size(names); j++) {
		const char *fname = json_string_value(json_array_get(names, j));
		const json_t *tpl = json_is_object(bfr) ? json_object_get(bfr, fname) : NULL;
		if (tpl == NULL || json_is_null(tpl))
			return dm_err_set(
			        err, DM_EINVAL,
			        "task.table_migrate_rule[%zu]: binlog_filter_rule \"%.64s\" is "
			        "not defined in binlog_filter_rule",
			        idx, fname);
		dm_task_filter *f =
		        add(cfg, DM_TASK_FILTERS, "filter", &counters[1], name, sizeof(name));
		f->schema_pattern = dm_xstrdup(schema);
		dup_opt(&f->table_pattern, table);
		f->action = dm_xstrdup("Ignore");
		if (dm_config_json_strlist(tpl, "ignore_event", "task", &f->events, err) < 0 ||
		    dm_config_json_strlist(tpl, "ignore_sql", "task", &f->sql_pattern, err) < 0)
			return -1;
		dm_strlist_add(&in->filter_rules, name);
	}
	if (*bal == NULL) {
		*bal = add(cfg, DM_TASK_BALS, "balist", &counters[2], name, sizeof(name));
		in->block_allow_list = dm_xstrdup(name);
	}
	if (has_table) {
		dm_task_table *t = dm_task_tables_add(&(*bal)->do_tables);
		t->db_name = dm_xstrdup(schema);
		t->tbl_name = dm_xstrdup(table);
	} else if (!dm_strlist_has(&(*bal)->do_dbs, schema)) {
		dm_strlist_add(&(*bal)->do_dbs, schema);
	}
	return 0;
}

static int full_conf(dm_task_config *cfg, const json_t *full, dm_err *err)
{
	static const char *const keys[] = {"export_threads",
	                                   "import_threads",
	                                   "data_dir",
	                                   "consistency",
	                                   "import_mode",
	                                   "on_duplicate_logical",
	                                   "on_duplicate_physical",
	                                   "sorting_dir",
	                                   "disk_quota",
	                                   "checksum",
	                                   "analyze",
	                                   "range_concurrency",
	                                   "compress-kv-pairs",
	                                   "pd_addr",
	                                   "security",
	                                   NULL};
	const char *w = "task.source_config.full_migrate_conf";
	if (full == NULL || json_is_null(full))
		return 0;
	if (dm_config_json_keys(full, w, keys, err) < 0)
		return -1;
	dm_task_mydumper *m =
	        dm_task_section_add(&dm_task_sections[DM_TASK_MYDUMPERS], cfg, "dump-01", 0);
	dm_task_loader *l =
	        dm_task_section_add(&dm_task_sections[DM_TASK_LOADERS], cfg, "load-01", 0);
	if (dm_config_json_int(full, "export_threads", 1, 1024, w, &m->threads, err) < 0 ||
	    dm_config_json_string(full, "consistency", w, &m->consistency, err) < 0 ||
	    dm_config_json_int(full, "import_threads", 1, 1024, w, &l->pool_size, err) < 0 ||
	    dm_config_json_string(full, "import_mode", w, &l->import_mode, err) < 0 ||
	    dm_config_json_string(full, "on_duplicate_logical", w, &l->on_duplicate, err) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_instances; i++) {
		cfg->instances[i].mydumper_config_name = dm_xstrdup("dump-01");
		cfg->instances[i].loader_config_name = dm_xstrdup("load-01");
	}
	return 0;
}

static int incr_conf(dm_task_config *cfg, const json_t *incr, dm_err *err)
{
	static const char *const keys[] = {"repl_threads", "repl_batch", "safe_mode", NULL};
	const char *w = "task.source_config.incr_migrate_conf";
	if (incr == NULL || json_is_null(incr))
		return 0;
	if (dm_config_json_keys(incr, w, keys, err) < 0)
		return -1;
	dm_task_syncer *s =
	        dm_task_section_add(&dm_task_sections[DM_TASK_SYNCERS], cfg, "sync-01", 0);
	if (dm_config_json_int(incr, "repl_threads", 1, 1024, w, &s->worker_count, err) < 0 ||
	    dm_config_json_int(incr, "repl_batch", 1, 100000, w, &s->batch, err) < 0 ||
	    dm_config_json_bool(incr, "safe_mode", w, &s->safe_mode, err) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_instances; i++)
		cfg->instances[i].syncer_config_name = dm_xstrdup("sync-01");
	return 0;
}

int dm_task_openapi_rules(dm_task_config *cfg, const json_t *root, dm_err *err)
{
	const json_t *bfr = json_object_get(root, "binlog_filter_rule");
	const json_t *rules = json_object_get(root, "table_migrate_rule");
	const json_t *sc = json_object_get(root, "source_config");
	if (check_templates(bfr, err) < 0)
		return -1;
	if (rules != NULL && !json_is_null(rules) && !json_is_array(rules))
		return dm_err_set(err, DM_EINVAL, "task: \"table_migrate_rule\" must be a list");
	size_t nrules = json_is_array(rules) ? json_array_size(rules) : 0;
	for (size_t i = 0; i < nrules; i++) {
		char where[64];
		snprintf(where, sizeof(where), "task.table_migrate_rule[%zu]", i);
		if (check_rule(cfg, json_array_get(rules, i), where, err) < 0)
			return -1;
	}
	size_t counters[3] = {0, 0, 0};
	for (size_t i = 0; i < cfg->n_instances; i++) {
		dm_task_bal *bal = NULL;
		for (size_t j = 0; j < nrules; j++) {
			const json_t *r = json_array_get(rules, j);
			const char *src = opt_str(json_object_get(r, "source"), "source_name");
			if (cfg->instances[i].source_id &&
			    strcmp(src, cfg->instances[i].source_id) == 0 &&
			    apply_rule(cfg, &cfg->instances[i], r, bfr, j, counters, &bal, err) < 0)
				return -1;
		}
	}
	if (full_conf(cfg, json_is_object(sc) ? json_object_get(sc, "full_migrate_conf") : NULL,
	              err) < 0 ||
	    incr_conf(cfg, json_is_object(sc) ? json_object_get(sc, "incr_migrate_conf") : NULL,
	              err) < 0)
		return -1;
	return 0;
}
