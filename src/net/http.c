#include "net/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

/* RFC 9110 token characters: what methods and header names are made of. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / obs-text, plus the whitespace allowed inside a value. */
static bool is_value_char(unsigned char c)
{
	return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

static bool span_ieq(const char *buf, const dm_http_span *s, const char *lit)
{
	size_t n = strlen(lit);
	return s->len == n && strncasecmp(buf + s->off, lit, n) == 0;
}

/* Parses the request line from buf[0..avail), byte by byte so that garbage
 * (a TLS handshake on a plaintext port, a binary protocol) is refused at
 * the first wrong byte instead of after 16 KiB or a timeout. On OK *end is
 * the offset just past its CRLF. */
static int parse_request_line(const char *buf, size_t avail, size_t limit, dm_http_head *h,
                              size_t *end)
{
	size_t i = 0;
	size_t n = avail < limit ? avail : limit;
	while (i < n && buf[i] != ' ') {
		if (!is_tchar((unsigned char)buf[i]))
			return 400;
		if (i + 1 >= DM_HTTP_METHOD_MAX)
			return 501;
		i++;
	}
	if (i == n)
		return avail >= limit ? 414 : DM_HTTP_PARSE_NEED_MORE;
	if (i == 0)
		return 400;
	memcpy(h->method, buf, i);
	h->method[i] = '\0';
	size_t t0 = ++i;
	if (i < n && buf[i] != '/')
		return 400; /* origin-form only: no "*", no absolute URLs */
	size_t q = 0;
	while (i < n && buf[i] != ' ') {
		unsigned char c = (unsigned char)buf[i];
		if (c < 0x21 || c >= 0x7f || c == '#')
			return 400;
		if (c == '?' && q == 0)
			q = i;
		i++;
	}
	if (i == n)
		return avail >= limit ? 414 : DM_HTTP_PARSE_NEED_MORE;
	h->target = (dm_http_span){t0, i - t0};
	if (q != 0) {
		h->path = (dm_http_span){t0, q - t0};
		h->query = (dm_http_span){q + 1, i - q - 1};
	} else {
		h->path = h->target;
		h->query = (dm_http_span){i, 0};
	}
	i++;
	static const char proto[] = "HTTP/";
	for (size_t k = 0; k < 5; k++, i++) {
		if (i == n)
			return avail >= limit ? 414 : DM_HTTP_PARSE_NEED_MORE;
		if (buf[i] != proto[k])
			return 400;
	}
	/* DIGIT "." DIGIT CR LF */
	const char *shape = "9.9\r\n";
	char ver[3];
	for (size_t k = 0; k < 5; k++, i++) {
		if (i == n)
			return avail >= limit ? 414 : DM_HTTP_PARSE_NEED_MORE;
		char c = buf[i];
		if (shape[k] == '9') {
			if (c < '0' || c > '9')
				return 400;
		} else if (c != shape[k]) {
			return 400;
		}
		if (k < 3)
			ver[k] = c;
	}
	if (ver[0] != '1')
		return 505;
	/* A later 1.x is compatible with 1.1 (RFC 9110 2.5). */
	h->minor = ver[2] == '0' ? 0 : 1;
	*end = i;
	return DM_HTTP_PARSE_OK;
}

/* Content-Length: digits only. A list ("5, 5") is refused rather than
 * reconciled. */
static int parse_length(const char *s, size_t len, size_t max_body, size_t *ret)
{
	if (len == 0)
		return 400;
	size_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 400;
		v = v * 10 + (size_t)(s[i] - '0');
		/* v only grows, so checking each step also rules out overflow. */
		if (v > max_body)
			return 413;
	}
	*ret = v;
	return 0;
}

/* Connection: a comma-separated list of tokens. */
static void parse_connection(const char *s, size_t len, bool *close, bool *keep)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		size_t b = i;
		while (i < len && s[i] != ',' && s[i] != ' ' && s[i] != '\t')
			i++;
		if (i - b == 5 && strncasecmp(s + b, "close", 5) == 0)
			*close = true;
		else if (i - b == 10 && strncasecmp(s + b, "keep-alive", 10) == 0)
			*keep = true;
	}
}

struct seen {
	int host, length, te, connection_close, connection_keep;
	dm_http_span te_value;
};

static int header_meaning(const char *buf, dm_http_head *h, const dm_http_header *f,
                          size_t max_body, struct seen *seen)
{
	const char *v = buf + f->value.off;
	size_t vlen = f->value.len;
	if (span_ieq(buf, &f->name, "host")) {
		seen->host++;
	} else if (span_ieq(buf, &f->name, "content-length")) {
		size_t n = 0;
		int rc = parse_length(v, vlen, max_body, &n);
		if (rc != 0)
			return rc;
		if (seen->length++ > 0 && n != h->content_length)
			return 400;
		h->content_length = n;
		h->has_body = true;
	} else if (span_ieq(buf, &f->name, "transfer-encoding")) {
		seen->te++;
		seen->te_value = f->value;
	} else if (span_ieq(buf, &f->name, "connection")) {
		bool c = false, k = false;
		parse_connection(v, vlen, &c, &k);
		seen->connection_close |= c;
		seen->connection_keep |= k;
	} else if (span_ieq(buf, &f->name, "content-type")) {
		if (h->content_type.len == 0)
			h->content_type = f->value;
	} else if (span_ieq(buf, &f->name, "expect")) {
		if (!(vlen == 12 && strncasecmp(v, "100-continue", 12) == 0))
			return 417;
		h->expect_continue = true;
	}
	return 0;
}

int dm_http_parse_head(const char *buf, size_t len, size_t max_body, dm_http_head *out)
{
	dm_http_head *h = out;
	memset(h, 0, sizeof(*h));
	size_t limit = DM_HTTP_HEAD_MAX;
	/* Keeps the digit accumulation in parse_length() from overflowing. */
	if (max_body > (SIZE_MAX - 9) / 10)
		max_body = (SIZE_MAX - 9) / 10;
	size_t n = len < limit ? len : limit;
	/* RFC 9112 2.2: ignore empty lines before the request line (some
	 * clients send a CRLF after a POST body). They count towards the limit. */
	size_t pos = 0;
	while (pos < n && (buf[pos] == '\r' || buf[pos] == '\n')) {
		if (buf[pos] == '\n')
			return 400;
		if (pos + 1 == n)
			return len >= limit ? 431 : DM_HTTP_PARSE_NEED_MORE;
		if (buf[pos + 1] != '\n')
			return 400;
		pos += 2;
	}
	if (pos == n)
		return len >= limit ? 431 : DM_HTTP_PARSE_NEED_MORE;
	size_t line_end = 0;
	int rc = parse_request_line(buf + pos, len - pos, limit - pos, h, &line_end);
	if (rc != DM_HTTP_PARSE_OK)
		return rc;
	h->target.off += pos;
	h->path.off += pos;
	h->query.off += pos;
	pos += line_end;

	struct seen seen;
	memset(&seen, 0, sizeof(seen));
	for (;;) {
		const char *nl = pos < n ? memchr(buf + pos, '\n', n - pos) : NULL;
		if (nl == NULL)
			return len >= limit ? 431 : DM_HTTP_PARSE_NEED_MORE;
		size_t eol = (size_t)(nl - buf);
		if (eol == pos || buf[eol - 1] != '\r')
			return 400; /* bare LF */
		size_t line_len = eol - 1 - pos;
		const char *line = buf + pos;
		pos = eol + 1;
		if (line_len == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t')
			return 400; /* obs-fold */
		size_t k = 0;
		while (k < line_len && is_tchar((unsigned char)line[k]))
			k++;
		if (k == 0 || k == line_len || line[k] != ':')
			return 400;
		if (h->n_headers == DM_HTTP_HEADERS_MAX)
			return 431;
		dm_http_header *f = &h->headers[h->n_headers++];
		f->name = (dm_http_span){(size_t)(line - buf), k};
		size_t vb = k + 1, ve = line_len;
		while (vb < ve && (line[vb] == ' ' || line[vb] == '\t'))
			vb++;
		while (ve > vb && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
			ve--;
		for (size_t j = vb; j < ve; j++) {
			if (!is_value_char((unsigned char)line[j]))
				return 400;
		}
		f->value = (dm_http_span){(size_t)(line - buf) + vb, ve - vb};
		rc = header_meaning(buf, h, f, max_body, &seen);
		if (rc != 0)
			return rc;
	}
	h->head_len = pos;
	if (h->minor == 1 && seen.host != 1)
		return 400; /* RFC 9112 3.2: exactly one Host in HTTP/1.1 */
	if (seen.host > 1)
		return 400;
	if (seen.te > 0) {
		/* A body framed by Transfer-Encoding and Content-Length at once
		 * is the classic smuggling vector. */
		if (seen.length > 0 || seen.te > 1)
			return 400;
		return span_ieq(buf, &seen.te_value, "chunked") ? 411 : 501;
	}
	if (!h->has_body)
		h->expect_continue = false;
	h->keep_alive = h->minor == 1 ? !seen.connection_close
	                              : (seen.connection_keep && !seen.connection_close);
	return DM_HTTP_PARSE_OK;
}

bool dm_http_is_json_type(const char *value, size_t len)
{
	static const char json[] = "application/json";
	size_t n = sizeof(json) - 1;
	if (len < n || strncasecmp(value, json, n) != 0)
		return false;
	return len == n || value[n] == ';' || value[n] == ' ' || value[n] == '\t';
}

const dm_http_span *dm_http_head_get(const dm_http_head *h, const char *buf, const char *name)
{
	for (size_t i = 0; i < h->n_headers; i++) {
		if (span_ieq(buf, &h->headers[i].name, name))
			return &h->headers[i].value;
	}
	return NULL;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *dm_http_pct_decode(const char *s, size_t len, bool plus_is_space)
{
	char *out = dm_xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			int hi = i + 1 < len ? hex(s[i + 1]) : -1;
			int lo = i + 2 < len ? hex(s[i + 2]) : -1;
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		} else if (c == '\0') {
			free(out);
			return NULL;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

char *dm_http_query_get(const char *query, size_t len, const char *name)
{
	size_t i = 0;
	while (i < len) {
		size_t b = i;
		while (i < len && query[i] != '&')
			i++;
		size_t e = i++;
		if (e == b)
			continue;
		const char *eq = memchr(query + b, '=', e - b);
		size_t klen = eq != NULL ? (size_t)(eq - (query + b)) : e - b;
		char *key = dm_http_pct_decode(query + b, klen, true);
		bool match = key != NULL && strcmp(key, name) == 0;
		free(key);
		if (!match)
			continue;
		if (eq == NULL)
			return dm_xstrdup("");
		return dm_http_pct_decode(eq + 1, (size_t)(query + e - (eq + 1)), true);
	}
	return NULL;
}

const char *dm_http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	}
	return "Unknown";
}

void dm_http_write_response(dm_buf *out, int status, const char *content_type, const char *body,
                            size_t body_len, bool keep_alive, const char *extra_headers,
                            bool omit_body)
{
	dm_buf_printf(out, "HTTP/1.1 %d %s\r\n", status, dm_http_reason(status));
	if (content_type != NULL)
		dm_buf_printf(out, "Content-Type: %s\r\n", content_type);
	dm_buf_printf(out, "Content-Length: %zu\r\nConnection: %s\r\n", body_len,
	              keep_alive ? "keep-alive" : "close");
	if (extra_headers != NULL)
		dm_buf_puts(out, extra_headers);
	dm_buf_puts(out, "\r\n");
	if (!omit_body && body_len > 0)
		dm_buf_append(out, body, body_len);
}

/* evutil_parse_sockaddr_port() would do, but it refuses port 0. */
int dm_http_parse_listen_addr(const char *addr, struct sockaddr_storage *ss, int *len)
{
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || colon[1] < '0' || colon[1] > '9' || strlen(addr) > 80)
		return -1;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port > 65535)
		return -1;
	char host[81];
	size_t hlen = (size_t)(colon - addr);
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	struct sockaddr_storage tmp;
	memset(&tmp, 0, sizeof(tmp));
	int n;
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&tmp;
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		n = (int)sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&tmp;
		if (hlen == 0)
			in->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		n = (int)sizeof(*in);
	}
	*ss = tmp;
	*len = n;
	return 0;
}
