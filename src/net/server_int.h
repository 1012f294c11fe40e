/* Shared by server.c (connections, TLS, I/O) and router.c (routes,
 * requests, replies). Internal to src/net: not an API for other modules. */
#ifndef DM_NET_SERVER_INT_H
#define DM_NET_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/log.h"
#include "net/http.h"
#include "net/server.h"

#define DM_HTTP_SEGMENTS_MAX 32

struct dm_http_route {
	char *method;
	char *pattern;
	char **segs; /* "{name}" for parameters */
	size_t nsegs;
	dm_http_handler fn;
	void *arg;
};

typedef struct dm_http_router {
	struct dm_http_route *routes;
	size_t n;
} dm_http_router;

struct dm_http_param {
	const char *name; /* borrowed from the route: "{name}" after the brace */
	size_t name_len;
	char *value;
};

/* One request; owned by its connection and freed once the reply is
 * written (or the connection closes). */
struct dm_http_req {
	void *conn;          /* server.c's connection */
	const char *peer;    /* borrowed from the connection */
	const char *peer_cn; /* NULL on plaintext */
	dm_log *log;
	dm_http_head head;
	char *headbuf; /* copy of the head: head's spans point into it; NULL after a parse error */
	char *path;
	char *body;
	size_t body_len;
	json_t *json;
	struct dm_http_param params[DM_HTTP_SEGMENTS_MAX];
	size_t nparams;
	char **owned; /* strings handed to the handler */
	size_t nowned;
	bool is_head;
	bool force_close; /* answer with "Connection: close" */
	bool replied;
};

/* router.c */
int dm_http_router_add(dm_http_router *rt, const char *method, const char *pattern,
                       dm_http_handler fn, void *arg);
void dm_http_router_fini(dm_http_router *rt);
/* Finds the route (404/405 otherwise), decodes path parameters and a JSON
 * body (400 when invalid), runs the handler, and answers 500 for a handler
 * that did not reply. */
void dm_http_router_dispatch(const dm_http_router *rt, dm_http_req *req);
void dm_http_req_free(dm_http_req *req);
void dm_http_reply_error_hdr(dm_http_req *req, int status, int code, const char *extra,
                             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* server.c: queues the response on the request's connection. */
void dm_http_send(dm_http_req *req, int status, const char *ctype, const char *body, size_t len,
                  const char *extra);

#endif
