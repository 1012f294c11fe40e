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
#include "cluster/conf.h"
#include "cluster/meta.h"
#include "cluster/topo.h"

static dm_topo *parse_ok(const char *text)
{
	dm_topo *t = NULL;
	dm_err err;
	if (dm_topo_parse(text, strlen(text), "topo.yaml", &t, &err) < 0)
		fail_msg("parse: %s", err.msg);
	return t;
}

/* Parses text, expects a failure whose message contains every string of
 * the NULL-ended list. */
static void parse_fails(const char *text, ...)
{
	dm_topo *t = (dm_topo *)0x1;
	dm_err err;
	assert_int_equal(dm_topo_parse(text, strlen(text), "topo.yaml", &t, &err), -1);
	assert_ptr_equal(t, (dm_topo *)0x1);
	va_list ap;
	va_start(ap, text);
	for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
		if (strstr(err.msg, want) == NULL)
			fail_msg("\"%s\" not in \"%s\"", want, err.msg);
	va_end(ap);
}

static const char full[] = "global:\n"
                           "  deploy_dir: /srv/dm\n"
                           "  enable_tls: true\n"
                           "master_servers:\n"
                           "  - host: 127.0.0.1\n"
                           "    port: 8261\n"
                           "    name: m1\n"
                           "    config:\n"
                           "      log-level: debug\n"
                           "worker_servers:\n"
                           "  - host: localhost\n"
                           "    port: 8262\n"
                           "    name: w1\n"
                           "    config:\n"
                           "      keepalive-ttl: 5\n"
                           "      log-format: \"json\"\n"
                           "  - host: \"::1\"\n"
                           "    port: 8263\n";

static void test_parse_full(void **state)
{
	(void)state;
	dm_topo *t = parse_ok(full);
	assert_string_equal(t->deploy_dir, "/srv/dm");
	assert_string_equal(t->data_dir, "data");
	assert_null(t->user);
	assert_true(t->enable_tls);
	assert_int_equal(t->ninsts, 3);
	assert_int_equal(t->nmasters, 1);
	const dm_topo_inst *m = &t->insts[0], *w1 = &t->insts[1], *w2 = &t->insts[2];
	assert_int_equal(m->role, DM_TOPO_MASTER);
	assert_string_equal(m->name, "m1");
	assert_int_equal(m->port, 8261);
	assert_int_equal(m->nconfig, 1);
	assert_string_equal(m->config[0].key, "log-level");
	assert_string_equal(m->config[0].toml, "\"debug\"");
	assert_int_equal(w1->role, DM_TOPO_WORKER);
	assert_int_equal(w1->nconfig, 2);
	assert_string_equal(w1->config[0].toml, "5");
	assert_string_equal(w1->config[1].toml, "\"json\"");
	/* A missing name is made from role and port. */
	assert_string_equal(w2->name, "dm-worker-8263");
	char *a = dm_topo_inst_addr(w1);
	assert_string_equal(a, "127.0.0.1:8262"); /* daemons do not resolve names */
	free(a);
	a = dm_topo_inst_addr(w2);
	assert_string_equal(a, "[::1]:8263");
	free(a);
	char *d = dm_topo_inst_dir(t, w1);
	assert_string_equal(d, "/srv/dm/dm-worker-8262");
	free(d);
	d = dm_topo_inst_data_dir(t, m);
	assert_string_equal(d, "/srv/dm/dm-master-8261/data");
	free(d);
	assert_ptr_equal(dm_topo_find(t, "w1"), w1);
	assert_null(dm_topo_find(t, "nope"));
	dm_topo_free(t);
}

static void test_defaults_and_paths(void **state)
{
	(void)state;
	dm_topo *t = parse_ok("global:\n"
	                      "  deploy_dir: rel/dir/\n"
	                      "  data_dir: /data\n"
	                      "master_servers:\n"
	                      "  - {host: 127.0.0.5, port: 9000}\n");
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	char *want = dm_xasprintf("%s/rel/dir", cwd);
	assert_string_equal(t->deploy_dir, want);
	free(want);
	assert_false(t->enable_tls);
	assert_int_equal(t->ninsts, 1);
	char *d = dm_topo_inst_data_dir(t, &t->insts[0]);
	assert_string_equal(d, "/data/dm-master-9000");
	free(d);
	dm_topo_free(t);
}

static void test_strictness(void **state)
{
	(void)state;
	parse_fails("global:\n  deploy_dir: /x\n  colour: blue\n"
	            "master_servers:\n  - {host: 127.0.0.1, port: 1}\n",
	            "topo.yaml:3:", "unknown key \"colour\"", "global", NULL);
	parse_fails("global:\n  deploy_dir: /x\n"
	            "master_servers:\n  - host: 127.0.0.1\n    port: 1\n    hots: x\n",
	            "topo.yaml:6:", "master_servers[0]", "unknown key \"hots\"", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 1}\n"
	            "pd_servers: []\n",
	            "topo.yaml:5:", "unknown key \"pd_servers\"", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 1}\n"
	            "server_configs: {}\n",
	            "server_configs", "not supported", NULL);
	/* Missing fields. */
	parse_fails("master_servers:\n  - {host: 127.0.0.1, port: 1}\n", "missing \"global\"",
	            NULL);
	parse_fails("global:\n  data_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 1}\n",
	            "topo.yaml:2:", "missing \"deploy_dir\"", NULL);
	parse_fails("global:\n  deploy_dir: /x\n", "missing \"master_servers\"", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n  - port: 1\n",
	            "topo.yaml:4:", "master_servers[0]", "missing \"host\"", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 1}\n"
	            "worker_servers:\n  - host: 127.0.0.1\n",
	            "topo.yaml:6:", "worker_servers[0]", "missing \"port\"", NULL);
	/* Wrong types and values. */
	parse_fails(
	        "global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 70000}\n",
	        "port: expected an integer 1-65535", NULL);
	parse_fails("global:\n  deploy_dir: /x\n  enable_tls: yes please\n"
	            "master_servers:\n  - {host: 127.0.0.1, port: 1}\n",
	            "topo.yaml:3:", "enable_tls: expected true or false", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 1, "
	            "name: \"a b\"}\n",
	            "name \"a b\"", NULL);
	parse_fails("global: [1]\nmaster_servers: []\n", "global: expected a map", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n"
	            "  - {host: 127.0.0.1, port: 1}\n  - {host: 127.0.0.1, port: 2}\n",
	            "exactly one master", NULL);
	/* YAML's own strictness: duplicate keys. */
	parse_fails("global:\n  deploy_dir: /x\n  deploy_dir: /y\n", "topo.yaml:3", NULL);
}

static void test_duplicates(void **state)
{
	(void)state;
	parse_fails(
	        "global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 8261}\n"
	        "worker_servers:\n"
	        "  - {host: 127.0.0.1, port: 8262, name: w1}\n"
	        "  - {host: 127.0.0.1, port: 8262, name: w2}\n",
	        "topo.yaml:7:", "worker_servers[1]", "127.0.0.1:8262",
	        "already used by dm-worker \"w1\" (line 6)", NULL);
	/* The same port on another loopback name is the same machine. */
	parse_fails(
	        "global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 8261}\n"
	        "worker_servers:\n  - {host: localhost, port: 8261}\n",
	        "topo.yaml:6:", "port 8261 is already used by dm-master", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n"
	            "  - {host: 127.0.0.1, port: 8261, name: x}\n"
	            "worker_servers:\n  - {host: 127.0.0.1, port: 8262, name: x}\n",
	            "topo.yaml:6:", "duplicate name \"x\"", "line 4", NULL);
}

static void test_hosts(void **state)
{
	(void)state;
	assert_true(dm_topo_host_is_loopback("127.0.0.1"));
	assert_true(dm_topo_host_is_loopback("127.255.0.9"));
	assert_true(dm_topo_host_is_loopback("::1"));
	assert_true(dm_topo_host_is_loopback("localhost"));
	assert_false(dm_topo_host_is_loopback("0.0.0.0"));
	assert_false(dm_topo_host_is_loopback("10.0.0.1"));
	assert_false(dm_topo_host_is_loopback("::"));
	assert_false(dm_topo_host_is_loopback("db.example.com"));
	assert_false(dm_topo_host_is_loopback("128.0.0.1"));
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 10.0.0.1, port: 1}\n",
	            "topo.yaml:4:", "host 10.0.0.1: remote hosts are not supported yet", "loopback",
	            NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 1}\n"
	            "worker_servers:\n  - {host: dm-w1.internal, port: 2}\n",
	            "host dm-w1.internal: remote hosts are not supported yet", NULL);
}

static void test_config_keys(void **state)
{
	(void)state;
	dm_topo *t = parse_ok("global:\n  deploy_dir: /x\nmaster_servers:\n"
	                      "  - host: 127.0.0.1\n    port: 1\n    config:\n"
	                      "      rpc-timeout: 30s\n      tls-min-version: \"1.3\"\n"
	                      "worker_servers:\n  - host: 127.0.0.1\n    port: 2\n"
	                      "    config: {keepalive-ttl: 10}\n");
	assert_string_equal(t->insts[0].config[1].toml, "\"1.3\"");
	dm_topo_free(t);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n"
	            "  - host: 127.0.0.1\n    port: 1\n    config:\n      log-levle: debug\n",
	            "topo.yaml:7:", "master_servers[0].config.log-levle",
	            "not a dm-master.toml key", NULL);
	/* A worker key on a master. */
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n"
	            "  - host: 127.0.0.1\n    port: 1\n    config:\n      keepalive-ttl: 3\n",
	            "topo.yaml:7:", "not a dm-master.toml key", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n  - {host: 127.0.0.1, port: 1}\n"
	            "worker_servers:\n  - host: 127.0.0.1\n    port: 2\n    config:\n"
	            "      keepalive-ttl: 0\n",
	            "topo.yaml:9:", "worker_servers[0].config.keepalive-ttl", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n"
	            "  - host: 127.0.0.1\n    port: 1\n    config:\n      ssl-cert: /c.pem\n",
	            "topo.yaml:7:", "dm-cluster writes \"ssl-cert\" itself", NULL);
	parse_fails("global:\n  deploy_dir: /x\nmaster_servers:\n"
	            "  - host: 127.0.0.1\n    port: 1\n    config:\n      log-level: {a: 1}\n",
	            "expected a string, number, boolean", NULL);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(dm_topo_check_name("n", "prod-1.a_b", NULL), 0);
	assert_int_equal(dm_topo_check_name("n", "", NULL), -1);
	assert_int_equal(dm_topo_check_name("n", ".hidden", NULL), -1);
	assert_int_equal(dm_topo_check_name("n", "-x", NULL), -1);
	assert_int_equal(dm_topo_check_name("n", "a/b", NULL), -1);
	assert_int_equal(dm_topo_check_name("n", "..", NULL), -1);
}

/* Config generation: one function for every tls-mode. */
static void test_render(void **state)
{
	(void)state;
	dm_topo *t = parse_ok(full);
	dm_cluster_meta *m = dm_cluster_meta_new("/home", "c1", t, "/bin");
	m->tls.pki = true;
	char *c = dm_cluster_conf_render(m, &t->insts[0], DM_TLS_OFF, false);
	assert_non_null(strstr(c, "name = \"m1\"\n"));
	assert_non_null(strstr(c, "master-addr = \"127.0.0.1:8261\"\n"));
	assert_non_null(strstr(c, "data-dir = \"/srv/dm/dm-master-8261/data\"\n"));
	assert_non_null(strstr(c, "log-level = \"debug\"\n"));
	assert_non_null(strstr(c, "tls-mode = \"off\"\n"));
	assert_null(strstr(c, "ssl-"));
	free(c);
	c = dm_cluster_conf_render(m, &t->insts[0], DM_TLS_STRICT, true);
	assert_non_null(strstr(c, "tls-mode = \"strict\"\n"));
	assert_null(strstr(c, "tls-client"));
	assert_non_null(strstr(c, "ssl-ca = \"/srv/dm/dm-master-8261/tls/ca.pem\"\n"));
	assert_non_null(strstr(c, "ssl-key = \"/srv/dm/dm-master-8261/tls/key.pem\"\n"));
	assert_non_null(
	        strstr(c, "cert-allowed-cn = [\"dm-master\", \"dm-worker\", \"dm-client\"]\n"));
	free(c);
	c = dm_cluster_conf_render(m, &t->insts[2], DM_TLS_PERMISSIVE, false);
	assert_non_null(strstr(c, "worker-addr = \"[::1]:8263\"\n"));
	assert_non_null(strstr(c, "join = \"127.0.0.1:8261\"\n"));
	assert_non_null(strstr(c, "tls-mode = \"permissive\"\n"));
	assert_non_null(strstr(c, "cert-allowed-cn = [\"dm-master\"]\n"));
	assert_non_null(strstr(c, "tls-client = \"off\"\n"));
	assert_null(strstr(c, "ca.key"));
	free(c);
	dm_cluster_meta_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_parse_full), cmocka_unit_test(test_defaults_and_paths),
	        cmocka_unit_test(test_strictness), cmocka_unit_test(test_duplicates),
	        cmocka_unit_test(test_hosts),      cmocka_unit_test(test_config_keys),
	        cmocka_unit_test(test_names),      cmocka_unit_test(test_render),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
