#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/task.h"
#include "migrate/rules.h"
#include "mysql/sql.h"

static const char *const task_head = "name: t\n"
                                     "task-mode: full\n"
                                     "target-database:\n"
                                     "  host: 127.0.0.1\n"
                                     "  user: root\n";

static dm_rules *load(const char *body, bool case_sensitive)
{
	char *y = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&y, &n);
	fprintf(f, "%s%s%s", task_head, case_sensitive ? "case-sensitive: true\n" : "", body);
	fclose(f);
	dm_task_config cfg;
	dm_err err;
	int rc = dm_task_config_load_text(y, n, "task.yaml", &cfg, &err);
	if (rc < 0)
		fail_msg("%s", err.msg);
	dm_rules *r = NULL;
	assert_int_equal(dm_rules_new(&cfg, 0, &r, &err), 0);
	dm_task_config_fini(&cfg);
	free(y);
	return r;
}

static void test_wildcards_and_regex(void **state)
{
	(void)state;
	dm_pattern *p;
	dm_err err;
	assert_int_equal(dm_pattern_new("shard_*_0?", false, &p, &err), 0);
	assert_true(dm_pattern_match(p, "shard_eu_01"));
	assert_true(dm_pattern_match(p, "SHARD_x_09"));
	assert_false(dm_pattern_match(p, "shard_eu_1"));
	assert_false(dm_pattern_match(p, "xshard_eu_01"));
	dm_pattern_free(p);
	assert_int_equal(dm_pattern_new("a*b*c", true, &p, &err), 0);
	assert_true(dm_pattern_match(p, "abc"));
	assert_true(dm_pattern_match(p, "aXXbYYbc"));
	assert_false(dm_pattern_match(p, "aXXbYYb"));
	assert_false(dm_pattern_match(p, "ABC"));
	dm_pattern_free(p);
	assert_int_equal(dm_pattern_new("~^log_[0-9]+$", false, &p, &err), 0);
	assert_true(dm_pattern_match(p, "LOG_2024"));
	assert_false(dm_pattern_match(p, "log_x"));
	dm_pattern_free(p);
	assert_int_equal(dm_pattern_new("~(unclosed", false, &p, &err), -1);
	assert_non_null(strstr(err.msg, "(unclosed"));
}

static void test_block_allow_list(void **state)
{
	(void)state;
	dm_rules *r = load("block-allow-list:\n"
	                   "  b:\n"
	                   "    do-dbs: [\"app*\", \"~^shard_[0-9]+$\"]\n"
	                   "    ignore-tables:\n"
	                   "      - db-name: \"app*\"\n"
	                   "        tbl-name: \"tmp_*\"\n"
	                   "mysql-instances:\n"
	                   "  - source-id: s\n"
	                   "    block-allow-list: b\n",
	                   false);
	assert_true(dm_rules_table_allowed(r, "app", "users"));
	assert_true(dm_rules_table_allowed(r, "APP_2", "users"));
	assert_true(dm_rules_table_allowed(r, "shard_12", "x"));
	assert_false(dm_rules_table_allowed(r, "shard_x", "x"));
	assert_false(dm_rules_table_allowed(r, "app", "tmp_1"));
	assert_false(dm_rules_table_allowed(r, "other", "users"));
	assert_false(dm_rules_table_allowed(r, "mysql", "user"));
	assert_true(dm_rules_schema_allowed(r, "app"));
	assert_false(dm_rules_schema_allowed(r, "other"));
	dm_rules_free(r);

	/* do-tables wins over everything at the table level */
	r = load("block-allow-list:\n"
	         "  b:\n"
	         "    ignore-dbs: [\"junk\"]\n"
	         "    do-tables:\n"
	         "      - db-name: \"*\"\n"
	         "        tbl-name: \"keep\"\n"
	         "mysql-instances:\n"
	         "  - source-id: s\n"
	         "    block-allow-list: b\n",
	         true);
	assert_true(dm_rules_table_allowed(r, "a", "keep"));
	assert_false(dm_rules_table_allowed(r, "a", "KEEP")); /* case-sensitive */
	assert_false(dm_rules_table_allowed(r, "a", "other"));
	assert_false(dm_rules_table_allowed(r, "junk", "keep"));
	assert_false(dm_rules_table_allowed(r, "information_schema", "keep"));
	dm_rules_free(r);

	/* no list: everything but the system schemas */
	r = load("mysql-instances:\n  - source-id: s\n", false);
	assert_true(dm_rules_table_allowed(r, "x", "y"));
	assert_false(dm_rules_table_allowed(r, "performance_schema", "y"));
	assert_false(dm_rules_table_allowed(r, "sys", "y"));
	assert_false(dm_rules_table_allowed(r, "dm_meta", "t_snapshot"));
	dm_rules_free(r);
}

static void expect_route(dm_rules *r, const char *s, const char *t, const char *ws, const char *wt)
{
	char *rs, *rt;
	dm_rules_route(r, s, t, &rs, &rt);
	assert_string_equal(rs, ws);
	assert_string_equal(rt, wt);
	free(rs);
	free(rt);
}

static void test_routes(void **state)
{
	(void)state;
	dm_rules *r =
	        load("routes:\n"
	             "  schema-rule:\n"
	             "    schema-pattern: \"shard_*\"\n"
	             "    target-schema: \"all_shards\"\n"
	             "  table-rule:\n"
	             "    schema-pattern: \"shard_*\"\n"
	             "    table-pattern: \"orders_*\"\n"
	             "    target-schema: \"merged\"\n"
	             "    target-table: \"orders\"\n"
	             "  rename-schema-only:\n"
	             "    schema-pattern: \"legacy\"\n"
	             "    table-pattern: \"t*\"\n"
	             "    target-schema: \"modern\"\n"
	             "mysql-instances:\n"
	             "  - source-id: s\n"
	             "    route-rules: [\"schema-rule\", \"table-rule\", \"rename-schema-only\"]\n",
	             false);
	/* a table rule wins over a schema rule listed before it */
	expect_route(r, "shard_1", "orders_7", "merged", "orders");
	expect_route(r, "shard_1", "customers", "all_shards", "customers");
	expect_route(r, "legacy", "t1", "modern", "t1");
	expect_route(r, "legacy", "x1", "legacy", "x1");
	expect_route(r, "other", "t", "other", "t");
	dm_rules_free(r);
}

static void test_sql_text(void **state)
{
	(void)state;
	dm_buf b;
	dm_buf_init(&b);
	dm_sql_table(&b, "we`ird", "t");
	dm_buf_putc(&b, ' ');
	dm_sql_hex(&b, "\0\xff", 2);
	dm_buf_putc(&b, ' ');
	dm_sql_hex(&b, "", 0);
	dm_buf_putc(&b, ' ');
	dm_sql_string(&b, "it's a \\ test");
	assert_string_equal(b.data, "`we``ird`.`t` 0x00ff '' 'it''s a \\\\ test'");
	dm_buf_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_wildcards_and_regex),
	        cmocka_unit_test(test_block_allow_list),
	        cmocka_unit_test(test_routes),
	        cmocka_unit_test(test_sql_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
