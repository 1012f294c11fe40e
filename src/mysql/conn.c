/* Connections to sources and targets: config value, the connect itself
 * (TLS material in tlsmat.c), and messages that say what to fix. */
#include "mysql/conn.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>
#include <openssl/err.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/mem.h"
#include "mysql/tlsmat.h"

/* MySQL 8's refusal under require_secure_transport; MariaDB sends 1045. */
#define DM_ER_SECURE_TRANSPORT_REQUIRED 3159

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? dm_xstrdup(s) : NULL;
}

void dm_db_config_init(dm_db_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = DM_DB_DEFAULT_PORT;
	dm_tls_settings_init(&c->security);
}

void dm_db_config_fini(dm_db_config *c)
{
	free(c->host);
	free(c->user);
	dm_free_secret(c->password);
	dm_tls_settings_fini(&c->security);
	free(c->charset);
	dm_db_config_init(c);
}

void dm_db_config_copy(dm_db_config *dst, const dm_db_config *src)
{
	dm_db_config tmp = *src;
	tmp.host = dup_or_null(src->host);
	tmp.user = dup_or_null(src->user);
	tmp.password = dup_or_null(src->password);
	tmp.charset = dup_or_null(src->charset);
	dm_tls_settings_init(&tmp.security);
	dm_tls_settings_copy(&tmp.security, &src->security);
	/* Copy first, free after: dst may alias src. */
	dm_db_config_fini(dst);
	*dst = tmp;
}

/* The config block a user edits for this link, for hints: DM's source.yaml
 * has `from:`, task.yaml has `target-database:`. */
static const char *config_key(const char *what)
{
	return strncmp(what, "source", 6) == 0 ? "from" : "target-database";
}

static unsigned int port_of(const dm_db_config *c)
{
	return c->port != 0 ? c->port : DM_DB_DEFAULT_PORT;
}

static unsigned int connect_timeout_of(const dm_db_config *c)
{
	return c->connect_timeout != 0 ? c->connect_timeout : DM_DB_DEFAULT_CONNECT_TIMEOUT;
}

/* "source mysql-01 127.0.0.1:3306" or "target [::1]:4000". */
static char *link_name(const dm_db_config *c, const char *what)
{
	const char *host = is_set(c->host) ? c->host : "(no host)";
	if (strchr(host, ':') != NULL)
		return dm_xasprintf("%s [%s]:%u", what, host, port_of(c));
	return dm_xasprintf("%s %s:%u", what, host, port_of(c));
}

/* ---- options --------------------------------------------------------- */

/* TLS 1.2 suites with forward secrecy and AEAD, as on dm's own links. */
#define DM_MYSQL_TLS12_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20"
/* TLS 1.3 suites (all forward-secret AEAD), AES-128-GCM first: 16 % less
 * CPU than OpenSSL's first choice, AES-256-GCM, for every byte of a copy
 * (docs/benchmarks.md). Connector/C takes a single cipher string and
 * OpenSSL reads it as TLS 1.3 suites as soon as it names one, leaving
 * TLS 1.2 at OpenSSL's defaults (suites without forward secrecy among
 * them). So a link is tried with TLS 1.3 alone first, and with TLS 1.2 and
 * DM_MYSQL_TLS12_CIPHERS only when the server refuses 1.3. */
#define DM_MYSQL_TLS13_SUITES                                                                      \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/* Auth plugins that send a scramble or hash, or encrypt the password to the
 * server's RSA key, never the password itself. */
#define DM_MYSQL_SAFE_AUTH                                                                         \
	"mysql_native_password,client_ed25519,caching_sha2_password,sha256_password,"              \
	"auth_gssapi_client"

static bool min_tls13(const dm_db_config *c)
{
	const char *min = c->security.min_version;
	return is_set(min) && strcmp(min, "1.3") == 0;
}

/* only13: offer TLS 1.3 alone, with DM_MYSQL_TLS13_SUITES. */
static int set_options(MYSQL *m, const dm_db_config *c, const dm_tlsmat *t, bool use_tls,
                       bool only13)
{
	int rc = 0;
	unsigned int ct = connect_timeout_of(c);
	rc |= mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
	if (c->read_timeout != 0)
		rc |= mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &c->read_timeout);
	if (c->write_timeout != 0)
		rc |= mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &c->write_timeout);
	rc |= mysql_optionsv(m, MYSQL_SET_CHARSET_NAME,
	                     is_set(c->charset) ? c->charset : DM_DB_DEFAULT_CHARSET);
	/* A silent reconnect would lose session state (time zone, sql_mode,
	 * transactions) and skip our checks; callers reconnect explicitly. */
	my_bool off = 0;
	rc |= mysql_optionsv(m, MYSQL_OPT_RECONNECT, &off);
	/* A server may ask a client to send any local file; only the loader,
	 * which feeds LOAD DATA from a callback, turns this on. */
	unsigned int infile = c->local_infile ? 1 : 0;
	rc |= mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &infile);
	/* Unless the server is verified, it may be an impostor, and the
	 * server picks the auth plugin: keep to plugins that never hand it
	 * the password in clear (mysql_clear_password and dialog, used by
	 * PAM, do). The list is matched by substring in Connector/C. */
	if (!t->verify_server)
		rc |= mysql_optionsv(m, MARIADB_OPT_RESTRICTED_AUTH, DM_MYSQL_SAFE_AUTH);
	if (!use_tls)
		return rc;

	my_bool on = 1;
	rc |= mysql_optionsv(m, MYSQL_OPT_SSL_ENFORCE, &on);
	rc |= mysql_optionsv(m, MARIADB_OPT_TLS_VERSION, only13 ? "TLSv1.3" : "TLSv1.2,TLSv1.3");
	rc |= mysql_optionsv(m, MYSQL_OPT_SSL_CIPHER,
	                     only13 ? DM_MYSQL_TLS13_SUITES : DM_MYSQL_TLS12_CIPHERS);
	if (t->path[DM_TLSMAT_CA] != NULL)
		rc |= mysql_optionsv(m, MYSQL_OPT_SSL_CA, t->path[DM_TLSMAT_CA]);
	if (t->path[DM_TLSMAT_CERT] != NULL) {
		rc |= mysql_optionsv(m, MYSQL_OPT_SSL_CERT, t->path[DM_TLSMAT_CERT]);
		rc |= mysql_optionsv(m, MYSQL_OPT_SSL_KEY, t->path[DM_TLSMAT_KEY]);
	}
	/* Off by default in Connector/C 3.3: without it a CA checks the chain
	 * but not that the certificate names the host we dialled. With cert+key
	 * and no CA there is nothing to verify against, so the server is not
	 * verified (as in DM); docs/mysql-tls.md says so. */
	my_bool verify = t->verify_server ? 1 : 0;
	rc |= mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
	return rc;
}

/* ---- messages -------------------------------------------------------- */

/* Names of the TLS items in use, for messages: " (ssl-ca /x/ca.pem,
 * ssl-cert (PEM content))"; "" for plaintext. */
static void describe_material(dm_buf *b, const dm_tlsmat *t)
{
	bool first = true;
	for (int i = 0; i < DM_TLSMAT_N; i++) {
		if (t->path[i] == NULL || i == DM_TLSMAT_KEY)
			continue;
		char *n = dm_tlsmat_name(t, i);
		dm_buf_printf(b, "%s%s", first ? " (" : ", ", n);
		free(n);
		first = false;
	}
	if (!first)
		dm_buf_puts(b, ")");
}

static bool contains(const char *s, const char *needle)
{
	return s != NULL && strstr(s, needle) != NULL;
}

static int connect_error(MYSQL *m, const dm_db_config *c, const char *what, const dm_tlsmat *t,
                         bool use_tls, int64_t elapsed_ms, unsigned int timeout_s, dm_err *err)
{
	unsigned int no = mysql_errno(m);
	const char *text = mysql_error(m);
	const char *key = config_key(what);
	const char *user = is_set(c->user) ? c->user : "";
	char *link = link_name(c, what);
	dm_buf b;
	dm_buf_init(&b);
	enum dm_err_code code = DM_EDB;
	dm_buf_printf(&b, "%s: ", link);

	switch (no) {
	case ER_ACCESS_DENIED_ERROR:
	case ER_ACCESS_DENIED_NO_PASSWORD_ERROR:
		/* MariaDB refuses for require_secure_transport and REQUIRE
		 * SSL/X509 with the same 1045 as for a bad password. */
		dm_buf_printf(&b, "access denied for user '%s' (MySQL error %u): ", user, no);
		if (!use_tls)
			dm_buf_printf(&b,
			              "either the password is wrong, or the server requires TLS "
			              "(require_secure_transport or REQUIRE SSL/X509) — check "
			              "%s.password and %s.security",
			              key, key);
		else if (t->path[DM_TLSMAT_CERT] == NULL)
			dm_buf_printf(&b,
			              "either the password is wrong, or the account requires a "
			              "client certificate (REQUIRE X509/SUBJECT/ISSUER) — check "
			              "%s.password and %s.security.ssl-cert/ssl-key",
			              key, key);
		else
			dm_buf_printf(&b,
			              "either the password is wrong, or the client certificate "
			              "does not match the account's REQUIRE SUBJECT/ISSUER — check "
			              "%s.password and %s.security.ssl-cert",
			              key, key);
		break;
	case DM_ER_SECURE_TRANSPORT_REQUIRED:
		dm_buf_printf(&b,
		              "the server requires TLS (require_secure_transport=ON; MySQL error "
		              "%u) — set %s.security.ssl-ca (and ssl-cert/ssl-key if the "
		              "account requires X509)",
		              no, key);
		break;
	case CR_PLUGIN_NOT_ALLOWED:
		dm_buf_printf(&b,
		              "the server asked for the password in clear (MySQL error %u: %s), "
		              "which dm sends only to a verified server — set %s.security.ssl-ca "
		              "to the CA of the server's certificate, or give the account an "
		              "authentication plugin that does not need it "
		              "(mysql_native_password, ed25519)",
		              no, text, key);
		break;
	case ER_HOST_NOT_PRIVILEGED:
	case ER_HOST_IS_BLOCKED:
		dm_buf_printf(&b,
		              "the server refuses this host (MySQL error %u: %s) — create the "
		              "account for this worker's address or run FLUSH HOSTS",
		              no, text);
		break;
	case CR_SSL_CONNECTION_ERROR:
		code = DM_ETLS;
		if (contains(text, "no cipher match")) {
			/* Not the cause: Connector/C hands our TLS 1.2 list to
			 * SSL_CTX_set_ciphersuites first, which fails and leaves
			 * this error queued; a failure after that and before the
			 * handshake (which clears the queue) reports it. */
			dm_buf_printf(&b, "TLS handshake failed (MySQL error %u)", no);
		} else {
			dm_buf_printf(&b, "TLS handshake failed (MySQL error %u: %s)", no,
			              text ? text : "");
		}
		describe_material(&b, t);
		if (contains(text, "does not support")) {
			dm_buf_printf(&b,
			              ": the server has no TLS configured — set ssl-cert/ssl-key "
			              "on the server, or empty %s.security for plaintext",
			              key);
		} else if (t->verify_server && contains(text, "Validation of SSL server")) {
			dm_buf_printf(
			        &b,
			        ": the server's certificate does not name '%s' in its "
			        "subjectAltName (IP or DNS) — set %s.host to a name or IP the "
			        "certificate lists, or reissue the server's certificate with it",
			        is_set(c->host) ? c->host : "", key);
		} else if (contains(text, "alert unknown ca") || contains(text, "alert bad cert") ||
		           contains(text, "certificate required")) {
			dm_buf_printf(&b,
			              ": the server refused the client certificate — %s.security."
			              "ssl-cert must be signed by the CA in the server's ssl-ca",
			              key);
		} else if (t->verify_server &&
		           (contains(text, "certif") || contains(text, "issuer"))) {
			dm_buf_printf(
			        &b,
			        ": the server's certificate is not signed by %s.security.ssl-ca "
			        "— set ssl-ca to the CA that issued the server's ssl-cert",
			        key);
		} else {
			if (min_tls13(c))
				dm_buf_printf(&b,
				              ": the server does not do TLS 1.3, the only version "
				              "%s.security.tls-min-version allows",
				              key);
			else
				dm_buf_puts(
				        &b,
				        ": the server and dm share no protocol version or cipher "
				        "suite (dm offers TLS 1.2+ with forward-secret AEAD "
				        "suites only)");
			dm_buf_puts(&b, ", or the server ended the handshake — check the server's "
			                "tls_version, ssl_cipher and error log");
		}
		break;
	case CR_CONN_HOST_ERROR:
	case CR_CONNECTION_ERROR:
		code = DM_ENET;
		/* Connector/C 3.3 reports errno after a failed non-blocking
		 * connect, which is EINPROGRESS (115) both for a refusal and a
		 * timeout (the real SO_ERROR is dropped), so the time spent
		 * tells them apart. */
		if (elapsed_ms >= (int64_t)timeout_s * 1000 - 200 || contains(text, "(110)")) {
			code = DM_ETIMEOUT;
			dm_buf_printf(&b,
			              "no answer within %us (connection timed out) — check %s.host/"
			              "port, routes and firewalls",
			              timeout_s, key);
		} else if (contains(text, "(111)") || contains(text, "(115)")) {
			dm_buf_printf(
			        &b,
			        "connection refused: nothing listens there, or a firewall "
			        "rejects it — check %s.host/port and that the server is running",
			        key);
		} else {
			dm_buf_printf(&b,
			              "cannot connect (MySQL error %u: %s) — check %s.host/port",
			              no, text, key);
		}
		break;
	case CR_UNKNOWN_HOST:
		code = DM_ENET;
		dm_buf_printf(&b, "unknown host (%s) — check %s.host", text, key);
		break;
	case CR_SERVER_LOST:
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST_EXTENDED:
		code = DM_ENET;
		if (elapsed_ms >= (int64_t)timeout_s * 1000 - 200 || contains(text, "error: 110")) {
			code = DM_ETIMEOUT;
			dm_buf_printf(
			        &b,
			        "the server accepted the connection but did not complete the "
			        "handshake within %us (MySQL error %u) — check that %s.host/port "
			        "is a MySQL server and that it is not overloaded",
			        timeout_s, no, key);
			break;
		}
		dm_buf_printf(&b,
		              "the connection was closed during the handshake (MySQL error %u: %s)",
		              no, text);
		describe_material(&b, t);
		if (use_tls && t->path[DM_TLSMAT_CERT] != NULL) {
			/* With TLS 1.3 a refused client certificate shows up here,
			 * at the first read after the handshake, not as a TLS error. */
			code = DM_ETLS;
			dm_buf_printf(
			        &b,
			        " — the server may have refused the client certificate: check "
			        "that %s.security.ssl-cert is signed by the server's ssl-ca",
			        key);
		} else {
			dm_buf_printf(&b,
			              " — check that %s.host/port is a MySQL server and that it is "
			              "not at max_connections",
			              key);
		}
		break;
	default:
		dm_buf_printf(&b, "cannot connect as user '%s' (MySQL error %u: %s)", user, no,
		              text);
		if (use_tls)
			describe_material(&b, t);
		break;
	}
	/* The user name is in most messages, the password in none: Connector/C
	 * never puts it in mysql_error(), and we never format it. */
	dm_err_set(err, code, "%s", dm_buf_str(&b));
	dm_buf_fini(&b);
	free(link);
	return -1;
}

/* ---- connect --------------------------------------------------------- */

/* The server does TLS but not 1.3 (OpenSSL's wording on either side: "tlsv1
 * alert protocol version" from MariaDB 10.11 set to TLSv1.2). Any other
 * failure is not retried: it would fail alike, or, for a server that does
 * not offer TLS at all, ask it to log in once more for nothing. */
static bool refused_tls13(MYSQL *m)
{
	const char *e = mysql_error(m);
	return mysql_errno(m) == CR_SSL_CONNECTION_ERROR &&
	       (strstr(e, "protocol version") != NULL ||
	        strstr(e, "unsupported protocol") != NULL ||
	        strstr(e, "wrong version number") != NULL);
}

int dm_mysql_connect(const dm_db_config *c, const char *what, MYSQL **ret, dm_err *err)
{
	return dm_mysql_connect_flags(c, what, 0, ret, err);
}

int dm_mysql_connect_flags(const dm_db_config *c, const char *what, unsigned long client_flags,
                           MYSQL **ret, dm_err *err)
{
	if (what == NULL)
		what = "mysql";
	const char *key = config_key(what);
	char *link = link_name(c, what);
	int rc = -1;
	MYSQL *m = NULL;
	dm_tlsmat t;
	dm_tlsmat_init(&t, &c->security);

	if (!is_set(c->host)) {
		dm_err_set(err, DM_EINVAL, "%s: %s.host is empty; set the server's address", what,
		           key);
		goto out;
	}
	if (!is_set(c->user)) {
		dm_err_set(err, DM_EINVAL, "%s: %s.user is empty; set the account dm logs in as",
		           link, key);
		goto out;
	}
	/* Catches a cert without its key (and the reverse) before any network
	 * traffic: Connector/C would quietly use the cert file as the key. */
	if (dm_tls_settings_validate(&c->security, DM_TLS_CLIENT, err) < 0) {
		dm_err_prefix(err, "%s: %s.security", link, key);
		goto out;
	}
	bool use_tls = c->security.mode != DM_TLS_OFF && !dm_tls_settings_empty(&c->security);
	t.verify_server = t.verify_server && use_tls;
	if (use_tls) {
		if (dm_tlsmat_check(&t, err) < 0) {
			dm_err_prefix(err, "%s: %s.security", link, key);
			goto out;
		}
		if (dm_tlsmat_materialize(&t, err) < 0) {
			dm_err_prefix(err, "%s", link);
			goto out;
		}
	}

	/* Pass 0 offers TLS 1.3 alone (see DM_MYSQL_TLS13_SUITES). A server
	 * that refuses 1.3 (refused_tls13) gets pass 1, with TLS 1.2 allowed,
	 * whose outcome is the one reported. With a TLS 1.3 minimum, or no TLS,
	 * there is only pass 1. */
	bool only13 = use_tls && min_tls13(c);
	int64_t start = 0;
	MYSQL *ok = NULL;
	for (int pass = use_tls && !only13 ? 0 : 1; pass < 2; pass++) {
		if (m != NULL)
			mysql_close(m);
		m = mysql_init(NULL);
		if (m == NULL) {
			dm_err_set(err, DM_EINTERNAL, "%s: mysql_init failed (out of memory)",
			           link);
			goto out;
		}
		if (set_options(m, c, &t, use_tls, pass == 0 || only13) != 0) {
			dm_err_set(err, DM_EINVAL, "%s: Connector/C refused an option: %s", link,
			           mysql_error(m));
			goto out;
		}
		start = dm_clock_mono_ms();
		ok = mysql_real_connect(m, c->host, c->user, c->password != NULL ? c->password : "",
		                        NULL, port_of(c), NULL, client_flags);
		/* Its cipher set-up may leave a stale "no cipher match" in
		 * this thread's OpenSSL error queue (see connect_error) when
		 * no handshake followed; do not pass it on to the next
		 * OpenSSL user here. */
		ERR_clear_error();
		if (ok != NULL || !refused_tls13(m))
			break;
	}
	/* Connector/C has read every file by now (it builds a fresh SSL_CTX per
	 * connection and never again for this handle, reconnect being off). */
	dm_tlsmat_fini(&t);
	if (ok == NULL) {
		connect_error(m, c, what, &t, use_tls, dm_clock_mono_ms() - start,
		              connect_timeout_of(c), err);
		goto out;
	}
	if (use_tls && mysql_get_ssl_cipher(m) == NULL) {
		/* Without a CA Connector/C falls back to plaintext when the
		 * server offers no TLS; a configured security block means
		 * the user wants an encrypted link, so refuse it. */
		dm_err_set(err, DM_ETLS,
		           "%s: the server does not offer TLS, but %s.security is set — configure "
		           "TLS on the server (ssl-cert/ssl-key), or empty %s.security for "
		           "plaintext",
		           link, key, key);
		goto out;
	}
	*ret = m;
	m = NULL;
	rc = 0;
out:
	dm_tlsmat_fini(&t);
	if (m != NULL)
		mysql_close(m);
	free(link);
	return rc;
}

/* ---- queries --------------------------------------------------------- */

static int query_error(MYSQL *m, const char *sql, dm_err *err)
{
	unsigned int no = mysql_errno(m);
	enum dm_err_code code = DM_EDB;
	if (no == CR_SERVER_GONE_ERROR || no == CR_SERVER_LOST || no == CR_SERVER_LOST_EXTENDED)
		code = DM_ENET;
	size_t n = strlen(sql);
	return dm_err_set(err, code, "MySQL error %u (%s): %s; statement: %.200s%s", no,
	                  mysql_sqlstate(m), mysql_error(m), sql, n > 200 ? "…" : "");
}

/* Reads and frees the remaining result sets (a CALL can return several),
 * so the connection is ready for the next statement. */
static int drain(MYSQL *m, const char *sql, dm_err *err)
{
	for (;;) {
		int r = mysql_next_result(m);
		if (r < 0)
			return 0;
		if (r > 0)
			return query_error(m, sql, err);
		MYSQL_RES *res = mysql_store_result(m);
		if (res == NULL && mysql_field_count(m) != 0)
			return query_error(m, sql, err);
		mysql_free_result(res);
	}
}

int dm_mysql_query(MYSQL *m, const char *sql, dm_err *err)
{
	if (mysql_real_query(m, sql, strlen(sql)) != 0)
		return query_error(m, sql, err);
	MYSQL_RES *res = mysql_store_result(m);
	if (res == NULL && mysql_field_count(m) != 0)
		return query_error(m, sql, err);
	mysql_free_result(res);
	return drain(m, sql, err);
}

int dm_mysql_query_value(MYSQL *m, const char *sql, char **ret, dm_err *err)
{
	MYSQL_RES *res;
	if (dm_mysql_store(m, sql, &res, err) < 0)
		return -1;
	MYSQL_ROW row = mysql_fetch_row(res);
	unsigned long *lens = row != NULL ? mysql_fetch_lengths(res) : NULL;
	bool found = row != NULL && lens != NULL;
	char *val = found && row[0] != NULL ? dm_xstrndup(row[0], lens[0]) : NULL;
	mysql_free_result(res);
	if (!found)
		return dm_err_set(err, DM_ENOTFOUND, "no row returned by: %.200s", sql);
	*ret = val;
	return 0;
}

static void copy_out(char *out, size_t n, const char *s)
{
	if (out != NULL && n > 0)
		snprintf(out, n, "%s", s != NULL ? s : "");
}

bool dm_mysql_tls_info(MYSQL *m, char *cipher_out, size_t cipher_len, char *version_out,
                       size_t version_len)
{
	const char *cipher = mysql_get_ssl_cipher(m);
	const char *version = NULL;
	if (cipher != NULL &&
	    mariadb_get_infov(m, MARIADB_CONNECTION_TLS_VERSION, (void *)&version) != 0)
		version = NULL;
	copy_out(cipher_out, cipher_len, cipher);
	copy_out(version_out, version_len, cipher != NULL ? version : NULL);
	return cipher != NULL;
}

int dm_mysql_error(MYSQL *m, const char *sql, dm_err *err)
{
	return query_error(m, sql, err);
}

int dm_mysql_store(MYSQL *m, const char *sql, MYSQL_RES **ret, dm_err *err)
{
	*ret = NULL;
	if (mysql_real_query(m, sql, strlen(sql)) != 0)
		return query_error(m, sql, err);
	MYSQL_RES *res = mysql_store_result(m);
	if (res == NULL) {
		if (mysql_field_count(m) != 0)
			return query_error(m, sql, err);
		drain(m, sql, NULL);
		return dm_err_set(err, DM_EINVAL, "statement returned no result set: %.200s", sql);
	}
	if (drain(m, sql, err) < 0) {
		mysql_free_result(res);
		return -1;
	}
	*ret = res;
	return 0;
}

bool dm_mysql_is_mariadb(MYSQL *m)
{
	const char *v = mysql_get_server_info(m);
	return v && strcasestr(v, "mariadb") != NULL;
}

bool dm_mysql_is_transient(unsigned int no)
{
	switch (no) {
	case CR_SERVER_GONE_ERROR:
	case CR_SERVER_LOST:
	case CR_SERVER_LOST_EXTENDED:
	case CR_CONN_HOST_ERROR:
	case CR_CONNECTION_ERROR:
	/* On an established connection this is the peer closing the TLS
	 * stream, i.e. a lost connection. (Handshake failures also carry it,
	 * but those come from connecting, where this is not consulted.) */
	case CR_SSL_CONNECTION_ERROR:
	case 1205: /* ER_LOCK_WAIT_TIMEOUT */
	case 1213: /* ER_LOCK_DEADLOCK */
	case 1053: /* ER_SERVER_SHUTDOWN */
	case 1927: /* ER_CONNECTION_KILLED (MariaDB) */ return true;
	default: return false;
	}
}
