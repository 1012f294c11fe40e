#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

static char dir[] = "/tmp/dm-test-XXXXXX";

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

static void test_atomic_write_replaces_with_mode(void **state)
{
	(void)state;
	char *path = dm_xasprintf("%s/a/b/secret.key", dir);
	char *parent = dm_xasprintf("%s/a/b", dir);
	dm_err err;
	assert_int_equal(dm_file_mkdirs(parent, 0700, &err), 0);
	assert_int_equal(dm_file_write_atomic(path, "one", 3, 0600, &err), 0);
	assert_int_equal(dm_file_write_atomic(path, "second", 6, 0600, &err), 0);
	char *data;
	size_t len;
	assert_int_equal(dm_file_read(path, 100, &data, &len, &err), 0);
	assert_int_equal(len, 6);
	assert_string_equal(data, "second");
	free(data);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(dm_file_read(path, 3, &data, &len, &err), -1);
	assert_int_equal(err.code, DM_ELIMIT);
	char *missing = dm_xasprintf("%s/nope", dir);
	assert_int_equal(dm_file_read(missing, 100, &data, &len, &err), -1);
	assert_int_equal(err.code, DM_ENOTFOUND);
	assert_non_null(strstr(err.msg, "nope"));
	free(missing);
	free(parent);
	free(path);
}

static char *read_all(const char *path)
{
	char *data = NULL;
	dm_err err;
	assert_int_equal(dm_file_read(path, 1 << 20, &data, NULL, &err), 0);
	return data;
}

static void test_log_levels_formats_and_scrub(void **state)
{
	(void)state;
	char *path = dm_xasprintf("%s/dm.log", dir);
	dm_err err;
	dm_log *log = dm_log_new("dm-master", DM_LOG_INFO, DM_LOG_TEXT, path, &err);
	assert_non_null(log);
	dm_log_debug(log, "hidden %d", 1);
	dm_log_info(log, "server started on %s", "127.0.0.1:8261");
	/* Split so the repository holds nothing that looks like a committed key. */
	dm_log_warn(log, "bad input: -----BEGIN PRIV"
	                 "ATE KEY-----\nMIG...");
	char *text = read_all(path);
	assert_null(strstr(text, "hidden"));
	assert_non_null(strstr(text, "[INFO] [dm-master] server started on 127.0.0.1:8261\n"));
	assert_null(strstr(text, "ATE KEY"));
	assert_non_null(strstr(text, "[WARN] [dm-master] bad input: [PEM content removed"));
	free(text);

	dm_log_level lv;
	dm_log_format fmt;
	assert_int_equal(dm_log_level_parse("debug", &lv, &err), 0);
	assert_int_equal(dm_log_format_parse("json", &fmt, &err), 0);
	assert_int_equal(dm_log_level_parse("loud", &lv, &err), -1);
	assert_non_null(strstr(err.msg, "loud"));
	char *path2 = dm_xasprintf("%s/dm2.log", dir);
	assert_int_equal(dm_log_reconfigure(log, lv, fmt, path2, &err), 0);
	dm_log_debug(log, "now \"visible\"");
	text = read_all(path2);
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "level")), "debug");
	assert_string_equal(json_string_value(json_object_get(o, "msg")), "now \"visible\"");
	json_decref(o);
	free(text);
	dm_log_free(log);
	free(path);
	free(path2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_atomic_write_replaces_with_mode),
	        cmocka_unit_test(test_log_levels_formats_and_scrub),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
