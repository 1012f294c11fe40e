/* A small HTTP/1.1 + JSON server on libevent, with dm's TLS policy.
 *
 * Not evhttp: evhttp creates the bufferevent before we see the socket, so
 * it cannot peek at the first byte to serve TLS and plaintext on one port
 * (tls-mode permissive). See docs/net.md.
 *
 * Everything runs in the thread of the event_base: create the server, add
 * routes and listen before dispatching, and call the other functions from
 * that thread (from a handler, a timer, or a dm_loop callback). Handlers run
 * in the loop and must not block. The process must ignore SIGPIPE (as
 * dm_loop_new() arranges): a client that goes away is a write error. */
#ifndef DM_NET_SERVER_H
#define DM_NET_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#include "base/err.h"
#include "base/log.h"
#include "tls/tls.h"

typedef struct dm_http_server dm_http_server;
typedef struct dm_http_req dm_http_req;

#define DM_HTTP_TIMEOUT_DEFAULT   30   /* seconds */
#define DM_HTTP_MAX_CONNS_DEFAULT 1024 /* open connections per server */

typedef struct dm_http_server_opts {
	/* Largest request body accepted; 0 means DM_HTTP_BODY_MAX_DEFAULT.
	 * Bigger bodies are answered 413 before they are read. */
	size_t max_body;
	/* Seconds allowed for the TLS handshake, for a whole request to
	 * arrive, for a response to be written, and for a keep-alive
	 * connection to stay idle; 0 means DM_HTTP_TIMEOUT_DEFAULT. */
	int timeout_s;
	/* Open connections; more are accepted and closed at once (logged).
	 * 0 means DM_HTTP_MAX_CONNS_DEFAULT. */
	size_t max_conns;
	/* Server-role TLS, or NULL for plaintext. The mode comes from
	 * dm_tls_get_mode(). The server takes ownership, even when
	 * dm_http_server_new() fails, and frees it once no connection
	 * uses it. */
	dm_tls *tls;
} dm_http_server_opts;

/* A request handler. It answers with one of the dm_http_reply_* calls, or
 * defers the request (dm_http_req_defer) and replies later. A handler that
 * returns having done neither gets a 500 sent for it. */
typedef void (*dm_http_handler)(dm_http_req *req, void *arg);

/* log is borrowed and must outlive the server. */
dm_http_server *dm_http_server_new(struct event_base *base, const dm_http_server_opts *opts,
                                   dm_log *log, dm_err *err);
/* Closes every connection and listener at once. NULL is a no-op. Call it
 * after the loop has returned (after dm_loop_run()): when connections were
 * still open it runs the loop for a few non-blocking turns so libevent can
 * release them (other due events of the base may run then). */
void dm_http_server_free(dm_http_server *srv);

/* Adds a route. pattern is an absolute path whose segments are literals or
 * "{name}" (one non-empty segment, available through dm_http_req_param):
 * "/api/v1/sources/{name}/status". A literal segment wins over a
 * parameter. Unknown paths get 404; a known path with another method
 * gets 405 with an Allow header. HEAD is served by the GET route without
 * a body. A malformed pattern or a duplicate is a programming error: it is
 * logged and -1 returned. */
int dm_http_server_route(dm_http_server *srv, const char *method, const char *pattern,
                         dm_http_handler fn, void *arg);

/* Listens on "host:port": an IPv4 literal, "[IPv6]", or empty host
 * (":8261") for every IPv4 address. Port 0 picks a free port; read it
 * with dm_http_server_port(). SO_REUSEADDR is set. May be called more than
 * once for several addresses. */
int dm_http_server_listen(dm_http_server *srv, const char *addr, dm_err *err);

/* The bound port of the most recent listen, or 0. */
int dm_http_server_port(const dm_http_server *srv);

/* Replaces the TLS configuration (NULL = plaintext) for connections
 * accepted from now on; established ones keep theirs. Takes ownership of
 * tls, like dm_http_server_opts.tls. This is how SIGHUP switches
 * off <-> permissive <-> strict. */
void dm_http_server_set_tls(dm_http_server *srv, dm_tls *tls);

/* Closes idle keep-alive connections (those waiting for a request with
 * nothing received yet) so they reconnect with the current TLS material.
 * Busy connections are left alone. Returns how many were closed. */
size_t dm_http_server_close_idle(dm_http_server *srv);

/* Graceful shutdown: stops accepting, closes idle connections, and lets
 * requests in progress (deferred ones included) finish with "Connection:
 * close". Idempotent. */
void dm_http_server_shutdown(dm_http_server *srv);

/* fn(arg) is called once, after dm_http_server_shutdown(), when the last
 * connection is gone (from inside shutdown when there is none). A daemon
 * uses it to leave its loop early instead of waiting out a grace period. */
void dm_http_server_on_drained(dm_http_server *srv, void (*fn)(void *arg), void *arg);

/* Open connections, for tests and status pages. */
size_t dm_http_server_conn_count(const dm_http_server *srv);

/* For a handler whose answer needs blocking work (a MySQL connection, a
 * call to a dm-worker): the handler returns without replying, hands the
 * work to dm_loop_offload(), and the reply comes later, from the loop
 * thread, through the usual dm_http_reply_* calls (typically from the
 * offload's done callback).
 *
 * Every deferred request must be replied exactly once: the reply is what
 * frees it (one never replied leaks, a second reply is a use after free).
 * Until then the request and everything read from it (params, query,
 * headers, body, JSON, peer, peer CN) stay valid, even when the connection
 * is gone. If the connection closes first (the client left, the timeout
 * below ran out, dm_http_server_free), the reply is silently dropped
 * (logged at INFO when the connection closes).
 *
 * Meanwhile the connection reads no further request (pipelined requests
 * are answered in order), counts as busy (dm_http_server_close_idle leaves
 * it; dm_http_server_shutdown waits for the reply) and has timeout_s from
 * the deferral for its reply. Deferring twice, or after replying, does
 * nothing. */
void dm_http_req_defer(dm_http_req *req);

/* What a handler sees. Strings are borrowed and valid until the reply. */
const char *dm_http_req_method(const dm_http_req *req);
/* The path as sent, without the query; percent escapes kept. */
const char *dm_http_req_path(const dm_http_req *req);
/* A "{name}" segment of the route, percent-decoded; NULL if no such name. */
const char *dm_http_req_param(const dm_http_req *req, const char *name);
/* The first query parameter `name`, decoded ("" for "?flag"); NULL when
 * absent or badly escaped. */
const char *dm_http_req_query(dm_http_req *req, const char *name);
/* A request header's value (case-insensitive name); NULL when absent. */
const char *dm_http_req_header(dm_http_req *req, const char *name);
/* The body, NUL-terminated (it may contain other NULs); "" when none. */
const char *dm_http_req_body(const dm_http_req *req, size_t *ret_len);
/* The body parsed as JSON when the Content-Type is JSON and the body is
 * not empty, else NULL. Borrowed. (An unparsable JSON body never reaches
 * a handler: it is answered 400.) */
json_t *dm_http_req_json(const dm_http_req *req);
/* "127.0.0.1:54321" or "[::1]:54321". */
const char *dm_http_req_peer(const dm_http_req *req);
/* The verified client certificate's CN; NULL on plaintext connections. */
const char *dm_http_req_peer_cn(const dm_http_req *req);
bool dm_http_req_is_tls(const dm_http_req *req);

/* Replies; exactly one per request, from the loop thread. body is stolen (may be NULL: "{}"
 * is not implied, an empty body is sent). */
void dm_http_reply_json(dm_http_req *req, int status, json_t *body);
/* text/plain; charset=utf-8. */
void dm_http_reply_text(dm_http_req *req, int status, const char *text);
/* DM's error shape: {"error_code": code, "error_msg": "..."}. */
void dm_http_reply_error(dm_http_req *req, int status, int code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#endif
