/* Binlog stream: what is refused before any network traffic, and the
 * message for an upstream that is not there. The stream itself is
 * exercised against MariaDB by tests/integration/binlog-decode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/mem.h"
#include "mysql/binlog.h"

static dm_db_config cfg;

static int setup(void **state)
{
	(void)state;
	dm_db_config_init(&cfg);
	cfg.host = dm_xstrdup("127.0.0.1");
	cfg.port = 1; /* nothing listens there */
	cfg.user = dm_xstrdup("dm");
	cfg.connect_timeout = 2;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dm_db_config_fini(&cfg);
	return 0;
}

static void refused(const dm_binlog_opts *o, const char *needle)
{
	dm_binlog *b = (dm_binlog *)0x1;
	dm_err err;
	dm_err_clear(&err);
	assert_int_equal(dm_binlog_open(o, &b, &err), -1);
	assert_ptr_equal(b, (dm_binlog *)0x1); /* not written on failure */
	if (strstr(err.msg, needle) == NULL)
		fail_msg("\"%s\" not in: %s", needle, err.msg);
}

static void test_bad_options(void **state)
{
	(void)state;
	dm_binlog_opts o = {.source = &cfg, .what = "source mysql-01", .file = "binlog.000001"};
	refused(&o, "server-id 0 is not allowed");
	o.server_id = 7;
	o.pos = 2;
	refused(&o, "inside the file header");
	o.pos = 1ULL << 32;
	refused(&o, "beyond 4 GiB");
	o.file = NULL;
	refused(&o, "no start position");
	o.gtid = "0-1-x";
	refused(&o, "domain-server-sequence");
	o.gtid = "0-1-5'; DROP TABLE t; --";
	refused(&o, "domain-server-sequence");
	o.gtid = "0-1-5";
	o.heartbeat_ms = -1;
	refused(&o, "negative");
	o.source = NULL;
	refused(&o, "no upstream connection settings");
}

static void test_unreachable_upstream(void **state)
{
	(void)state;
	dm_binlog_opts o = {.source = &cfg,
	                    .what = "source mysql-01",
	                    .server_id = 7,
	                    .file = "binlog.000001",
	                    .pos = 4,
	                    .heartbeat_ms = 1000};
	dm_binlog *b = NULL;
	dm_err err;
	assert_int_equal(dm_binlog_open(&o, &b, &err), -1);
	assert_null(b);
	assert_true(err.code == DM_ENET || err.code == DM_ETIMEOUT);
	assert_non_null(strstr(err.msg, "source mysql-01 127.0.0.1:1"));
	dm_binlog_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_bad_options),
	        cmocka_unit_test(test_unreachable_upstream),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
