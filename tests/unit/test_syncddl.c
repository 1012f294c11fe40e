/* The sync unit's pure parts: binlog position order, and what a binlog DDL
 * becomes on the target after the block-allow-list and routes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/task.h"
#include "migrate/ddl.h"
#include "migrate/filter.h"
#include "migrate/rules.h"
#include "migrate/syncckpt.h"
#include "migrate/syncddl.h"

static dm_filter *g_filter; /* the task's filters, set by rules() */

static dm_rules *rules(void)
{
	static const char y[] = "name: t\n"
	                        "task-mode: incremental\n"
	                        "target-database:\n"
	                        "  host: 127.0.0.1\n"
	                        "  user: root\n"
	                        "block-allow-list:\n"
	                        "  bal:\n"
	                        "    do-dbs: [\"shop\", \"shard_*\"]\n"
	                        "    ignore-tables:\n"
	                        "      - db-name: \"shop\"\n"
	                        "        tbl-name: \"junk\"\n"
	                        "routes:\n"
	                        "  shards:\n"
	                        "    schema-pattern: \"shard_*\"\n"
	                        "    table-pattern: \"orders_*\"\n"
	                        "    target-schema: \"merged\"\n"
	                        "    target-table: \"orders\"\n"
	                        "  shop:\n"
	                        "    schema-pattern: \"shop\"\n"
	                        "    target-schema: \"shop_copy\"\n"
	                        "filters:\n"
	                        "  no-truncate:\n"
	                        "    schema-pattern: \"shop\"\n"
	                        "    table-pattern: \"log*\"\n"
	                        "    events: [\"truncate table\", \"Delete\"]\n"
	                        "    action: Ignore\n"
	                        "  no-index:\n"
	                        "    schema-pattern: \"shard_*\"\n"
	                        "    sql-pattern: [\"^ALTER\\\\s+TABLE.*ADD\\\\s+INDEX\"]\n"
	                        "    action: Ignore\n"
	                        "  only-dml:\n"
	                        "    schema-pattern: \"shard_9\"\n"
	                        "    events: [\"all dml\", \"create table\"]\n"
	                        "    action: Do\n"
	                        "mysql-instances:\n"
	                        "  - source-id: s1\n"
	                        "    block-allow-list: bal\n"
	                        "    route-rules: [\"shards\", \"shop\"]\n"
	                        "    filter-rules: [\"no-truncate\", \"no-index\", \"only-dml\"]\n";
	dm_task_config cfg;
	dm_err err;
	if (dm_task_config_load_text(y, sizeof(y) - 1, "task.yaml", &cfg, &err) < 0)
		fail_msg("%s", err.msg);
	dm_rules *r = NULL;
	assert_int_equal(dm_rules_new(&cfg, 0, &r, &err), 0);
	assert_int_equal(dm_filter_new(&cfg, 0, &g_filter, &err), 0);
	dm_task_config_fini(&cfg);
	return r;
}

/* The target statement for sql with default database db; NULL when left
 * out; "ERR" when refused. */
static char *target(dm_rules *r, const char *sql, const char *db)
{
	dm_ddl d;
	dm_err err;
	if (dm_ddl_parse(sql, strlen(sql), db, &d, &err) < 0)
		fail_msg("parse: %s", err.msg);
	err.msg[0] = '\0';
	char *out = dm_syncddl_for_target(r, g_filter, sql, strlen(sql), &d, &err);
	dm_ddl_fini(&d);
	if (out == NULL && err.msg[0])
		return strdup("ERR");
	return out;
}

static void expect(dm_rules *r, const char *sql, const char *db, const char *want)
{
	char *got = target(r, sql, db);
	if (want == NULL) {
		if (got)
			fail_msg("%s: expected to be left out, got %s", sql, got);
		return;
	}
	if (got == NULL)
		fail_msg("%s: left out, expected %s", sql, want);
	assert_string_equal(got, want);
	free(got);
}

static void test_routes_and_filters(void **state)
{
	(void)state;
	dm_rules *r = rules();
	expect(r, "ALTER TABLE t ADD COLUMN c INT", "shop",
	       "ALTER TABLE `shop_copy`.`t` ADD COLUMN c INT");
	expect(r, "CREATE TABLE `shard_2`.`orders_7` (id INT)", NULL,
	       "CREATE TABLE `merged`.`orders` (id INT)");
	expect(r, "ALTER TABLE junk ADD c INT", "shop", NULL);
	expect(r, "CREATE TABLE other.t (id INT)", "shop", NULL);
	expect(r, "CREATE DATABASE shop", NULL, "CREATE DATABASE `shop_copy`");
	expect(r, "DROP DATABASE other", NULL, NULL);
	/* a DROP of kept and left-out tables keeps the kept ones */
	expect(r, "DROP TABLE shop.a, shop.junk, other.x", NULL,
	       "DROP TABLE IF EXISTS `shop_copy`.`a`");
	/* a RENAME across the filter cannot be split */
	expect(r, "RENAME TABLE shop.a TO shop.junk", NULL, "ERR");
	/* no database anywhere */
	expect(r, "ALTER TABLE t ADD c INT", NULL, "ERR");
	dm_rules_free(r);
	dm_filter_free(g_filter);
}

static void test_binlog_filters(void **state)
{
	(void)state;
	dm_rules *r = rules();
	const dm_filter *f = g_filter;
	/* Ignore by event name, on matching tables only */
	expect(r, "TRUNCATE TABLE shop.logs", NULL, NULL);
	expect(r, "truncate shop.t", NULL, "truncate `shop_copy`.`t`");
	assert_true(dm_filter_drops(f, "shop", "log1", "delete", NULL, 0));
	assert_true(dm_filter_drops(f, "SHOP", "LOG1", "delete", NULL, 0)); /* case */
	assert_false(dm_filter_drops(f, "shop", "log1", "insert", NULL, 0));
	assert_false(dm_filter_drops(f, "shop", "t", "delete", NULL, 0));
	/* a table rule does not judge a database statement */
	assert_false(dm_filter_drops(f, "shop", NULL, "truncate table", NULL, 0));
	/* Ignore by SQL: the statement is dropped, others on the table pass */
	expect(r, "ALTER TABLE shard_1.orders_2 ADD INDEX (x)", NULL, NULL);
	expect(r, "ALTER TABLE shard_1.orders_2 ADD COLUMN x INT", NULL,
	       "ALTER TABLE `merged`.`orders` ADD COLUMN x INT");
	/* Do lists what passes: only DML and CREATE TABLE in shard_9 */
	assert_false(dm_filter_drops(f, "shard_9", "a", "update", NULL, 0));
	expect(r, "CREATE TABLE shard_9.a (id INT)", NULL, "CREATE TABLE `shard_9`.`a` (id INT)");
	expect(r, "DROP TABLE shard_9.a", NULL, NULL);
	expect(r, "DROP DATABASE shard_9", NULL, NULL);
	/* a DROP across the filters keeps what passes */
	expect(r, "DROP TABLE shard_9.a, shard_1.b", NULL, "DROP TABLE IF EXISTS `shard_1`.`b`");
	/* a RENAME is judged by its source table */
	expect(r, "RENAME TABLE shard_9.a TO shard_9.b", NULL, NULL);
	assert_false(dm_filter_drops(NULL, "shop", "log1", "delete", NULL, 0));
	dm_rules_free(r);
	dm_filter_free(g_filter);
}

static void test_words_and_errors(void **state)
{
	(void)state;
	assert_true(dm_syncddl_is("  BEGIN", 7, "BEGIN"));
	assert_true(dm_syncddl_is("commit", 6, "COMMIT"));
	assert_false(dm_syncddl_is("COMMITTED", 9, "COMMIT"));
	assert_false(dm_syncddl_is("BEG", 3, "BEGIN"));
	assert_true(dm_syncddl_is("\ninsert into t values (1)", 25, "INSERT"));
	assert_true(dm_syncddl_already_applied(1050));
	assert_true(dm_syncddl_already_applied(1060));
	assert_false(dm_syncddl_already_applied(1064)); /* a syntax error is real */
	assert_false(dm_syncddl_already_applied(2013));
}

static void test_positions(void **state)
{
	(void)state;
	dm_binpos a, b;
	dm_binpos_init(&a);
	dm_binpos_init(&b);
	dm_binpos_set(&a, "binlog.000001", 900, "");
	dm_binpos_set(&b, "binlog.000002", 4, "0-1-5");
	assert_true(dm_binpos_cmp(&a, &b) < 0);
	assert_true(dm_binpos_cmp(&b, &a) > 0);
	/* the sequence number outgrows its zero padding */
	dm_binpos_set(&a, "binlog.999999", 123456, "");
	dm_binpos_set(&b, "binlog.1000000", 4, "");
	assert_true(dm_binpos_cmp(&a, &b) < 0);
	dm_binpos_set(&a, "binlog.1000000", 4, "x");
	assert_int_equal(dm_binpos_cmp(&a, &b), 0);
	dm_binpos_copy(&a, &b);
	assert_string_equal(a.name, "binlog.1000000");
	dm_binpos_fini(&a);
	dm_binpos_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_routes_and_filters),
	        cmocka_unit_test(test_binlog_filters),
	        cmocka_unit_test(test_words_and_errors),
	        cmocka_unit_test(test_positions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
