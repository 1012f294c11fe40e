#include "migrate/rules.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

struct dm_pattern {
	bool is_regex;
	bool case_sensitive;
	char *wild;
	regex_t re;
};

int dm_pattern_new(const char *text, bool case_sensitive, dm_pattern **out, dm_err *err)
{
	dm_pattern *p = dm_xcalloc(1, sizeof(*p));
	p->case_sensitive = case_sensitive;
	if (text[0] == '~') {
		int flags = REG_EXTENDED | REG_NOSUB | (case_sensitive ? 0 : REG_ICASE);
		int rc = regcomp(&p->re, text + 1, flags);
		if (rc != 0) {
			char why[128];
			regerror(rc, &p->re, why, sizeof(why));
			free(p);
			return dm_err_set(err, DM_EINVAL, "bad regular expression \"%s\": %s",
			                  text + 1, why);
		}
		p->is_regex = true;
	} else {
		p->wild = dm_xstrdup(text);
	}
	*out = p;
	return 0;
}

static bool same_char(char a, char b, bool cs)
{
	return cs ? a == b : tolower((unsigned char)a) == tolower((unsigned char)b);
}

/* Iterative '*' matching with one backtrack point: linear in practice. */
static bool wild_match(const char *pat, const char *s, bool cs)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || (*pat && same_char(*pat, *s, cs))) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

bool dm_pattern_match(const dm_pattern *p, const char *s)
{
	if (p->is_regex)
		return regexec(&p->re, s, 0, NULL, 0) == 0;
	return wild_match(p->wild, s, p->case_sensitive);
}

void dm_pattern_free(dm_pattern *p)
{
	if (p == NULL)
		return;
	if (p->is_regex)
		regfree(&p->re);
	free(p->wild);
	free(p);
}

/* ---- compiled rules -------------------------------------------------- */

typedef struct pattern_list {
	dm_pattern **items;
	size_t n;
} pattern_list;

typedef struct table_pattern {
	dm_pattern *db, *tbl;
} table_pattern;

typedef struct table_list {
	table_pattern *items;
	size_t n;
} table_list;

typedef struct route {
	dm_pattern *schema, *table; /* table NULL: a schema rule */
	char *target_schema, *target_table;
} route;

struct dm_rules {
	bool case_sensitive;
	char *meta; /* the task's meta schema: never migrated */
	pattern_list do_dbs, ignore_dbs;
	table_list do_tables, ignore_tables;
	route *routes;
	size_t n_routes;
};

static int compile(const char *text, bool cs, const char *rule, const char *key, dm_pattern **out,
                   dm_err *err)
{
	if (dm_pattern_new(text, cs, out, err) < 0)
		return dm_err_prefix(err, "%s %s", rule, key);
	return 0;
}

static int compile_list(const dm_strlist *in, bool cs, const char *rule, const char *key,
                        pattern_list *out, dm_err *err)
{
	out->items = dm_xcalloc(in->n + 1, sizeof(*out->items));
	for (size_t i = 0; i < in->n; i++) {
		if (compile(in->items[i], cs, rule, key, &out->items[i], err) < 0)
			return -1;
		out->n++;
	}
	return 0;
}

static int compile_tables(const dm_task_tables *in, bool cs, const char *rule, const char *key,
                          table_list *out, dm_err *err)
{
	out->items = dm_xcalloc(in->n + 1, sizeof(*out->items));
	for (size_t i = 0; i < in->n; i++) {
		table_pattern *t = &out->items[i];
		if (compile(in->items[i].db_name, cs, rule, key, &t->db, err) < 0)
			return -1;
		if (compile(in->items[i].tbl_name, cs, rule, key, &t->tbl, err) < 0) {
			dm_pattern_free(t->db);
			t->db = NULL;
			return -1;
		}
		out->n++;
	}
	return 0;
}

int dm_rules_new(const dm_task_config *cfg, size_t instance, dm_rules **out, dm_err *err)
{
	dm_rules *r = dm_xcalloc(1, sizeof(*r));
	bool cs = cfg->case_sensitive;
	r->case_sensitive = cs;
	r->meta = dm_xstrdup(cfg->meta_schema ? cfg->meta_schema : "dm_meta");
	const dm_task_instance *inst = &cfg->instances[instance];
	const dm_task_bal *bal =
	        inst->block_allow_list ? dm_task_config_bal(cfg, inst->block_allow_list) : NULL;
	if (bal) {
		char *rule = dm_xasprintf("block-allow-list %s:", bal->name);
		int rc = compile_list(&bal->do_dbs, cs, rule, "do-dbs", &r->do_dbs, err);
		if (rc == 0)
			rc = compile_list(&bal->ignore_dbs, cs, rule, "ignore-dbs", &r->ignore_dbs,
			                  err);
		if (rc == 0)
			rc = compile_tables(&bal->do_tables, cs, rule, "do-tables", &r->do_tables,
			                    err);
		if (rc == 0)
			rc = compile_tables(&bal->ignore_tables, cs, rule, "ignore-tables",
			                    &r->ignore_tables, err);
		free(rule);
		if (rc < 0)
			goto fail;
	}
	r->routes = dm_xcalloc(inst->route_rules.n + 1, sizeof(*r->routes));
	for (size_t i = 0; i < inst->route_rules.n; i++) {
		const dm_task_route *tr = dm_task_config_route(cfg, inst->route_rules.items[i]);
		if (tr == NULL)
			continue; /* the task reader refuses undefined names */
		route *ro = &r->routes[r->n_routes];
		char *rule = dm_xasprintf("route %s:", tr->name);
		int rc = compile(tr->schema_pattern, cs, rule, "schema-pattern", &ro->schema, err);
		if (rc == 0 && tr->table_pattern && tr->table_pattern[0])
			rc = compile(tr->table_pattern, cs, rule, "table-pattern", &ro->table, err);
		free(rule);
		if (rc < 0) {
			dm_pattern_free(ro->schema);
			ro->schema = NULL;
			goto fail;
		}
		ro->target_schema = dm_xstrdup(tr->target_schema);
		ro->target_table = tr->target_table && tr->target_table[0]
		                           ? dm_xstrdup(tr->target_table)
		                           : NULL;
		r->n_routes++;
	}
	*out = r;
	return 0;
fail:
	dm_rules_free(r);
	return -1;
}

static void free_list(pattern_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		dm_pattern_free(l->items[i]);
	free(l->items);
}

static void free_tables(table_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		dm_pattern_free(l->items[i].db);
		dm_pattern_free(l->items[i].tbl);
	}
	free(l->items);
}

void dm_rules_free(dm_rules *r)
{
	if (r == NULL)
		return;
	free_list(&r->do_dbs);
	free_list(&r->ignore_dbs);
	free_tables(&r->do_tables);
	free_tables(&r->ignore_tables);
	for (size_t i = 0; i < r->n_routes; i++) {
		dm_pattern_free(r->routes[i].schema);
		dm_pattern_free(r->routes[i].table);
		free(r->routes[i].target_schema);
		free(r->routes[i].target_table);
	}
	free(r->routes);
	free(r->meta);
	free(r);
}

static bool any(const pattern_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (dm_pattern_match(l->items[i], s))
			return true;
	return false;
}

static bool any_table(const table_list *l, const char *schema, const char *table)
{
	for (size_t i = 0; i < l->n; i++)
		if (dm_pattern_match(l->items[i].db, schema) &&
		    dm_pattern_match(l->items[i].tbl, table))
			return true;
	return false;
}

static bool is_system_schema(const char *s)
{
	static const char *const sys[] = {"mysql", "information_schema", "performance_schema",
	                                  "sys"};
	for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		if (strcasecmp(s, sys[i]) == 0)
			return true;
	return false;
}

bool dm_rules_schema_allowed(const dm_rules *r, const char *schema)
{
	if (is_system_schema(schema) || strcmp(schema, r->meta) == 0)
		return false;
	if (r->do_dbs.n > 0)
		return any(&r->do_dbs, schema);
	return !any(&r->ignore_dbs, schema);
}

bool dm_rules_table_allowed(const dm_rules *r, const char *schema, const char *table)
{
	if (!dm_rules_schema_allowed(r, schema))
		return false;
	if (r->do_tables.n > 0)
		return any_table(&r->do_tables, schema, table);
	return !any_table(&r->ignore_tables, schema, table);
}

void dm_rules_route(const dm_rules *r, const char *schema, const char *table, char **tschema,
                    char **ttable)
{
	const route *hit = NULL;
	for (size_t i = 0; i < r->n_routes && hit == NULL; i++)
		if (r->routes[i].table && dm_pattern_match(r->routes[i].schema, schema) &&
		    dm_pattern_match(r->routes[i].table, table))
			hit = &r->routes[i];
	for (size_t i = 0; i < r->n_routes && hit == NULL; i++)
		if (r->routes[i].table == NULL && dm_pattern_match(r->routes[i].schema, schema))
			hit = &r->routes[i];
	*tschema = dm_xstrdup(hit ? hit->target_schema : schema);
	*ttable = dm_xstrdup(hit && hit->target_table ? hit->target_table : table);
}
