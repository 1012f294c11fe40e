#include "migrate/filter.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "migrate/rules.h"

typedef struct rule {
	dm_pattern *schema, *table; /* table NULL: every table and the schema */
	char **events;              /* lower-cased copies */
	size_t nevents;
	regex_t *sql;
	size_t nsql;
	bool ignore; /* action Ignore; otherwise Do */
} rule;

struct dm_filter {
	rule *rules;
	size_t n;
};

static void rule_fini(rule *r)
{
	dm_pattern_free(r->schema);
	dm_pattern_free(r->table);
	for (size_t i = 0; i < r->nevents; i++)
		free(r->events[i]);
	free(r->events);
	for (size_t i = 0; i < r->nsql; i++)
		regfree(&r->sql[i]);
	free(r->sql);
}

void dm_filter_free(dm_filter *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++)
		rule_fini(&f->rules[i]);
	free(f->rules);
	free(f);
}

static int compile_rule(const dm_task_filter *tf, bool cs, rule *r, dm_err *err)
{
	if (dm_pattern_new(tf->schema_pattern, cs, &r->schema, err) < 0)
		return dm_err_prefix(err, "filters %s: schema-pattern", tf->name);
	if (tf->table_pattern && tf->table_pattern[0] &&
	    dm_pattern_new(tf->table_pattern, cs, &r->table, err) < 0)
		return dm_err_prefix(err, "filters %s: table-pattern", tf->name);
	r->events = dm_xcalloc(tf->events.n + 1, sizeof(char *));
	for (size_t i = 0; i < tf->events.n; i++) {
		char *e = dm_xstrdup(tf->events.items[i]);
		for (char *p = e; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		r->events[r->nevents++] = e;
	}
	r->sql = dm_xcalloc(tf->sql_pattern.n + 1, sizeof(regex_t));
	for (size_t i = 0; i < tf->sql_pattern.n; i++) {
		int rc = regcomp(&r->sql[i], tf->sql_pattern.items[i],
		                 REG_EXTENDED | REG_NOSUB | REG_ICASE);
		if (rc != 0) {
			char why[128];
			regerror(rc, &r->sql[i], why, sizeof(why));
			return dm_err_set(err, DM_EINVAL,
			                  "filters %s: sql-pattern \"%s\" is not a regular "
			                  "expression this build understands (%s); POSIX "
			                  "extended syntax with \\s \\w \\b",
			                  tf->name, tf->sql_pattern.items[i], why);
		}
		r->nsql++;
	}
	r->ignore = tf->action && strcasecmp(tf->action, "Ignore") == 0;
	return 0;
}

int dm_filter_new(const dm_task_config *cfg, size_t instance, dm_filter **out, dm_err *err)
{
	const dm_task_instance *inst = &cfg->instances[instance];
	*out = NULL;
	if (inst->filter_rules.n == 0)
		return 0;
	dm_filter *f = dm_xcalloc(1, sizeof(*f));
	f->rules = dm_xcalloc(inst->filter_rules.n, sizeof(rule));
	for (size_t i = 0; i < inst->filter_rules.n; i++) {
		const dm_task_filter *tf = dm_task_config_filter(cfg, inst->filter_rules.items[i]);
		if (tf == NULL)
			continue; /* the task reader refuses undefined names */
		rule *r = &f->rules[f->n++];
		if (compile_rule(tf, cfg->case_sensitive, r, err) < 0) {
			dm_filter_free(f);
			return -1;
		}
	}
	*out = f;
	return 0;
}

static bool is_dml(const char *event)
{
	return strcmp(event, "insert") == 0 || strcmp(event, "update") == 0 ||
	       strcmp(event, "delete") == 0;
}

/* DM's reading of an event list: the first word that concerns the event
 * decides. */
static bool event_listed(const rule *r, const char *event)
{
	bool dml = is_dml(event);
	for (size_t i = 0; i < r->nevents; i++) {
		const char *e = r->events[i];
		if (strcmp(e, "all") == 0)
			return true;
		if (strcmp(e, "none") == 0)
			return false;
		if (strcmp(e, dml ? "all dml" : "all ddl") == 0)
			return true;
		if (strcmp(e, dml ? "none dml" : "none ddl") == 0)
			return false;
		if (strcmp(e, event) == 0)
			return true;
	}
	return false;
}

static bool sql_listed(const rule *r, const char *sql, size_t n)
{
	if (sql == NULL || r->nsql == 0)
		return false;
	char *s = dm_xmalloc(n + 1);
	memcpy(s, sql, n);
	s[n] = '\0';
	bool hit = false;
	for (size_t i = 0; i < r->nsql && !hit; i++)
		hit = regexec(&r->sql[i], s, 0, NULL, 0) == 0;
	free(s);
	return hit;
}

bool dm_filter_drops(const dm_filter *f, const char *schema, const char *table, const char *event,
                     const char *sql, size_t n)
{
	if (f == NULL)
		return false;
	for (size_t i = 0; i < f->n; i++) {
		const rule *r = &f->rules[i];
		if (!dm_pattern_match(r->schema, schema))
			continue;
		if (r->table && (table == NULL || !dm_pattern_match(r->table, table)))
			continue;
		bool hit = event_listed(r, event) || sql_listed(r, sql, n);
		if (hit == r->ignore)
			return true;
	}
	return false;
}
