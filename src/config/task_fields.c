/* task.yaml's keys: one table per block, read by the YAML binder and by
 * the JSON codec alike, with the checks that belong to single keys. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config/task_impl.h"

/* ---- key checks (run by the binder, on YAML and on JSON) --------------- */

static bool ident_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

static int check_task_name(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (s == NULL || ident_ok(s, DM_TASK_NAME_MAX))
		return 0;
	return dm_err_set(err, DM_EINVAL,
	                  "\"%.80s\" must be 1-%d characters from A-Z a-z 0-9 _ . - (it names the "
	                  "task in API paths and checkpoint tables)",
	                  s, DM_TASK_NAME_MAX);
}

static int check_source_id(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (s == NULL || ident_ok(s, DM_SOURCE_ID_MAX))
		return 0;
	return dm_err_set(err, DM_EINVAL,
	                  "\"%.80s\" must be 1-%d characters from A-Z a-z 0-9 _ . -", s,
	                  DM_SOURCE_ID_MAX);
}

static int check_task_mode(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (s == NULL || !strcmp(s, "full") || !strcmp(s, "incremental") || !strcmp(s, "all"))
		return 0;
	if (!strcmp(s, "dump") || !strcmp(s, "load") || !strcmp(s, "load&sync"))
		return dm_err_set(err, DM_EINVAL,
		                  "\"%s\" is not supported by dm: use full, incremental or all", s);
	return dm_err_set(err, DM_EINVAL, "\"%.80s\" must be full, incremental or all", s);
}

static int check_shard_mode(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (s == NULL || *s == '\0')
		return 0;
	if (!strcmp(s, "pessimistic") || !strcmp(s, "optimistic"))
		return dm_err_set(err, DM_EINVAL, "\"%s\" is not supported by dm: " SHARD_REASON,
		                  s);
	return dm_err_set(err, DM_EINVAL,
	                  "\"%.80s\" is not a shard mode (DM knows pessimistic and optimistic, "
	                  "which dm does not support); remove it",
	                  s);
}

static int check_online_ddl(const void *v, dm_err *err)
{
	if (!*(const bool *)v)
		return 0;
	return dm_err_set(err, DM_EINVAL,
	                  "true is not supported by dm: gh-ost/pt-osc shadow tables are not "
	                  "handled; set it to false (DM's default is true)");
}

static int check_collation(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (s == NULL || !strcmp(s, "loose") || !strcmp(s, "strict"))
		return 0;
	return dm_err_set(err, DM_EINVAL, "\"%.80s\" must be loose or strict", s);
}

static int check_meta_schema(const void *v, dm_err *err)
{
	const char *s = *(char *const *)v;
	if (s == NULL || (*s && strlen(s) <= 64 && !strchr(s, '`')))
		return 0;
	return dm_err_set(err, DM_EINVAL, "must be a schema name of 1-64 characters without `");
}

/* ---- field tables -------------------------------------------------------- */

#define T dm_task_config
const dm_bind_field dm_task_fields[] = {
        {.key = "name",
         .kind = DM_BIND_STRING,
         .offset = offsetof(T, name),
         .check = check_task_name},
        {.key = "task-mode",
         .kind = DM_BIND_STRING,
         .offset = offsetof(T, task_mode),
         .check = check_task_mode},
        {.key = "shard-mode",
         .kind = DM_BIND_STRING,
         .offset = offsetof(T, shard_mode),
         .check = check_shard_mode},
        {.key = "meta-schema",
         .kind = DM_BIND_STRING,
         .offset = offsetof(T, meta_schema),
         .check = check_meta_schema},
        {.key = "timezone", .kind = DM_BIND_STRING, .offset = offsetof(T, timezone)},
        {.key = "case-sensitive",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(T, case_sensitive),
         .def = "false"},
        {.key = "online-ddl",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(T, online_ddl),
         .def = "false",
         .check = check_online_ddl},
        {.key = "clean-dump-file",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(T, clean_dump_file),
         .def = "true"},
        {.key = "collation_compatible",
         .kind = DM_BIND_STRING,
         .offset = offsetof(T, collation_compatible),
         .check = check_collation},
        {.key = "ignore-checking-items",
         .kind = DM_BIND_STRLIST,
         .offset = offsetof(T, ignore_checking_items)},
        {.key = "ansi-quotes",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(T, ansi_quotes),
         .def = "false"},
        {.key = "online-ddl-scheme",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "gh-ost/pt-osc shadow tables are not handled (online-ddl must be false)"},
        {.key = "shadow-table-rules", .kind = DM_BIND_IGNORE, .help = "online-ddl is off"},
        {.key = "trash-table-rules", .kind = DM_BIND_IGNORE, .help = "online-ddl is off"},
        {.key = "enable-heartbeat", .kind = DM_BIND_IGNORE, .help = "legacy; DM ignores it too"},
        {.key = "heartbeat-update-interval", .kind = DM_BIND_IGNORE},
        {.key = "heartbeat-report-interval", .kind = DM_BIND_IGNORE},
        {.key = "remove-meta",
         .kind = DM_BIND_IGNORE,
         .help = "deprecated in DM; use start-task --remove-meta"},
        {.key = "experimental", .kind = DM_BIND_IGNORE, .help = "async checkpoint flush"},
        {.key = "column-mappings",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "column mapping is deprecated in DM and not implemented; remove it"},
        {.key = "expression-filter",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "SQL expression row filters are not supported yet; remove it"},
        {.key = "validators",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "continuous data validation is not supported yet; remove it"},
        {0},
};
#undef T

static const dm_bind_field meta_fields[] = {
        {.key = "binlog-name",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_meta, binlog_name)},
        {.key = "binlog-pos",
         .kind = DM_BIND_INT,
         .offset = offsetof(dm_task_meta, binlog_pos),
         .min = 0,
         .max = UINT32_MAX,
         .def = "4"},
        {.key = "binlog-gtid",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_meta, binlog_gtid)},
        {0},
};

#define I dm_task_instance
#define INLINE_HELP(k)                                                                             \
	"inline " k " settings are not supported: define them under " k "s and name them in " k    \
	"-config-name"
const dm_bind_field dm_task_instance_fields[] = {
        {.key = "source-id",
         .kind = DM_BIND_STRING,
         .offset = offsetof(I, source_id),
         .check = check_source_id},
        {.key = "meta", .kind = DM_BIND_TABLE, .offset = offsetof(I, meta), .sub = meta_fields},
        {.key = "route-rules", .kind = DM_BIND_STRLIST, .offset = offsetof(I, route_rules)},
        {.key = "filter-rules", .kind = DM_BIND_STRLIST, .offset = offsetof(I, filter_rules)},
        {.key = "block-allow-list",
         .kind = DM_BIND_STRING,
         .offset = offsetof(I, block_allow_list)},
        /* Same offset: DM's old name. An alias never follows its main key
         * in output (see task_json.c). */
        {.key = "black-white-list",
         .kind = DM_BIND_STRING,
         .offset = offsetof(I, block_allow_list)},
        {.key = "mydumper-config-name",
         .kind = DM_BIND_STRING,
         .offset = offsetof(I, mydumper_config_name)},
        {.key = "loader-config-name",
         .kind = DM_BIND_STRING,
         .offset = offsetof(I, loader_config_name)},
        {.key = "syncer-config-name",
         .kind = DM_BIND_STRING,
         .offset = offsetof(I, syncer_config_name)},
        {.key = "mydumper-thread",
         .kind = DM_BIND_INT,
         .offset = offsetof(I, mydumper_thread),
         .min = 0,
         .max = 1024},
        {.key = "loader-thread",
         .kind = DM_BIND_INT,
         .offset = offsetof(I, loader_thread),
         .min = 0,
         .max = 1024},
        {.key = "syncer-thread",
         .kind = DM_BIND_INT,
         .offset = offsetof(I, syncer_thread),
         .min = 0,
         .max = 1024},
        {.key = "mydumper", .kind = DM_BIND_UNSUPPORTED, .help = INLINE_HELP("mydumper")},
        {.key = "loader", .kind = DM_BIND_UNSUPPORTED, .help = INLINE_HELP("loader")},
        {.key = "syncer", .kind = DM_BIND_UNSUPPORTED, .help = INLINE_HELP("syncer")},
        {.key = "column-mapping-rules",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "column mapping is deprecated in DM and not implemented; remove it"},
        {.key = "expression-filters",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "SQL expression row filters are not supported yet; remove it"},
        {.key = "validator-config-name",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "continuous data validation is not supported yet; remove it"},
        {0},
};
#undef I
#undef INLINE_HELP

const dm_bind_field dm_task_table_fields[] = {
        {.key = "db-name", .kind = DM_BIND_STRING, .offset = offsetof(dm_task_table, db_name)},
        {.key = "tbl-name", .kind = DM_BIND_STRING, .offset = offsetof(dm_task_table, tbl_name)},
        {0},
};

static const dm_bind_field route_fields[] = {
        {.key = "schema-pattern",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_route, schema_pattern)},
        {.key = "table-pattern",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_route, table_pattern)},
        {.key = "target-schema",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_route, target_schema)},
        {.key = "target-table",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_route, target_table)},
        {.key = "extract-table",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "writing source names into a column is not supported yet"},
        {.key = "extract-schema",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "writing source names into a column is not supported yet"},
        {.key = "extract-source",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "writing source names into a column is not supported yet"},
        {0},
};

static const dm_bind_field filter_fields[] = {
        {.key = "schema-pattern",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_filter, schema_pattern)},
        {.key = "table-pattern",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_filter, table_pattern)},
        {.key = "events", .kind = DM_BIND_STRLIST, .offset = offsetof(dm_task_filter, events)},
        {.key = "sql-pattern",
         .kind = DM_BIND_STRLIST,
         .offset = offsetof(dm_task_filter, sql_pattern)},
        {.key = "action", .kind = DM_BIND_STRING, .offset = offsetof(dm_task_filter, action)},
        {0},
};

/* do-tables and ignore-tables are lists of tables: read by hand. */
static const dm_bind_field bal_fields[] = {
        {.key = "do-dbs", .kind = DM_BIND_STRLIST, .offset = offsetof(dm_task_bal, do_dbs)},
        {.key = "ignore-dbs", .kind = DM_BIND_STRLIST, .offset = offsetof(dm_task_bal, ignore_dbs)},
        {0},
};

#define PHYSICAL_ONLY "used by physical import only; dm imports logically"
static const dm_bind_field mydumper_fields[] = {
        {.key = "threads",
         .kind = DM_BIND_INT,
         .offset = offsetof(dm_task_mydumper, threads),
         .min = 1,
         .max = 1024,
         .def = "4"},
        {.key = "chunk-filesize",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_mydumper, chunk_filesize)},
        {.key = "rows",
         .kind = DM_BIND_INT,
         .offset = offsetof(dm_task_mydumper, rows),
         .min = 0,
         .max = INT64_MAX,
         .def = "0"},
        {.key = "extra-args",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_mydumper, extra_args)},
        {.key = "consistency",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_mydumper, consistency)},
        {.key = "statement-size",
         .kind = DM_BIND_IGNORE,
         .help = "rows are streamed, not written as SQL files"},
        {.key = "skip-tz-utc",
         .kind = DM_BIND_IGNORE,
         .help = "rows are read with time_zone '+00:00'"},
        {.key = "mydumper-path", .kind = DM_BIND_IGNORE, .help = "legacy"},
        {.key = "where",
         .kind = DM_BIND_UNSUPPORTED,
         .help = "row filters on the dump are not supported yet; remove it"},
        {0},
};

static const dm_bind_field loader_fields[] = {
        {.key = "pool-size",
         .kind = DM_BIND_INT,
         .offset = offsetof(dm_task_loader, pool_size),
         .min = 1,
         .max = 1024,
         .def = "16"},
        {.key = "import-mode",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_loader, import_mode)},
        {.key = "on-duplicate",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_loader, on_duplicate)},
        {.key = "on-duplicate-logical",
         .kind = DM_BIND_STRING,
         .offset = offsetof(dm_task_loader, on_duplicate)},
        {.key = "dir", .kind = DM_BIND_IGNORE, .help = "rows are streamed to the target, no files"},
        {.key = "on-duplicate-physical", .kind = DM_BIND_IGNORE, .help = PHYSICAL_ONLY},
        {.key = "checksum-physical", .kind = DM_BIND_IGNORE, .help = PHYSICAL_ONLY},
        {.key = "analyze", .kind = DM_BIND_IGNORE, .help = PHYSICAL_ONLY},
        {.key = "sorting-dir-physical", .kind = DM_BIND_IGNORE, .help = PHYSICAL_ONLY},
        {.key = "disk-quota-physical", .kind = DM_BIND_IGNORE, .help = PHYSICAL_ONLY},
        {.key = "range-concurrency", .kind = DM_BIND_IGNORE, .help = PHYSICAL_ONLY},
        {.key = "compress-kv-pairs", .kind = DM_BIND_IGNORE, .help = PHYSICAL_ONLY},
        {.key = "pd-addr", .kind = DM_BIND_IGNORE, .help = PHYSICAL_ONLY},
        {0},
};

#define S dm_task_syncer
static const dm_bind_field syncer_fields[] = {
        {.key = "worker-count",
         .kind = DM_BIND_INT,
         .offset = offsetof(S, worker_count),
         .min = 1,
         .max = 1024,
         .def = "16"},
        {.key = "batch",
         .kind = DM_BIND_INT,
         .offset = offsetof(S, batch),
         .min = 1,
         .max = 100000,
         .def = "100"},
        {.key = "safe-mode",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(S, safe_mode),
         .def = "false"},
        {.key = "safe-mode-duration",
         .kind = DM_BIND_STRING,
         .offset = offsetof(S, safe_mode_duration)},
        {.key = "enable-ansi-quotes",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(S, enable_ansi_quotes),
         .def = "false"},
        {.key = "queue-size", .kind = DM_BIND_IGNORE, .help = "queues are bounded by design"},
        {.key = "checkpoint-flush-interval",
         .kind = DM_BIND_IGNORE,
         .help = "checkpoints commit with the rows they cover"},
        {.key = "compact", .kind = DM_BIND_IGNORE},
        {.key = "multiple-rows", .kind = DM_BIND_IGNORE, .help = "rows are always batched"},
        {.key = "enable-gtid", .kind = DM_BIND_IGNORE, .help = "set in source.yaml"},
        {.key = "disable-detect", .kind = DM_BIND_IGNORE},
        {.key = "max-retry", .kind = DM_BIND_IGNORE},
        {.key = "auto-fix-gtid", .kind = DM_BIND_IGNORE},
        {.key = "meta-file", .kind = DM_BIND_IGNORE},
        {0},
};
#undef S

#define SECTION(k, al, r, f, type, arr, cnt, chk)                                                  \
	{                                                                                          \
		.key = k, .alias = al, .ref = r, .fields = f, .size = sizeof(type),                \
		.items_off = offsetof(dm_task_config, arr),                                        \
		.n_off = offsetof(dm_task_config, cnt), .check = chk                               \
	}
const dm_task_section dm_task_sections[DM_TASK_NSECTIONS] = {
        [DM_TASK_ROUTES] = SECTION("routes", NULL, "route-rules", route_fields, dm_task_route,
                                   routes, n_routes, dm_task_route_check),
        [DM_TASK_FILTERS] = SECTION("filters", NULL, "filter-rules", filter_fields, dm_task_filter,
                                    filters, n_filters, dm_task_filter_check),
        [DM_TASK_BALS] = SECTION("block-allow-list", "black-white-list", "block-allow-list",
                                 bal_fields, dm_task_bal, bals, n_bals, dm_task_bal_check),
        [DM_TASK_MYDUMPERS] =
                SECTION("mydumpers", NULL, "mydumper-config-name", mydumper_fields,
                        dm_task_mydumper, mydumpers, n_mydumpers, dm_task_mydumper_check),
        [DM_TASK_LOADERS] = SECTION("loaders", NULL, "loader-config-name", loader_fields,
                                    dm_task_loader, loaders, n_loaders, dm_task_loader_check),
        [DM_TASK_SYNCERS] = SECTION("syncers", NULL, "syncer-config-name", syncer_fields,
                                    dm_task_syncer, syncers, n_syncers, dm_task_syncer_check),
};
#undef SECTION
