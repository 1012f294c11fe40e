/* task.yaml checks, shared by the YAML and JSON readers: each rule's keys,
 * then what spans keys (references, duplicates, defaults). Messages carry
 * the rule's line when it came from a file. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "config/task_impl.h"

int dm_task_fail(dm_err *err, const char *where, int line, const char *fmt, ...)
{
	char msg[DM_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		return dm_err_set(err, DM_EINVAL, "%s:%d: %s", where, line, msg);
	return dm_err_set(err, DM_EINVAL, "%s: %s", where, msg);
}

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static void null_if_empty(char **s)
{
	if (*s != NULL && **s == '\0') {
		free(*s);
		*s = NULL;
	}
}

static void set_default(char **s, const char *def)
{
	if (!is_set(*s)) {
		free(*s);
		*s = dm_xstrdup(def);
	}
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* ---- rules ------------------------------------------------------------- */

int dm_task_route_check(void *e, const char *w, dm_err *err)
{
	dm_task_route *r = e;
	if (!is_set(r->schema_pattern))
		return dm_task_fail(err, w, r->line,
		                    "routes \"%s\": \"schema-pattern\" is required", r->name);
	if (!is_set(r->target_schema))
		return dm_task_fail(err, w, r->line, "routes \"%s\": \"target-schema\" is required",
		                    r->name);
	null_if_empty(&r->table_pattern);
	null_if_empty(&r->target_table);
	return 0;
}

/* DM's binlog event names (pkg/binlog-filter), matched case-insensitively
 * as DM does. */
static const char *const event_names[] = {"all",
                                          "all dml",
                                          "all ddl",
                                          "none",
                                          "none ddl",
                                          "none dml",
                                          "insert",
                                          "update",
                                          "delete",
                                          "create database",
                                          "drop database",
                                          "alter database",
                                          "create table",
                                          "drop table",
                                          "truncate table",
                                          "rename table",
                                          "create index",
                                          "drop index",
                                          "create view",
                                          "drop view",
                                          "alter table",
                                          "create schema",
                                          "drop schema",
                                          "alter schema",
                                          "add table partition",
                                          "drop table partition",
                                          "truncate table partition",
                                          "add foreign key",
                                          "drop foreign key",
                                          "incompatible ddl changes",
                                          "value range decrease",
                                          "precision decrease",
                                          "modify column",
                                          "rename column",
                                          "rename index",
                                          "drop column",
                                          "drop primary key",
                                          "drop unique key",
                                          "modify default value",
                                          "modify constraint",
                                          "modify columns order",
                                          "modify charset",
                                          "modify collation",
                                          "remove auto increment",
                                          "modify storage engine",
                                          "reorganize table partition",
                                          "rebuild table partition",
                                          "coalesce table partition",
                                          "split table partition",
                                          "exchange table partition",
                                          "modify schema charset and collate",
                                          "modify table charset and collate",
                                          "modify table comment",
                                          "recover table",
                                          "alter table partitioning",
                                          "remove table partitioning",
                                          "add column",
                                          "set default value",
                                          "rebase auto id",
                                          "add primary key",
                                          "alter index visibility",
                                          "alter ttl info",
                                          "alter ttl remove",
                                          "multi schema change",
                                          NULL};

int dm_task_filter_check(void *e, const char *w, dm_err *err)
{
	dm_task_filter *f = e;
	if (!is_set(f->schema_pattern))
		return dm_task_fail(err, w, f->line,
		                    "filters \"%s\": \"schema-pattern\" is required", f->name);
	null_if_empty(&f->table_pattern);
	if (!is_set(f->action))
		return dm_task_fail(err, w, f->line,
		                    "filters \"%s\": \"action\" is required: Do or Ignore",
		                    f->name);
	if (strcmp(f->action, "Error") == 0)
		return dm_task_fail(
		        err, w, f->line,
		        "filters \"%s\": action Error is not supported by dm (stopping on "
		        "matching events); use Ignore or Do",
		        f->name);
	if (strcmp(f->action, "Do") != 0 && strcmp(f->action, "Ignore") != 0)
		return dm_task_fail(err, w, f->line,
		                    "filters \"%s\": action \"%.40s\" must be Do or Ignore",
		                    f->name, f->action);
	for (size_t i = 0; i < f->events.n; i++) {
		bool ok = false;
		for (const char *const *n = event_names; *n && !ok; n++)
			ok = strcasecmp(*n, f->events.items[i]) == 0;
		if (!ok)
			return dm_task_fail(
			        err, w, f->line,
			        "filters \"%s\": \"%.60s\" is not a binlog event name (e.g. "
			        "\"all dml\", \"drop table\", \"truncate table\")",
			        f->name, f->events.items[i]);
	}
	for (size_t i = 0; i < f->sql_pattern.n; i++) {
		regex_t re;
		int rc =
		        regcomp(&re, f->sql_pattern.items[i], REG_EXTENDED | REG_NOSUB | REG_ICASE);
		if (rc != 0) {
			char why[128];
			regerror(rc, &re, why, sizeof(why));
			return dm_task_fail(
			        err, w, f->line,
			        "filters \"%s\": sql-pattern \"%.80s\" is not a regular "
			        "expression dm understands (%s); use POSIX extended "
			        "syntax (\\s \\w \\b work)",
			        f->name, f->sql_pattern.items[i], why);
		}
		regfree(&re);
	}
	return 0;
}

static int tables_check(const dm_task_bal *b, const dm_task_tables *t, const char *key,
                        const char *w, dm_err *err)
{
	for (size_t i = 0; i < t->n; i++) {
		const char *miss = !is_set(t->items[i].db_name)    ? "db-name"
		                   : !is_set(t->items[i].tbl_name) ? "tbl-name"
		                                                   : NULL;
		if (miss)
			return dm_task_fail(err, w, b->line,
			                    "block-allow-list \"%s\": %s entry %zu has no \"%s\"",
			                    b->name, key, i + 1, miss);
	}
	return 0;
}

int dm_task_bal_check(void *e, const char *w, dm_err *err)
{
	dm_task_bal *b = e;
	if (tables_check(b, &b->do_tables, "do-tables", w, err) < 0 ||
	    tables_check(b, &b->ignore_tables, "ignore-tables", w, err) < 0)
		return -1;
	return 0;
}

static const char *const consistencies[] = {"auto", "flush", "snapshot", "lock", "none", NULL};

/* DM passes extra-args to its dumper; dm understands only --consistency and
 * refuses the rest rather than silently dumping something else. */
static int parse_extra_args(dm_task_mydumper *m, const char *w, char **ret, dm_err *err)
{
	char *copy = dm_xstrdup(m->extra_args), *save = NULL;
	int rc = 0;
	for (char *t = strtok_r(copy, " \t\n", &save); t && rc == 0;
	     t = strtok_r(NULL, " \t\n", &save)) {
		const char *v = NULL;
		if (strcmp(t, "--consistency") == 0)
			v = strtok_r(NULL, " \t\n", &save);
		else if (strncmp(t, "--consistency=", 14) == 0)
			v = t + 14;
		else
			rc = dm_task_fail(
			        err, w, m->line,
			        "mydumpers \"%s\": extra-args \"%.40s\" is not supported by dm: "
			        "only --consistency is understood; remove the rest",
			        m->name, t);
		if (rc == 0 && (v == NULL || *v == '\0'))
			rc = dm_task_fail(
			        err, w, m->line,
			        "mydumpers \"%s\": extra-args --consistency needs a value",
			        m->name);
		if (rc == 0) {
			free(*ret);
			*ret = dm_xstrdup(v);
		}
	}
	free(copy);
	return rc;
}

int dm_task_mydumper_check(void *e, const char *w, dm_err *err)
{
	dm_task_mydumper *m = e;
	set_default(&m->chunk_filesize, "64");
	null_if_empty(&m->extra_args);
	null_if_empty(&m->consistency);
	char *from_args = NULL;
	if (m->extra_args && parse_extra_args(m, w, &from_args, err) < 0) {
		free(from_args);
		return -1;
	}
	if (from_args && m->consistency && strcmp(from_args, m->consistency) != 0) {
		dm_task_fail(
		        err, w, m->line,
		        "mydumpers \"%s\": extra-args says --consistency %.20s but consistency "
		        "is %.20s; keep one",
		        m->name, from_args, m->consistency);
		free(from_args);
		return -1;
	}
	if (from_args && !m->consistency)
		m->consistency = from_args;
	else
		free(from_args);
	set_default(&m->consistency, "auto");
	if (!one_of(m->consistency, consistencies))
		return dm_task_fail(err, w, m->line,
		                    "mydumpers \"%s\": consistency \"%.40s\" must be auto, flush, "
		                    "snapshot, lock or none",
		                    m->name, m->consistency);
	return 0;
}

static const char *const on_duplicates[] = {"replace", "error", "ignore", NULL};

int dm_task_loader_check(void *e, const char *w, dm_err *err)
{
	dm_task_loader *l = e;
	set_default(&l->import_mode, "logical");
	/* DM's legacy names for the same logical import. */
	if (!strcmp(l->import_mode, "sql") || !strcmp(l->import_mode, "loader")) {
		free(l->import_mode);
		l->import_mode = dm_xstrdup("logical");
	}
	if (!strcmp(l->import_mode, "physical") || !strcmp(l->import_mode, "import-into"))
		return dm_task_fail(
		        err, w, l->line,
		        "loaders \"%s\": import-mode %s is not supported by dm: it needs "
		        "TiDB's physical import; use logical",
		        l->name, l->import_mode);
	if (strcmp(l->import_mode, "logical") != 0)
		return dm_task_fail(err, w, l->line,
		                    "loaders \"%s\": import-mode \"%.40s\" must be logical",
		                    l->name, l->import_mode);
	null_if_empty(&l->on_duplicate);
	if (l->on_duplicate && !one_of(l->on_duplicate, on_duplicates))
		return dm_task_fail(
		        err, w, l->line,
		        "loaders \"%s\": on-duplicate \"%.40s\" must be replace, error or "
		        "ignore",
		        l->name, l->on_duplicate);
	return 0;
}

int dm_task_syncer_check(void *e, const char *w, dm_err *err)
{
	dm_task_syncer *s = e;
	set_default(&s->safe_mode_duration, "60s");
	int64_t ms;
	if (dm_task_parse_duration(s->safe_mode_duration, &ms, err) < 0)
		return dm_task_fail(err, w, s->line, "syncers \"%s\": safe-mode-duration: %s",
		                    s->name, err ? err->msg : "invalid");
	if (s->safe_mode && ms == 0)
		return dm_task_fail(
		        err, w, s->line,
		        "syncers \"%s\": safe-mode true needs a safe-mode-duration above 0",
		        s->name);
	return 0;
}

int dm_task_parse_duration(const char *s, int64_t *ret, dm_err *err)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"\xce\xbcs", 1e-3},
	             {"ms", 1},    {"s", 1e3},   {"m", 60e3},         {"h", 3600e3}};
	if (s == NULL || *s == '\0')
		return dm_err_set(err, DM_EINVAL, "empty duration");
	if (strcmp(s, "0") == 0) {
		*ret = 0;
		return 0;
	}
	double total = 0;
	const char *p = s;
	while (*p) {
		char *end;
		if (!(*p >= '0' && *p <= '9') && *p != '.')
			return dm_err_set(err, DM_EINVAL,
			                  "\"%.40s\" is not a duration like \"60s\" or \"1m30s\"",
			                  s);
		double v = strtod(p, &end);
		if (end == p)
			return dm_err_set(err, DM_EINVAL, "\"%.40s\" is not a duration", s);
		p = end;
		size_t best = 0;
		double mul = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);
			if (n > best && strncmp(p, units[i].unit, n) == 0) {
				best = n;
				mul = units[i].ms;
			}
		}
		if (best == 0)
			return dm_err_set(err, DM_EINVAL,
			                  "\"%.40s\": a number needs a unit (ms, s, m or h)", s);
		p += best;
		total += v * mul;
	}
	if (total > 9e15)
		return dm_err_set(err, DM_EINVAL, "\"%.40s\" is too long", s);
	*ret = (int64_t)total;
	return 0;
}

/* ---- the whole task ---------------------------------------------------- */

/* DM accepts "<base>.<digits>" (mysql-bin.000001). */
static bool binlog_name_ok(const char *s)
{
	const char *dot = strrchr(s, '.');
	if (dot == NULL || dot == s || dot[1] == '\0')
		return false;
	for (const char *p = dot + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

static bool ident_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > DM_SOURCE_ID_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return false;
	return true;
}

static int check_ref(const dm_task_config *cfg, int k, const char *name, const char *label,
                     int line, const char *w, dm_err *err)
{
	const dm_task_section *s = &dm_task_sections[k];
	if (name == NULL || dm_task_section_find(s, cfg, name) >= 0)
		return 0;
	return dm_task_fail(err, w, line, "%s: %s \"%.64s\" is not defined in %s", label, s->ref,
	                    name, s->key);
}

static int check_instance(dm_task_config *cfg, size_t i, const char *w, dm_err *err)
{
	dm_task_instance *in = &cfg->instances[i];
	char label[160];
	if (!is_set(in->source_id))
		return dm_task_fail(err, w, in->line,
		                    "mysql-instances[%zu]: \"source-id\" is required", i);
	snprintf(label, sizeof(label), "mysql-instances[%zu] (%.64s)", i, in->source_id);
	if (!ident_ok(in->source_id))
		return dm_task_fail(err, w, in->line,
		                    "%s: source-id must be 1-%d characters from A-Z a-z 0-9 _ . -",
		                    label, DM_SOURCE_ID_MAX);
	for (size_t j = 0; j < i; j++)
		if (strcmp(cfg->instances[j].source_id, in->source_id) == 0)
			return dm_task_fail(err, w, in->line,
			                    "%s: source-id \"%s\" is listed twice (also "
			                    "mysql-instances[%zu]); a task reads each source once",
			                    label, in->source_id, j);
	null_if_empty(&in->meta.binlog_name);
	null_if_empty(&in->meta.binlog_gtid);
	if (in->has_meta && !in->meta.binlog_name && !in->meta.binlog_gtid)
		return dm_task_fail(err, w, in->line, "%s: meta needs binlog-name or binlog-gtid",
		                    label);
	if (in->meta.binlog_name && !binlog_name_ok(in->meta.binlog_name))
		return dm_task_fail(err, w, in->line,
		                    "%s: meta binlog-name \"%.64s\" is not a binlog file name like "
		                    "mysql-bin.000001",
		                    label, in->meta.binlog_name);
	null_if_empty(&in->block_allow_list);
	null_if_empty(&in->mydumper_config_name);
	null_if_empty(&in->loader_config_name);
	null_if_empty(&in->syncer_config_name);
	for (size_t j = 0; j < in->route_rules.n; j++)
		if (check_ref(cfg, DM_TASK_ROUTES, in->route_rules.items[j], label, in->line, w,
		              err) < 0)
			return -1;
	for (size_t j = 0; j < in->filter_rules.n; j++)
		if (check_ref(cfg, DM_TASK_FILTERS, in->filter_rules.items[j], label, in->line, w,
		              err) < 0)
			return -1;
	if (check_ref(cfg, DM_TASK_BALS, in->block_allow_list, label, in->line, w, err) < 0 ||
	    check_ref(cfg, DM_TASK_MYDUMPERS, in->mydumper_config_name, label, in->line, w, err) <
	            0 ||
	    check_ref(cfg, DM_TASK_LOADERS, in->loader_config_name, label, in->line, w, err) < 0 ||
	    check_ref(cfg, DM_TASK_SYNCERS, in->syncer_config_name, label, in->line, w, err) < 0)
		return -1;
	return 0;
}

static bool name_eq(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

static bool referenced(const dm_task_config *cfg, int k, const char *name)
{
	for (size_t i = 0; i < cfg->n_instances; i++) {
		const dm_task_instance *in = &cfg->instances[i];
		switch (k) {
		case DM_TASK_ROUTES:
			if (dm_strlist_has(&in->route_rules, name))
				return true;
			break;
		case DM_TASK_FILTERS:
			if (dm_strlist_has(&in->filter_rules, name))
				return true;
			break;
		case DM_TASK_BALS:
			if (name_eq(in->block_allow_list, name))
				return true;
			break;
		case DM_TASK_MYDUMPERS:
			if (name_eq(in->mydumper_config_name, name))
				return true;
			break;
		case DM_TASK_LOADERS:
			if (name_eq(in->loader_config_name, name))
				return true;
			break;
		case DM_TASK_SYNCERS:
			if (name_eq(in->syncer_config_name, name))
				return true;
			break;
		}
	}
	return false;
}

int dm_task_validate(dm_task_config *cfg, const char *w, bool json, dm_err *err)
{
	if (!is_set(cfg->name))
		return dm_task_fail(err, w, 0, "\"name\" is required");
	if (!is_set(cfg->task_mode))
		return dm_task_fail(err, w, 0, "\"%s\" is required: full, incremental or all",
		                    json ? "task_mode" : "task-mode");
	null_if_empty(&cfg->shard_mode);
	null_if_empty(&cfg->timezone);
	set_default(&cfg->meta_schema, "dm_meta");
	set_default(&cfg->collation_compatible, "loose");
	set_default(&cfg->on_duplicate, "replace");
	if (!one_of(cfg->on_duplicate, on_duplicates))
		return dm_task_fail(err, w, 0, "\"on_duplicate\" must be replace, error or ignore");
	const char *target = json ? "target_config" : "target-database";
	if (cfg->target.host == NULL && cfg->target.user == NULL)
		return dm_task_fail(err, w, 0, "\"%s\" is required", target);
	if (dm_config_db_validate(&cfg->target, w, target, err) < 0)
		return -1;
	for (int k = 0; k < DM_TASK_NSECTIONS; k++) {
		const dm_task_section *s = &dm_task_sections[k];
		for (size_t i = 0; i < dm_task_section_count(s, cfg); i++)
			if (s->check(dm_task_section_item(s, cfg, i), w, err) < 0)
				return -1;
	}
	if (cfg->n_instances == 0)
		return dm_task_fail(err, w, 0, "\"%s\" needs at least one source",
		                    json ? "source_config.source_conf" : "mysql-instances");
	for (size_t i = 0; i < cfg->n_instances; i++)
		if (check_instance(cfg, i, w, err) < 0)
			return -1;
	/* As DM: a rule nobody uses is most likely a misspelt reference. */
	for (int k = 0; k < DM_TASK_NSECTIONS; k++) {
		const dm_task_section *s = &dm_task_sections[k];
		for (size_t i = 0; i < dm_task_section_count(s, cfg); i++) {
			const dm_task_rule_head *h = dm_task_section_item(s, cfg, i);
			if (!referenced(cfg, k, h->name))
				return dm_task_fail(
				        err, w, h->line,
				        "%s \"%.64s\" is defined but no instance uses it: name "
				        "it in an instance's %s, or remove it",
				        s->key, h->name, s->ref);
		}
	}
	return 0;
}
