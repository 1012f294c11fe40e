/* Fuzz target: HTTP/1.1 request heads (net/http.h) and the JSON body path.
 *
 * The bytes are what a client sent on one connection: heads are parsed the
 * way the server does (dm_http_parse_head on what has arrived, then
 * Content-Length bytes of body), pipelined keep-alive requests one after
 * another. A JSON body is loaded with jansson and walked, query parameters
 * and the path are percent-decoded, and a response is written.
 *
 * Checked: results are one of the documented codes; on OK every span lies
 * inside the head, the head ends in CRLF CRLF, limits hold; a head parses
 * the same without the bytes after it, and its prefixes ask for more. */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "net/http.h"
#include "fuzz_common.h"

/* Small enough that the fuzzer reaches 413 as well as real bodies. */
#define MAX_BODY        (64 * 1024)
#define MAX_PIPELINED   8
#define JSON_LOAD_FLAGS JSON_REJECT_DUPLICATES

static bool documented(int rc)
{
	switch (rc) {
	case DM_HTTP_PARSE_OK:
	case DM_HTTP_PARSE_NEED_MORE:
	case 400:
	case 411:
	case 413:
	case 414:
	case 417:
	case 431:
	case 501:
	case 505: return true;
	}
	return false;
}

static void check_span(const dm_http_span *s, size_t head_len)
{
	FUZZ_ASSERT(s->off <= head_len && s->len <= head_len - s->off);
}

static void check_head(const char *buf, size_t len, const dm_http_head *h)
{
	FUZZ_ASSERT(h->head_len >= 4 && h->head_len <= len && h->head_len <= DM_HTTP_HEAD_MAX);
	FUZZ_ASSERT(memcmp(buf + h->head_len - 4, "\r\n\r\n", 4) == 0);
	size_t mlen = strnlen(h->method, sizeof(h->method));
	FUZZ_ASSERT(mlen > 0 && mlen < sizeof(h->method));
	FUZZ_ASSERT(h->minor == 0 || h->minor == 1);
	check_span(&h->target, h->head_len);
	check_span(&h->path, h->head_len);
	check_span(&h->query, h->head_len);
	check_span(&h->content_type, h->head_len);
	FUZZ_ASSERT(h->target.len >= 1 && buf[h->target.off] == '/');
	FUZZ_ASSERT(h->path.off == h->target.off && h->path.len <= h->target.len);
	FUZZ_ASSERT(memchr(buf + h->path.off, '?', h->path.len) == NULL);
	FUZZ_ASSERT(h->content_length <= MAX_BODY);
	FUZZ_ASSERT(h->has_body || h->content_length == 0);
	FUZZ_ASSERT(h->n_headers <= DM_HTTP_HEADERS_MAX);
	for (size_t i = 0; i < h->n_headers; i++) {
		check_span(&h->headers[i].name, h->head_len);
		check_span(&h->headers[i].value, h->head_len);
		FUZZ_ASSERT(h->headers[i].name.len > 0);
	}
}

static void walk(const json_t *v, int depth)
{
	FUZZ_ASSERT(depth <= JSON_PARSER_MAX_DEPTH + 1);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		json_object_foreach((json_t *)v, key, val)
		{
			FUZZ_ASSERT(json_object_get(v, key) == val);
			walk(val, depth + 1);
		}
		break;
	}
	case JSON_ARRAY:
		for (size_t i = 0; i < json_array_size(v); i++)
			walk(json_array_get(v, i), depth + 1);
		break;
	case JSON_STRING: FUZZ_ASSERT(json_string_value(v) != NULL); break;
	default: break;
	}
}

static void decoded(char *s, size_t max_len)
{
	if (s != NULL)
		FUZZ_ASSERT(strlen(s) <= max_len);
	free(s);
}

/* What the server does with one complete request; returns the status it
 * would answer. */
static int handle(const char *buf, const dm_http_head *h, const char *body, size_t body_len)
{
	static const char *const params[] = {"name", "source", "limit", "", NULL};
	const char *q = buf + h->query.off;
	for (const char *const *p = params; *p; p++)
		decoded(dm_http_query_get(q, h->query.len, *p), h->query.len);
	decoded(dm_http_pct_decode(buf + h->path.off, h->path.len, false), h->path.len);
	(void)dm_http_head_get(h, buf, "host");
	(void)dm_http_head_get(h, buf, "authorization");

	int status = 200;
	json_t *json = NULL;
	if (body_len > 0 && dm_http_is_json_type(buf + h->content_type.off, h->content_type.len)) {
		json_error_t jerr;
		json = json_loadb(body, body_len, JSON_LOAD_FLAGS, &jerr);
		if (json == NULL)
			status = 400;
		else
			walk(json, 0);
	}
	char *text = json ? json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	dm_buf out;
	dm_buf_init(&out);
	dm_http_write_response(&out, status, text ? "application/json" : NULL, text,
	                       text ? strlen(text) : 0, h->keep_alive, NULL,
	                       strcmp(h->method, "HEAD") == 0);
	FUZZ_ASSERT(out.len > 12 && memcmp(out.data, "HTTP/1.1 ", 9) == 0);
	dm_buf_fini(&out);
	free(text);
	json_decref(json);
	return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t left = size;
	dm_http_head *h = malloc(sizeof(*h)), *h2 = malloc(sizeof(*h2));
	FUZZ_ASSERT(h != NULL && h2 != NULL);
	for (int n = 0; n < MAX_PIPELINED; n++) {
		int rc = dm_http_parse_head(in, left, MAX_BODY, h);
		FUZZ_ASSERT(documented(rc));
		if (rc != DM_HTTP_PARSE_OK)
			break; /* wait for more, or answer rc and close */
		check_head(in, left, h);

		/* The head alone parses the same; any shorter prefix of it is
		 * incomplete, never an error (the server feeds bytes as they come). */
		FUZZ_ASSERT(dm_http_parse_head(in, h->head_len, MAX_BODY, h2) == DM_HTTP_PARSE_OK);
		FUZZ_ASSERT(h2->head_len == h->head_len && h2->n_headers == h->n_headers &&
		            h2->content_length == h->content_length &&
		            h2->keep_alive == h->keep_alive);
		size_t cuts[] = {h->head_len - 1, h->head_len - 2, h->head_len / 2, 1};
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
			FUZZ_ASSERT(dm_http_parse_head(in, cuts[i], MAX_BODY, h2) ==
			            DM_HTTP_PARSE_NEED_MORE);

		size_t avail = left - h->head_len;
		if (avail < h->content_length)
			break; /* body still arriving */
		/* The server hands handlers a NUL-terminated copy of the body. */
		char *body = malloc(h->content_length + 1);
		FUZZ_ASSERT(body != NULL);
		memcpy(body, in + h->head_len, h->content_length);
		body[h->content_length] = '\0';
		handle(in, h, body, h->content_length);
		free(body);
		if (!h->keep_alive)
			break;
		in += h->head_len + h->content_length;
		left -= h->head_len + h->content_length;
	}
	free(h2);
	free(h);
	return 0;
}
