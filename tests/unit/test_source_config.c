#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/source.h"
#include "mysql/conn.h"

static char dir[] = "/tmp/dm-srccfg-XXXXXX";

static const char *fake_ca = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
static const char *fake_cert = "-----BEGIN CERTIFICATE-----\nMIIBcl\n-----END CERTIFICATE-----\n";
/* Split so the repository holds nothing that looks like a committed key. */
static const char *fake_key = "-----BEGIN PRIV"
                              "ATE KEY-----\nS3CR3Tk3y\n-----END PRIV"
                              "ATE KEY-----\n";

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

static char *write_file(const char *name, const char *text)
{
	char *path = dm_xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void expect_contains(const char *msg, const char *want)
{
	if (strstr(msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", msg, want);
}

static void expect_file_error(const char *name, const char *want)
{
	char *path = data_path(name);
	dm_source_config cfg;
	dm_err err;
	assert_int_equal(dm_source_config_load_file(path, &cfg, &err), -1);
	expect_contains(err.msg, want);
	free(path);
}

static void expect_text_error(const char *yaml, const char *want)
{
	dm_source_config cfg;
	dm_err err;
	assert_int_equal(dm_source_config_load_text(yaml, strlen(yaml), "source.yaml", &cfg, &err),
	                 -1);
	expect_contains(err.msg, want);
}

static void expect_json_error(const char *json, const char *want)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je);
	assert_non_null(j);
	dm_source_config cfg;
	dm_err err;
	assert_int_equal(dm_source_config_from_json(j, &cfg, &err), -1);
	expect_contains(err.msg, want);
	json_decref(j);
}

static void test_load_example(void **state)
{
	(void)state;
	char *path = data_path("source-example.yaml");
	dm_source_config cfg;
	dm_err err;
	if (dm_source_config_load_file(path, &cfg, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.source_id, "mysql-replica-01");
	assert_true(cfg.enable);
	assert_true(cfg.enable_gtid);
	assert_string_equal(cfg.flavor, "mysql");
	assert_int_equal(cfg.server_id, 429496);
	assert_false(cfg.case_sensitive);
	assert_string_equal(cfg.from.host, "127.0.0.1");
	assert_int_equal(cfg.from.port, 3306);
	assert_string_equal(cfg.from.user, "dm_user");
	assert_string_equal(cfg.from.password, "Pa55w0rd!");
	/* Paths are kept as written; nothing is read yet. */
	assert_string_equal(cfg.from.security.ssl_ca, "certs/ca.pem");
	assert_string_equal(cfg.from.security.ssl_cert, "certs/client.pem");
	assert_string_equal(cfg.from.security.ssl_key, "certs/client.key");
	assert_null(cfg.from.security.ca_pem);
	assert_null(cfg.from.security.key_pem);
	assert_int_equal(cfg.from.security.cert_allowed_cn.n, 1);
	assert_string_equal(cfg.from.security.cert_allowed_cn.items[0], "mysql-server");
	dm_source_config_fini(&cfg);
	free(path);

	path = data_path("source-minimal.yaml");
	if (dm_source_config_load_file(path, &cfg, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.source_id, "mariadb-01");
	assert_null(cfg.flavor);
	assert_int_equal(cfg.server_id, 0);
	assert_int_equal(cfg.from.port, 3306);
	assert_string_equal(cfg.from.password, "123456"); /* a plain YAML integer */
	assert_null(cfg.from.security.ssl_ca);
	dm_db_config db;
	dm_db_config_init(&db);
	dm_source_config_to_db_config(&cfg, &db);
	assert_string_equal(db.host, "10.0.0.5");
	assert_int_equal(db.port, 3306);
	assert_true(dm_tls_settings_empty(&db.security));
	dm_db_config_fini(&db);
	dm_source_config_fini(&cfg);
	free(path);
}

static json_t *round_trip(const dm_source_config *cfg, dm_source_config *back)
{
	json_t *j = dm_source_config_to_json(cfg, true);
	dm_err err;
	if (dm_source_config_from_json(j, back, &err) < 0)
		fail_msg("%s", err.msg);
	return j;
}

static void test_json_round_trip(void **state)
{
	(void)state;
	char *path = data_path("source-example.yaml");
	dm_source_config cfg, back;
	dm_err err;
	assert_int_equal(dm_source_config_load_file(path, &cfg, &err), 0);
	json_t *j = round_trip(&cfg, &back);
	assert_string_equal(json_string_value(json_object_get(j, "source_name")),
	                    "mysql-replica-01");
	assert_true(json_is_true(json_object_get(j, "enable_gtid")));
	assert_string_equal(json_string_value(json_object_get(j, "flavor")), "mysql");
	json_t *j2 = dm_source_config_to_json(&back, true);
	assert_true(json_equal(j, j2));
	assert_string_equal(back.source_id, cfg.source_id);
	assert_string_equal(back.from.password, cfg.from.password);
	assert_string_equal(back.from.security.ssl_key, "certs/client.key");
	assert_int_equal(back.server_id, cfg.server_id);
	assert_int_equal(back.from.security.cert_allowed_cn.n, 1);

	/* Copy gives the same value. */
	dm_source_config copy;
	dm_source_config_init(&copy);
	dm_source_config_copy(&copy, &back);
	json_t *j3 = dm_source_config_to_json(&copy, true);
	assert_true(json_equal(j, j3));
	json_decref(j);
	json_decref(j2);
	json_decref(j3);
	dm_source_config_fini(&copy);
	dm_source_config_fini(&back);
	dm_source_config_fini(&cfg);
	free(path);
}

static char *tls_yaml(void)
{
	char *ca = write_file("ca.pem", fake_ca);
	char *cert = write_file("client.pem", fake_cert);
	char *key = write_file("client.key", fake_key);
	char *y = dm_xasprintf("source-id: tls-src\n"
	                       "from:\n"
	                       "  host: db.example\n"
	                       "  user: dm\n"
	                       "  password: \"Pa55w0rd!\"\n"
	                       "  security:\n"
	                       "    ssl-ca: %s\n"
	                       "    ssl-cert: %s\n"
	                       "    ssl-key: %s\n",
	                       ca, cert, key);
	free(ca);
	free(cert);
	free(key);
	return y;
}

static void test_load_pem_and_secrets(void **state)
{
	(void)state;
	char *y = tls_yaml();
	dm_source_config cfg, back;
	dm_err err;
	assert_int_equal(dm_source_config_load_text(y, strlen(y), "source.yaml", &cfg, &err), 0);
	if (dm_source_config_load_pem(&cfg, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(cfg.from.security.ca_pem, fake_ca);
	assert_string_equal(cfg.from.security.cert_pem, fake_cert);
	assert_string_equal(cfg.from.security.key_pem, fake_key);

	/* With secrets: what dmctl sends. */
	json_t *j = dm_source_config_to_json(&cfg, true);
	json_t *sec = json_object_get(j, "security");
	assert_string_equal(json_string_value(json_object_get(sec, "ssl_key_content")), fake_key);
	assert_string_equal(json_string_value(json_object_get(sec, "ssl_ca_content")), fake_ca);
	assert_string_equal(json_string_value(json_object_get(j, "password")), "Pa55w0rd!");
	assert_int_equal(dm_source_config_from_json(j, &back, &err), 0);
	assert_string_equal(back.from.security.key_pem, fake_key);
	dm_db_config db;
	dm_db_config_init(&db);
	dm_source_config_to_db_config(&back, &db);
	/* Content wins over the path: the path may not exist on the worker. */
	assert_string_equal(db.security.key_pem, fake_key);
	assert_null(db.security.key_file);
	assert_string_equal(db.security.ca_pem, fake_ca);
	assert_string_equal(db.password, "Pa55w0rd!");
	dm_db_config_fini(&db);
	dm_source_config_fini(&back);
	json_decref(j);

	/* Without secrets: no password, no key, no placeholder of either. */
	j = dm_source_config_to_json(&cfg, false);
	char *text = json_dumps(j, 0);
	assert_null(json_object_get(j, "password"));
	assert_null(json_object_get(json_object_get(j, "security"), "ssl_key_content"));
	assert_non_null(json_object_get(json_object_get(j, "security"), "ssl_cert_content"));
	assert_null(strstr(text, "Pa55w0rd!"));
	assert_null(strstr(text, "S3CR3Tk3y"));
	assert_null(strstr(text, "******"));
	free(text);
	json_decref(j);
	dm_source_config_fini(&cfg);
	free(y);
}

static void test_load_pem_errors(void **state)
{
	(void)state;
	dm_source_config cfg;
	dm_err err;
	char *y = dm_xasprintf("source-id: s\nfrom:\n  host: h\n  user: u\n  security:\n"
	                       "    ssl-ca: %s/missing-ca.pem\n",
	                       dir);
	assert_int_equal(dm_source_config_load_text(y, strlen(y), "source.yaml", &cfg, &err), 0);
	assert_int_equal(dm_source_config_load_pem(&cfg, &err), -1);
	expect_contains(err.msg, "from.security.ssl-ca");
	expect_contains(err.msg, "missing-ca.pem");
	dm_source_config_fini(&cfg);
	free(y);

	char *junk = write_file("junk.pem", "not a certificate\n");
	y = dm_xasprintf("source-id: s\nfrom:\n  host: h\n  user: u\n  security:\n"
	                 "    ssl-ca: %s\n",
	                 junk);
	assert_int_equal(dm_source_config_load_text(y, strlen(y), "source.yaml", &cfg, &err), 0);
	assert_int_equal(dm_source_config_load_pem(&cfg, &err), -1);
	expect_contains(err.msg, "from.security.ssl-ca");
	expect_contains(err.msg, "no PEM data");
	dm_source_config_fini(&cfg);
	free(y);
	free(junk);
}

static void test_file_errors(void **state)
{
	(void)state;
	expect_file_error("source-unknown-key.yaml",
	                  "source-unknown-key.yaml:7: unknown key \"ssl-cert-path\"");
	expect_file_error("source-relay.yaml", "source-relay.yaml:3: \"enable-relay\" true is not "
	                                       "supported by dm: dm reads the binlog directly; "
	                                       "relay log is not supported");
	expect_file_error("source-cert-no-key.yaml",
	                  "from.security: ssl-cert is set but ssl-key is not");
	expect_file_error("source-filters.yaml", "source-filters.yaml:6: \"filters\" is not "
	                                         "supported by dm");
	expect_file_error("no-such-source.yaml", "no-such-source.yaml");

	/* The password never shows up in a message. */
	char *path = data_path("source-cert-no-key.yaml");
	dm_source_config cfg;
	dm_err err;
	assert_int_equal(dm_source_config_load_file(path, &cfg, &err), -1);
	assert_null(strstr(err.msg, "hunter2-secret"));
	free(path);
}

static void test_text_errors(void **state)
{
	(void)state;
	expect_text_error("from:\n  host: h\n  user: u\n",
	                  "source.yaml: \"source-id\" is required");
	expect_text_error("source-id: \"bad id!\"\nfrom:\n  host: h\n  user: u\n",
	                  "source.yaml:1: \"source-id\": \"bad id!\" must be 1-64 characters");
	expect_text_error("source-id: s\nflavor: oracle\nfrom:\n  host: h\n  user: u\n",
	                  "source.yaml:2: \"flavor\": \"oracle\" must be mysql, mariadb");
	expect_text_error("source-id: s\nserver-id: 4294967296\nfrom:\n  host: h\n  user: u\n",
	                  "source.yaml:2: \"server-id\" must be an integer 0-4294967295");
	expect_text_error("source-id: s\nfrom:\n  user: u\n", "\"from.host\" is required");
	expect_text_error("source-id: s\nfrom:\n  host: h\n  user: u\n  port: 0\n",
	                  "source.yaml:5: \"port\" must be an integer 1-65535");
	expect_text_error("source-id: s\nfrom:\n  host: h\n  user: u\n  security:\n"
	                  "    ssl-key: /k\n",
	                  "ssl-key is set but ssl-cert is not");
	expect_text_error("source-id: s\nfrom:\n  host: h\n  user: u\n  security:\n"
	                  "    ssl-ca-base64: AAAA\n",
	                  "source.yaml:6: \"ssl-ca-base64\" is not supported by dm");
	expect_text_error("source-id: s\nfrom:\n  host: h\n  user: u\n  session: [a]\n",
	                  "source.yaml:5: \"from.session\" must be a table");

	/* Accepted: flavor in any case, empty filters, session variables. */
	const char *ok = "source-id: s\nflavor: MariaDB\nfilters: []\nenable: false\n"
	                 "from:\n  host: h\n  user: u\n  session:\n    time_zone: \"+00:00\"\n";
	dm_source_config cfg;
	dm_err err;
	assert_int_equal(dm_source_config_load_text(ok, strlen(ok), "source.yaml", &cfg, &err), 0);
	assert_string_equal(cfg.flavor, "mariadb");
	assert_false(cfg.enable);
	assert_int_equal(cfg.from.session.keys.n, 1);
	assert_string_equal(cfg.from.session.values.items[0], "+00:00");
	dm_source_config_fini(&cfg);
}

static void test_json_errors(void **state)
{
	(void)state;
	expect_json_error("{\"source_name\":\"s\",\"host\":\"h\",\"user\":\"u\",\"x\":1}",
	                  "source: unknown key \"x\"");
	expect_json_error("{\"source_name\":\"s\",\"host\":\"h\",\"user\":\"u\","
	                  "\"security\":{\"ssl_ca\":\"x\"}}",
	                  "source.security: unknown key \"ssl_ca\"");
	expect_json_error("{\"host\":\"h\",\"user\":\"u\"}", "source: \"source_name\" is required");
	expect_json_error("{\"source_name\":\"s\",\"host\":\"h\",\"user\":\"u\",\"port\":\"3306\"}",
	                  "source: \"port\" must be an integer 1-65535");
	expect_json_error("{\"source_name\":\"s\",\"host\":\"h\",\"user\":\"u\","
	                  "\"password\":\"******\"}",
	                  "DM's placeholder for a hidden password");
	expect_json_error("{\"source_name\":\"s\",\"host\":\"h\",\"user\":\"u\","
	                  "\"relay_config\":{\"enable_relay\":true}}",
	                  "relay log is not supported");
	expect_json_error("{\"source_name\":\"s\",\"host\":\"h\",\"user\":\"u\","
	                  "\"security\":{\"ssl_cert_content\":\"-----BEGIN\"}}",
	                  "ssl-cert is set but ssl-key is not");
	expect_json_error("[1]", "source: must be a JSON object");

	/* DM clients' read-only and relay keys are accepted. */
	const char *ok = "{\"source_name\":\"s\",\"host\":\"h\",\"port\":3306,\"user\":\"u\","
	                 "\"password\":null,\"enable_gtid\":false,\"enable\":true,"
	                 "\"relay_config\":{\"enable_relay\":false},"
	                 "\"purge\":{\"interval\":3600,\"expires\":0,\"remain_space\":15},"
	                 "\"task_name_list\":[],\"status_list\":[]}";
	json_t *j = json_loads(ok, 0, NULL);
	dm_source_config cfg;
	dm_err err;
	if (dm_source_config_from_json(j, &cfg, &err) < 0)
		fail_msg("%s", err.msg);
	assert_null(cfg.from.password); /* absent: the master keeps the stored one */
	assert_true(cfg.enable);
	dm_source_config_fini(&cfg);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_load_example),         cmocka_unit_test(test_json_round_trip),
	        cmocka_unit_test(test_load_pem_and_secrets), cmocka_unit_test(test_load_pem_errors),
	        cmocka_unit_test(test_file_errors),          cmocka_unit_test(test_text_errors),
	        cmocka_unit_test(test_json_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
