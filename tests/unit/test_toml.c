#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "config/toml.h"
#include "config/tree.h"

static const char master_toml[] = "# dm-master configuration\n"
                                  "name = \"dm-master-1\"\n"
                                  "log-level = 'info'\n"
                                  "\n"
                                  "[server]\n"
                                  "  addr = \"0.0.0.0:8261\"\n"
                                  "  workers = 0x10\n"
                                  "  ratio = 0.75\n"
                                  "  tls.enabled = true\n"
                                  "\n"
                                  "[[source]]\n"
                                  "id = \"mysql-01\"\n"
                                  "started = 2024-02-29T10:00:00+08:00\n"
                                  "\n"
                                  "[[source]]\n"
                                  "id = \"mysql-02\"\n"
                                  "tables = [\"a.*\", { db = \"b\", tbl = \"t\" }]\n";

static dm_node *parse_ok(const char *text)
{
	dm_node *root = NULL;
	dm_err err;
	dm_err_clear(&err);
	int rc = dm_toml_parse(text, strlen(text), "dm-master.toml", &root, &err);
	if (rc != 0)
		fail_msg("unexpected error: %s", err.msg);
	assert_non_null(root);
	assert_int_equal(root->type, DM_NODE_TABLE);
	return root;
}

static void test_master_document(void **state)
{
	(void)state;
	dm_node *root = parse_ok(master_toml);
	dm_node *name = dm_tree_get(root, "name");
	assert_non_null(name);
	assert_int_equal(name->type, DM_NODE_STRING);
	assert_string_equal(name->str, "dm-master-1");
	assert_int_equal(name->len, 11);
	assert_string_equal(dm_tree_get(root, "log-level")->str, "info");

	dm_node *server = dm_tree_get(root, "server");
	assert_non_null(server);
	assert_int_equal(server->type, DM_NODE_TABLE);
	assert_int_equal(dm_tree_get(server, "workers")->i, 16);
	assert_true(fabs(dm_tree_get(server, "ratio")->f - 0.75) < 1e-12);
	dm_node *tls = dm_tree_get(server, "tls");
	assert_non_null(tls);
	assert_true(dm_tree_get(tls, "enabled")->b);

	dm_node *source = dm_tree_get(root, "source");
	assert_non_null(source);
	assert_int_equal(source->type, DM_NODE_ARRAY);
	assert_int_equal(source->nkids, 2);
	dm_node *started = dm_tree_get(source->kids[0], "started");
	assert_int_equal(started->type, DM_NODE_DATETIME);
	assert_string_equal(started->str, "2024-02-29T10:00:00+08:00");
	dm_node *tables = dm_tree_get(source->kids[1], "tables");
	assert_int_equal(tables->nkids, 2);
	assert_string_equal(tables->kids[0]->str, "a.*");
	assert_string_equal(dm_tree_get(tables->kids[1], "tbl")->str, "t");
	dm_tree_free(root);
}

static void test_positions(void **state)
{
	(void)state;
	dm_node *root = parse_ok(master_toml);
	dm_node *name = dm_tree_get(root, "name");
	assert_int_equal(name->line, 2);
	assert_int_equal(name->col, 8);
	dm_node *server = dm_tree_get(root, "server");
	assert_int_equal(server->line, 5);
	assert_int_equal(server->col, 1);
	dm_node *workers = dm_tree_get(server, "workers");
	assert_int_equal(workers->line, 7);
	assert_int_equal(workers->col, 13);
	dm_node *src2 = dm_tree_get(root, "source")->kids[1];
	assert_int_equal(src2->line, 15);
	dm_node *tables = dm_tree_get(src2, "tables");
	assert_int_equal(tables->line, 17);
	assert_int_equal(tables->col, 10);
	assert_int_equal(tables->kids[1]->col, 18);
	dm_tree_free(root);

	/* Columns count characters, not bytes. */
	root = parse_ok("s = \"\xc3\xa9t\xc3\xa9\" # caf\xc3\xa9\n\"\xc3\xa9\" = 1\nt = 2");
	assert_int_equal(dm_tree_get(root, "\xc3\xa9")->col, 7);
	dm_node *t = dm_tree_get(root, "t");
	assert_int_equal(t->line, 3);
	assert_int_equal(t->col, 5);
	dm_tree_free(root);
}

static void test_strings_and_nul(void **state)
{
	(void)state;
	dm_node *root = parse_ok("a = \"x\\u0000y\"\n"
	                         "\"k\\u0000\" = 1\n"
	                         "b = '''\nraw \\n'''\n"
	                         "c = \"\"\"\\\n   joined\"\"\"\n");
	dm_node *a = dm_tree_get(root, "a");
	assert_int_equal(a->len, 3);
	assert_memory_equal(a->str, "x\0y", 3);
	assert_non_null(dm_tree_get(root, "k\xC0\x80"));
	assert_string_equal(dm_tree_get(root, "b")->str, "raw \\n");
	assert_string_equal(dm_tree_get(root, "c")->str, "joined");
	dm_tree_free(root);
}

static void expect_error(const char *text, const char *want)
{
	dm_node *root = NULL;
	dm_err err;
	dm_err_clear(&err);
	assert_int_equal(dm_toml_parse(text, strlen(text), "dm-master.toml", &root, &err), -1);
	assert_null(root);
	assert_int_equal(err.code, DM_EINVAL);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err.msg, want);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("name = 1\nname = 2\n", "dm-master.toml:2:1: duplicate key \"name\"");
	expect_error("a = 1\nb = \"open\n", "dm-master.toml:2:5: unterminated string");
	expect_error("x = 1\n\ns = \"bad \\q escape\"\n", "dm-master.toml:3:10: invalid escape");
	expect_error("[server]\naddr \"x\"\n",
	             "dm-master.toml:2:6: expected '=' after key \"addr\"");
	expect_error("[a]\n[a]\n", "dm-master.toml:2:2: cannot define table \"a\"");
	expect_error("i = 9223372036854775808\n", "dm-master.toml:1:5: integer does not fit");
	expect_error("d = 2023-02-29\n", "dm-master.toml:1:5: invalid date");
	expect_error("t = {a = 1}\nt.b = 2\n", "dm-master.toml:2:1: cannot add keys to \"t\"");
	expect_error("a = 1 b = 2\n", "dm-master.toml:1:7: expected a newline");
	/* Errors deep inside containers free what was built so far. */
	expect_error("a = [{b = [1, 2, {c = \"x\"}]}, [3, \"open", "unterminated string");
}

static void test_depth_limit(void **state)
{
	(void)state;
	size_t n = DM_TOML_MAX_DEPTH + 1;
	char *text = malloc(2 * n + 8);
	for (int ok = 1; ok >= 0; ok--) {
		size_t depth = ok ? n - 1 : n, o = 0;
		memcpy(text, "a = ", 4);
		o = 4;
		memset(text + o, '[', depth);
		o += depth;
		memset(text + o, ']', depth);
		o += depth;
		text[o] = '\0';
		dm_node *root = NULL;
		dm_err err;
		dm_err_clear(&err);
		int rc = dm_toml_parse(text, o, "deep.toml", &root, &err);
		if (ok) {
			assert_int_equal(rc, 0);
			dm_tree_free(root);
		} else {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err.msg, "nesting deeper than 128"));
		}
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_master_document), cmocka_unit_test(test_positions),
	        cmocka_unit_test(test_strings_and_nul), cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_depth_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
