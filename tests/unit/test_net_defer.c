/* Deferred HTTP replies and the dm_loop offload pool, over loopback (plain
 * and TLS). The server's dm_loop runs in its own thread; clients call from
 * the test thread (or a helper thread). Ordering is asserted through the
 * order in which the loop thread records events, never through timings:
 * work() waits on a gate the test opens, so "answered meanwhile" means the
 * answer came while the deferred request was provably still pending. */
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

#include "base/clock.h"
#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/queue.h"
#include "config/bind.h"
#include "net/client.h"
#include "net/loop.h"
#include "net/server.h"
#include "tls/pki.h"
#include "tls/tls.h"

#define WAIT_MS 5000 /* upper bound for anything that should happen */

static char g_dir[64];

static void make_pair(const char *ca, const char *name, const char *cn)
{
	static const char *const sans[] = {"127.0.0.1", "localhost"};
	char *ca_cert = dm_xasprintf("%s/%s.pem", g_dir, ca);
	char *ca_key = dm_xasprintf("%s/%s.key", g_dir, ca);
	char *cert = dm_xasprintf("%s/%s.pem", g_dir, name);
	char *key = dm_xasprintf("%s/%s.key", g_dir, name);
	dm_err err;
	if (name == ca) {
		if (dm_pki_create_ca(cn, 0, cert, key, &err) < 0)
			fail_msg("create CA: %s", err.msg);
	} else {
		dm_pki_issue_opts o = {.ca_cert_path = ca_cert,
		                       .ca_key_path = ca_key,
		                       .cn = cn,
		                       .sans = sans,
		                       .n_sans = 2,
		                       .cert_path = cert,
		                       .key_path = key};
		if (dm_pki_issue(&o, &err) < 0)
			fail_msg("issue %s: %s", name, err.msg);
	}
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
	snprintf(g_dir, sizeof(g_dir), "/tmp/dm-test-defer-XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	static const char ca[] = "ca";
	make_pair(ca, ca, "dm-ca");
	make_pair(ca, "srv", "dm-server");
	make_pair(ca, "master", "dm-master");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void settings(dm_tls_settings *s, const char *cert, const char *allowed)
{
	dm_tls_settings_init(s);
	s->mode = DM_TLS_STRICT;
	s->ca_file = dm_xasprintf("%s/ca.pem", g_dir);
	s->cert_file = dm_xasprintf("%s/%s.pem", g_dir, cert);
	s->key_file = dm_xasprintf("%s/%s.key", g_dir, cert);
	if (allowed != NULL) {
		s->allowed_cn = dm_xcalloc(1, sizeof(char *));
		s->allowed_cn[0] = dm_xstrdup(allowed);
		s->n_allowed_cn = 1;
	}
}

static dm_tls *server_tls(void)
{
	dm_tls_settings s;
	dm_err err;
	settings(&s, "srv", "dm-master");
	dm_tls *t = dm_tls_new(&s, DM_TLS_SERVER, &err);
	if (t == NULL)
		fail_msg("server TLS: %s", err.msg);
	dm_tls_settings_fini(&s);
	return t;
}

static dm_http_client *tls_client(void)
{
	dm_tls_settings s;
	dm_err err;
	settings(&s, "master", NULL);
	dm_http_client_opts o = {.connect_timeout_ms = 2000, .timeout_ms = WAIT_MS};
	dm_http_client *c = dm_http_client_new(&s, &o, &err);
	if (c == NULL)
		fail_msg("client: %s", err.msg);
	dm_tls_settings_fini(&s);
	return c;
}

/* A server whose dm_loop runs in its own thread. The loop thread reports
 * what happened, in order, as strings on `events`; work() announces that
 * it started on `started` and, when asked (?gate=1), waits for a token on
 * `gate`. */
struct srv {
	struct event_base *base;
	dm_loop *loop;
	dm_http_server *http;
	dm_log *log;
	char *log_path;
	pthread_t th;
	char addr[64];
	int port;
	dm_queue *events;
	dm_queue *started;
	dm_queue *gate;
	bool loop_ended;
};

static void event_push(struct srv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void event_push(struct srv *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *e = NULL;
	if (vasprintf(&e, fmt, ap) < 0)
		abort();
	va_end(ap);
	dm_queue_push(s->events, e, -1);
}

/* The next event must be want. */
static void expect_event(struct srv *s, const char *want)
{
	void *e = NULL;
	if (dm_queue_pop(s->events, &e, WAIT_MS) != DM_QUEUE_OK)
		fail_msg("no event \"%s\" within %d ms", want, WAIT_MS);
	if (strcmp(e, want) != 0)
		fail_msg("event \"%s\", expected \"%s\"", (char *)e, want);
	free(e);
}

struct job {
	struct srv *s;
	dm_http_req *req;
	bool gated;
	bool gate_opened;
};

static void slow_work(void *arg)
{
	struct job *j = arg;
	dm_queue_push(j->s->started, j, -1);
	/* Blocking, as a MySQL check would be. */
	dm_clock_sleep_ms(200);
	void *token;
	if (j->gated)
		j->gate_opened = dm_queue_pop(j->s->gate, &token, WAIT_MS) == DM_QUEUE_OK;
}

static void slow_done(void *arg)
{
	struct job *j = arg;
	struct srv *s = j->s;
	dm_http_req *req = j->req;
	/* Everything read here must still be valid, even when the client is
	 * gone (ASan watches). */
	const char *id = dm_http_req_param(req, "id");
	if (dm_loop_offload_skipped(s->loop)) {
		event_push(s, "skipped:%s", id);
		dm_http_reply_error(req, 503, 503, "shutting down");
		free(j);
		return;
	}
	const char *cn = dm_http_req_peer_cn(req);
	json_t *body = dm_http_req_json(req);
	event_push(s, "slow:%s", id);
	dm_http_reply_json(
	        req, 200,
	        json_pack("{s:s, s:s, s:o, s:o, s:b, s:s}", "id", id, "peer", dm_http_req_peer(req),
	                  "peer_cn", cn != NULL ? json_string(cn) : json_null(), "body",
	                  body != NULL ? json_incref(body) : json_null(), "gate_opened",
	                  j->gate_opened, "q", dm_http_req_query(req, "gate") ? "gate" : ""));
	free(j);
}

static void on_slow(dm_http_req *req, void *arg)
{
	struct srv *s = arg;
	struct job *j = dm_xcalloc(1, sizeof(*j));
	j->s = s;
	j->req = req;
	j->gated = dm_http_req_query(req, "gate") != NULL;
	dm_http_req_defer(req);
	dm_err err;
	if (dm_loop_offload(s->loop, slow_work, slow_done, j, &err) < 0) {
		free(j);
		dm_http_reply_error(req, 503, 503, "%s", err.msg);
		return;
	}
	event_push(s, "defer:%s", dm_http_req_param(req, "id"));
}

static void on_fast(dm_http_req *req, void *arg)
{
	struct srv *s = arg;
	event_push(s, "fast");
	dm_http_reply_text(req, 200, "fast");
}

static void on_shutdown(void *arg)
{
	struct srv *s = arg;
	dm_http_server_shutdown(s->http);
}

static void on_drained(void *arg)
{
	struct srv *s = arg;
	event_push(s, "drained");
	dm_loop_exit(s->loop);
}

static void *loop_main(void *arg)
{
	struct srv *s = arg;
	dm_err err;
	int rc = dm_loop_run(s->loop, &err);
	event_push(s, "loop-ended:%d", rc);
	return NULL;
}

static void srv_start(struct srv *s, dm_tls *tls, int timeout_s, int workers)
{
	dm_err err;
	memset(s, 0, sizeof(*s));
	s->log_path = dm_xasprintf("%s/server-%lld.log", g_dir, (long long)dm_clock_mono_ns());
	s->log = dm_log_new("test", DM_LOG_DEBUG, DM_LOG_TEXT, s->log_path, &err);
	assert_non_null(s->log);
	s->events = dm_queue_new(64);
	s->started = dm_queue_new(64);
	s->gate = dm_queue_new(64);
	s->base = event_base_new();
	s->loop = dm_loop_new(s->base, s->log, &err);
	assert_non_null(s->loop);
	dm_loop_set_workers(s->loop, workers);
	dm_http_server_opts o = {.tls = tls, .timeout_s = timeout_s};
	s->http = dm_http_server_new(s->base, &o, s->log, &err);
	assert_non_null(s->http);
	assert_int_equal(dm_http_server_route(s->http, "GET", "/slow/{id}", on_slow, s), 0);
	assert_int_equal(dm_http_server_route(s->http, "POST", "/slow/{id}", on_slow, s), 0);
	assert_int_equal(dm_http_server_route(s->http, "GET", "/fast", on_fast, s), 0);
	assert_int_equal(dm_http_server_listen(s->http, "127.0.0.1:0", &err), 0);
	s->port = dm_http_server_port(s->http);
	snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%d", s->port);
	dm_loop_set_grace_ms(s->loop, 10000);
	dm_loop_on_shutdown(s->loop, on_shutdown, s);
	dm_http_server_on_drained(s->http, on_drained, s);
	assert_int_equal(pthread_create(&s->th, NULL, loop_main, s), 0);
}

/* Runs fn(s) in the loop thread and waits for it. */
struct in_loop {
	void (*fn)(struct srv *s, void *arg);
	struct srv *s;
	void *arg;
	dm_queue *done;
};

static void in_loop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct in_loop *il = arg;
	(void)fd;
	(void)what;
	il->fn(il->s, il->arg);
	dm_queue_push(il->done, il, -1);
}

static void run_in_loop(struct srv *s, void (*fn)(struct srv *s, void *arg), void *arg)
{
	struct in_loop il = {.fn = fn, .s = s, .arg = arg, .done = dm_queue_new(1)};
	struct timeval zero = {0, 0};
	assert_int_equal(event_base_once(s->base, -1, EV_TIMEOUT, in_loop_cb, &il, &zero), 0);
	void *item;
	assert_int_equal(dm_queue_pop(il.done, &item, -1), DM_QUEUE_OK);
	dm_queue_free(il.done);
}

static void do_exit(struct srv *s, void *arg)
{
	(void)arg;
	dm_loop_exit(s->loop);
}

static void do_shutdown(struct srv *s, void *arg)
{
	(void)arg;
	dm_loop_shutdown(s->loop);
}

static void count_conns(struct srv *s, void *arg)
{
	*(size_t *)arg = dm_http_server_conn_count(s->http);
}

static void close_idle(struct srv *s, void *arg)
{
	*(size_t *)arg = dm_http_server_close_idle(s->http);
}

/* Ends the loop (unless it ended by itself and the test saw it) and frees
 * server, loop and base in the daemons' order; events stay readable. */
static void srv_stop(struct srv *s)
{
	if (!s->loop_ended)
		run_in_loop(s, do_exit, NULL);
	pthread_join(s->th, NULL);
	dm_http_server_free(s->http);
	dm_loop_free(s->loop);
	event_base_free(s->base);
}

static void srv_fini(struct srv *s)
{
	void *e;
	while (dm_queue_pop(s->events, &e, 0) == DM_QUEUE_OK)
		free(e);
	dm_queue_free(s->events);
	dm_queue_free(s->started);
	dm_queue_free(s->gate);
	dm_log_free(s->log);
	free(s->log_path);
}

static void wait_started(struct srv *s)
{
	void *j;
	assert_int_equal(dm_queue_pop(s->started, &j, WAIT_MS), DM_QUEUE_OK);
}

static void open_gate(struct srv *s)
{
	static int token;
	assert_int_equal(dm_queue_push(s->gate, &token, 0), DM_QUEUE_OK);
}

static bool log_has(struct srv *s, const char *needle)
{
	for (int i = 0; i < 100; i++) {
		char *text = NULL;
		size_t len = 0;
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

static void wait_conns(struct srv *s, size_t want)
{
	size_t n = want + 1;
	for (int i = 0; i < WAIT_MS / 10; i++) {
		run_in_loop(s, count_conns, &n);
		if (n == want)
			return;
		dm_clock_sleep_ms(10);
	}
	fail_msg("%zu connections open, expected %zu", n, want);
}

/* A plaintext connection with req sent. */
static int raw_send(struct srv *s, const char *req)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)s->port),
	                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	return fd;
}

/* Everything until the server closes; closes fd. */
static char *raw_read_all(int fd)
{
	struct timeval tv = {WAIT_MS / 1000, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char *out = dm_xcalloc(1, 65536);
	size_t n = 0;
	ssize_t k;
	while (n < 65535 && (k = recv(fd, out + n, 65535 - n, 0)) > 0)
		n += (size_t)k;
	close(fd);
	return out;
}

static int call(dm_http_client *c, const char *method, const char *addr, const char *path,
                json_t *body, long *status, json_t **resp, dm_err *err)
{
	dm_strlist l = {NULL, 0};
	dm_strlist_add(&l, addr);
	int rc = dm_http_client_call(c, method, &l, path, body, status, resp, err);
	dm_strlist_fini(&l);
	return rc;
}

struct bg_call {
	struct srv *s;
	long status;
	json_t *resp;
	int rc;
	dm_err err;
};

static void *bg_slow(void *arg)
{
	struct bg_call *b = arg;
	dm_http_client *c = tls_client();
	json_t *in = json_pack("{s:i}", "x", 1);
	b->rc = call(c, "POST", b->s->addr, "/slow/a?gate=1", in, &b->status, &b->resp, &b->err);
	json_decref(in);
	dm_http_client_free(c);
	return NULL;
}

/* Over TLS: while a deferred request waits for its work, another client is
 * served; then the deferred reply arrives, built from the request's
 * params, body and peer CN. */
static void test_defer_loop_not_blocked(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, server_tls(), 5, 0);
	struct bg_call b = {.s = &s};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, bg_slow, &b), 0);
	wait_started(&s);
	expect_event(&s, "defer:a");

	dm_http_client *c = tls_client();
	long status = 0;
	json_t *r = NULL;
	dm_err err;
	if (call(c, "GET", s.addr, "/fast", NULL, &status, &r, &err) < 0)
		fail_msg("fast call: %s", err.msg);
	assert_int_equal(status, 200);
	dm_http_client_free(c);
	expect_event(&s, "fast"); /* while "a" is still waiting at the gate */

	open_gate(&s);
	pthread_join(th, NULL);
	if (b.rc < 0)
		fail_msg("slow call: %s", b.err.msg);
	assert_int_equal(b.status, 200);
	assert_string_equal(json_string_value(json_object_get(b.resp, "id")), "a");
	assert_string_equal(json_string_value(json_object_get(b.resp, "peer_cn")), "dm-master");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(b.resp, "body"), "x")),
	                 1);
	assert_true(json_is_true(json_object_get(b.resp, "gate_opened")));
	assert_string_equal(json_string_value(json_object_get(b.resp, "q")), "gate");
	assert_non_null(strstr(json_string_value(json_object_get(b.resp, "peer")), "127.0.0.1:"));
	json_decref(b.resp);
	expect_event(&s, "slow:a");
	srv_stop(&s);
	srv_fini(&s);
}

/* The client leaves, or the connection times out, before the deferred
 * reply: the reply is dropped, the request freed then. */
static void test_defer_client_gone(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, NULL, 1, 0);
	int fd = raw_send(&s, "GET /slow/b?gate=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_started(&s);
	expect_event(&s, "defer:b");
	close(fd);
	wait_conns(&s, 0);
	assert_true(log_has(&s, "closed before the deferred reply to GET /slow/b;"));
	open_gate(&s);
	expect_event(&s, "slow:b");

	/* Timeout: nothing comes within timeout_s (1 s) of the deferral. */
	fd = raw_send(&s, "GET /slow/t?gate=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_started(&s);
	expect_event(&s, "defer:t");
	char *out = raw_read_all(fd); /* the server closes, without a reply */
	assert_string_equal(out, "");
	free(out);
	assert_true(log_has(&s, "no reply to the deferred request after 1 s"));
	open_gate(&s);
	expect_event(&s, "slow:t");

	/* The server still works. */
	out = raw_read_all(
	        raw_send(&s, "GET /fast HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	free(out);
	expect_event(&s, "fast");
	srv_stop(&s);
	srv_fini(&s);
}

/* Pipelined requests on one keep-alive connection, the first deferred:
 * the second is not even dispatched until the first is answered, and the
 * answers come in order. A connection with a deferred request is busy. */
static void test_defer_pipelined(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, NULL, 5, 0);
	int fd = raw_send(&s, "GET /slow/e?gate=1 HTTP/1.1\r\nHost: h\r\n\r\n"
	                      "GET /fast HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	wait_started(&s);
	expect_event(&s, "defer:e");
	size_t closed = 1;
	run_in_loop(&s, close_idle, &closed);
	assert_int_equal(closed, 0);
	open_gate(&s);
	char *out = raw_read_all(fd);
	char *first = strstr(out, "HTTP/1.1 200 OK\r\n");
	assert_non_null(first);
	char *second = strstr(first + 1, "HTTP/1.1 200 OK\r\n");
	assert_non_null(second);
	assert_non_null(strstr(first, "\"id\":\"e\""));
	assert_true(strstr(first, "\"id\":\"e\"") < second);
	assert_non_null(strstr(second, "fast"));
	free(out);
	expect_event(&s, "slow:e");
	expect_event(&s, "fast");
	srv_stop(&s);
	srv_fini(&s);
}

/* Graceful shutdown waits for a deferred request, which gets its reply
 * (with Connection: close); then the server drains and the loop ends well
 * before its grace period. */
static void test_defer_graceful_shutdown(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, NULL, 5, 0);
	int fd = raw_send(&s, "GET /slow/f?gate=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_started(&s);
	expect_event(&s, "defer:f");
	run_in_loop(&s, do_shutdown, NULL);
	size_t n = 0;
	run_in_loop(&s, count_conns, &n);
	assert_int_equal(n, 1);
	open_gate(&s);
	char *out = raw_read_all(fd);
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(out, "Connection: close\r\n"));
	assert_non_null(strstr(out, "\"id\":\"f\""));
	free(out);
	expect_event(&s, "slow:f");
	expect_event(&s, "drained");
	expect_event(&s, "loop-ended:0");
	s.loop_ended = true;
	srv_stop(&s);
	srv_fini(&s);
}

/* The loop ends (grace over) with one job running and one queued: the
 * queued one is answered 503 without running; the running one finishes
 * in dm_loop_free after the server is gone, and its reply is dropped. */
static void test_defer_loop_end(void **state)
{
	(void)state;
	struct srv s;
	srv_start(&s, NULL, 5, 1);
	int running = raw_send(&s, "GET /slow/c?gate=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	wait_started(&s);
	expect_event(&s, "defer:c");
	int queued = raw_send(&s, "GET /slow/d HTTP/1.1\r\nHost: h\r\n\r\n");
	expect_event(&s, "defer:d");
	run_in_loop(&s, do_exit, NULL);
	expect_event(&s, "skipped:d");
	expect_event(&s, "loop-ended:0");
	s.loop_ended = true;
	/* c can finish only now, after the loop: its done() runs in
	 * dm_loop_free, after dm_http_server_free. */
	open_gate(&s);
	srv_stop(&s);
	expect_event(&s, "slow:c");
	char *out = raw_read_all(queued);
	assert_non_null(strstr(out, "HTTP/1.1 503 Service Unavailable\r\n"));
	free(out);
	out = raw_read_all(running);
	assert_string_equal(out, "");
	free(out);
	assert_true(log_has(&s, "1 queued jobs were not started"));
	assert_true(log_has(&s, "closed before the deferred reply to GET /slow/c"));
	srv_fini(&s);
}

/* The offload queue alone: bounded (DM_ELIMIT when full), jobs started in
 * order, the waiting ones skipped when the loop ends, refused after it. */
struct pool_job {
	int id;
	struct pool_job *all;
	dm_queue *started;
	dm_queue *gate;
	dm_queue *done;
	dm_loop *loop;
};

static void pool_work(void *arg)
{
	struct pool_job *j = arg;
	void *token;
	dm_queue_push(j->started, j, -1);
	dm_queue_pop(j->gate, &token, WAIT_MS);
}

static void pool_done(void *arg)
{
	struct pool_job *j = arg;
	/* id and whether the work ran, in the order done() runs. */
	intptr_t v = j->id * 2 + (dm_loop_offload_skipped(j->loop) ? 1 : 0);
	dm_queue_push(j->done, (void *)v, -1);
	if (j->id != 2)
		return;
	/* Ends the loop with job 4 running and job 5 waiting (the blocking
	 * pop is fine in a test: it makes "running" certain). */
	dm_err err;
	void *item;
	assert_int_equal(dm_loop_offload(j->loop, pool_work, pool_done, &j->all[4], &err), 0);
	/* Jobs 1 and 2 announced their start before. */
	static const int order[] = {1, 2, 4};
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		assert_int_equal(dm_queue_pop(j->started, &item, WAIT_MS), DM_QUEUE_OK);
		assert_ptr_equal(item, &j->all[order[k]]);
	}
	assert_int_equal(dm_loop_offload(j->loop, pool_work, pool_done, &j->all[5], &err), 0);
	dm_loop_exit(j->loop);
}

static intptr_t pop_done(dm_queue *q)
{
	void *v = NULL;
	assert_int_equal(dm_queue_pop(q, &v, 0), DM_QUEUE_OK);
	return (intptr_t)v;
}

static void test_offload_limit(void **state)
{
	(void)state;
	dm_err err;
	dm_log *log = dm_log_new("test", DM_LOG_ERROR, DM_LOG_TEXT, NULL, &err);
	struct event_base *base = event_base_new();
	dm_loop *loop = dm_loop_new(base, log, &err);
	dm_loop_set_workers(loop, 1);
	dm_loop_set_queue(loop, 2);
	dm_queue *started = dm_queue_new(16), *gate = dm_queue_new(16), *done = dm_queue_new(16);
	struct pool_job jobs[6];
	for (int i = 0; i < 6; i++)
		jobs[i] = (struct pool_job){i, jobs, started, gate, done, loop};
	void *item;
	static int token;

	/* Before dm_loop_run, this thread is the loop's. Job 0 runs, 1 and
	 * 2 wait, 3 finds the queue full. */
	assert_int_equal(dm_loop_offload(loop, pool_work, pool_done, &jobs[0], &err), 0);
	assert_int_equal(dm_queue_pop(started, &item, WAIT_MS), DM_QUEUE_OK);
	assert_ptr_equal(item, &jobs[0]);
	assert_int_equal(dm_loop_offload(loop, pool_work, pool_done, &jobs[1], &err), 0);
	assert_int_equal(dm_loop_offload(loop, pool_work, pool_done, &jobs[2], &err), 0);
	assert_int_equal(dm_loop_offload(loop, pool_work, pool_done, &jobs[3], &err), -1);
	assert_int_equal(err.code, DM_ELIMIT);
	assert_non_null(strstr(err.msg, "busy"));
	for (int i = 0; i < 3; i++)
		dm_queue_push(gate, &token, 0);
	assert_int_equal(dm_loop_run(loop, &err), 0);
	assert_int_equal(pop_done(done), 0 * 2);
	assert_int_equal(pop_done(done), 1 * 2);
	assert_int_equal(pop_done(done), 2 * 2);
	assert_int_equal(pop_done(done), 5 * 2 + 1); /* skipped when the loop ended */
	assert_int_equal(dm_queue_pop(done, &item, 0), DM_QUEUE_TIMEOUT);

	/* After the loop: refused. Job 4 completes in dm_loop_free. */
	assert_int_equal(dm_loop_offload(loop, pool_work, pool_done, &jobs[3], &err), -1);
	assert_int_equal(err.code, DM_ELIMIT);
	dm_queue_push(gate, &token, 0);
	dm_loop_free(loop);
	assert_int_equal(pop_done(done), 4 * 2);
	assert_int_equal(dm_queue_pop(done, &item, 0), DM_QUEUE_TIMEOUT);
	/* Jobs 3 and 5 never started. */
	assert_int_equal(dm_queue_len(started), 0);
	dm_queue_free(started);
	dm_queue_free(gate);
	dm_queue_free(done);
	event_base_free(base);
	dm_log_free(log);
}

int main(void)
{
	/* The tests reach into the server's loop thread with event_base_once. */
	evthread_use_pthreads();
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defer_loop_not_blocked),
	        cmocka_unit_test(test_defer_client_gone),
	        cmocka_unit_test(test_defer_pipelined),
	        cmocka_unit_test(test_defer_graceful_shutdown),
	        cmocka_unit_test(test_defer_loop_end),
	        cmocka_unit_test(test_offload_limit),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
