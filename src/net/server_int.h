/* Shared by server.c (the server: listeners, accept, shutdown), conn.c (a
 * connection: TLS, reading requests, writing replies) and router.c (routes,
 * requests, replies). Internal to src/net: not an API for other modules.
 * Everything here is used from the loop thread only. */
#ifndef DM_NET_SERVER_INT_H
#define DM_NET_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "base/log.h"
#include "net/http.h"
#include "net/server.h"
#include "tls/tls.h"

#define DM_HTTP_SEGMENTS_MAX  32
#define DM_HTTP_LISTENERS_MAX 8

/* A dm_tls shared by the server (for new connections) and by the TLS
 * connections accepted with it: set_tls must not free it under them. */
struct dm_http_tls_ref {
	dm_tls *tls;
	int refs;
};

enum dm_http_conn_state {
	ST_PEEK,      /* permissive: waiting for the first byte */
	ST_HANDSHAKE, /* TLS handshake in progress */
	ST_HEAD,      /* waiting for (the rest of) a request head */
	ST_BODY,      /* waiting for the rest of a body */
	ST_HANDLER,   /* request dispatched (or deferred), no reply yet */
	ST_WRITING,   /* reply queued, waiting for it to drain */
	ST_CLOSING,   /* half-closed, dropping input until EOF or the linger time */
};

struct dm_http_conn {
	dm_http_server *srv;
	struct dm_http_conn *prev, *next;
	evutil_socket_t fd;
	struct bufferevent *bev; /* owns fd once set */
	struct event *peek_ev;
	struct event *timer;         /* deadline of the current state */
	struct dm_http_tls_ref *tls; /* set for TLS connections (and while peeking) */
	bool is_tls;
	enum dm_http_conn_state state;
	bool keep_alive; /* of the reply being written */
	bool idle_wait;  /* kept alive, no byte of the next request yet */
	char peer[64];
	char cn[DM_TLS_CN_MAX];
	/* Set when the verified certificate's CN is not allowed: the first
	 * request is answered 403 with this reason, and the connection closed,
	 * so the client learns why instead of seeing a reset. No handler ever
	 * runs for such a connection. */
	char *refused;
	dm_http_req *req;
};

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

struct dm_http_server {
	struct event_base *base;
	dm_log *log;
	size_t max_body;
	int timeout_s;
	size_t max_conns;
	struct dm_http_tls_ref *tls; /* for new connections; NULL = plaintext */
	struct evconnlistener *listeners[DM_HTTP_LISTENERS_MAX];
	size_t nlisteners;
	struct event *resume_ev; /* re-enables listeners after accept errors */
	int port;
	dm_http_router router;
	struct dm_http_conn *conns;
	size_t nconns;
	bool shutting_down;
	struct event *drained_ev;
	void (*drained)(void *arg);
	void *drained_arg;
	bool drained_sent;
};

struct dm_http_param {
	char *name; /* a copy: a deferred request can outlive the routes */
	char *value;
};

/* One request; owned by its connection and freed once the reply is
 * written (or the connection closes). A deferred request whose connection
 * closes first is detached instead (conn = NULL) and freed by its reply,
 * which is dropped: the code holding it cannot be told it is gone. */
struct dm_http_req {
	struct dm_http_conn *conn; /* NULL once detached */
	const char *peer;          /* peer_buf */
	const char *peer_cn;       /* cn_buf; NULL on plaintext */
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
	bool deferred; /* the handler returned without replying, on purpose */
	/* Copies, not pointers into the connection: a deferred request can
	 * outlive it. */
	char peer_buf[64];
	char cn_buf[DM_TLS_CN_MAX];
};

/* router.c */
int dm_http_router_add(dm_http_router *rt, const char *method, const char *pattern,
                       dm_http_handler fn, void *arg);
void dm_http_router_fini(dm_http_router *rt);
/* Finds the route (404/405 otherwise), decodes path parameters and a JSON
 * body (400 when invalid), runs the handler, and answers 500 for a handler
 * that neither replied nor deferred. */
void dm_http_router_dispatch(const dm_http_router *rt, dm_http_req *req);
void dm_http_req_free(dm_http_req *req);
void dm_http_reply_error_hdr(dm_http_req *req, int status, int code, const char *extra,
                             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* conn.c */
/* Takes fd (accepted from peer) into a new connection of srv. */
void dm_http_conn_accept(dm_http_server *srv, evutil_socket_t fd, const char *peer);
/* Closes the connection and frees it (detaching a deferred request). */
void dm_http_conn_free(struct dm_http_conn *c);
/* Kept alive and waiting for a request, nothing of it received yet. */
bool dm_http_conn_idle(const struct dm_http_conn *c);
/* No request started: idle, or still peeking or in the TLS handshake. */
bool dm_http_conn_unstarted(const struct dm_http_conn *c);
/* Queues the response on the request's connection; frees a detached
 * request instead. */
void dm_http_send(dm_http_req *req, int status, const char *ctype, const char *body, size_t len,
                  const char *extra);

/* server.c */
void dm_http_tls_ref_put(struct dm_http_tls_ref *r);
/* Schedules the drained callback once shutting down and no connection is
 * left. */
void dm_http_check_drained(dm_http_server *srv);

#endif
