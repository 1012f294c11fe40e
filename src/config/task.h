/* task.yaml: what to migrate, from which sources, into which target, in
 * DM's format.
 *
 * The struct keeps task.yaml's model: named rules (routes, filters,
 * block-allow-list, mydumpers, loaders, syncers) that mysql-instances
 * reference by name. Patterns and lists stay data (strings as written);
 * matching them is src/migrate's job. Readers are strict like DM's: unknown
 * keys, references to undefined rules, rules no instance uses, and DM
 * features dm does not implement are errors with "task.yaml:LINE: ..."
 * naming the key (docs/configuration.md lists every key).
 *
 * JSON is the API's Task object (DM OpenAPI's shape where it has one:
 * name, task_mode, meta_schema, on_duplicate, enhance_online_schema_change,
 * target_config, source_config.source_conf[] with binlog_name/pos/gtid),
 * plus dm's keys carrying the rest of task.yaml losslessly: routes,
 * filters, block_allow_list, mydumpers, loaders, syncers at the top level
 * (task.yaml's keys with '_' for '-') and route_rules, filter_rules,
 * block_allow_list, *_config_name, *_thread in each source_conf entry.
 * from_json also takes DM OpenAPI's own rule keys (table_migrate_rule,
 * binlog_filter_rule, full_migrate_conf, incr_migrate_conf) and turns them
 * into named rules as DM does ("route-01", "balist-01", "dump-01", ...);
 * the two forms cannot be mixed in one object.
 *
 * An incremental task may leave out meta: it then starts from the source's
 * current binlog position (or its checkpoint, if one exists). */
#ifndef DM_CONFIG_TASK_H
#define DM_CONFIG_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"
#include "config/bind.h"
#include "config/source.h"

#define DM_TASK_NAME_MAX 64

/* Every named rule below starts with `name` and `line`, in that order:
 * one piece of code reads, checks and writes all of them. line is where
 * the rule was defined in task.yaml, 0 when it came from JSON. */

typedef struct dm_task_route {
	char *name;
	int line;
	char *schema_pattern; /* required; wildcards * and ? */
	char *table_pattern;
	char *target_schema; /* required */
	char *target_table;
} dm_task_route;

typedef struct dm_task_filter {
	char *name;
	int line;
	char *schema_pattern; /* required */
	char *table_pattern;
	dm_strlist events;      /* DM event names: "all dml", "drop table", ... */
	dm_strlist sql_pattern; /* regular expressions */
	char *action;           /* "Do" or "Ignore" */
} dm_task_filter;

typedef struct dm_task_table {
	char *db_name;
	char *tbl_name;
} dm_task_table;

typedef struct dm_task_tables {
	dm_task_table *items;
	size_t n;
} dm_task_tables;

/* block-allow-list (old name black-white-list). A value starting with ~
 * is a regular expression, otherwise a wildcard pattern. */
typedef struct dm_task_bal {
	char *name;
	int line;
	dm_strlist do_dbs;
	dm_strlist ignore_dbs;
	dm_task_tables do_tables;
	dm_task_tables ignore_tables;
} dm_task_bal;

typedef struct dm_task_mydumper {
	char *name;
	int line;
	int64_t threads;      /* 4 */
	char *chunk_filesize; /* MB, as written; "64" */
	int64_t rows;         /* 0: chunk size chosen automatically */
	char *extra_args;     /* as written; only --consistency is understood */
	/* auto|flush|snapshot|lock|none: the `consistency` key (dm's) or the
	 * --consistency in extra-args (DM's), which must agree. */
	char *consistency;
} dm_task_mydumper;

typedef struct dm_task_loader {
	char *name;
	int line;
	int64_t pool_size; /* 16 */
	char *import_mode; /* "logical" ("sql"/"loader" are read as logical) */
	/* replace|error|ignore; NULL: the task's on_duplicate. */
	char *on_duplicate;
} dm_task_loader;

typedef struct dm_task_syncer {
	char *name;
	int line;
	int64_t worker_count; /* 16 */
	int64_t batch;        /* 100 */
	bool safe_mode;
	char *safe_mode_duration; /* Go duration, "60s" */
	bool enable_ansi_quotes;
} dm_task_syncer;

typedef struct dm_task_meta {
	char *binlog_name;
	int64_t binlog_pos; /* 4 */
	char *binlog_gtid;
} dm_task_meta;

typedef struct dm_task_instance {
	char *source_id;
	bool has_meta;
	dm_task_meta meta;
	dm_strlist route_rules;
	dm_strlist filter_rules;
	char *block_allow_list; /* NULL: every table */
	char *mydumper_config_name;
	char *loader_config_name;
	char *syncer_config_name;
	/* Overrides of the referenced config; 0 = not set. */
	int64_t mydumper_thread;
	int64_t loader_thread;
	int64_t syncer_thread;
	int line;
} dm_task_instance;

typedef struct dm_task_config {
	char *name;
	char *task_mode;   /* "full", "incremental" or "all" */
	char *shard_mode;  /* always NULL: shard DDL merging is not supported */
	char *meta_schema; /* "dm_meta" */
	char *timezone;    /* NULL: the target's */
	bool case_sensitive;
	bool online_ddl; /* always false */
	bool clean_dump_file;
	char *collation_compatible; /* "loose" or "strict" */
	bool ansi_quotes;
	char *on_duplicate; /* "replace": default for loaders that set none */
	dm_strlist ignore_checking_items;
	dm_config_db target;

	dm_task_instance *instances;
	size_t n_instances;
	dm_task_route *routes;
	size_t n_routes;
	dm_task_filter *filters;
	size_t n_filters;
	dm_task_bal *bals;
	size_t n_bals;
	dm_task_mydumper *mydumpers;
	size_t n_mydumpers;
	dm_task_loader *loaders;
	size_t n_loaders;
	dm_task_syncer *syncers;
	size_t n_syncers;
} dm_task_config;

void dm_task_config_init(dm_task_config *cfg);
/* Frees everything (passwords and key PEM wiped) and re-initialises. */
void dm_task_config_fini(dm_task_config *cfg);
/* Deep copy into dst (initialised; its old contents are freed). */
void dm_task_config_copy(dm_task_config *dst, const dm_task_config *src);

/* Reads and validates task.yaml. *cfg is initialised by the call; on
 * failure it is left empty and err reads "task.yaml:LINE: ..." with the
 * file's base name. Security files are not read (see load_pem). */
int dm_task_config_load_file(const char *path, dm_task_config *cfg, dm_err *err);
int dm_task_config_load_text(const char *text, size_t len, const char *filename,
                             dm_task_config *cfg, dm_err *err);

/* Reads target-database.security's files into the PEM members (what dmctl
 * sends). Errors name the key and path. */
int dm_task_config_load_pem(dm_task_config *cfg, dm_err *err);

/* The Task object (see the top of this file). Without include_secrets the
 * target's password and ssl_key_content are left out entirely. New
 * reference; never NULL. */
json_t *dm_task_config_to_json(const dm_task_config *cfg, bool include_secrets);
/* Reads a Task object and validates it as load_file does; messages start
 * with "task". Unknown keys are errors; status_list is ignored. *cfg is
 * initialised by the call. */
int dm_task_config_from_json(const json_t *json, dm_task_config *cfg, dm_err *err);

/* The task's source-ids in mysql-instances order, appended to out. */
void dm_task_config_subtask_sources(const dm_task_config *cfg, dm_strlist *out);

/* Named rules, or NULL. */
const dm_task_route *dm_task_config_route(const dm_task_config *cfg, const char *name);
const dm_task_filter *dm_task_config_filter(const dm_task_config *cfg, const char *name);
const dm_task_bal *dm_task_config_bal(const dm_task_config *cfg, const char *name);

/* The unit settings one instance runs with: its named configs (or the
 * defaults), then its *-thread overrides. Strings are borrowed from cfg
 * or are literals. */
typedef struct dm_task_units {
	int64_t dump_threads;
	const char *chunk_filesize;
	int64_t rows;
	const char *consistency;
	int64_t load_threads;
	const char *import_mode;
	const char *on_duplicate;
	int64_t sync_threads;
	int64_t batch;
	bool safe_mode;
	int64_t safe_mode_ms;
	bool enable_ansi_quotes;
} dm_task_units;

void dm_task_config_units(const dm_task_config *cfg, size_t instance, dm_task_units *out);

/* Connection settings for the target. out must be initialised. */
void dm_task_config_target_db_config(const dm_task_config *cfg, struct dm_db_config *out);

/* A Go duration ("60s", "1m30s", "500ms") in milliseconds. */
int dm_task_parse_duration(const char *s, int64_t *ms, dm_err *err);

#endif
