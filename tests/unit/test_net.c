/* The HTTP request parser and helpers of src/net/http.c: pure functions,
 * no sockets. The server and client are in test_net_server.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "net/http.h"

#define MAXB 1024

static int parse(const char *text, dm_http_head *h)
{
	return dm_http_parse_head(text, strlen(text), MAXB, h);
}

static char *span(const char *buf, dm_http_span s)
{
	return dm_xstrndup(buf + s.off, s.len);
}

static void assert_span(const char *buf, dm_http_span s, const char *want)
{
	char *got = span(buf, s);
	assert_string_equal(got, want);
	free(got);
}

static void test_good(void **state)
{
	(void)state;
	dm_http_head h;
	const char *get = "GET /api/v1/sources/a%20b/status?x=1&y=two HTTP/1.1\r\n"
	                  "Host: 127.0.0.1:8261\r\n"
	                  "User-Agent: curl/7.88\r\n"
	                  "Accept:*/*\r\n"
	                  "X-Pad:   spaced value \t\r\n"
	                  "\r\n";
	assert_int_equal(parse(get, &h), DM_HTTP_PARSE_OK);
	assert_string_equal(h.method, "GET");
	assert_span(get, h.path, "/api/v1/sources/a%20b/status");
	assert_span(get, h.query, "x=1&y=two");
	assert_span(get, h.target, "/api/v1/sources/a%20b/status?x=1&y=two");
	assert_int_equal(h.minor, 1);
	assert_true(h.keep_alive);
	assert_false(h.has_body);
	assert_int_equal(h.head_len, strlen(get));
	assert_int_equal(h.n_headers, 4);
	const dm_http_span *v = dm_http_head_get(&h, get, "x-pad");
	assert_non_null(v);
	assert_span(get, *v, "spaced value");
	assert_null(dm_http_head_get(&h, get, "cookie"));

	/* A body follows the head and is not part of it. */
	const char *post = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Type: application/json; "
	                   "charset=utf-8\r\nContent-Length: 7\r\nConnection: close\r\n\r\n"
	                   "{\"a\":1}";
	assert_int_equal(parse(post, &h), DM_HTTP_PARSE_OK);
	assert_true(h.has_body);
	assert_int_equal(h.content_length, 7);
	assert_false(h.keep_alive);
	assert_string_equal(post + h.head_len, "{\"a\":1}");
	assert_true(dm_http_is_json_type(post + h.content_type.off, h.content_type.len));

	/* HTTP/1.0: close unless asked; no Host needed. */
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h), DM_HTTP_PARSE_OK);
	assert_int_equal(h.minor, 0);
	assert_false(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h), 0);
	assert_true(h.keep_alive);
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n", &h),
	                 0);
	assert_false(h.keep_alive);

	/* Leading empty lines are skipped (a CRLF after a previous body). */
	assert_int_equal(parse("\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n", &h), 0);
	assert_string_equal(h.method, "GET");

	/* Expect: 100-continue only counts with a body. */
	assert_int_equal(parse("PUT /x HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
	                       "Content-Length: 3\r\n\r\n",
	                       &h),
	                 0);
	assert_true(h.expect_continue);
	assert_int_equal(parse("GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n", &h), 0);
	assert_true(h.has_body);
	assert_int_equal(h.content_length, 0);
	/* HTTP/1.2 is read as 1.1. */
	assert_int_equal(parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n", &h), 0);
	assert_int_equal(h.minor, 1);
	/* Same Content-Length twice is one length. */
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
	                       "Content-Length: 2\r\n\r\n",
	                       &h),
	                 0);

	assert_true(dm_http_is_json_type("application/json", 16));
	assert_true(dm_http_is_json_type("Application/JSON;charset=utf-8", 30));
	assert_false(dm_http_is_json_type("application/jsonx", 17));
	assert_false(dm_http_is_json_type("text/plain", 10));
}

/* Every proper prefix of a valid request wants more; the whole is OK. */
static void test_partial(void **state)
{
	(void)state;
	const char *req = "POST /api/v1/tasks?force=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                  "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
	size_t head = strlen(req) - 2;
	dm_http_head h;
	for (size_t n = 0; n < head; n++)
		assert_int_equal(dm_http_parse_head(req, n, MAXB, &h), DM_HTTP_PARSE_NEED_MORE);
	assert_int_equal(dm_http_parse_head(req, head, MAXB, &h), DM_HTTP_PARSE_OK);
	assert_int_equal(h.head_len, head);
	assert_int_equal(dm_http_parse_head(req, strlen(req), MAXB, &h), DM_HTTP_PARSE_OK);
	assert_int_equal(h.head_len, head);
}

static void test_limits(void **state)
{
	(void)state;
	dm_http_head h;
	dm_buf b;
	dm_buf_init(&b);

	/* A head that never ends: 431 once the limit is reached, not before. */
	dm_buf_puts(&b, "GET / HTTP/1.1\r\nHost: h\r\nX-Filler: ");
	while (b.len < DM_HTTP_HEAD_MAX + 100)
		dm_buf_putc(&b, 'a');
	assert_int_equal(dm_http_parse_head(b.data, DM_HTTP_HEAD_MAX - 1, MAXB, &h),
	                 DM_HTTP_PARSE_NEED_MORE);
	assert_int_equal(dm_http_parse_head(b.data, b.len, MAXB, &h), 431);

	/* Too many header fields, though short. */
	dm_buf_reset(&b);
	dm_buf_puts(&b, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < DM_HTTP_HEADERS_MAX; i++)
		dm_buf_printf(&b, "X-%d: v\r\n", i);
	dm_buf_puts(&b, "\r\n");
	assert_int_equal(dm_http_parse_head(b.data, b.len, MAXB, &h), 431);

	/* A request line longer than the limit. */
	dm_buf_reset(&b);
	dm_buf_puts(&b, "GET /");
	while (b.len < DM_HTTP_HEAD_MAX + 10)
		dm_buf_putc(&b, 'a');
	assert_int_equal(dm_http_parse_head(b.data, b.len, MAXB, &h), 414);

	/* Bodies: at the limit fine, above it 413, absurd lengths too. */
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1024\r\n\r\n", &h),
	                 0);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1025\r\n\r\n", &h),
	                 413);
	assert_int_equal(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
	                       "99999999999999999999999999999\r\n\r\n",
	                       &h),
	                 413);
	/* Even with a huge max_body the digits cannot overflow. */
	const char *huge = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
	                   "184467440737095516160\r\n\r\n";
	assert_int_equal(dm_http_parse_head(huge, strlen(huge), SIZE_MAX, &h), 413);
	dm_buf_fini(&b);
}

static void test_bad(void **state)
{
	(void)state;
	static const struct {
		const char *req;
		int status;
	} cases[] = {
	        {"GET / HTTP/1.1\r\n\r\n", 400},                          /* no Host */
	        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},    /* two Hosts */
	        {"GET / HTTP/1.1\nHost: h\n\n", 400},                     /* bare LF */
	        {"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400},         /* bare LF in headers */
	        {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},              /* space before colon */
	        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400}, /* obs-fold */
	        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n", 400},   /* control byte */
	        {"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400},
	        {"GET / HTTP/1.1\r\nHost: h\r\n: empty\r\n\r\n", 400},
	        {"GET http://x/ HTTP/1.1\r\nHost: h\r\n\r\n", 400}, /* absolute form */
	        {"GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	        {"GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	        {"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	        {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	        {" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	        {"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
	        {"GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400},
	        {"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400},
	        {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
	        {"GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505},
	        {"VERYLONGMETHODNAME / HTTP/1.1\r\n\r\n", 501},
	        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
	        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", 400},
	        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", 400},
	        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", 400},
	        {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	         400},
	        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 411},
	        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
	        {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	         "Content-Length: 3\r\n\r\n",
	         400},
	        {"POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", 417},
	        {"\r\r\n", 400},
	        {"\n", 400},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dm_http_head h;
		int rc = parse(cases[i].req, &h);
		if (rc != cases[i].status)
			fail_msg("case %zu: %d, want %d", i, rc, cases[i].status);
	}
	/* Garbage is refused at once, not after 16 KiB: a TLS ClientHello
	 * sent to a plaintext port starts with 0x16. */
	const char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00};
	dm_http_head h;
	assert_int_equal(dm_http_parse_head(hello, sizeof(hello), MAXB, &h), 400);
	assert_int_equal(dm_http_parse_head("GET /\x01", 6, MAXB, &h), 400);
}

static void test_decode(void **state)
{
	(void)state;
	char *s = dm_http_pct_decode("a%20b%2Fc+d", 11, false);
	assert_string_equal(s, "a b/c+d");
	free(s);
	s = dm_http_pct_decode("a%20b+c", 7, true);
	assert_string_equal(s, "a b c");
	free(s);
	assert_null(dm_http_pct_decode("%2", 2, false));
	assert_null(dm_http_pct_decode("%zz", 3, false));
	assert_null(dm_http_pct_decode("a%00b", 5, false));
	assert_null(dm_http_pct_decode("%", 1, false));

	const char *q = "a=1&b=x%20y&flag&&c=&a=2&e%3Dq=3";
	size_t n = strlen(q);
	struct {
		const char *name, *want;
	} cases[] = {{"a", "1"}, {"b", "x y"}, {"flag", ""}, {"c", ""}, {"e=q", "3"}, {"zz", NULL}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = dm_http_query_get(q, n, cases[i].name);
		if (cases[i].want == NULL)
			assert_null(s);
		else
			assert_string_equal(s, cases[i].want);
		free(s);
	}
	assert_null(dm_http_query_get("a=%zz", 5, "a"));
	assert_null(dm_http_query_get("", 0, "a"));
}

static void test_response(void **state)
{
	(void)state;
	dm_buf b;
	dm_buf_init(&b);
	dm_http_write_response(&b, 404, "application/json", "{}", 2, true, "Allow: GET\r\n", false);
	assert_string_equal(b.data, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
	                            "Content-Length: 2\r\nConnection: keep-alive\r\nAllow: GET\r\n"
	                            "\r\n{}");
	dm_buf_reset(&b);
	dm_http_write_response(&b, 200, NULL, "body", 4, false, NULL, true);
	assert_string_equal(b.data,
	                    "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\n");
	dm_buf_fini(&b);
	assert_string_equal(dm_http_reason(413), "Content Too Large");
	assert_string_equal(dm_http_reason(299), "Unknown");
}

static void test_listen_addr(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	int len = 0;
	assert_int_equal(dm_http_parse_listen_addr("127.0.0.1:8261", &ss, &len), 0);
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 8261);
	assert_int_equal(ntohl(in->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(len, (int)sizeof(struct sockaddr_in));
	assert_int_equal(dm_http_parse_listen_addr(":0", &ss, &len), 0);
	assert_int_equal(in->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(ntohs(in->sin_port), 0);
	assert_int_equal(dm_http_parse_listen_addr("[::1]:65535", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 65535);
	static const char *const bad[] = {"127.0.0.1",
	                                  "127.0.0.1:",
	                                  "127.0.0.1:65536",
	                                  "localhost:1",
	                                  "::1:80",
	                                  "[::1]80",
	                                  "1.2.3.4:-1",
	                                  "1.2.3.4: 1",
	                                  "1.2.3.4:1x",
	                                  "[zz]:1",
	                                  "1.2.3.4:99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dm_http_parse_listen_addr(bad[i], &ss, &len) == 0)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
}

/* Random bytes and mutations of a valid request: the parser must not read
 * out of bounds (ASan checks) and must answer something sensible. */
static void test_fuzz_smoke(void **state)
{
	(void)state;
	const char *base = "POST /a/b?c=d HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	                   "Connection: keep-alive\r\n\r\nabc";
	size_t n = strlen(base);
	unsigned seed = 12345;
	for (int iter = 0; iter < 20000; iter++) {
		char *buf = dm_xmalloc(n);
		memcpy(buf, base, n);
		int flips = 1 + iter % 4;
		for (int k = 0; k < flips; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t pos = (seed >> 8) % n;
			seed = seed * 1103515245u + 12345u;
			buf[pos] = (char)(seed >> 16);
		}
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 8) % (n + 1);
		dm_http_head h;
		int rc = dm_http_parse_head(buf, len, MAXB, &h);
		assert_true(rc == DM_HTTP_PARSE_OK || rc == DM_HTTP_PARSE_NEED_MORE ||
		            (rc >= 400 && rc <= 505));
		if (rc == DM_HTTP_PARSE_OK) {
			assert_true(h.head_len <= len);
			assert_true(h.path.off + h.path.len <= len);
			assert_true(h.query.off + h.query.len <= len);
		}
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_good),        cmocka_unit_test(test_partial),
	        cmocka_unit_test(test_limits),      cmocka_unit_test(test_bad),
	        cmocka_unit_test(test_decode),      cmocka_unit_test(test_response),
	        cmocka_unit_test(test_listen_addr), cmocka_unit_test(test_fuzz_smoke),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
