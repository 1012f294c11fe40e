#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "config/bind.h"
#include "config/yaml.h"

struct from {
	char *host;
	int64_t port;
	char *password;
};

struct source {
	char *source_id;
	bool enable_gtid;
	struct from from;
	dm_strlist allowed;
};

static const dm_bind_field from_fields[] = {
        {.key = "host",
         .kind = DM_BIND_STRING,
         .offset = offsetof(struct from, host),
         .def = "127.0.0.1"},
        {.key = "port",
         .kind = DM_BIND_INT,
         .offset = offsetof(struct from, port),
         .min = 1,
         .max = 65535,
         .def = "3306"},
        {.key = "password", .kind = DM_BIND_STRING, .offset = offsetof(struct from, password)},
        {0},
};

static const dm_bind_field source_fields[] = {
        {.key = "source-id", .kind = DM_BIND_STRING, .offset = offsetof(struct source, source_id)},
        {.key = "enable-gtid",
         .kind = DM_BIND_BOOL,
         .offset = offsetof(struct source, enable_gtid),
         .def = "false"},
        {.key = "from",
         .kind = DM_BIND_TABLE,
         .offset = offsetof(struct source, from),
         .sub = from_fields},
        {.key = "cert-allowed-cn",
         .kind = DM_BIND_STRLIST,
         .offset = offsetof(struct source, allowed)},
        {0},
};

static int bind_yaml(const char *text, struct source *s, dm_err *err)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(dm_bind_defaults(source_fields, s, err), 0);
	dm_node *root = NULL;
	if (dm_yaml_parse(text, strlen(text), "source.yaml", &root, err) < 0)
		return -1;
	int rc = dm_bind_tree(source_fields, root, "source.yaml", s, err);
	dm_tree_free(root);
	return rc;
}

static void test_yaml_binds_with_defaults(void **state)
{
	(void)state;
	struct source s;
	dm_err err;
	const char *y = "source-id: \"mysql-replica-01\"\n"
	                "enable-gtid: true\n"
	                "from:\n"
	                "  host: 127.0.0.1\n"
	                "  password: 123456\n"
	                "cert-allowed-cn: [dm-master, dm-client]\n";
	assert_int_equal(bind_yaml(y, &s, &err), 0);
	assert_string_equal(s.source_id, "mysql-replica-01");
	assert_true(s.enable_gtid);
	assert_string_equal(s.from.host, "127.0.0.1");
	assert_int_equal(s.from.port, 3306);
	assert_string_equal(s.from.password, "123456");
	assert_int_equal(s.allowed.n, 2);
	assert_true(dm_strlist_has(&s.allowed, "dm-client"));
	/* The command line overrides the file. */
	char *argv[] = {"prog", "--from.port=3307", "--config", "x.toml", "--source-id", "other"};
	const char *skip[] = {"config", NULL};
	assert_int_equal(dm_bind_flags(source_fields, &s, 6, argv, skip, &err), 0);
	assert_int_equal(s.from.port, 3307);
	assert_string_equal(s.source_id, "other");
	char *bad[] = {"prog", "--from.port=0"};
	assert_int_equal(dm_bind_flags(source_fields, &s, 2, bad, skip, &err), -1);
	assert_non_null(strstr(err.msg, "--from.port"));
	assert_non_null(strstr(err.msg, "1-65535"));
	dm_bind_free(source_fields, &s);
}

static void test_errors_name_file_line_key(void **state)
{
	(void)state;
	struct source s;
	dm_err err;
	assert_int_equal(bind_yaml("source-id: a\nfrom:\n  host: h\n  port: 99999\n", &s, &err),
	                 -1);
	assert_string_equal(err.msg, "source.yaml:4: \"port\" must be an integer 1-65535");
	dm_bind_free(source_fields, &s);

	assert_int_equal(bind_yaml("source-id: a\n\nssl-cert-path: x\n", &s, &err), -1);
	assert_string_equal(err.msg, "source.yaml:3: unknown key \"ssl-cert-path\"");
	dm_bind_free(source_fields, &s);

	assert_int_equal(bind_yaml("enable-gtid: maybe\n", &s, &err), -1);
	assert_string_equal(err.msg,
	                    "source.yaml:1: \"enable-gtid\" must be true or false, found string");
	dm_bind_free(source_fields, &s);

	assert_int_equal(bind_yaml("a: 1\na: 2\n", &s, &err), -1);
	assert_non_null(strstr(err.msg, "source.yaml:2:1: duplicate key \"a\""));
	dm_bind_free(source_fields, &s);

	assert_int_equal(bind_yaml("from: [1\n", &s, &err), -1);
	assert_non_null(strstr(err.msg, "source.yaml:"));
	dm_bind_free(source_fields, &s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_yaml_binds_with_defaults),
	        cmocka_unit_test(test_errors_name_file_line_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
