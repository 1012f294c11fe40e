/* dmctl's pure helpers: the command line, names in paths, and the
 * query-status shapes. Talking to a master is covered by integration
 * scenarios. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config/source.h"
#include "ctl/ctl.h"

static void test_args_global_flags_anywhere(void **state)
{
	(void)state;
	char *argv[] = {"dmctl",
	                "-master-addr=127.0.0.1:8261",
	                "query-status",
	                "t1",
	                "--ssl-ca",
	                "ca.pem",
	                "-s",
	                "a,b",
	                "--more",
	                "--source=c",
	                "--rpc-timeout",
	                "10m",
	                "--ssl-cert=c.pem",
	                "--ssl-key",
	                "k.pem"};
	int argc = (int)(sizeof(argv) / sizeof(argv[0]));
	dm_ctl_args a;
	dm_err err;
	assert_int_equal(dm_ctl_parse_args(argc, argv, &a, &err), 0);
	assert_string_equal(a.master_addr, "127.0.0.1:8261");
	assert_string_equal(a.ssl_ca, "ca.pem");
	assert_string_equal(a.ssl_cert, "c.pem");
	assert_string_equal(a.ssl_key, "k.pem");
	assert_string_equal(a.rpc_timeout, "10m");
	assert_string_equal(a.command, "query-status");
	assert_int_equal(a.sources.n, 3);
	assert_string_equal(a.sources.items[2], "c");
	/* The command keeps its own arguments and flags, in order. */
	assert_int_equal(a.cmd_argc, 3);
	assert_string_equal(a.cmd_argv[0], "query-status");
	assert_string_equal(a.cmd_argv[1], "t1");
	assert_string_equal(a.cmd_argv[2], "--more");
	assert_false(a.help);
	dm_ctl_args_fini(&a);
}

static void test_args_errors_and_help(void **state)
{
	(void)state;
	dm_ctl_args a;
	dm_err err;
	char *unknown[] = {"dmctl", "--bogus", "query-status"};
	assert_int_equal(dm_ctl_parse_args(3, unknown, &a, &err), -1);
	assert_non_null(strstr(err.msg, "--bogus"));
	dm_ctl_args_fini(&a);

	char *missing[] = {"dmctl", "query-status", "--master-addr"};
	assert_int_equal(dm_ctl_parse_args(3, missing, &a, &err), -1);
	assert_non_null(strstr(err.msg, "needs a value"));
	dm_ctl_args_fini(&a);

	char *help[] = {"dmctl", "start-task", "-h"};
	assert_int_equal(dm_ctl_parse_args(3, help, &a, &err), 0);
	assert_true(a.help);
	assert_string_equal(a.command, "start-task");
	dm_ctl_args_fini(&a);

	/* After "--" nothing is a flag: a plaintext may start with "-". */
	char *dash[] = {"dmctl", "encrypt", "--", "-V"};
	assert_int_equal(dm_ctl_parse_args(4, dash, &a, &err), 0);
	assert_false(a.version);
	assert_int_equal(a.cmd_argc, 3);
	assert_string_equal(a.cmd_argv[1], "--");
	assert_string_equal(a.cmd_argv[2], "-V");
	dm_ctl_args_fini(&a);
}

static void test_opts(void **state)
{
	(void)state;
	bool remove_meta = false, leader = true;
	const char *worker = NULL;
	dm_strlist names = {0}, pos = {0};
	const dm_ctl_opt opts[] = {
	        {"remove-meta", 0, DM_CTL_OPT_BOOL, &remove_meta},
	        {"leader", 'l', DM_CTL_OPT_BOOL, &leader},
	        {"worker", 'w', DM_CTL_OPT_STRING, &worker},
	        {"name", 'n', DM_CTL_OPT_LIST, &names},
	        {0},
	};
	char *argv[] = {"cmd", "x",  "--remove-meta", "-leader=false",
	                "-w",  "w1", "--name=a,b",    "-n",
	                "c",   "--", "--name"};
	dm_err err;
	assert_int_equal(dm_ctl_parse_opts(opts, 11, argv, &pos, &err), 0);
	assert_true(remove_meta);
	assert_false(leader);
	assert_string_equal(worker, "w1");
	assert_int_equal(names.n, 3);
	assert_int_equal(pos.n, 2);
	assert_string_equal(pos.items[0], "x");
	assert_string_equal(pos.items[1], "--name");
	dm_strlist_fini(&pos);

	char *bad[] = {"cmd", "--nope"};
	assert_int_equal(dm_ctl_parse_opts(opts, 2, bad, &pos, &err), -1);
	assert_non_null(strstr(err.msg, "--nope"));
	char *badbool[] = {"cmd", "--leader=maybe"};
	assert_int_equal(dm_ctl_parse_opts(opts, 2, badbool, &pos, &err), -1);
	dm_strlist_fini(&pos);
	dm_strlist_fini(&names);
}

static void test_timeout(void **state)
{
	(void)state;
	long ms = 0;
	dm_err err;
	assert_int_equal(dm_ctl_parse_timeout("30", &ms, &err), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(dm_ctl_parse_timeout("10m", &ms, &err), 0);
	assert_int_equal(ms, 600000);
	assert_int_equal(dm_ctl_parse_timeout("1m30s", &ms, &err), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(dm_ctl_parse_timeout("0", &ms, &err), -1);
	assert_int_equal(dm_ctl_parse_timeout("-5", &ms, &err), -1);
	assert_int_equal(dm_ctl_parse_timeout("abc", &ms, &err), -1);
	assert_int_equal(dm_ctl_parse_timeout("100000", &ms, &err), -1);
}

static void test_names(void **state)
{
	(void)state;
	char *e = dm_ctl_escape("mysql-01_a.b~");
	assert_string_equal(e, "mysql-01_a.b~");
	free(e);
	e = dm_ctl_escape("a/b c?%");
	assert_string_equal(e, "a%2Fb%20c%3F%25");
	free(e);
	assert_true(dm_ctl_is_file("does-not-exist.yaml"));
	assert_true(dm_ctl_is_file("x.yml"));
	assert_false(dm_ctl_is_file("task-1"));
	assert_non_null(dm_ctl_find_command("query-status"));
	assert_null(dm_ctl_find_command("query"));
}

static json_t *st(const char *source, const char *worker, const char *stage, const char *expected,
                  const char *error)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", "t1", "source_name", source,
	                      "worker_name", worker, "stage", stage, "expected_stage", expected,
	                      "unit", "");
	if (error)
		json_object_set_new(o, "error_msg", json_string(error));
	return o;
}

static void expect_summary(json_t *subtasks, const char *want)
{
	char *s = dm_ctl_task_summary("t1", subtasks);
	assert_string_equal(s, want);
	free(s);
	json_decref(subtasks);
}

static void test_summary(void **state)
{
	(void)state;
	expect_summary(json_pack("[o, o]", st("a", "w1", "Running", "Running", NULL),
	                         st("b", "w2", "Running", "Running", NULL)),
	               "Running");
	expect_summary(json_pack("[o, o]", st("a", "w1", "Running", "Running", NULL),
	                         st("b", "w2", "Paused", "Paused", NULL)),
	               "Paused");
	expect_summary(json_pack("[o, o]", st("a", "w1", "New", "New", NULL),
	                         st("b", "w2", "New", "New", NULL)),
	               "New");
	expect_summary(json_pack("[o, o]", st("a", "w1", "Stopped", "Stopped", NULL),
	                         st("b", "w2", "Finished", "Finished", NULL)),
	               "Running");
	/* Not reported yet: the expected stage stands in, and the master's
	 * note is not an error. */
	expect_summary(
	        json_pack("[o]", st("a", "w1", "", "Paused", "waiting for the worker to report")),
	        "Paused");
	expect_summary(json_pack("[o, o]", st("a", "w1", "Running", "Running", NULL),
	                         st("b", "w2", "Paused", "Paused", "boom")),
	               "Error - Some error occurred in subtask. Please run `query-status t1` to "
	               "get more details.");
}

static void test_status_by_source(void **state)
{
	(void)state;
	json_t *in = json_pack("[o, o, o]", st("a", "w1", "Paused", "Paused", "e1\ne2"),
	                       st("b", "", "", "Running", "not bound"),
	                       st("a", "w1", "", "Running", "waiting"));
	json_object_set_new(json_array_get(in, 0), "sync_status",
	                    json_pack("{s:I, s:[s], s:b}", "total_events", (json_int_t)7,
	                              "blocking_ddls", "x", "synced", 1));
	bool ok = true;
	json_t *out = dm_ctl_status_by_source(in, &ok);
	assert_false(ok);
	assert_int_equal(json_array_size(out), 2);

	json_t *a = json_array_get(out, 0);
	assert_true(json_is_true(json_object_get(a, "result")));
	json_t *ss = json_object_get(a, "sourceStatus");
	assert_string_equal(json_string_value(json_object_get(ss, "worker")), "w1");
	assert_true(json_is_null(json_object_get(ss, "relayStatus")));
	json_t *subs = json_object_get(a, "subTaskStatus");
	assert_int_equal(json_array_size(subs), 2);
	json_t *s0 = json_array_get(subs, 0);
	assert_string_equal(json_string_value(json_object_get(s0, "stage")), "Paused");
	assert_string_equal(json_string_value(json_object_get(s0, "unit")), "InvalidUnit");
	json_t *errors = json_object_get(json_object_get(s0, "result"), "errors");
	assert_int_equal(json_array_size(errors), 2);
	assert_string_equal(
	        json_string_value(json_object_get(json_array_get(errors, 1), "Message")), "e2");
	json_t *sync = json_object_get(s0, "sync");
	assert_string_equal(json_string_value(json_object_get(sync, "totalEvents")), "7");
	assert_non_null(json_object_get(sync, "blockingDDLs"));
	assert_true(json_is_true(json_object_get(sync, "synced")));
	json_t *s1 = json_array_get(subs, 1);
	assert_true(json_is_null(json_object_get(s1, "result")));
	assert_string_equal(json_string_value(json_object_get(s1, "stage")), "InvalidStage");
	assert_non_null(strstr(json_string_value(json_object_get(s1, "msg")), "waiting"));

	json_t *b = json_array_get(out, 1);
	assert_true(json_is_false(json_object_get(b, "result")));
	assert_string_equal(json_string_value(json_object_get(b, "msg")), "not bound");
	assert_string_equal(
	        json_string_value(json_object_get(json_object_get(b, "sourceStatus"), "worker")),
	        "source not bound");
	json_decref(out);
	json_decref(in);
}

static void test_sample_source_loads(void **state)
{
	(void)state;
	dm_source_config cfg;
	dm_err err;
	int rc = dm_source_config_load_text(dm_ctl_sample_source, strlen(dm_ctl_sample_source),
	                                    "sample.yaml", &cfg, &err);
	if (rc < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.source_id, "mysql-replica-01");
	dm_source_config_fini(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_args_global_flags_anywhere),
	        cmocka_unit_test(test_args_errors_and_help),
	        cmocka_unit_test(test_opts),
	        cmocka_unit_test(test_timeout),
	        cmocka_unit_test(test_names),
	        cmocka_unit_test(test_summary),
	        cmocka_unit_test(test_status_by_source),
	        cmocka_unit_test(test_sample_source_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
