/* dm_mysql_connect against one real MariaDB (TLS on, require_secure_transport
 * off so every security combination can be tried on one server), and
 * dm_mysql_check_source on the same server's binlog settings. Skips (77)
 * only when mariadbd is not installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "base/mem.h"
#include "mysql/check.h"
#include "mysql/conn.h"
#include "mysql/wire.h"
#include "tls/pki.h"

#define PW_PLAIN "plain-Pw-71"
#define PW_TLS   "tls-Pw-72"
#define PW_X509  "x509-Pw-73"
#define PW_SUBJ  "subj-Pw-74"
#define PW_REPL  "repl-Pw-75"

struct fx {
	char dir[64];
	char cnf[128];
	char sock[128];
	char mariadbd[256];
	char install_db[256];
	unsigned int port;
	pid_t pid;
};

static char *in_dir(const struct fx *f, const char *name)
{
	return dm_xasprintf("%s/%s", f->dir, name);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static bool find_prog(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");
	char *dirs = dm_xasprintf("%s:/usr/sbin:/usr/bin:/sbin", path != NULL ? path : "");
	bool found = false;
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d != NULL && !found;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(out, n, "%s/%s", d, name);
		found = access(out, X_OK) == 0;
	}
	free(dirs);
	return found;
}

/* Runs argv with stdout/stderr appended to log; returns the exit status. */
static int run(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A socket bound to a kernel-chosen port on 127.0.0.1, listening if asked. */
static int bound_socket(bool do_listen, unsigned int *port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    (do_listen && listen(s, 4) < 0) || getsockname(s, (struct sockaddr *)&a, &len) < 0)
		return -1;
	*port = ntohs(a.sin_port);
	return s;
}

/* A port nobody listens on right now (the kernel picks it; the kernel
 * walks its ephemeral range, so a port it just freed is not soon reused). */
static unsigned int free_port(void)
{
	unsigned int port = 0;
	int s = bound_socket(false, &port);
	if (s >= 0)
		close(s);
	return port;
}

static void make_ca(const struct fx *f, const char *name, const char *cn)
{
	dm_err err;
	char *cert = dm_xasprintf("%s/%s.pem", f->dir, name);
	char *key = dm_xasprintf("%s/%s.key", f->dir, name);
	if (dm_pki_create_ca(cn, 0, cert, key, &err) < 0)
		fail_msg("create CA %s: %s", name, err.msg);
	free(cert);
	free(key);
}

static void make_leaf(const struct fx *f, const char *ca, const char *name, const char *cn)
{
	static const char *const sans[] = {"127.0.0.1", "localhost"};
	dm_err err;
	char *ca_cert = dm_xasprintf("%s/%s.pem", f->dir, ca);
	char *ca_key = dm_xasprintf("%s/%s.key", f->dir, ca);
	char *cert = dm_xasprintf("%s/%s.pem", f->dir, name);
	char *key = dm_xasprintf("%s/%s.key", f->dir, name);
	dm_pki_issue_opts o = {.ca_cert_path = ca_cert,
	                       .ca_key_path = ca_key,
	                       .cn = cn,
	                       .sans = sans,
	                       .n_sans = 2,
	                       .days = 30,
	                       .cert_path = cert,
	                       .key_path = key};
	if (dm_pki_issue(&o, &err) < 0)
		fail_msg("issue %s: %s", name, err.msg);
	free(ca_cert);
	free(ca_key);
	free(cert);
	free(key);
}

static char *slurp(const struct fx *f, const char *name)
{
	char *p = in_dir(f, name), *data;
	size_t len;
	dm_err err;
	if (dm_file_read(p, 1 << 20, &data, &len, &err) < 0)
		fail_msg("%s", err.msg);
	free(p);
	return data;
}

static void copy_file(const struct fx *f, const char *from, const char *to)
{
	char *data = slurp(f, from);
	char *p = in_dir(f, to);
	dm_err err;
	if (dm_file_write_atomic(p, data, strlen(data), 0600, &err) < 0)
		fail_msg("%s", err.msg);
	free(p);
	free(data);
}

/* Root over the Unix socket: always allowed, used for set-up. */
static MYSQL *root_conn(const struct fx *f)
{
	MYSQL *m = mysql_init(NULL);
	if (mysql_real_connect(m, "localhost", "root", "", NULL, 0, f->sock, 0) == NULL) {
		mysql_close(m);
		return NULL;
	}
	return m;
}

static void root_sql(const struct fx *f, const char *sql)
{
	MYSQL *m = root_conn(f);
	assert_non_null(m);
	dm_err err;
	if (dm_mysql_query(m, sql, &err) < 0)
		fail_msg("%s", err.msg);
	mysql_close(m);
}

/* extra: more [mysqld] lines, each ending in a newline ("" for none). */
static void write_cnf(const struct fx *f, const char *extra)
{
	FILE *fp = fopen(f->cnf, "w");
	assert_non_null(fp);
	fprintf(fp,
	        "[client-server]\nsocket=%s\nport=%u\n\n"
	        "[mysqld]\ndatadir=%s/data\npid-file=%s/mysqld.pid\nlog-error=%s/error.log\n"
	        "bind-address=127.0.0.1,127.0.0.2\nskip-name-resolve\nserver-id=1\n"
	        "innodb-buffer-pool-size=32M\ninnodb-flush-log-at-trx-commit=2\nsync-binlog=0\n"
	        "log-bin=%s/data/binlog\nbinlog-format=ROW\nbinlog-row-image=FULL\n"
	        "binlog-row-metadata=FULL\n"
	        "ssl-ca=%s/ca.pem\nssl-cert=%s/server.pem\nssl-key=%s/server.key\n"
	        "require-secure-transport=OFF\n%s",
	        f->sock, f->port, f->dir, f->dir, f->dir, f->dir, f->dir, f->dir, f->dir, extra);
	fclose(fp);
}

static void dump_log(const struct fx *f)
{
	char *p = in_dir(f, "error.log");
	char *data;
	size_t len;
	if (dm_file_read(p, 1 << 20, &data, &len, NULL) == 0) {
		fprintf(stderr, "--- %s (tail) ---\n%s\n", p,
		        len > 3000 ? data + len - 3000 : data);
		free(data);
	}
	free(p);
}

/* Starts mariadbd on f->cnf and waits until root can log in. */
static int server_start(struct fx *f)
{
	char *dflt = dm_xasprintf("--defaults-file=%s", f->cnf);
	char *user = geteuid() == 0 ? "--user=root" : "--verbose";
	f->pid = fork();
	if (f->pid == 0) {
		char *out = in_dir(f, "stdout.log");
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		char *argv[] = {f->mariadbd, dflt, user, NULL};
		execv(argv[0], argv);
		_exit(127);
	}
	free(dflt);
	if (f->pid < 0)
		return -1;

	MYSQL *m = NULL;
	for (int i = 0; i < 300 && m == NULL; i++) {
		int st;
		if (waitpid(f->pid, &st, WNOHANG) == f->pid) {
			f->pid = 0;
			fprintf(stderr, "mariadbd exited during start-up\n");
			dump_log(f);
			return -1;
		}
		m = root_conn(f);
		if (m == NULL)
			usleep(100 * 1000);
	}
	if (m == NULL) {
		fprintf(stderr, "mariadbd not ready after 30 s\n");
		dump_log(f);
		return -1;
	}
	mysql_close(m);
	return 0;
}

static void server_stop(struct fx *f)
{
	if (f->pid <= 0)
		return;
	kill(f->pid, SIGTERM);
	int st;
	bool gone = false;
	for (int i = 0; i < 300 && !gone; i++) {
		gone = waitpid(f->pid, &st, WNOHANG) == f->pid;
		if (!gone)
			usleep(100 * 1000);
	}
	if (!gone) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, &st, 0);
	}
	f->pid = 0;
}

static int group_setup(void **state)
{
	struct fx *f = dm_xcalloc(1, sizeof(*f));
	*state = f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/dm-test-mysql-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	if (!find_prog("mariadbd", f->mariadbd, sizeof(f->mariadbd)) ||
	    !find_prog("mariadb-install-db", f->install_db, sizeof(f->install_db)))
		return -1;
	snprintf(f->cnf, sizeof(f->cnf), "%s/my.cnf", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/mysqld.sock", f->dir);
	f->port = free_port();

	make_ca(f, "ca", "dm test CA");
	make_ca(f, "other-ca", "unrelated CA");
	make_leaf(f, "ca", "server", "localhost");
	make_leaf(f, "ca", "client", "dm");
	make_leaf(f, "ca", "other-client", "other");
	make_leaf(f, "other-ca", "bad-client", "dm");
	write_cnf(f, "");

	char *log = in_dir(f, "install.log");
	char *dflt = dm_xasprintf("--defaults-file=%s", f->cnf);
	char *user = geteuid() == 0 ? "--user=root" : "--verbose";
	char *install[] = {f->install_db,    dflt, user, "--auth-root-authentication-method=normal",
	                   "--skip-test-db", NULL};
	int rc = run(install, log);
	free(log);
	if (rc != 0) {
		fprintf(stderr, "mariadb-install-db failed (%d); see %s/install.log\n", rc, f->dir);
		free(dflt);
		return -1;
	}

	free(dflt);
	if (server_start(f) < 0)
		return -1;
	root_sql(f, "CREATE USER 'plain'@'127.0.0.1' IDENTIFIED BY '" PW_PLAIN "'");
	root_sql(f, "CREATE USER 'tlsuser'@'127.0.0.1' IDENTIFIED BY '" PW_TLS "' REQUIRE SSL");
	root_sql(f, "CREATE USER 'x509user'@'127.0.0.1' IDENTIFIED BY '" PW_X509 "' REQUIRE X509");
	root_sql(f, "CREATE USER 'subjuser'@'127.0.0.1' IDENTIFIED BY '" PW_SUBJ
	            "' REQUIRE SUBJECT '/CN=dm'");
	root_sql(f, "CREATE USER 'repl'@'127.0.0.1' IDENTIFIED BY '" PW_REPL "'");
	root_sql(f, "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'repl'@'127.0.0.1'");
	return 0;
}

static int group_teardown(void **state)
{
	struct fx *f = *state;
	server_stop(f);
	if (f->dir[0] != '\0' && getenv("DM_KEEP_TEST_DIR") == NULL)
		nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0; /* main ends the library, with dm_wire_fini */
}

/* ---- helpers for the cases ------------------------------------------- */

static void cfg(dm_db_config *c, const struct fx *f, const char *user, const char *pw)
{
	dm_db_config_init(c);
	c->host = dm_xstrdup("127.0.0.1");
	c->port = f->port;
	c->user = dm_xstrdup(user);
	c->password = dm_xstrdup(pw);
	c->connect_timeout = 5;
	c->read_timeout = 10;
	c->write_timeout = 10;
}

static void set_file(char **field, const struct fx *f, const char *name)
{
	free(*field);
	*field = name != NULL ? in_dir(f, name) : NULL;
}

/* Connects, checks whether the link is encrypted as expected, closes. */
static void expect_ok(const dm_db_config *c, bool tls)
{
	MYSQL *m = NULL;
	dm_err err;
	dm_err_clear(&err);
	if (dm_mysql_connect(c, "source mysql-01", &m, &err) < 0)
		fail_msg("connect as %s: %s", c->user, err.msg);
	char cipher[128], version[32];
	bool enc = dm_mysql_tls_info(m, cipher, sizeof(cipher), version, sizeof(version));
	assert_int_equal(enc, tls);
	if (tls) {
		assert_true(cipher[0] != '\0');
		assert_true(strncmp(version, "TLSv1.", 6) == 0);
		assert_true(strcmp(version, "TLSv1.2") == 0 || strcmp(version, "TLSv1.3") == 0);
		/* The server agrees the session is encrypted. */
		char *v = NULL;
		assert_int_equal(dm_mysql_query_value(m,
		                                      "SELECT VARIABLE_VALUE FROM "
		                                      "information_schema.SESSION_STATUS WHERE "
		                                      "VARIABLE_NAME = 'SSL_CIPHER'",
		                                      &v, &err),
		                 0);
		assert_non_null(v);
		assert_string_equal(v, cipher);
		free(v);
	} else {
		assert_string_equal(cipher, "");
		assert_string_equal(version, "");
	}
	mysql_close(m);
}

static void expect_fail(const dm_db_config *c, enum dm_err_code code, dm_err *err)
{
	MYSQL *m = NULL;
	dm_err_clear(err);
	if (dm_mysql_connect(c, "source mysql-01", &m, err) == 0) {
		mysql_close(m);
		fail_msg("connect as %s succeeded but should not", c->user);
	}
	assert_null(m);
	if (getenv("DM_TEST_VERBOSE") != NULL)
		fprintf(stderr, "message: %s\n", err->msg);
	if (err->code != code)
		fail_msg("code %s, want %s: %s", dm_err_code_name(err->code),
		         dm_err_code_name(code), err->msg);
	assert_null(strstr(err->msg, c->password));
	assert_null(strstr(err->msg, "BEGIN"));
}

static void assert_contains(const char *s, const char *needle)
{
	if (strstr(s, needle) == NULL)
		fail_msg("\"%s\" not in: %s", needle, s);
}

/* ---- cases ----------------------------------------------------------- */

static void test_none(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	cfg(&c, f, "plain", PW_PLAIN);
	expect_ok(&c, false);
	dm_db_config_fini(&c);

	/* A REQUIRE SSL account over plaintext: 1045 with both causes named. */
	cfg(&c, f, "tlsuser", PW_TLS);
	dm_err err;
	expect_fail(&c, DM_EDB, &err);
	char *want = dm_xasprintf("source mysql-01 127.0.0.1:%u: access denied for user "
	                          "'tlsuser' (MySQL error 1045)",
	                          f->port);
	assert_contains(err.msg, want);
	free(want);
	assert_contains(err.msg, "require_secure_transport");
	assert_contains(err.msg, "from.password and from.security");
	dm_db_config_fini(&c);
}

static void test_ca_only(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	cfg(&c, f, "tlsuser", PW_TLS);
	set_file(&c.security.ca_file, f, "ca.pem");
	expect_ok(&c, true);
	dm_db_config_fini(&c);

	/* REQUIRE X509 without a client certificate. */
	cfg(&c, f, "x509user", PW_X509);
	set_file(&c.security.ca_file, f, "ca.pem");
	dm_err err;
	expect_fail(&c, DM_EDB, &err);
	assert_contains(err.msg, "1045");
	assert_contains(err.msg, "client certificate");
	assert_contains(err.msg, "from.security.ssl-cert");
	dm_db_config_fini(&c);
}

static void test_ca_unrelated(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	cfg(&c, f, "tlsuser", PW_TLS);
	set_file(&c.security.ca_file, f, "other-ca.pem");
	dm_err err;
	expect_fail(&c, DM_ETLS, &err);
	assert_contains(err.msg, "TLS");
	assert_contains(err.msg, c.security.ca_file);
	assert_contains(err.msg, "not signed by from.security.ssl-ca");
	assert_contains(err.msg, "127.0.0.1");
	dm_db_config_fini(&c);

	/* A non-PEM CA file is reported by name before connecting. */
	cfg(&c, f, "tlsuser", PW_TLS);
	set_file(&c.security.ca_file, f, "my.cnf");
	expect_fail(&c, DM_ETLS, &err);
	assert_contains(err.msg, "ssl-ca");
	assert_contains(err.msg, "my.cnf");
	set_file(&c.security.ca_file, f, "missing.pem");
	expect_fail(&c, DM_ENOTFOUND, &err);
	assert_contains(err.msg, "ssl-ca /tmp/");
	assert_contains(err.msg, "missing.pem: No such file");
	dm_db_config_fini(&c);
}

/* The chain verifies, but the certificate names 127.0.0.1 and localhost,
 * not 127.0.0.2 (the server listens on both). */
static void test_host_mismatch(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	dm_err err;
	cfg(&c, f, "tlsuser", PW_TLS);
	free(c.host);
	c.host = dm_xstrdup("127.0.0.2");
	set_file(&c.security.ca_file, f, "ca.pem");
	expect_fail(&c, DM_ETLS, &err);
	assert_contains(err.msg, "127.0.0.2");
	assert_contains(err.msg, "subjectAltName");
	dm_db_config_fini(&c);
	/* Without a CA the name is not checked (cert+key only: DM's behaviour). */
	cfg(&c, f, "x509user", PW_X509);
	free(c.host);
	c.host = dm_xstrdup("127.0.0.2");
	set_file(&c.security.cert_file, f, "client.pem");
	set_file(&c.security.key_file, f, "client.key");
	expect_ok(&c, true);
	dm_db_config_fini(&c);
}

static void test_cert_key_only(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	cfg(&c, f, "x509user", PW_X509);
	set_file(&c.security.cert_file, f, "client.pem");
	set_file(&c.security.key_file, f, "client.key");
	expect_ok(&c, true);
	/* A client certificate the server's CA did not sign: the server ends
	 * the handshake, and the message points at ssl-cert. */
	set_file(&c.security.cert_file, f, "bad-client.pem");
	set_file(&c.security.key_file, f, "bad-client.key");
	dm_err err;
	expect_fail(&c, DM_ETLS, &err);
	assert_contains(err.msg, "bad-client.pem");
	assert_contains(err.msg, "refused the client certificate");
	dm_db_config_fini(&c);
}

static void test_all_three(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	cfg(&c, f, "x509user", PW_X509);
	set_file(&c.security.ca_file, f, "ca.pem");
	set_file(&c.security.cert_file, f, "client.pem");
	set_file(&c.security.key_file, f, "client.key");
	expect_ok(&c, true);
	/* The same with TLS 1.3 as the minimum. */
	c.security.min_version = dm_xstrdup("1.3");
	expect_ok(&c, true);
	dm_db_config_fini(&c);
}

static void test_half_pair(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	dm_err err;
	cfg(&c, f, "x509user", PW_X509);
	c.port = 1; /* nothing listens: a network error would mean we tried */
	set_file(&c.security.ca_file, f, "ca.pem");
	set_file(&c.security.cert_file, f, "client.pem");
	expect_fail(&c, DM_EINVAL, &err);
	assert_contains(err.msg, "ssl-key");
	assert_contains(err.msg, "from.security");
	set_file(&c.security.cert_file, f, NULL);
	set_file(&c.security.key_file, f, "client.key");
	expect_fail(&c, DM_EINVAL, &err);
	assert_contains(err.msg, "ssl-cert");
	/* A key that is not the certificate's. */
	set_file(&c.security.cert_file, f, "other-client.pem");
	expect_fail(&c, DM_ETLS, &err);
	assert_contains(err.msg, "does not belong to");
	dm_db_config_fini(&c);
}

static void test_wrong_password(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	dm_err err;
	cfg(&c, f, "plain", "Wr0ng-Secret-99");
	expect_fail(&c, DM_EDB, &err);
	assert_contains(err.msg, "password is wrong");
	assert_contains(err.msg, "requires TLS");
	assert_null(strstr(err.msg, "Wr0ng-Secret-99"));
	dm_db_config_fini(&c);
	/* A target names its own config block. */
	cfg(&c, f, "plain", "Wr0ng-Secret-99");
	MYSQL *m = NULL;
	assert_int_equal(dm_mysql_connect(&c, "target", &m, &err), -1);
	assert_contains(err.msg, "target 127.0.0.1:");
	assert_contains(err.msg, "target-database.password");
	dm_db_config_fini(&c);
}

static void test_unreachable(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	dm_err err;
	cfg(&c, f, "plain", PW_PLAIN);
	c.port = free_port();
	expect_fail(&c, DM_ENET, &err);
	char *addr = dm_xasprintf("127.0.0.1:%u", c.port);
	assert_contains(err.msg, addr);
	assert_contains(err.msg, "refused");
	free(addr);
	dm_db_config_fini(&c);
}

/* A listener that never speaks: TCP connects, no greeting comes. The
 * connect timeout must bound the wait even with no read timeout set. */
static void test_silent_server(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	dm_err err;
	cfg(&c, f, "plain", PW_PLAIN);
	int s = bound_socket(true, &c.port);
	assert_true(s >= 0);
	c.connect_timeout = 1;
	c.read_timeout = 0;
	expect_fail(&c, DM_ETIMEOUT, &err); /* without the timeout: never returns */
	assert_contains(err.msg, "1s");
	close(s);
	dm_db_config_fini(&c);
}

/* A fake server that does not offer TLS (no CLIENT_SSL in its greeting),
 * asks for the given auth plugin and accepts any login. It records whether
 * the password ever reached it in clear. */
struct fake {
	int listener;
	bool saw_password;
};

static void fake_session(struct fake *fk, int s, const char *plugin)
{
	static const unsigned char hello[] =
	        "\x0a"
	        "8.0.0-fake\0"
	        "\x01\0\0\0"
	        "abcdefgh\0"
	        "\x01\xa2" /* LONG_PASSWORD, PROTOCOL_41, TRANSACTIONS, SECURE_CONNECTION */
	        "\x2d\x02\0"
	        "\x0a\0" /* MULTI_RESULTS, PLUGIN_AUTH */
	        "\x15\0\0\0\0\0\0\0\0\0\0"
	        "ijklmnopqrst\0";
	unsigned char buf[4096];
	size_t n = sizeof(hello) - 1 + strlen(plugin) + 1;
	memcpy(buf + 4, hello, sizeof(hello) - 1);
	memcpy(buf + 4 + sizeof(hello) - 1, plugin, strlen(plugin) + 1);
	buf[0] = (unsigned char)n;
	buf[1] = buf[2] = buf[3] = 0;
	if (s < 0 || write(s, buf, n + 4) != (ssize_t)(n + 4))
		goto out;
	ssize_t r;
	bool ok_sent = false;
	while ((r = read(s, buf, sizeof(buf))) > 0) { /* login, then COM_QUIT */
		if (memmem(buf, (size_t)r, PW_X509, strlen(PW_X509)) != NULL)
			fk->saw_password = true;
		if (ok_sent || r < 4)
			continue;
		unsigned char ok[] = {7, 0, 0, (unsigned char)(buf[3] + 1), 0, 0, 0, 2, 0, 0, 0};
		ok_sent = write(s, ok, sizeof(ok)) == (ssize_t)sizeof(ok);
	}
out:
	if (s >= 0)
		close(s);
}

static void *fake_server(void *arg)
{
	struct fake *fk = arg;
	/* One session per case of test_no_tls_on_server. */
	static const char *const plugins[] = {"mysql_native_password", "mysql_native_password",
	                                      "mysql_clear_password", "dialog"};
	for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++)
		fake_session(fk, accept(fk->listener, NULL, NULL), plugins[i]);
	return NULL;
}

static void test_no_tls_on_server(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	dm_err err;
	cfg(&c, f, "x509user", PW_X509);
	struct fake fk = {.listener = bound_socket(true, &c.port)};
	assert_true(fk.listener >= 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, fake_server, &fk), 0);
	/* cert+key only: Connector/C would quietly go on in plaintext. */
	set_file(&c.security.cert_file, f, "client.pem");
	set_file(&c.security.key_file, f, "client.key");
	expect_fail(&c, DM_ETLS, &err);
	assert_contains(err.msg, "does not offer TLS");
	/* With a CA, Connector/C itself refuses before logging in. */
	set_file(&c.security.cert_file, f, NULL);
	set_file(&c.security.key_file, f, NULL);
	set_file(&c.security.ca_file, f, "ca.pem");
	expect_fail(&c, DM_ETLS, &err);
	assert_contains(err.msg, "no TLS configured");
	/* A server that is not verified asks for the password in clear
	 * (mysql_clear_password, or PAM's dialog): refused, never sent. */
	set_file(&c.security.ca_file, f, NULL);
	expect_fail(&c, DM_EDB, &err);
	assert_contains(err.msg, "mysql_clear_password");
	assert_contains(err.msg, "from.security.ssl-ca");
	expect_fail(&c, DM_EDB, &err);
	assert_contains(err.msg, "dialog");
	pthread_join(th, NULL);
	assert_false(fk.saw_password);
	close(fk.listener);
	dm_db_config_fini(&c);
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void test_inline_pem(void **state)
{
	struct fx *f = *state;
	char *tmp = in_dir(f, "tmp");
	assert_int_equal(mkdir(tmp, 0700), 0);
	char *old = getenv("TMPDIR") ? dm_xstrdup(getenv("TMPDIR")) : NULL;
	setenv("TMPDIR", tmp, 1);

	dm_db_config c;
	cfg(&c, f, "x509user", PW_X509);
	c.security.ca_pem = slurp(f, "ca.pem");
	c.security.cert_pem = slurp(f, "client.pem");
	c.security.key_pem = slurp(f, "client.key");
	expect_ok(&c, true);
	assert_int_equal(count_entries(tmp), 0);

	/* Mixed: CA from a file, the pair inline; and a failed connect
	 * (unrelated CA inline) also leaves nothing behind. */
	set_file(&c.security.ca_file, f, "ca.pem");
	free(c.security.ca_pem);
	c.security.ca_pem = NULL;
	expect_ok(&c, true);
	set_file(&c.security.ca_file, f, NULL);
	c.security.ca_pem = slurp(f, "other-ca.pem");
	dm_err err;
	expect_fail(&c, DM_ETLS, &err);
	assert_contains(err.msg, "ssl-ca (PEM content)");
	assert_null(strstr(err.msg, "PRIVATE KEY"));
	assert_int_equal(count_entries(tmp), 0);

	/* The copy carries everything, and fini wipes it. */
	dm_db_config d;
	dm_db_config_init(&d);
	dm_db_config_copy(&d, &c);
	assert_string_equal(d.password, PW_X509);
	assert_string_equal(d.security.key_pem, c.security.key_pem);
	assert_int_equal(d.port, f->port);
	dm_db_config_fini(&d);
	assert_null(d.password);
	dm_db_config_fini(&c);

	if (old != NULL)
		setenv("TMPDIR", old, 1);
	else
		unsetenv("TMPDIR");
	free(old);
	free(tmp);
}

static void test_files_replaced(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	dm_err err;
	cfg(&c, f, "subjuser", PW_SUBJ);
	set_file(&c.security.ca_file, f, "live-ca.pem");
	set_file(&c.security.cert_file, f, "live-cert.pem");
	set_file(&c.security.key_file, f, "live-key.pem");

	/* Wrong CA and a certificate with the wrong CN. */
	copy_file(f, "other-ca.pem", "live-ca.pem");
	copy_file(f, "other-client.pem", "live-cert.pem");
	copy_file(f, "other-client.key", "live-key.pem");
	expect_fail(&c, DM_ETLS, &err);

	/* CA replaced: TLS works, but CN=other does not match REQUIRE SUBJECT. */
	copy_file(f, "ca.pem", "live-ca.pem");
	expect_fail(&c, DM_EDB, &err);
	assert_contains(err.msg, "REQUIRE SUBJECT/ISSUER");

	/* Certificate and key replaced: the next connection uses them. */
	copy_file(f, "client.pem", "live-cert.pem");
	copy_file(f, "client.key", "live-key.pem");
	expect_ok(&c, true);
	dm_db_config_fini(&c);
}

static void test_query(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	dm_err err;
	MYSQL *m = NULL;
	cfg(&c, f, "plain", PW_PLAIN);
	assert_int_equal(dm_mysql_connect(&c, "target", &m, &err), 0);
	char *v = NULL;
	assert_int_equal(dm_mysql_query_value(m, "SELECT @@character_set_client", &v, &err), 0);
	assert_string_equal(v, "utf8mb4");
	free(v);
	assert_int_equal(dm_mysql_query_value(m, "SELECT NULL", &v, &err), 0);
	assert_null(v);
	assert_int_equal(dm_mysql_query_value(m, "SELECT 1 FROM DUAL WHERE 0", &v, &err), -1);
	assert_int_equal(err.code, DM_ENOTFOUND);
	assert_int_equal(dm_mysql_query(m, "SET @x = 5", &err), 0);
	assert_int_equal(dm_mysql_query(m, "SELECT 1", &err), 0);
	assert_int_equal(dm_mysql_query(m, "SELEC nonsense", &err), -1);
	assert_int_equal(err.code, DM_EDB);
	assert_contains(err.msg, "1064");
	assert_contains(err.msg, "SELEC nonsense");
	/* The connection is still usable after an error. */
	assert_int_equal(dm_mysql_query_value(m, "SELECT @x", &v, &err), 0);
	assert_string_equal(v, "5");
	free(v);
	mysql_close(m);
	dm_db_config_fini(&c);
}

/* dm_wire_init (run by main) widened Connector/C's network buffer, and
 * a TLS link with it moves a large result whole. */
static void test_wire(void **state)
{
	struct fx *f = *state;
	assert_int_equal(*mysql_get_parameters()->p_net_buffer_length, DM_WIRE_NET_BUFFER);
	dm_db_config c;
	dm_err err;
	MYSQL *m = NULL;
	cfg(&c, f, "tlsuser", PW_TLS);
	set_file(&c.security.ca_file, f, "ca.pem");
	if (dm_mysql_connect(&c, "source mysql-01", &m, &err) < 0)
		fail_msg("%s", err.msg);
	/* 2,000 rows of 3,000 or 3,001 bytes: many buffers, many TLS records. */
	assert_int_equal(dm_mysql_query(m, "SET SESSION max_recursive_iterations = 5000", &err), 0);
	assert_int_equal(mysql_query(m,
	                             "WITH RECURSIVE s(seq) AS (SELECT 1 UNION ALL SELECT seq + 1 "
	                             "FROM s WHERE seq < 2000) SELECT seq, REPEAT(CHAR(65 + seq % "
	                             "26), 3000 + seq % 2) FROM s"),
	                 0);
	MYSQL_RES *r = mysql_use_result(m);
	assert_non_null(r);
	MYSQL_ROW row;
	long n = 0;
	while ((row = mysql_fetch_row(r)) != NULL) {
		n++;
		unsigned long *len = mysql_fetch_lengths(r);
		assert_int_equal(atol(row[0]), n);
		assert_int_equal(len[1], 3000 + n % 2);
		assert_int_equal(row[1][0], 'A' + n % 26);
		assert_int_equal(row[1][len[1] - 1], 'A' + n % 26);
	}
	assert_int_equal(mysql_errno(m), 0);
	assert_int_equal(n, 2000);
	mysql_free_result(r);
	/* and the link still takes queries afterwards */
	char *v = NULL;
	assert_int_equal(dm_mysql_query_value(m, "SELECT 'after'", &v, &err), 0);
	assert_string_equal(v, "after");
	free(v);
	mysql_close(m);
	dm_db_config_fini(&c);
}

static MYSQL *connect_repl(const struct fx *f, const char *user, const char *pw)
{
	dm_db_config c;
	dm_err err;
	MYSQL *m = NULL;
	cfg(&c, f, user, pw);
	set_file(&c.security.ca_file, f, "ca.pem");
	if (dm_mysql_connect(&c, "source mysql-01", &m, &err) < 0)
		fail_msg("%s", err.msg);
	dm_db_config_fini(&c);
	return m;
}

static void test_check_source(void **state)
{
	struct fx *f = *state;
	MYSQL *m = connect_repl(f, "repl", PW_REPL);
	dm_mysql_source_info info;
	dm_err err;
	if (dm_mysql_check_source(m, "source mysql-01", &info, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(info.flavor, DM_MYSQL_FLAVOR_MARIADB);
	assert_int_equal(info.server_id, 1);
	assert_true(info.version_major >= 10);
	assert_non_null(strstr(info.version, "MariaDB"));
	assert_string_equal(info.binlog_row_metadata, "FULL");
	assert_string_equal(info.gtid_mode, "");
	assert_true(info.has_replication_slave);
	assert_true(info.has_replication_client);
	for (size_t i = 0; i < info.n_warnings; i++)
		fprintf(stderr, "unexpected warning: %s\n", info.warnings[i]);
	assert_int_equal(info.n_warnings, 0);
	dm_mysql_source_info_fini(&info);
	mysql_close(m);

	/* Passes without the privileges, with a warning that says the GRANT. */
	m = connect_repl(f, "tlsuser", PW_TLS);
	assert_int_equal(dm_mysql_check_source(m, "source mysql-01", &info, &err), 0);
	assert_false(info.has_replication_slave);
	assert_int_equal(info.n_warnings, 1);
	assert_contains(info.warnings[0], "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO "
	                                  "'tlsuser'@'127.0.0.1'");
	dm_mysql_source_info_fini(&info);
	mysql_close(m);
}

static void test_check_source_fails(void **state)
{
	struct fx *f = *state;
	root_sql(f, "SET GLOBAL binlog_format = 'STATEMENT'");
	root_sql(f, "SET GLOBAL binlog_row_image = 'MINIMAL'");
	MYSQL *m = connect_repl(f, "repl", PW_REPL);
	dm_mysql_source_info info;
	memset(&info, 0x5a, sizeof(info));
	dm_err err;
	int rc = dm_mysql_check_source(m, "source mysql-01", &info, &err);
	root_sql(f, "SET GLOBAL binlog_format = 'ROW'");
	root_sql(f, "SET GLOBAL binlog_row_image = 'FULL'");
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, DM_EINVAL);
	char *want = dm_xasprintf("source mysql-01 127.0.0.1:%u", f->port);
	assert_contains(err.msg, want);
	free(want);
	assert_contains(err.msg, "binlog_format is STATEMENT, must be ROW");
	assert_contains(err.msg, "SET GLOBAL binlog_format = 'ROW'");
	assert_contains(err.msg, "`binlog_format = ROW` under [mysqld]");
	assert_contains(err.msg, "binlog_row_image is MINIMAL, must be FULL");
	assert_contains(err.msg, "SET GLOBAL binlog_row_image = 'FULL'");
	mysql_close(m);

	/* Row metadata MINIMAL is a warning, not a failure. */
	root_sql(f, "SET GLOBAL binlog_row_metadata = 'MINIMAL'");
	m = connect_repl(f, "repl", PW_REPL);
	rc = dm_mysql_check_source(m, "source mysql-01", &info, &err);
	root_sql(f, "SET GLOBAL binlog_row_metadata = 'FULL'");
	assert_int_equal(rc, 0);
	assert_int_equal(info.n_warnings, 1);
	assert_contains(info.warnings[0], "binlog_row_metadata is MINIMAL");
	assert_contains(info.warnings[0], "SET GLOBAL binlog_row_metadata = 'FULL'");
	dm_mysql_source_info_fini(&info);
	mysql_close(m);
}

/* TLS 1.3 with AES-128-GCM first. A server limited to TLS 1.2 refuses
 * that handshake and gets a forward-secret AEAD suite on the retry; with a
 * TLS 1.3 minimum it is refused with the reason. */
static void test_tls_versions(void **state)
{
	struct fx *f = *state;
	dm_db_config c;
	dm_err err;
	MYSQL *m = NULL;
	char cipher[128], version[32];
	cfg(&c, f, "tlsuser", PW_TLS);
	set_file(&c.security.ca_file, f, "ca.pem");
	if (dm_mysql_connect(&c, "source mysql-01", &m, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(dm_mysql_tls_info(m, cipher, sizeof(cipher), version, sizeof(version)));
	assert_string_equal(version, "TLSv1.3");
	assert_string_equal(cipher, "TLS_AES_128_GCM_SHA256");
	mysql_close(m);

	server_stop(f);
	write_cnf(f, "tls-version=TLSv1.2\n");
	assert_int_equal(server_start(f), 0);
	if (dm_mysql_connect(&c, "source mysql-01", &m, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(dm_mysql_tls_info(m, cipher, sizeof(cipher), version, sizeof(version)));
	assert_string_equal(version, "TLSv1.2");
	if (strncmp(cipher, "ECDHE-", 6) != 0 || strstr(cipher, "GCM") == NULL)
		fail_msg("TLS 1.2 cipher %s: want ECDHE with AES-GCM", cipher);
	mysql_close(m);
	c.security.min_version = dm_xstrdup("1.3");
	expect_fail(&c, DM_ETLS, &err);
	assert_contains(err.msg, "protocol version");
	assert_contains(err.msg, "does not do TLS 1.3");
	assert_contains(err.msg, "from.security.tls-min-version");

	server_stop(f);
	write_cnf(f, "");
	assert_int_equal(server_start(f), 0);
	dm_db_config_fini(&c);
}

int main(void)
{
	char p[256];
	if (!find_prog("mariadbd", p, sizeof(p)) ||
	    !find_prog("mariadb-install-db", p, sizeof(p))) {
		printf("SKIP: mariadbd / mariadb-install-db not installed\n");
		return 77;
	}
	if (dm_wire_init() < 0) {
		printf("dm_wire_init failed\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_none),
	        cmocka_unit_test(test_ca_only),
	        cmocka_unit_test(test_ca_unrelated),
	        cmocka_unit_test(test_host_mismatch),
	        cmocka_unit_test(test_cert_key_only),
	        cmocka_unit_test(test_all_three),
	        cmocka_unit_test(test_half_pair),
	        cmocka_unit_test(test_wrong_password),
	        cmocka_unit_test(test_unreachable),
	        cmocka_unit_test(test_silent_server),
	        cmocka_unit_test(test_no_tls_on_server),
	        cmocka_unit_test(test_inline_pem),
	        cmocka_unit_test(test_files_replaced),
	        cmocka_unit_test(test_query),
	        cmocka_unit_test(test_wire),
	        cmocka_unit_test(test_check_source),
	        cmocka_unit_test(test_check_source_fails),
	        /* last: it restarts the server */
	        cmocka_unit_test(test_tls_versions),
	};
	int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
	dm_wire_fini();
	return rc;
}
