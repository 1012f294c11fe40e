/* Private to src/config/task*.c: the field tables (task_fields.c) and rule
 * sections that the YAML reader (task.c), the checks (task_check.c) and the
 * JSON codec (task_json.c, task_openapi.c) all walk. */
#ifndef DM_CONFIG_TASK_IMPL_H
#define DM_CONFIG_TASK_IMPL_H

#include <stdarg.h>

#include "config/task.h"

enum {
	DM_TASK_ROUTES,
	DM_TASK_FILTERS,
	DM_TASK_BALS,
	DM_TASK_MYDUMPERS,
	DM_TASK_LOADERS,
	DM_TASK_SYNCERS,
	DM_TASK_NSECTIONS,
};

/* One kind of named rule: a map name -> entry in task.yaml, an array of
 * structs in dm_task_config. The JSON key is key with '_' for '-'. */
typedef struct dm_task_section {
	const char *key;   /* "routes" */
	const char *alias; /* older spelling of key (black-white-list), or NULL */
	const char *ref;   /* the instance key naming these rules, for messages */
	const dm_bind_field *fields;
	size_t size;
	size_t items_off, n_off; /* the array and its count in dm_task_config */
	/* Defaults, normalisation and checks of one entry after binding.
	 * Messages start with where (and line when known). */
	int (*check)(void *entry, const char *where, dm_err *err);
} dm_task_section;

#define SHARD_REASON                                                                               \
	"merging sharded tables (shard DDL coordination) is not supported yet; migrate each "      \
	"source's tables to distinct targets instead"

/* Entry checks, in task_check.c. */
int dm_task_route_check(void *e, const char *where, dm_err *err);
int dm_task_filter_check(void *e, const char *where, dm_err *err);
int dm_task_bal_check(void *e, const char *where, dm_err *err);
int dm_task_mydumper_check(void *e, const char *where, dm_err *err);
int dm_task_loader_check(void *e, const char *where, dm_err *err);
int dm_task_syncer_check(void *e, const char *where, dm_err *err);

/* The head all rule structs share. */
typedef struct dm_task_rule_head {
	char *name;
	int line;
} dm_task_rule_head;

extern const dm_task_section dm_task_sections[DM_TASK_NSECTIONS];
/* Top-level keys bound by table; the others are read by hand. */
extern const dm_bind_field dm_task_fields[];
extern const dm_bind_field dm_task_instance_fields[];
extern const dm_bind_field dm_task_table_fields[];

size_t dm_task_section_count(const dm_task_section *s, const dm_task_config *cfg);
void *dm_task_section_item(const dm_task_section *s, const dm_task_config *cfg, size_t i);
/* Appends an entry with defaults set, named name. */
void *dm_task_section_add(const dm_task_section *s, dm_task_config *cfg, const char *name,
                          int line);
/* Index of the entry named name, or -1. */
long dm_task_section_find(const dm_task_section *s, const dm_task_config *cfg, const char *name);
dm_task_instance *dm_task_instance_add(dm_task_config *cfg, int line);
dm_task_table *dm_task_tables_add(dm_task_tables *t);

/* Defaults and every check that spans keys; json picks key names in
 * messages. where is the file name or "task". */
int dm_task_validate(dm_task_config *cfg, const char *where, bool json, dm_err *err);

/* DM OpenAPI's table_migrate_rule, binlog_filter_rule, full_migrate_conf
 * and incr_migrate_conf of root, turned into named rules for the instances
 * already read (task_openapi.c). */
int dm_task_openapi_rules(dm_task_config *cfg, const json_t *root, dm_err *err);

/* "<where>:<line>: <message>", or "<where>: <message>" when line is 0. */
int dm_task_fail(dm_err *err, const char *where, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#endif
