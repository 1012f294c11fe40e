/* src/net server, client and loop over loopback: the server's event loop
 * runs in a thread, the client (libcurl) calls from the test thread.
 * Certificates are made with src/tls/pki.c in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/bind.h"
#include "net/client.h"
#include "net/loop.h"
#include "net/server.h"
#include "tls/pki.h"
#include "tls/tls.h"

/* ca signs srv (CN dm-server), master (CN dm-master), other (CN other);
 * ca2 is unrelated and signs rogue (CN dm-master). */
static char g_dir[64];

static void make_ca(const char *name, const char *cn)
{
	dm_err err;
	char *cert = dm_xasprintf("%s/%s.pem", g_dir, name);
	char *key = dm_xasprintf("%s/%s.key", g_dir, name);
	if (dm_pki_create_ca(cn, 0, cert, key, &err) < 0)
		fail_msg("create CA: %s", err.msg);
	free(cert);
	free(key);
}

static void issue(const char *ca, const char *name, const char *cn)
{
	static const char *const sans[] = {"127.0.0.1", "localhost"};
	char *ca_cert = dm_xasprintf("%s/%s.pem", g_dir, ca);
	char *ca_key = dm_xasprintf("%s/%s.key", g_dir, ca);
	char *cert = dm_xasprintf("%s/%s.pem", g_dir, name);
	char *key = dm_xasprintf("%s/%s.key", g_dir, name);
	dm_pki_issue_opts o = {.ca_cert_path = ca_cert,
	                       .ca_key_path = ca_key,
	                       .cn = cn,
	                       .sans = sans,
	                       .n_sans = 2,
	                       .cert_path = cert,
	                       .key_path = key};
	dm_err err;
	if (dm_pki_issue(&o, &err) < 0)
		fail_msg("issue %s: %s", name, err.msg);
	free(ca_cert);
	free(ca_key);
	free(cert);
	free(key);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/dm-test-net-XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	make_ca("ca", "dm-ca");
	make_ca("ca2", "other-ca");
	issue("ca", "srv", "dm-server");
	issue("ca", "master", "dm-master");
	issue("ca", "other", "other");
	issue("ca2", "rogue", "dm-master");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Settings naming "<ca>.pem", "<cert>.pem", "<cert>.key" in g_dir. */
static void settings(dm_tls_settings *s, dm_tls_mode mode, const char *ca, const char *cert,
                     const char *allowed)
{
	dm_tls_settings_init(s);
	s->mode = mode;
	if (ca != NULL)
		s->ca_file = dm_xasprintf("%s/%s.pem", g_dir, ca);
	if (cert != NULL) {
		s->cert_file = dm_xasprintf("%s/%s.pem", g_dir, cert);
		s->key_file = dm_xasprintf("%s/%s.key", g_dir, cert);
	}
	if (allowed != NULL) {
		s->allowed_cn = dm_xcalloc(1, sizeof(char *));
		s->allowed_cn[0] = dm_xstrdup(allowed);
		s->n_allowed_cn = 1;
	}
}

static dm_tls *server_tls(dm_tls_mode mode)
{
	dm_tls_settings s;
	dm_err err;
	settings(&s, mode, "ca", "srv", "dm-master");
	dm_tls *t = dm_tls_new(&s, DM_TLS_SERVER, &err);
	if (t == NULL)
		fail_msg("server TLS: %s", err.msg);
	dm_tls_settings_fini(&s);
	return t;
}

static dm_http_client *client(const char *ca, const char *cert)
{
	dm_tls_settings s;
	dm_err err;
	settings(&s, DM_TLS_STRICT, ca, cert, NULL);
	dm_http_client_opts o = {.connect_timeout_ms = 2000, .timeout_ms = 5000};
	dm_http_client *c = dm_http_client_new(ca != NULL ? &s : NULL, &o, &err);
	if (c == NULL)
		fail_msg("client: %s", err.msg);
	dm_tls_settings_fini(&s);
	return c;
}

/* A server whose loop runs in its own thread. */
struct srv {
	struct event_base *base;
	dm_http_server *http;
	dm_log *log;
	char *log_path;
	pthread_t th;
	char addr[64];
	int drained;
};

static void on_echo(dm_http_req *req, void *arg)
{
	(void)arg;
	const char *cn = dm_http_req_peer_cn(req);
	const char *name = dm_http_req_param(req, "name");
	const char *q = dm_http_req_query(req, "q");
	const char *ua = dm_http_req_header(req, "user-agent");
	json_t *body = dm_http_req_json(req);
	dm_http_reply_json(req, 200,
	                   json_pack("{s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:s}", "method",
	                             dm_http_req_method(req), "path", dm_http_req_path(req),
	                             "peer_cn", cn != NULL ? json_string(cn) : json_null(), "tls",
	                             dm_http_req_is_tls(req), "name",
	                             name != NULL ? json_string(name) : json_null(), "q",
	                             q != NULL ? json_string(q) : json_null(), "body",
	                             body != NULL ? json_incref(body) : json_null(), "ua",
	                             ua ? ua : ""));
}

static void on_literal(dm_http_req *req, void *arg)
{
	(void)arg;
	dm_http_reply_text(req, 200, "literal");
}

static void on_silent(dm_http_req *req, void *arg)
{
	(void)req;
	(void)arg;
}

static void *loop_main(void *arg)
{
	struct srv *s = arg;
	event_base_loop(s->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void srv_start(struct srv *s, dm_tls *tls, size_t max_body)
{
	dm_err err;
	memset(s, 0, sizeof(*s));
	s->log_path = dm_xasprintf("%s/server-%d.log", g_dir, (int)dm_clock_mono_ms());
	s->log = dm_log_new("test", DM_LOG_DEBUG, DM_LOG_TEXT, s->log_path, &err);
	assert_non_null(s->log);
	s->base = event_base_new();
	dm_http_server_opts o = {.tls = tls, .max_body = max_body, .timeout_s = 5};
	s->http = dm_http_server_new(s->base, &o, s->log, &err);
	assert_non_null(s->http);
	assert_int_equal(dm_http_server_route(s->http, "POST", "/echo", on_echo, NULL), 0);
	assert_int_equal(dm_http_server_route(s->http, "GET", "/api/v1/sources/{name}/status",
	                                      on_echo, NULL),
	                 0);
	assert_int_equal(dm_http_server_route(s->http, "GET", "/api/v1/sources/batch/status",
	                                      on_literal, NULL),
	                 0);
	assert_int_equal(dm_http_server_route(s->http, "DELETE", "/api/v1/sources/{name}/status",
	                                      on_echo, NULL),
	                 0);
	assert_int_equal(dm_http_server_route(s->http, "GET", "/silent", on_silent, NULL), 0);
	/* Duplicates and malformed patterns are refused. */
	assert_int_equal(
	        dm_http_server_route(s->http, "GET", "/api/v1/sources/{x}/status", on_echo, NULL),
	        -1);
	assert_int_equal(dm_http_server_route(s->http, "GET", "/a/{b", on_echo, NULL), -1);
	assert_int_equal(dm_http_server_route(s->http, "GET", "no-slash", on_echo, NULL), -1);
	assert_int_equal(dm_http_server_listen(s->http, "127.0.0.1:0", &err), 0);
	snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%d", dm_http_server_port(s->http));
	assert_int_equal(pthread_create(&s->th, NULL, loop_main, s), 0);
}

static void srv_stop(struct srv *s)
{
	event_base_loopbreak(s->base);
	pthread_join(s->th, NULL);
	dm_http_server_free(s->http);
	event_base_free(s->base);
	dm_log_free(s->log);
	free(s->log_path);
}

/* Runs fn(arg) in the server's loop thread and waits for it. */
struct in_loop {
	void (*fn)(struct srv *s, void *arg);
	struct srv *s;
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void in_loop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct in_loop *il = arg;
	(void)fd;
	(void)what;
	il->fn(il->s, il->arg);
	pthread_mutex_lock(&il->mu);
	il->done = true;
	pthread_cond_signal(&il->cv);
	pthread_mutex_unlock(&il->mu);
}

static void run_in_loop(struct srv *s, void (*fn)(struct srv *s, void *arg), void *arg)
{
	struct in_loop il = {.fn = fn, .s = s, .arg = arg};
	pthread_mutex_init(&il.mu, NULL);
	pthread_cond_init(&il.cv, NULL);
	struct timeval zero = {0, 0};
	assert_int_equal(event_base_once(s->base, -1, EV_TIMEOUT, in_loop_cb, &il, &zero), 0);
	pthread_mutex_lock(&il.mu);
	while (!il.done)
		pthread_cond_wait(&il.cv, &il.mu);
	pthread_mutex_unlock(&il.mu);
	pthread_cond_destroy(&il.cv);
	pthread_mutex_destroy(&il.mu);
}

/* The server log contains needle (logging is synchronous: one write). */
static bool log_has(struct srv *s, const char *needle)
{
	char *text = NULL;
	size_t len = 0;
	for (int i = 0; i < 50; i++) {
		if (dm_file_read(s->log_path, 1 << 20, &text, &len, NULL) == 0) {
			bool found = strstr(text, needle) != NULL;
			free(text);
			if (found)
				return true;
		}
		dm_clock_sleep_ms(20);
	}
	return false;
}

/* A port nothing listens on: bound once, then closed. */
static int dead_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static int call(dm_http_client *c, const char *method, const char *addr, const char *path,
                json_t *body, long *status, json_t **resp, dm_err *err)
{
	dm_strlist l = {NULL, 0};
	dm_strlist_split(&l, addr);
	int rc = dm_http_client_call(c, method, &l, path, body, status, resp, err);
	dm_strlist_fini(&l);
	return rc;
}

static void test_routing_plain(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, NULL, 0);
	dm_http_client *c = client(NULL, NULL);
	assert_false(dm_http_client_is_tls(c));
	long status = 0;
	json_t *r = NULL;
	dm_err err;

	assert_int_equal(call(c, "GET", s.addr, "/api/v1/sources/my%20src/status?q=a+b&z", NULL,
	                      &status, &r, &err),
	                 0);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(r, "name")), "my src");
	assert_string_equal(json_string_value(json_object_get(r, "q")), "a b");
	assert_string_equal(json_string_value(json_object_get(r, "path")),
	                    "/api/v1/sources/my%20src/status");
	assert_true(json_is_null(json_object_get(r, "peer_cn")));
	assert_true(json_is_false(json_object_get(r, "tls")));
	assert_string_equal(json_string_value(json_object_get(r, "ua")), "dm/0.1");
	json_decref(r);

	/* A literal segment wins over a parameter; a trailing slash is
	 * tolerated. */
	assert_int_equal(
	        call(c, "GET", s.addr, "/api/v1/sources/batch/status/", NULL, &status, &r, &err),
	        0);
	assert_int_equal(status, 200);
	assert_null(r); /* text, not JSON */

	assert_int_equal(
	        call(c, "DELETE", s.addr, "/api/v1/sources/x/status", NULL, &status, &r, &err), 0);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(r, "method")), "DELETE");
	json_decref(r);

	/* Unknown path, wrong method, empty segment. */
	assert_int_equal(call(c, "GET", s.addr, "/api/v2/nothing", NULL, &status, &r, &err), 0);
	assert_int_equal(status, 404);
	assert_int_equal(json_integer_value(json_object_get(r, "error_code")), 404);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error_msg")), "/api/v2"));
	json_decref(r);
	assert_int_equal(
	        call(c, "POST", s.addr, "/api/v1/sources/x/status", NULL, &status, &r, &err), 0);
	assert_int_equal(status, 405);
	json_decref(r);
	assert_int_equal(call(c, "GET", s.addr, "/api/v1//x/status", NULL, &status, &r, &err), 0);
	assert_int_equal(status, 404);
	json_decref(r);

	/* JSON in, JSON out; invalid JSON is a 400 before any handler. */
	json_t *in = json_pack("{s:s, s:[i,i]}", "source-name", "mysql-01", "n", 1, 2);
	assert_int_equal(call(c, "POST", s.addr, "/echo", in, &status, &r, &err), 0);
	assert_int_equal(status, 200);
	assert_true(json_equal(json_object_get(r, "body"), in));
	json_decref(r);
	json_decref(in);

	/* A handler that does not reply gets a 500 sent for it. */
	assert_int_equal(call(c, "GET", s.addr, "/silent", NULL, &status, &r, &err), 0);
	assert_int_equal(status, 500);
	json_decref(r);
	assert_true(log_has(&s, "returned without replying"));

	dm_http_client_free(c);
	srv_stop(&s);
}

/* Raw requests, for what libcurl would not send. */
static char *raw(const char *addr, const char *req, size_t len)
{
	int port = atoi(strrchr(addr, ':') + 1);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char *out = dm_xcalloc(1, 65536);
	size_t n = 0;
	ssize_t k;
	while (n < 65535 && (k = recv(fd, out + n, 65535 - n, 0)) > 0)
		n += (size_t)k;
	close(fd);
	return out;
}

static void test_protocol_errors(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, NULL, 1024);
	const char *bad_json =
	        "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
	        "Content-Length: 5\r\nConnection: close\r\n\r\n{\"a\":";
	char *out = raw(s.addr, bad_json, strlen(bad_json));
	assert_non_null(strstr(out, "HTTP/1.1 400 Bad Request\r\n"));
	assert_non_null(strstr(out, "\"error_code\":400"));
	assert_non_null(strstr(out, "not valid JSON"));
	free(out);

	const char *wrong = "PUT /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	out = raw(s.addr, wrong, strlen(wrong));
	assert_non_null(strstr(out, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(out, "\r\nAllow: POST\r\n"));
	free(out);

	/* 413 without reading the body, answered before the client is done. */
	dm_buf b;
	dm_buf_init(&b);
	dm_buf_puts(&b, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 200000\r\n\r\n");
	while (b.len < 100000)
		dm_buf_putc(&b, 'x');
	out = raw(s.addr, b.data, b.len);
	assert_non_null(strstr(out, "HTTP/1.1 413 Content Too Large\r\n"));
	assert_non_null(strstr(out, "Connection: close\r\n"));
	assert_non_null(strstr(out, "1024 bytes"));
	free(out);
	dm_buf_fini(&b);

	const char *chunked =
	        "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
	out = raw(s.addr, chunked, strlen(chunked));
	assert_non_null(strstr(out, "HTTP/1.1 411 Length Required\r\n"));
	free(out);

	/* Two pipelined requests on one connection, answered in order; HEAD
	 * gets the GET route without a body; 100-continue is honoured. */
	const char *two = "HEAD /api/v1/sources/a/status HTTP/1.1\r\nHost: h\r\n\r\n"
	                  "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	                  "Content-Type: application/json\r\nContent-Length: 2\r\n"
	                  "Connection: close\r\n\r\n{}";
	out = raw(s.addr, two, strlen(two));
	char *first = strstr(out, "HTTP/1.1 200 OK\r\n");
	assert_non_null(first);
	char *second = strstr(first + 1, "HTTP/1.1 200 OK\r\n");
	assert_non_null(second);
	assert_null(strstr(first, "\"method\":\"HEAD\"")); /* no body for HEAD */
	assert_non_null(strstr(second, "\"method\":\"POST\""));
	free(out);

	assert_true(log_has(&s, "bad request from 127.0.0.1:"));
	srv_stop(&s);
}

static void expect_status(dm_http_client *c, const char *addr, long want, bool tls);

/* Replaces <to>.pem and <to>.key with copies of <from>'s, key first, each
 * atomically, as an operator rotating files would. */
static void copy_pair(const char *from, const char *to)
{
	static const char *const ext[] = {"key", "pem"};
	for (int i = 0; i < 2; i++) {
		char *src = dm_xasprintf("%s/%s.%s", g_dir, from, ext[i]);
		char *dst = dm_xasprintf("%s/%s.%s", g_dir, to, ext[i]);
		char *data = NULL;
		size_t len = 0;
		dm_err err;
		if (dm_file_read(src, 1 << 20, &data, &len, &err) < 0 ||
		    dm_file_write_atomic(dst, data, len, 0600, &err) < 0)
			fail_msg("copy %s: %s", src, err.msg);
		free(data);
		free(src);
		free(dst);
	}
}

static void test_tls_roundtrip(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, server_tls(DM_TLS_STRICT), 0);
	char addrs[160];
	snprintf(addrs, sizeof(addrs), "127.0.0.1:%d,%s", dead_port(), s.addr);
	long status = 0;
	json_t *r = NULL;
	dm_err err;

	/* Dead address first, then the live one: the call falls through. */
	dm_http_client *c = client("ca", "master");
	assert_true(dm_http_client_is_tls(c));
	json_t *in = json_pack("{s:s}", "task", "t1");
	if (call(c, "POST", addrs, "/echo", in, &status, &r, &err) < 0)
		fail_msg("call: %s", err.msg);
	assert_int_equal(status, 200);
	assert_string_equal(json_string_value(json_object_get(r, "peer_cn")), "dm-master");
	assert_true(json_is_true(json_object_get(r, "tls")));
	assert_true(json_equal(json_object_get(r, "body"), in));
	json_decref(r);
	json_decref(in);

	/* Every address dead: the message names them and curl's reason. */
	char dead[160];
	int p1 = dead_port(), p2 = dead_port();
	snprintf(dead, sizeof(dead), "127.0.0.1:%d,127.0.0.1:%d", p1, p2);
	assert_int_equal(call(c, "GET", dead, "/status", NULL, &status, &r, &err), -1);
	assert_int_equal(err.code, DM_ENET);
	char want[128];
	snprintf(want, sizeof(want), "cannot reach 127.0.0.1:%d: ", p2);
	assert_non_null(strstr(err.msg, want));
	snprintf(want, sizeof(want), "tried 127.0.0.1:%d (", p1);
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, "refused"));
	dm_http_client_free(c);

	/* The client reads its files for every call: replacing them makes
	 * the next call present the new certificate. */
	copy_pair("master", "live-client");
	c = client("ca", "live-client");
	expect_status(c, s.addr, 200, true);
	copy_pair("other", "live-client");
	/* A refused CN gets a 403 naming the reason, never the handler. */
	assert_int_equal(
	        call(c, "GET", s.addr, "/api/v1/sources/x/status", NULL, &status, &r, &err), 0);
	assert_int_equal(status, 403);
	assert_non_null(
	        strstr(json_string_value(json_object_get(r, "error_msg")), "cert-allowed-cn"));
	json_decref(r);
	copy_pair("master", "live-client");
	expect_status(c, s.addr, 200, true);
	dm_http_client_free(c);

	/* CN not allowed: refused, and the server log names the CN. */
	c = client("ca", "other");
	assert_int_equal(
	        call(c, "GET", s.addr, "/api/v1/sources/x/status", NULL, &status, &r, &err), 0);
	assert_int_equal(status, 403);
	json_decref(r);
	dm_http_client_free(c);
	assert_true(log_has(&s, "refused TLS client 127.0.0.1:"));
	assert_true(log_has(&s, "client certificate CN \"other\" is not in cert-allowed-cn "
	                        "[dm-master]"));

	/* Certificate from another CA. */
	c = client("ca", "rogue");
	assert_int_equal(
	        call(c, "GET", s.addr, "/api/v1/sources/x/status", NULL, &status, &r, &err), -1);
	dm_http_client_free(c);
	assert_true(log_has(&s, "certificate verify failed"));

	/* No client certificate. */
	c = client("ca", NULL);
	assert_int_equal(
	        call(c, "GET", s.addr, "/api/v1/sources/x/status", NULL, &status, &r, &err), -1);
	dm_http_client_free(c);
	assert_true(log_has(&s, "peer did not return a certificate"));

	/* The client verifies the server: a CA that did not sign it fails,
	 * and the call is not counted as answered. */
	c = client("ca2", "rogue");
	assert_int_equal(
	        call(c, "GET", s.addr, "/api/v1/sources/x/status", NULL, &status, &r, &err), -1);
	assert_int_equal(err.code, DM_ETLS);
	dm_http_client_free(c);

	/* Plaintext to a strict server. */
	c = client(NULL, NULL);
	assert_int_equal(
	        call(c, "GET", s.addr, "/api/v1/sources/x/status", NULL, &status, &r, &err), -1);
	dm_http_client_free(c);
	assert_true(log_has(&s, "http request"));
	srv_stop(&s);
}

static void set_permissive(struct srv *s, void *arg)
{
	(void)arg;
	dm_http_server_set_tls(s->http, server_tls(DM_TLS_PERMISSIVE));
}

static void set_strict(struct srv *s, void *arg)
{
	(void)arg;
	dm_http_server_set_tls(s->http, server_tls(DM_TLS_STRICT));
}

static void expect_status(dm_http_client *c, const char *addr, long want, bool tls)
{
	long status = 0;
	json_t *r = NULL;
	dm_err err;
	if (call(c, "GET", addr, "/api/v1/sources/x/status", NULL, &status, &r, &err) < 0)
		fail_msg("call: %s", err.msg);
	assert_int_equal(status, want);
	assert_int_equal(json_is_true(json_object_get(r, "tls")), tls);
	json_decref(r);
}

/* off -> permissive -> strict on a running server. */
static void test_modes_and_swap(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, NULL, 0);
	dm_http_client *plain = client(NULL, NULL);
	dm_http_client *tls = client("ca", "master");
	long status;
	json_t *r = NULL;
	dm_err err;
	expect_status(plain, s.addr, 200, false);
	assert_int_equal(call(tls, "GET", s.addr, "/x", NULL, &status, &r, &err), -1);

	run_in_loop(&s, set_permissive, NULL);
	expect_status(plain, s.addr, 200, false);
	expect_status(tls, s.addr, 200, true);

	run_in_loop(&s, set_strict, NULL);
	expect_status(tls, s.addr, 200, true);
	assert_int_equal(call(plain, "GET", s.addr, "/x", NULL, &status, &r, &err), -1);
	dm_http_client_free(plain);
	dm_http_client_free(tls);
	srv_stop(&s);
}

static void drained(void *arg)
{
	struct srv *s = arg;
	s->drained++;
}

static void do_shutdown(struct srv *s, void *arg)
{
	size_t *open = arg;
	*open = dm_http_server_conn_count(s->http);
	dm_http_server_on_drained(s->http, drained, s);
	dm_http_server_shutdown(s->http);
}

static void count_conns(struct srv *s, void *arg)
{
	*(size_t *)arg = dm_http_server_conn_count(s->http);
}

/* Shutdown closes an idle keep-alive connection and reports drained. */
static void test_shutdown(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, NULL, 0);
	int port = dm_http_server_port(s.http);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	const char *req = "GET /api/v1/sources/a/status HTTP/1.1\r\nHost: h\r\n\r\n";
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "Connection: keep-alive"));

	size_t open = 0;
	run_in_loop(&s, do_shutdown, &open);
	assert_true(open <= 1);
	n = recv(fd, buf, sizeof(buf), 0);
	assert_int_equal(n, 0); /* closed by the server */
	close(fd);
	/* The connection may have been between its reply and the end of
	 * it (then it is half-closed and waits for our EOF): poll. */
	size_t now = 1;
	for (int i = 0; i < 150 && (now > 0 || s.drained == 0); i++) {
		run_in_loop(&s, count_conns, &now);
		if (now > 0 || s.drained == 0)
			dm_clock_sleep_ms(20);
	}
	assert_int_equal(now, 0);
	assert_int_equal(s.drained, 1);
	/* Not listening any more. */
	dm_http_client *c = client(NULL, NULL);
	long status;
	dm_err err;
	assert_int_equal(call(c, "GET", s.addr, "/x", NULL, &status, NULL, &err), -1);
	dm_http_client_free(c);
	srv_stop(&s);
}

struct loop_state {
	dm_loop *loop;
	int reloads;
	int shutdowns;
	struct event *kick;
};

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)arg;
	(void)fd;
	(void)what;
	raise(SIGHUP);
	raise(SIGTERM);
}

static void on_reload(void *arg)
{
	((struct loop_state *)arg)->reloads++;
}

static void on_shutdown(void *arg)
{
	struct loop_state *ls = arg;
	ls->shutdowns++;
	dm_loop_exit(ls->loop);
}

static void test_loop_signals(void **state)
{
	(void)state;
	dm_err err;
	dm_log *log = dm_log_new("test", DM_LOG_INFO, DM_LOG_TEXT, NULL, &err);
	struct event_base *base = event_base_new();
	struct loop_state ls = {0};
	ls.loop = dm_loop_new(base, log, &err);
	assert_non_null(ls.loop);
	dm_loop_on_reload(ls.loop, on_reload, &ls);
	dm_loop_on_shutdown(ls.loop, on_shutdown, &ls);
	ls.kick = evtimer_new(base, kick_cb, &ls);
	struct timeval tv = {0, 10000};
	evtimer_add(ls.kick, &tv);
	/* No grace period to fall back on: the loop must end through the
	 * shutdown callback's dm_loop_exit, or the test times out. */
	dm_loop_set_grace_ms(ls.loop, 3600 * 1000);
	assert_int_equal(dm_loop_run(ls.loop, &err), 0);
	assert_int_equal(ls.reloads, 1);
	assert_int_equal(ls.shutdowns, 1);
	event_free(ls.kick);
	dm_loop_free(ls.loop);

	/* Without dm_loop_exit the grace period ends the loop. */
	struct loop_state ls2 = {0};
	ls2.loop = dm_loop_new(base, log, &err);
	dm_loop_set_grace_ms(ls2.loop, 200);
	dm_loop_on_shutdown(ls2.loop, on_reload, &ls2); /* counts, does not exit */
	ls2.kick = evtimer_new(base, kick_cb, &ls2);
	evtimer_add(ls2.kick, &tv);
	int64_t t0 = dm_clock_mono_ms();
	assert_int_equal(dm_loop_run(ls2.loop, &err), 0);
	assert_int_equal(ls2.reloads, 1); /* the shutdown callback; SIGHUP had no handler */
	assert_true(dm_clock_mono_ms() - t0 >= 150);
	event_free(ls2.kick);
	dm_loop_free(ls2.loop);
	event_base_free(base);
	dm_log_free(log);
}

int main(void)
{
	/* The server's loop runs in another thread than the one calling
	 * loopbreak / event_base_once. */
	evthread_use_pthreads();
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_routing_plain), cmocka_unit_test(test_protocol_errors),
	        cmocka_unit_test(test_tls_roundtrip), cmocka_unit_test(test_modes_and_swap),
	        cmocka_unit_test(test_shutdown),      cmocka_unit_test(test_loop_signals),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
