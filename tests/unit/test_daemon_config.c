#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/mem.h"
#include "config/daemon.h"
#include "tls/pki.h"

static char dir[] = "/tmp/dm-cfg-XXXXXX";

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

/* Writes text to <dir>/name and returns "--config=<path>" (caller frees). */
static char *config_flag(const char *name, const char *text)
{
	char *path = dm_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	char *flag = dm_xasprintf("--config=%s", path);
	free(path);
	return flag;
}

static void test_master_defaults_file_and_flags(void **state)
{
	(void)state;
	char *cfgflag = config_flag("dm-master.toml", "name = \"master1\"\n"
	                                              "master-addr = \"127.0.0.1:18261\"\n"
	                                              "log-level = \"debug\"\n"
	                                              "openapi = true\n");
	char *argv[] = {"dm-master", cfgflag, "--log-format=json", "-data-dir", "/tmp/x"};
	dm_master_config cfg;
	dm_err err;
	assert_int_equal(dm_master_config_load(&cfg, 5, argv, &err), 0);
	assert_string_equal(cfg.c.name, "master1");
	assert_string_equal(cfg.master_addr, "127.0.0.1:18261");
	assert_string_equal(cfg.c.advertise_addr, "127.0.0.1:18261");
	assert_int_equal(cfg.c.log_level_v, DM_LOG_DEBUG);
	assert_int_equal(cfg.c.log_format_v, DM_LOG_JSON);
	assert_string_equal(cfg.data_dir, "/tmp/x");
	assert_int_equal(cfg.c.tls_mode_v, DM_TLS_OFF);
	dm_master_config_fini(&cfg);
	free(cfgflag);

	char *argv2[] = {"dm-master", "--name=m2"};
	assert_int_equal(dm_master_config_load(&cfg, 2, argv2, &err), 0);
	assert_string_equal(cfg.data_dir, "default.m2");
	dm_master_config_fini(&cfg);
}

static void expect_master_error(const char *toml, const char *flag, const char *want)
{
	char *cfgflag = config_flag("dm-master.toml", toml);
	char *argv[] = {"dm-master", cfgflag, (char *)flag};
	dm_master_config cfg;
	dm_err err;
	assert_int_equal(dm_master_config_load(&cfg, flag ? 3 : 2, argv, &err), -1);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err.msg, want);
	free(cfgflag);
}

static void test_master_errors(void **state)
{
	(void)state;
	expect_master_error("name = \"a\"\n\n\n\n\n\nssl-cert-path = \"x\"\n", NULL,
	                    "dm-master.toml:7: unknown key \"ssl-cert-path\"");
	expect_master_error("master-addr = \"127.0.0.1:99999\"\n", NULL,
	                    "dm-master.toml:1: \"master-addr\": address \"127.0.0.1:99999\": port "
	                    "must be an integer 1-65535");
	expect_master_error("peer-urls = \"http://127.0.0.1:8291\"\n", NULL,
	                    "dm-master.toml:1: \"peer-urls\" is not supported by dm");
	expect_master_error("name = 7\n", NULL,
	                    "dm-master.toml:1: \"name\" must be a string, found integer");
	expect_master_error("name = \"a\"\n", "--log-level=loud", "command line --log-level");
	expect_master_error(
	        "master-addr = \"0.0.0.0:8261\"\n", NULL,
	        "master-addr 0.0.0.0:8261 is not a loopback address and no TLS is configured");
	expect_master_error("ssl-cert = \"/x/cert.pem\"\n", NULL, "ssl-key");
	expect_master_error("tls-mode = \"sometimes\"\n", NULL, "\"sometimes\"");
	expect_master_error("name = \"a\"\nname = \"b\"\n", NULL, "dm-master.toml:2");

	char *argv[] = {"dm-master", "--config=/nonexistent/dm-master.toml"};
	dm_master_config cfg;
	dm_err err;
	assert_int_equal(dm_master_config_load(&cfg, 2, argv, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/dm-master.toml"));
}

static void test_worker_with_tls(void **state)
{
	(void)state;
	char *ca = dm_xasprintf("%s/ca.pem", dir), *cakey = dm_xasprintf("%s/ca.key", dir);
	char *crt = dm_xasprintf("%s/w.pem", dir), *key = dm_xasprintf("%s/w.key", dir);
	dm_err err;
	assert_int_equal(dm_pki_create_ca("dm-ca", 3650, ca, cakey, &err), 0);
	const char *sans[] = {"127.0.0.1", "localhost"};
	dm_pki_issue_opts o = {.ca_cert_path = ca,
	                       .ca_key_path = cakey,
	                       .cn = "dm-worker",
	                       .sans = sans,
	                       .n_sans = 2,
	                       .days = 30,
	                       .cert_path = crt,
	                       .key_path = key};
	assert_int_equal(dm_pki_issue(&o, &err), 0);
	char *toml = dm_xasprintf(
	        "name = \"w1\"\nworker-addr = \"0.0.0.0:8262\"\n"
	        "advertise-addr = \"127.0.0.1:8262\"\njoin = \"127.0.0.1:8261,127.0.0.1:8361\"\n"
	        "keepalive-ttl = 5\nssl-ca = \"%s\"\nssl-cert = \"%s\"\nssl-key = \"%s\"\n"
	        "# cert-allowed-cn defaults to [\"dm-master\"] with TLS on\n",
	        ca, crt, key);
	char *cfgflag = config_flag("dm-worker.toml", toml);
	char *argv[] = {"dm-worker", cfgflag};
	dm_worker_config cfg;
	assert_int_equal(dm_worker_config_load(&cfg, 2, argv, &err), 0);
	assert_int_equal(cfg.c.tls_mode_v, DM_TLS_STRICT);
	assert_int_equal(cfg.join.n, 2);
	assert_int_equal(cfg.keepalive_ttl, 5);
	assert_true(dm_strlist_has(&cfg.c.cert_allowed_cn, "dm-master"));
	dm_tls_settings s;
	dm_tls_settings_init(&s);
	dm_daemon_tls_settings(&cfg.c, &s);
	assert_string_equal(s.cert_file, crt);
	assert_int_equal(s.n_allowed_cn, 1);
	dm_tls *t = dm_tls_new(&s, DM_TLS_SERVER, &err);
	assert_non_null(t);
	dm_tls_free(t);
	assert_true(cfg.c.tls_client_v);
	dm_daemon_client_tls_settings(&cfg.c, &s);
	assert_int_equal(s.mode, DM_TLS_STRICT);
	dm_tls_settings_fini(&s);
	dm_worker_config_fini(&cfg);

	/* tls-client: permissive servers whose own calls stay plaintext (the
	 * first step of rolling TLS on), and what contradicts the mode. */
	char *argv_p[] = {"dm-worker", cfgflag, "--tls-mode=permissive", "--tls-client=off"};
	assert_int_equal(dm_worker_config_load(&cfg, 4, argv_p, &err), 0);
	assert_int_equal(cfg.c.tls_mode_v, DM_TLS_PERMISSIVE);
	assert_false(cfg.c.tls_client_v);
	dm_tls_settings_init(&s);
	dm_daemon_client_tls_settings(&cfg.c, &s);
	assert_int_equal(s.mode, DM_TLS_OFF);
	dm_tls_settings_fini(&s);
	dm_worker_config_fini(&cfg);
	char *argv_on[] = {"dm-worker", cfgflag, "--tls-mode=permissive", "--tls-client=on"};
	assert_int_equal(dm_worker_config_load(&cfg, 4, argv_on, &err), 0);
	assert_true(cfg.c.tls_client_v);
	dm_worker_config_fini(&cfg);
	char *argv_bad[] = {"dm-worker", cfgflag, "--tls-client=off"};
	assert_int_equal(dm_worker_config_load(&cfg, 3, argv_bad, &err), -1);
	assert_non_null(strstr(err.msg, "tls-client \"off\" contradicts tls-mode strict"));
	char *argv_bad2[] = {"dm-worker", cfgflag, "--tls-client=maybe"};
	assert_int_equal(dm_worker_config_load(&cfg, 3, argv_bad2, &err), -1);
	assert_non_null(strstr(err.msg, "\"maybe\""));
	free(cfgflag);

	char *argv2[] = {"dm-worker", "--keepalive-ttl=0"};
	assert_int_equal(dm_worker_config_load(&cfg, 2, argv2, &err), -1);
	assert_non_null(strstr(err.msg, "keepalive-ttl"));
	char *argv3[] = {"dm-worker"};
	assert_int_equal(dm_worker_config_load(&cfg, 1, argv3, &err), -1);
	assert_non_null(strstr(err.msg, "\"join\" is empty"));
	free(toml);
	free(ca);
	free(cakey);
	free(crt);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_master_defaults_file_and_flags),
	        cmocka_unit_test(test_master_errors),
	        cmocka_unit_test(test_worker_with_tls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
