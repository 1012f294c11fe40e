/* HTTP/1.1 request heads in, responses out: pure functions, no I/O.
 *
 * The server (net/server.c) feeds bytes it has received to
 * dm_http_parse_head() until it answers OK, then reads Content-Length bytes
 * of body. The parser allocates nothing and only points into the caller's
 * buffer, so it can be fuzzed and tested on its own.
 *
 * The subset is what dm's own clients (libcurl, dmctl, curl in scripts)
 * send: origin-form targets, Content-Length bodies, keep-alive. It is strict
 * where leniency lets two parsers disagree about where a request ends
 * (request smuggling): CRLF line ends only, no obs-fold, no whitespace
 * before the colon, one Content-Length, no Transfer-Encoding. */
#ifndef DM_NET_HTTP_H
#define DM_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "base/buf.h"

/* Request line plus headers, terminator included. */
#define DM_HTTP_HEAD_MAX (16 * 1024)
/* Default limit on a request body; servers may set another. */
#define DM_HTTP_BODY_MAX_DEFAULT (4 * 1024 * 1024)
/* Header fields per request. */
#define DM_HTTP_HEADERS_MAX 64
#define DM_HTTP_METHOD_MAX  16

/* Results of dm_http_parse_head() besides an HTTP status code. */
#define DM_HTTP_PARSE_OK        0
#define DM_HTTP_PARSE_NEED_MORE 1

/* A piece of the caller's buffer; not NUL-terminated. */
typedef struct dm_http_span {
	size_t off;
	size_t len;
} dm_http_span;

typedef struct dm_http_header {
	dm_http_span name;
	dm_http_span value; /* optional whitespace around it removed */
} dm_http_header;

typedef struct dm_http_head {
	char method[DM_HTTP_METHOD_MAX]; /* NUL-terminated, as sent ("GET") */
	dm_http_span target;             /* path and query, as sent */
	dm_http_span path;               /* target up to '?' */
	dm_http_span query;              /* after '?', without it; len 0 when none */
	int minor;                       /* HTTP/1.<minor>: 0 or 1 */
	bool keep_alive;                 /* from the version and Connection */
	bool has_body;                   /* a Content-Length header was sent */
	size_t content_length;           /* 0 without Content-Length */
	bool expect_continue;            /* "Expect: 100-continue" */
	dm_http_span content_type;       /* len 0 when absent */
	size_t head_len;                 /* bytes of the head, final CRLF CRLF included */
	dm_http_header headers[DM_HTTP_HEADERS_MAX];
	size_t n_headers;
} dm_http_head;

/* Parses the head at the start of buf[0..len). Returns:
 *   DM_HTTP_PARSE_OK         *out is filled; the body starts at buf + out->head_len;
 *   DM_HTTP_PARSE_NEED_MORE  the head is incomplete and still within limits;
 *   a status code >= 400     answer it and close the connection:
 *     400 malformed, 411 chunked body (send Content-Length), 413 Content-Length
 *     above max_body, 414 request line longer than DM_HTTP_HEAD_MAX, 417
 *     unknown Expect, 431 head longer than DM_HTTP_HEAD_MAX or too many fields,
 *     501 other Transfer-Encoding, 505 not HTTP/1.0 or 1.1.
 * Never reads past buf + len. *out is not meaningful unless OK. */
int dm_http_parse_head(const char *buf, size_t len, size_t max_body, dm_http_head *out);

/* Whether a Content-Type value names JSON: "application/json" with any
 * parameters, case-insensitive. */
bool dm_http_is_json_type(const char *value, size_t len);

/* Case-insensitive lookup of a header in a parsed head; the value's span or
 * NULL. The first of repeated headers wins. */
const dm_http_span *dm_http_head_get(const dm_http_head *h, const char *buf, const char *name);

/* Decodes %XX escapes (and '+' as space when plus_is_space, for queries)
 * into a new string. NULL when an escape is malformed or decodes to NUL:
 * both are refused rather than guessed at. */
char *dm_http_pct_decode(const char *s, size_t len, bool plus_is_space);

/* The decoded value of the first `name` parameter in a raw query string
 * ("a=1&b=x%20y"); "" for a parameter without '='. NULL when absent or
 * malformed. The caller frees it. */
char *dm_http_query_get(const char *query, size_t len, const char *name);

/* "OK", "Not Found", ...; "Unknown" for codes it does not know. */
const char *dm_http_reason(int status);

/* Appends a complete response: status line, Content-Type (when not NULL),
 * Content-Length, Connection, extra_headers verbatim (each line ending in
 * CRLF; may be NULL), the blank line and, unless omit_body (HEAD), the body. */
void dm_http_write_response(dm_buf *out, int status, const char *content_type, const char *body,
                            size_t body_len, bool keep_alive, const char *extra_headers,
                            bool omit_body);

/* A listen address: "host:port" with an IPv4 literal, "[IPv6]:port", or
 * ":port" for every IPv4 address; port 0-65535, names are not resolved.
 * 0, or -1 when malformed (ss and len untouched then). */
int dm_http_parse_listen_addr(const char *addr, struct sockaddr_storage *ss, int *len);

#endif
