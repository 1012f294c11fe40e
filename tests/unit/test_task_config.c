#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/task.h"
#include "mysql/conn.h"

static char dir[] = "/tmp/dm-taskcfg-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = dm_xasprintf("rm -rf %s", dir);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

static char *data_path(const char *name)
{
	const char *src = getenv("DM_SOURCE_DIR");
	return dm_xasprintf("%s/tests/data/%s", src ? src : ".", name);
}

static void expect_contains(const char *msg, const char *want)
{
	if (strstr(msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", msg, want);
}

static void load_example(const char *name, dm_task_config *cfg)
{
	char *path = data_path(name);
	dm_err err;
	if (dm_task_config_load_file(path, cfg, &err) < 0)
		fail_msg("%s", err.msg);
	free(path);
}

static void expect_file_error(const char *name, const char *want)
{
	char *path = data_path(name);
	dm_task_config cfg;
	dm_err err;
	assert_int_equal(dm_task_config_load_file(path, &cfg, &err), -1);
	expect_contains(err.msg, want);
	free(path);
}

/* A valid task with one extra line spliced in at the top level. */
static void expect_yaml_error(const char *extra, const char *want)
{
	char *y = dm_xasprintf("name: t\n"
	                       "task-mode: all\n"
	                       "target-database:\n"
	                       "  host: 127.0.0.1\n"
	                       "  user: root\n"
	                       "  password: \"t4rget-Secret\"\n"
	                       "mysql-instances:\n"
	                       "  - source-id: s1\n"
	                       "%s",
	                       extra);
	dm_task_config cfg;
	dm_err err;
	assert_int_equal(dm_task_config_load_text(y, strlen(y), "task.yaml", &cfg, &err), -1);
	expect_contains(err.msg, want);
	assert_null(strstr(err.msg, "t4rget-Secret"));
	free(y);
}

static void expect_json_error(const char *json, const char *want)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	if (j == NULL)
		fail_msg("bad test JSON: %s", je.text);
	dm_task_config cfg;
	dm_err err;
	assert_int_equal(dm_task_config_from_json(j, &cfg, &err), -1);
	expect_contains(err.msg, want);
	json_decref(j);
}

static void test_load_example(void **state)
{
	(void)state;
	dm_task_config cfg;
	load_example("task-example.yaml", &cfg);
	assert_string_equal(cfg.name, "test");
	assert_string_equal(cfg.task_mode, "all");
	assert_null(cfg.shard_mode);
	assert_string_equal(cfg.meta_schema, "dm_meta");
	assert_string_equal(cfg.timezone, "Asia/Shanghai");
	assert_false(cfg.online_ddl);
	assert_true(cfg.clean_dump_file);
	assert_string_equal(cfg.collation_compatible, "loose");
	assert_string_equal(cfg.on_duplicate, "replace");
	assert_int_equal(cfg.ignore_checking_items.n, 1);

	assert_string_equal(cfg.target.host, "192.168.0.1");
	assert_int_equal(cfg.target.port, 4000);
	assert_string_equal(cfg.target.password, "t4rget-Secret");
	assert_string_equal(cfg.target.security.ssl_key, "/etc/dm/tidb-client.key");
	assert_int_equal(cfg.target.session.keys.n, 2);
	assert_string_equal(cfg.target.session.keys.items[1], "time_zone");
	assert_string_equal(cfg.target.session.values.items[1], "+00:00");

	assert_int_equal(cfg.n_instances, 2);
	const dm_task_instance *a = &cfg.instances[0], *b = &cfg.instances[1];
	assert_string_equal(a->source_id, "mysql-replica-01");
	assert_true(a->has_meta);
	assert_string_equal(a->meta.binlog_name, "binlog.000001");
	assert_int_equal(a->meta.binlog_pos, 4);
	assert_int_equal(a->route_rules.n, 2);
	assert_string_equal(a->block_allow_list, "bw-rule-1");
	assert_false(b->has_meta);
	assert_string_equal(b->block_allow_list, "bw-rule-2"); /* from black-white-list */
	assert_int_equal(b->mydumper_thread, 8);

	assert_int_equal(cfg.n_routes, 2);
	const dm_task_route *r = dm_task_config_route(&cfg, "route-rule-1");
	assert_non_null(r);
	assert_string_equal(r->target_table, "t");
	assert_null(dm_task_config_route(&cfg, "route-rule-2")->table_pattern);
	const dm_task_filter *f = dm_task_config_filter(&cfg, "filter-rule-2");
	assert_string_equal(f->sql_pattern.items[0], "^DROP\\s+PROCEDURE");
	assert_string_equal(f->action, "Ignore");
	const dm_task_bal *bal = dm_task_config_bal(&cfg, "bw-rule-1");
	assert_int_equal(bal->do_tables.n, 2);
	assert_string_equal(bal->do_tables.items[1].tbl_name, "information");
	assert_int_equal(bal->ignore_tables.n, 1);
	assert_string_equal(cfg.mydumpers[0].chunk_filesize, "64");
	assert_string_equal(cfg.mydumpers[0].consistency, "none"); /* from extra-args */
	assert_string_equal(cfg.loaders[0].import_mode, "logical");
	assert_true(cfg.syncers[0].enable_ansi_quotes);

	dm_task_units u;
	dm_task_config_units(&cfg, 0, &u);
	assert_int_equal(u.dump_threads, 4);
	assert_string_equal(u.consistency, "none");
	assert_int_equal(u.load_threads, 16);
	assert_string_equal(u.on_duplicate, "replace");
	assert_int_equal(u.safe_mode_ms, 90000);
	assert_true(u.enable_ansi_quotes);
	dm_task_config_units(&cfg, 1, &u); /* overrides, default loader/syncer */
	assert_int_equal(u.dump_threads, 8);
	assert_int_equal(u.load_threads, 32);
	assert_int_equal(u.sync_threads, 24);
	assert_int_equal(u.batch, 100);
	assert_int_equal(u.safe_mode_ms, 60000);

	dm_strlist ids = {0};
	dm_task_config_subtask_sources(&cfg, &ids);
	assert_int_equal(ids.n, 2);
	assert_string_equal(ids.items[1], "mysql-replica-02");
	dm_strlist_fini(&ids);
	dm_task_config_fini(&cfg);
}

static void test_incremental_without_meta(void **state)
{
	(void)state;
	dm_task_config cfg;
	load_example("task-incremental.yaml", &cfg);
	assert_string_equal(cfg.task_mode, "incremental");
	assert_false(cfg.instances[0].has_meta);
	assert_string_equal(cfg.target.password, "");
	dm_db_config db;
	dm_db_config_init(&db);
	dm_task_config_target_db_config(&cfg, &db);
	assert_int_equal(db.port, 3307);
	assert_true(dm_tls_settings_empty(&db.security));
	dm_db_config_fini(&db);
	dm_task_config_fini(&cfg);
}

static void test_json_round_trip(void **state)
{
	(void)state;
	const char *files[] = {"task-example.yaml", "task-incremental.yaml"};
	for (size_t i = 0; i < 2; i++) {
		dm_task_config cfg, back, copy;
		dm_err err;
		load_example(files[i], &cfg);
		json_t *j = dm_task_config_to_json(&cfg, true);
		if (dm_task_config_from_json(j, &back, &err) < 0)
			fail_msg("%s: %s", files[i], err.msg);
		json_t *j2 = dm_task_config_to_json(&back, true);
		if (!json_equal(j, j2)) {
			char *a = json_dumps(j, JSON_INDENT(1)),
			     *b = json_dumps(j2, JSON_INDENT(1));
			fail_msg("round trip differs:\n%s\n---\n%s", a, b);
		}
		dm_task_config_init(&copy);
		dm_task_config_copy(&copy, &cfg);
		json_t *j3 = dm_task_config_to_json(&copy, true);
		assert_true(json_equal(j, j3));
		assert_int_equal(copy.instances[0].line, cfg.instances[0].line);
		json_decref(j);
		json_decref(j2);
		json_decref(j3);
		dm_task_config_fini(&copy);
		dm_task_config_fini(&back);
		dm_task_config_fini(&cfg);
	}

	/* The OpenAPI shape where DM has one. */
	dm_task_config cfg;
	load_example("task-example.yaml", &cfg);
	json_t *j = dm_task_config_to_json(&cfg, true);
	assert_string_equal(json_string_value(json_object_get(j, "task_mode")), "all");
	assert_string_equal(json_string_value(json_object_get(j, "meta_schema")), "dm_meta");
	assert_string_equal(json_string_value(json_object_get(j, "on_duplicate")), "replace");
	assert_true(json_is_false(json_object_get(j, "enhance_online_schema_change")));
	json_t *sc = json_object_get(json_object_get(j, "source_config"), "source_conf");
	assert_int_equal(json_array_size(sc), 2);
	json_t *s0 = json_array_get(sc, 0);
	assert_string_equal(json_string_value(json_object_get(s0, "source_name")),
	                    "mysql-replica-01");
	assert_string_equal(json_string_value(json_object_get(s0, "binlog_name")), "binlog.000001");
	assert_int_equal(json_integer_value(json_object_get(s0, "binlog_pos")), 4);
	assert_null(json_object_get(json_array_get(sc, 1), "binlog_name"));
	json_t *tc = json_object_get(j, "target_config");
	assert_string_equal(json_string_value(json_object_get(tc, "host")), "192.168.0.1");
	assert_non_null(json_object_get(json_object_get(j, "routes"), "route-rule-1"));
	json_decref(j);
	dm_task_config_fini(&cfg);
}

static void test_secrets_omitted(void **state)
{
	(void)state;
	const char *key = "-----BEGIN PRIV"
	                  "ATE KEY-----\nS3CR3Tk3y\n-----END PRIV"
	                  "ATE KEY-----\n";
	char *cert = dm_xasprintf("%s/tidb.pem", dir), *kpath = dm_xasprintf("%s/tidb.key", dir);
	FILE *fp = fopen(cert, "w");
	fputs("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", fp);
	fclose(fp);
	fp = fopen(kpath, "w");
	fputs(key, fp);
	fclose(fp);
	char *y = dm_xasprintf("name: t\ntask-mode: full\ntarget-database:\n  host: h\n  user: u\n"
	                       "  password: \"t4rget-Secret\"\n  security:\n    ssl-cert: %s\n"
	                       "    ssl-key: %s\nmysql-instances:\n  - source-id: s1\n",
	                       cert, kpath);
	dm_task_config cfg, back;
	dm_err err;
	assert_int_equal(dm_task_config_load_text(y, strlen(y), "task.yaml", &cfg, &err), 0);
	if (dm_task_config_load_pem(&cfg, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.target.security.key_pem, key);

	json_t *j = dm_task_config_to_json(&cfg, true);
	assert_int_equal(dm_task_config_from_json(j, &back, &err), 0);
	assert_string_equal(back.target.security.key_pem, key);
	assert_string_equal(back.target.password, "t4rget-Secret");
	dm_task_config_fini(&back);
	json_decref(j);

	j = dm_task_config_to_json(&cfg, false);
	char *text = json_dumps(j, 0);
	json_t *tc = json_object_get(j, "target_config");
	assert_null(json_object_get(tc, "password"));
	assert_null(json_object_get(json_object_get(tc, "security"), "ssl_key_content"));
	assert_null(strstr(text, "t4rget-Secret"));
	assert_null(strstr(text, "S3CR3Tk3y"));
	assert_null(strstr(text, "******"));
	free(text);
	json_decref(j);
	dm_task_config_fini(&cfg);
	free(y);
	free(cert);
	free(kpath);
}

static void test_file_errors(void **state)
{
	(void)state;
	expect_file_error("task-unknown-key.yaml", "task-unknown-key.yaml:12: unknown key \"x\"");
	expect_file_error("task-undefined-route.yaml",
	                  "task-undefined-route.yaml:9: mysql-instances[0] (mysql-replica-01): "
	                  "route-rules \"route-rule-9\" is not defined in routes");
	expect_file_error("task-bad-mode.yaml",
	                  "task-bad-mode.yaml:2: \"task-mode\": \"fast\" must be full, incremental "
	                  "or all");
	expect_file_error("task-shard.yaml",
	                  "task-shard.yaml:3: \"shard-mode\": \"pessimistic\" is "
	                  "not supported by dm: merging sharded tables");
	expect_file_error("task-cert-no-key.yaml",
	                  "task-cert-no-key.yaml: target-database.security: "
	                  "ssl-cert is set but ssl-key is not");
}

static void test_yaml_errors(void **state)
{
	(void)state;
	/* The example from the brief: unknown keys name file and line. */
	expect_yaml_error("\n\n\nx: 1\n", "task.yaml:12: unknown key \"x\"");
	expect_yaml_error(
	        "online-ddl-scheme: gh-ost\n",
	        "task.yaml:9: \"online-ddl-scheme\" is not supported by dm: gh-ost/pt-osc");
	expect_yaml_error("online-ddl: true\n",
	                  "task.yaml:9: \"online-ddl\": true is not supported");
	expect_yaml_error("is-sharding: true\n",
	                  "task.yaml:9: \"is-sharding\" true is not supported");
	expect_yaml_error("column-mappings:\n  a: {}\n", "task.yaml:10: \"column-mappings\" is not "
	                                                 "supported by dm");
	expect_yaml_error("  - source-id: s1\n", "mysql-instances[1] (s1): source-id \"s1\" is "
	                                         "listed twice");
	expect_yaml_error("    filter-rules: [nope]\n",
	                  "filter-rules \"nope\" is not defined in filters");
	expect_yaml_error("    mydumper-config-name: d\n",
	                  "mydumper-config-name \"d\" is not defined in mydumpers");
	expect_yaml_error("routes:\n  r1:\n    schema-pattern: a\n    target-schema: b\n",
	                  "task.yaml:11: routes \"r1\" is defined but no instance uses it");
	expect_yaml_error("    meta:\n      binlog-pos: 4\n",
	                  "task.yaml:8: mysql-instances[0] (s1): meta needs binlog-name or "
	                  "binlog-gtid");
	expect_yaml_error("    meta:\n      binlog-name: binlog\n", "is not a binlog file name");
	expect_yaml_error(
	        "    mydumper-config-name: d\nmydumpers:\n  d:\n"
	        "    extra-args: \"--consistency none --no-locks\"\n",
	        "task.yaml:12: mydumpers \"d\": extra-args \"--no-locks\" is not supported");
	expect_yaml_error("    mydumper-config-name: d\nmydumpers:\n  d:\n"
	                  "    extra-args: \"--consistency=lock\"\n    consistency: flush\n",
	                  "extra-args says --consistency lock but consistency is flush");
	expect_yaml_error("    mydumper-config-name: d\nmydumpers:\n  d:\n    consistency: maybe\n",
	                  "consistency \"maybe\" must be auto, flush, snapshot, lock or none");
	expect_yaml_error("    loader-config-name: l\nloaders:\n  l:\n    import-mode: physical\n",
	                  "import-mode physical is not supported by dm");
	expect_yaml_error("    loader-config-name: l\nloaders:\n  l:\n    on-duplicate: merge\n",
	                  "on-duplicate \"merge\" must be replace, error or ignore");
	expect_yaml_error("    syncer-config-name: s\nsyncers:\n  s:\n    safe-mode: true\n"
	                  "    safe-mode-duration: 0s\n",
	                  "safe-mode true needs a safe-mode-duration above 0");
	expect_yaml_error(
	        "    syncer-config-name: s\nsyncers:\n  s:\n    safe-mode-duration: soon\n",
	        "safe-mode-duration: \"soon\" is not a duration");
	expect_yaml_error("    filter-rules: [f]\nfilters:\n  f:\n    schema-pattern: a\n"
	                  "    events: [\"drop everything\"]\n    action: Ignore\n",
	                  "\"drop everything\" is not a binlog event name");
	expect_yaml_error("    filter-rules: [f]\nfilters:\n  f:\n    schema-pattern: a\n"
	                  "    action: Error\n",
	                  "action Error is not supported by dm");
	expect_yaml_error("    block-allow-list: b\n    black-white-list: b\n",
	                  "task.yaml:10: \"block-allow-list\" and \"black-white-list\" (its old "
	                  "name) are both set");
	expect_yaml_error("    block-allow-list: b\nblock-allow-list:\n  b:\n    do-tables:\n"
	                  "    - db-name: x\n",
	                  "do-tables entry 1 has no \"tbl-name\"");
	expect_yaml_error("    mydumper:\n      threads: 4\n",
	                  "task.yaml:10: \"mydumper\" is not supported by dm: inline mydumper");
	expect_yaml_error("routes:\n  r1:\n    schema-pattern: a\n    extract-table: {}\n",
	                  "task.yaml:12: \"extract-table\" is not supported by dm");

	/* Required keys. */
	dm_task_config cfg;
	dm_err err;
	const char *y = "task-mode: all\n";
	assert_int_equal(dm_task_config_load_text(y, strlen(y), "task.yaml", &cfg, &err), -1);
	expect_contains(err.msg, "task.yaml: \"name\" is required");
	y = "name: t\ntask-mode: all\nmysql-instances:\n  - source-id: s\n";
	assert_int_equal(dm_task_config_load_text(y, strlen(y), "task.yaml", &cfg, &err), -1);
	expect_contains(err.msg, "task.yaml: \"target-database\" is required");
	y = "name: t\ntask-mode: all\ntarget-database:\n  host: h\n  user: u\n";
	assert_int_equal(dm_task_config_load_text(y, strlen(y), "task.yaml", &cfg, &err), -1);
	expect_contains(err.msg, "\"mysql-instances\" needs at least one source");
}

static void test_json_errors(void **state)
{
	(void)state;
#define BASE                                                                                       \
	"\"name\":\"t\",\"task_mode\":\"all\",\"target_config\":{\"host\":\"h\",\"user\":\"u\"}"
#define ONE_SOURCE "\"source_config\":{\"source_conf\":[{\"source_name\":\"s1\"}]}"
	expect_json_error("{" BASE "," ONE_SOURCE ",\"x\":1}", "task: unknown key \"x\"");
	expect_json_error("{" BASE "," ONE_SOURCE ",\"task_mode\":\"dump\"}",
	                  "\"dump\" is not supported by dm");
	expect_json_error(
	        "{" BASE ",\"source_config\":{\"source_conf\":[{\"source_name\":\"s1\","
	        "\"route_rules\":[\"r\"]}]}}",
	        "task: mysql-instances[0] (s1): route-rules \"r\" is not defined in routes");
	expect_json_error("{" BASE "," ONE_SOURCE ",\"routes\":{\"r\":{\"schema_pattern\":\"a\","
	                  "\"bogus\":1}}}",
	                  "task.routes.r: unknown key \"bogus\"");
	expect_json_error("{" BASE ",\"source_config\":{\"source_conf\":[{\"source_name\":\"s1\","
	                  "\"meta\":{}}]}}",
	                  "task.source_config.source_conf[0]: unknown key \"meta\"");
	expect_json_error("{" BASE "," ONE_SOURCE ",\"enhance_online_schema_change\":true}",
	                  "\"enhance_online_schema_change\" true is not supported by dm");
	expect_json_error("{" BASE "," ONE_SOURCE ",\"table_migrate_rule\":[],"
	                  "\"routes\":{}}",
	                  "\"routes\" (dm's named rules) cannot be combined");
	expect_json_error("{" BASE ",\"source_config\":{\"source_conf\":[{\"source_name\":\"s1\","
	                  "\"route_rules\":[\"r\"]}]},\"table_migrate_rule\":[]}",
	                  "task.source_config.source_conf[0]: unknown key \"route_rules\"");
	expect_json_error("{" BASE "," ONE_SOURCE ",\"table_migrate_rule\":[{\"source\":"
	                  "{\"source_name\":\"s9\",\"schema\":\"a\"}}]}",
	                  "task.table_migrate_rule[0]: source_name \"s9\" is not listed");
	expect_json_error(
	        "{" BASE "," ONE_SOURCE ",\"table_migrate_rule\":[{\"source\":"
	        "{\"source_name\":\"s1\",\"schema\":\"a\"},\"binlog_filter_rule\":[\"f\"]}]}",
	        "binlog_filter_rule \"f\" is not defined in binlog_filter_rule");
	expect_json_error("{\"name\":\"t\",\"task_mode\":\"all\",\"target_config\":{\"host\":\"h\","
	                  "\"user\":\"u\",\"db\":1}," ONE_SOURCE "}",
	                  "task.target_config: unknown key \"db\"");
#undef BASE
#undef ONE_SOURCE
}

static void test_openapi_form(void **state)
{
	(void)state;
	char *path = data_path("task-openapi.json");
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (j == NULL)
		fail_msg("%s: %s", path, je.text);
	dm_task_config cfg;
	dm_err err;
	if (dm_task_config_from_json(j, &cfg, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.on_duplicate, "error");
	assert_int_equal(cfg.n_instances, 2);
	const dm_task_instance *a = &cfg.instances[0], *b = &cfg.instances[1];
	assert_true(a->has_meta);
	assert_int_equal(a->meta.binlog_pos, 1234);
	assert_false(b->has_meta);
	assert_int_equal(a->route_rules.n, 1);
	const dm_task_route *r = dm_task_config_route(&cfg, a->route_rules.items[0]);
	assert_string_equal(r->schema_pattern, "db_*");
	assert_string_equal(r->target_table, "tb1");
	const dm_task_filter *f = dm_task_config_filter(&cfg, a->filter_rules.items[0]);
	assert_string_equal(f->table_pattern, "tb_*");
	assert_string_equal(f->events.items[0], "delete");
	assert_string_equal(f->sql_pattern.items[0], "^DROP");
	assert_string_equal(f->action, "Ignore");
	const dm_task_bal *ba = dm_task_config_bal(&cfg, a->block_allow_list);
	assert_int_equal(ba->do_tables.n, 1);
	const dm_task_bal *bb = dm_task_config_bal(&cfg, b->block_allow_list);
	assert_int_equal(bb->do_dbs.n, 1);
	assert_string_equal(bb->do_dbs.items[0], "shop");
	assert_int_equal(b->route_rules.n, 0);
	dm_task_units u;
	dm_task_config_units(&cfg, 1, &u);
	assert_int_equal(u.dump_threads, 8);
	assert_int_equal(u.load_threads, 32);
	assert_string_equal(u.consistency, "snapshot");
	assert_string_equal(u.on_duplicate, "error");
	assert_int_equal(u.sync_threads, 8);
	assert_int_equal(u.batch, 200);
	assert_non_null(cfg.target.security.ca_pem);

	/* Our output is the lossless form, and reads back the same. */
	json_t *out = dm_task_config_to_json(&cfg, true);
	dm_task_config back;
	if (dm_task_config_from_json(out, &back, &err) < 0)
		fail_msg("%s", err.msg);
	json_t *out2 = dm_task_config_to_json(&back, true);
	assert_true(json_equal(out, out2));
	json_decref(out);
	json_decref(out2);
	dm_task_config_fini(&back);
	dm_task_config_fini(&cfg);
	json_decref(j);
	free(path);
}

static void test_duration(void **state)
{
	(void)state;
	int64_t ms;
	assert_int_equal(dm_task_parse_duration("60s", &ms, NULL), 0);
	assert_int_equal(ms, 60000);
	assert_int_equal(dm_task_parse_duration("1m30s", &ms, NULL), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(dm_task_parse_duration("1.5h", &ms, NULL), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(dm_task_parse_duration("250ms", &ms, NULL), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(dm_task_parse_duration("0", &ms, NULL), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(dm_task_parse_duration("10", &ms, NULL), -1);
	assert_int_equal(dm_task_parse_duration("-1s", &ms, NULL), -1);
	assert_int_equal(dm_task_parse_duration("", &ms, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_load_example),
	        cmocka_unit_test(test_incremental_without_meta),
	        cmocka_unit_test(test_json_round_trip),
	        cmocka_unit_test(test_secrets_omitted),
	        cmocka_unit_test(test_file_errors),
	        cmocka_unit_test(test_yaml_errors),
	        cmocka_unit_test(test_json_errors),
	        cmocka_unit_test(test_openapi_form),
	        cmocka_unit_test(test_duration),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
