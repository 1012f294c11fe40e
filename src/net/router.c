/* Routes, the request a handler sees, and the reply helpers. The
 * connection side (reading requests, writing replies) is in server.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "net/server_int.h"

void dm_http_req_free(dm_http_req *req)
{
	if (req == NULL)
		return;
	for (size_t i = 0; i < req->nparams; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	for (size_t i = 0; i < req->nowned; i++)
		free(req->owned[i]);
	free(req->owned);
	json_decref(req->json);
	free(req->body);
	free(req->path);
	free(req->headbuf);
	free(req);
}

static bool is_param(const char *seg)
{
	return seg[0] == '{';
}

/* Splits an absolute path into segments (pointers into path). A single
 * trailing slash is ignored; an empty segment ("//") makes it unroutable.
 * Returns the count, or -1. */
static int split_path(const char *path, size_t len, const char **segs, size_t *lens)
{
	if (len == 0 || path[0] != '/')
		return -1;
	if (len > 1 && path[len - 1] == '/')
		len--;
	int n = 0;
	size_t i = 1;
	while (i < len) {
		const char *e = memchr(path + i, '/', len - i);
		size_t sl = e != NULL ? (size_t)(e - (path + i)) : len - i;
		if (sl == 0 || n == DM_HTTP_SEGMENTS_MAX)
			return -1;
		segs[n] = path + i;
		lens[n++] = sl;
		i += sl + 1;
	}
	return n;
}

static bool valid_param(const char *s, size_t n)
{
	if (n < 3 || s[0] != '{' || s[n - 1] != '}')
		return false;
	for (size_t i = 1; i + 1 < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

int dm_http_router_add(dm_http_router *rt, const char *method, const char *pattern,
                       dm_http_handler fn, void *arg)
{
	const char *segs[DM_HTTP_SEGMENTS_MAX];
	size_t lens[DM_HTTP_SEGMENTS_MAX];
	int n = pattern != NULL ? split_path(pattern, strlen(pattern), segs, lens) : -1;
	bool ok = n >= 0 && fn != NULL && method != NULL && method[0] != '\0';
	for (int i = 0; ok && i < n; i++) {
		if (memchr(segs[i], '{', lens[i]) != NULL || memchr(segs[i], '}', lens[i]) != NULL)
			ok = valid_param(segs[i], lens[i]);
	}
	for (size_t r = 0; ok && r < rt->n; r++) {
		const struct dm_http_route *o = &rt->routes[r];
		bool same = strcmp(o->method, method) == 0 && (int)o->nsegs == n;
		for (int i = 0; same && i < n; i++) {
			same = is_param(o->segs[i])
			               ? is_param(segs[i])
			               : strlen(o->segs[i]) == lens[i] &&
			                         memcmp(o->segs[i], segs[i], lens[i]) == 0;
		}
		ok = !same;
	}
	if (!ok)
		return -1;
	rt->routes = dm_xrealloc(rt->routes, (rt->n + 1) * sizeof(*rt->routes));
	struct dm_http_route *r = &rt->routes[rt->n++];
	r->method = dm_xstrdup(method);
	r->pattern = dm_xstrdup(pattern);
	r->nsegs = (size_t)n;
	r->segs = dm_xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++)
		r->segs[i] = dm_xstrndup(segs[i], lens[i]);
	r->fn = fn;
	r->arg = arg;
	return 0;
}

void dm_http_router_fini(dm_http_router *rt)
{
	for (size_t i = 0; i < rt->n; i++) {
		struct dm_http_route *r = &rt->routes[i];
		for (size_t k = 0; k < r->nsegs; k++)
			free(r->segs[k]);
		free(r->segs);
		free(r->method);
		free(r->pattern);
	}
	free(rt->routes);
	rt->routes = NULL;
	rt->n = 0;
}

/* Literal segments score higher than parameters, leftmost first. */
static long route_score(const struct dm_http_route *r, const char **segs, const size_t *lens, int n)
{
	if ((int)r->nsegs != n)
		return -1;
	long score = 0;
	for (int i = 0; i < n; i++) {
		bool lit = !is_param(r->segs[i]);
		if (lit && (strlen(r->segs[i]) != lens[i] || memcmp(r->segs[i], segs[i], lens[i])))
			return -1;
		score = score * 2 + (lit ? 1 : 0);
	}
	return score;
}

void dm_http_router_dispatch(const dm_http_router *rt, dm_http_req *req)
{
	const char *segs[DM_HTTP_SEGMENTS_MAX];
	size_t lens[DM_HTTP_SEGMENTS_MAX];
	int n = split_path(req->path, strlen(req->path), segs, lens);
	const char *method = req->head.method;
	if (strcmp(method, "HEAD") == 0) {
		method = "GET";
		req->is_head = true;
	}
	const struct dm_http_route *best = NULL;
	long best_score = -1;
	dm_buf allow;
	dm_buf_init(&allow);
	for (size_t i = 0; n >= 0 && i < rt->n; i++) {
		const struct dm_http_route *r = &rt->routes[i];
		long s = route_score(r, segs, lens, n);
		if (s < 0)
			continue;
		dm_buf_printf(&allow, "%s%s", allow.len ? ", " : "Allow: ", r->method);
		if (strcmp(r->method, method) == 0 && s > best_score) {
			best = r;
			best_score = s;
		}
	}
	if (best == NULL) {
		if (allow.len == 0) {
			dm_buf_fini(&allow);
			dm_http_reply_error(req, 404, 404, "no API at %s", req->path);
			return;
		}
		dm_buf_puts(&allow, "\r\n");
		dm_http_reply_error_hdr(req, 405, 405, dm_buf_str(&allow),
		                        "method %s is not allowed for %s", req->head.method,
		                        req->path);
		dm_buf_fini(&allow);
		return;
	}
	dm_buf_fini(&allow);
	for (size_t i = 0; i < best->nsegs; i++) {
		if (!is_param(best->segs[i]))
			continue;
		char *v = dm_http_pct_decode(segs[i], lens[i], false);
		if (v == NULL) {
			dm_http_reply_error(req, 400, 400, "bad %%-escape in path %s", req->path);
			return;
		}
		struct dm_http_param *p = &req->params[req->nparams++];
		p->name = dm_xstrndup(best->segs[i] + 1, strlen(best->segs[i]) - 2);
		p->value = v;
	}
	const char *ct = req->headbuf + req->head.content_type.off;
	if (req->body_len > 0 && dm_http_is_json_type(ct, req->head.content_type.len)) {
		json_error_t jerr;
		req->json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
		if (req->json == NULL) {
			dm_http_reply_error(
			        req, 400, 400,
			        "request body is not valid JSON: %s (line %d, column %d)",
			        jerr.text, jerr.line, jerr.column);
			return;
		}
	}
	best->fn(req, best->arg);
	/* A deferred request is still ours here: its reply can only come
	 * from a later loop callback. */
	if (!req->replied && !req->deferred) {
		dm_log_error(req->log, "handler of %s %s returned without replying (a bug)",
		             best->method, best->pattern);
		dm_http_reply_error(req, 500, 500, "the server did not answer this request");
	}
}

static void vreply_error(dm_http_req *req, int status, int code, const char *extra, const char *fmt,
                         va_list ap)
{
	dm_buf msg;
	dm_buf_init(&msg);
	dm_buf_vprintf(&msg, fmt, ap);
	json_t *j = json_object();
	json_object_set_new(j, "error_code", json_integer(code));
	json_object_set_new(j, "error_msg", json_string(dm_buf_str(&msg)));
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	dm_buf_fini(&msg);
	if (text == NULL) /* error_msg was not UTF-8 */
		text = dm_xasprintf("{\"error_code\":%d,\"error_msg\":\"(unprintable)\"}", code);
	dm_http_send(req, status, "application/json", text, strlen(text), extra);
	free(text);
}

void dm_http_reply_error_hdr(dm_http_req *req, int status, int code, const char *extra,
                             const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply_error(req, status, code, extra, fmt, ap);
	va_end(ap);
}

void dm_http_reply_error(dm_http_req *req, int status, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreply_error(req, status, code, NULL, fmt, ap);
	va_end(ap);
}

void dm_http_reply_json(dm_http_req *req, int status, json_t *body)
{
	if (body == NULL) {
		dm_http_send(req, status, NULL, "", 0, NULL);
		return;
	}
	char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(body);
	if (text == NULL) {
		dm_http_reply_error(req, 500, 500, "the response could not be encoded as JSON");
		return;
	}
	dm_http_send(req, status, "application/json", text, strlen(text), NULL);
	free(text);
}

void dm_http_reply_text(dm_http_req *req, int status, const char *text)
{
	dm_http_send(req, status, "text/plain; charset=utf-8", text, strlen(text), NULL);
}

static const char *own(dm_http_req *req, char *s)
{
	if (s == NULL)
		return NULL;
	req->owned = dm_xrealloc(req->owned, (req->nowned + 1) * sizeof(char *));
	req->owned[req->nowned++] = s;
	return s;
}

const char *dm_http_req_method(const dm_http_req *req)
{
	return req->head.method;
}

const char *dm_http_req_path(const dm_http_req *req)
{
	return req->path != NULL ? req->path : "";
}

const char *dm_http_req_param(const dm_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++) {
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	}
	return NULL;
}

const char *dm_http_req_query(dm_http_req *req, const char *name)
{
	if (req->headbuf == NULL)
		return NULL;
	return own(req, dm_http_query_get(req->headbuf + req->head.query.off, req->head.query.len,
	                                  name));
}

const char *dm_http_req_header(dm_http_req *req, const char *name)
{
	if (req->headbuf == NULL)
		return NULL;
	const dm_http_span *v = dm_http_head_get(&req->head, req->headbuf, name);
	if (v == NULL)
		return NULL;
	return own(req, dm_xstrndup(req->headbuf + v->off, v->len));
}

const char *dm_http_req_body(const dm_http_req *req, size_t *ret_len)
{
	if (ret_len != NULL)
		*ret_len = req->body_len;
	return req->body != NULL ? req->body : "";
}

json_t *dm_http_req_json(const dm_http_req *req)
{
	return req->json;
}

const char *dm_http_req_peer(const dm_http_req *req)
{
	return req->peer;
}

const char *dm_http_req_peer_cn(const dm_http_req *req)
{
	return req->peer_cn;
}

bool dm_http_req_is_tls(const dm_http_req *req)
{
	return req->peer_cn != NULL;
}
