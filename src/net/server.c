#include "net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/buf.h"
#include "base/mem.h"
#include "net/http.h"
#include "net/server_int.h"

#define MAX_LISTENERS 8
/* After a "Connection: close" response the socket is half-closed and the
 * rest of what the client sends is read and dropped for this long: closing
 * with unread data makes the kernel send a reset, which can destroy the
 * response before the client reads it (an early 413, for example). */
#define LINGER_S 2

/* A dm_tls shared by the server (for new connections) and by the TLS
 * connections accepted with it: set_tls must not free it under them. */
struct tls_ref {
	dm_tls *tls;
	int refs;
};

enum conn_state {
	ST_PEEK,      /* permissive: waiting for the first byte */
	ST_HANDSHAKE, /* TLS handshake in progress */
	ST_HEAD,      /* waiting for (the rest of) a request head */
	ST_BODY,      /* waiting for the rest of a body */
	ST_HANDLER,   /* request dispatched, no reply yet */
	ST_WRITING,   /* reply queued, waiting for it to drain */
	ST_CLOSING,   /* half-closed, dropping input until EOF or LINGER_S */
};

struct conn {
	dm_http_server *srv;
	struct conn *prev, *next;
	evutil_socket_t fd;
	struct bufferevent *bev; /* owns fd once set */
	struct event *peek_ev;
	struct event *timer; /* deadline of the current state */
	struct tls_ref *tls; /* set for TLS connections (and while peeking) */
	bool is_tls;
	enum conn_state state;
	bool keep_alive; /* of the reply being written */
	bool idle_wait;  /* kept alive, no byte of the next request yet */
	char peer[64];
	char cn[DM_TLS_CN_MAX];
	dm_http_req *req;
};

struct dm_http_server {
	struct event_base *base;
	dm_log *log;
	size_t max_body;
	int timeout_s;
	size_t max_conns;
	struct tls_ref *tls; /* for new connections; NULL = plaintext */
	struct evconnlistener *listeners[MAX_LISTENERS];
	size_t nlisteners;
	struct event *resume_ev; /* re-enables listeners after accept errors */
	int port;
	dm_http_router router;
	struct conn *conns;
	size_t nconns;
	bool shutting_down;
	struct event *drained_ev;
	void (*drained)(void *arg);
	void *drained_arg;
	bool drained_sent;
};

static void process_input(struct conn *c);

static struct tls_ref *tls_ref_new(dm_tls *tls)
{
	if (tls == NULL)
		return NULL;
	struct tls_ref *r = dm_xcalloc(1, sizeof(*r));
	r->tls = tls;
	r->refs = 1;
	return r;
}

static void tls_ref_put(struct tls_ref *r)
{
	if (r != NULL && --r->refs == 0) {
		dm_tls_free(r->tls);
		free(r);
	}
}

static void check_drained(dm_http_server *srv)
{
	if (srv->shutting_down && srv->nconns == 0 && !srv->drained_sent && srv->drained) {
		srv->drained_sent = true;
		/* Through the loop, so the callback never runs inside
		 * conn_free() or shutdown() and may do anything. */
		event_active(srv->drained_ev, EV_TIMEOUT, 0);
	}
}

static void conn_free(struct conn *c)
{
	dm_http_server *srv = c->srv;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	dm_http_req_free(c->req);
	if (c->peek_ev != NULL)
		event_free(c->peek_ev);
	event_free(c->timer);
	if (c->bev != NULL)
		bufferevent_free(c->bev); /* closes fd, frees the SSL */
	else
		evutil_closesocket(c->fd);
	tls_ref_put(c->tls);
	free(c);
	check_drained(srv);
}

static void arm(struct conn *c, int secs)
{
	struct timeval tv = {secs, 0};
	evtimer_add(c->timer, &tv);
}

static bool conn_idle(struct conn *c)
{
	return c->state == ST_HEAD && c->req == NULL &&
	       evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
}

/* OpenSSL's reason for a failed handshake, with a hint for the common
 * cases. Names files and CNs at most, never key material. */
static void describe_tls_failure(struct conn *c, dm_buf *out)
{
	unsigned long e, first = 0;
	while ((e = bufferevent_get_openssl_error(c->bev)) != 0) {
		if (first == 0)
			first = e;
	}
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	if (first == 0) {
		int se = EVUTIL_SOCKET_ERROR();
		if (se != 0)
			dm_buf_puts(out, evutil_socket_error_to_string(se));
		else
			dm_buf_puts(out, "the client closed the connection");
		return;
	}
	const char *reason = ERR_reason_error_string(first);
	dm_buf_puts(out, reason != NULL ? reason : "unknown TLS error");
	long v = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (v != X509_V_OK)
		dm_buf_printf(out, ": %s", X509_verify_cert_error_string(v));
	const char *hint = NULL;
	if (ERR_GET_LIB(first) == ERR_LIB_SSL) {
		switch (ERR_GET_REASON(first)) {
		case SSL_R_HTTP_REQUEST:
			hint = "plaintext HTTP sent to a TLS-only port: tls-mode is strict";
			break;
		case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
			hint = "the client sent no certificate; it needs ssl-cert and ssl-key";
			break;
		case SSL_R_CERTIFICATE_VERIFY_FAILED:
			hint = "the client certificate is not signed by this server's ssl-ca";
			break;
		case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
			hint = "the client does not trust this server's certificate; check its "
			       "ssl-ca";
			break;
		}
	}
	if (hint != NULL)
		dm_buf_printf(out, " (%s)", hint);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	dm_http_server *srv = c->srv;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* The TLS handshake completed; the chain verified against
		 * ssl-ca. Now the CN. */
		dm_err err;
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (dm_tls_check_peer(c->tls->tls, ssl, c->cn, sizeof(c->cn), &err) < 0) {
			dm_log_warn(srv->log, "refused TLS client %s: %s", c->peer, err.msg);
			conn_free(c);
			return;
		}
		dm_log_debug(srv->log, "TLS client %s: CN \"%s\", %s", c->peer, c->cn,
		             SSL_get_version(ssl));
		c->state = ST_HEAD;
		arm(c, srv->timeout_s);
		process_input(c);
		return;
	}
	if (c->state == ST_HANDSHAKE) {
		dm_buf why;
		dm_buf_init(&why);
		describe_tls_failure(c, &why);
		/* A bare EOF is what port probes and health checks look like. */
		dm_log_write(srv->log, (what & BEV_EVENT_ERROR) ? DM_LOG_WARN : DM_LOG_INFO,
		             "TLS handshake with %s failed: %s", c->peer, dm_buf_str(&why));
		dm_buf_fini(&why);
	} else if ((what & BEV_EVENT_ERROR) && c->state != ST_CLOSING) {
		dm_buf why;
		dm_buf_init(&why);
		if (c->is_tls)
			describe_tls_failure(c, &why);
		else
			dm_buf_puts(&why, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		dm_log_info(srv->log, "connection from %s failed: %s", c->peer, dm_buf_str(&why));
		dm_buf_fini(&why);
	}
	conn_free(c);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd;
	(void)what;
	const char *why = NULL;
	switch (c->state) {
	case ST_PEEK: why = "nothing received"; break;
	case ST_HANDSHAKE: why = "TLS handshake not complete"; break;
	case ST_HEAD:
		if (!conn_idle(c))
			why = "request not complete";
		break;
	case ST_BODY: why = "request body not complete"; break;
	case ST_HANDLER:
	case ST_WRITING: why = "response not read"; break;
	case ST_CLOSING: break;
	}
	if (why != NULL)
		dm_log_info(c->srv->log, "closing connection from %s: %s after %d s", c->peer, why,
		            c->srv->timeout_s);
	conn_free(c);
}

/* Half-closes after a "Connection: close" reply; see LINGER_S. */
static void start_linger(struct conn *c)
{
	c->state = ST_CLOSING;
	if (c->is_tls) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		/* close_notify, so the client can tell the end from a cut. */
		SSL_shutdown(ssl);
		ERR_clear_error();
	}
	shutdown(c->fd, SHUT_WR);
	evbuffer_drain(bufferevent_get_input(c->bev),
	               evbuffer_get_length(bufferevent_get_input(c->bev)));
	arm(c, LINGER_S);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->state == ST_CLOSING) {
		struct evbuffer *in = bufferevent_get_input(bev);
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	process_input(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	/* libevent also calls this for a writable socket with nothing
	 * written (deferred, so it can arrive after a reply was queued):
	 * only an empty output means the reply is out. */
	if (c->state != ST_WRITING || evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	dm_http_req_free(c->req);
	c->req = NULL;
	if (!c->keep_alive || c->srv->shutting_down) {
		start_linger(c);
		return;
	}
	c->state = ST_HEAD;
	c->idle_wait = true;
	arm(c, c->srv->timeout_s);
	process_input(c); /* a pipelined request may be waiting */
}

static int setup_bev(struct conn *c)
{
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	/* Bounds what one connection buffers; a head plus the largest body
	 * always fits, so a request can always complete. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, DM_HTTP_HEAD_MAX + c->srv->max_body);
	return bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* Deferred callbacks: a reply written from inside a handler must not run
 * write_cb (which frees the request) before the handler has returned. */
#define BEV_OPTS (BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)

static void start_plain(struct conn *c)
{
	c->bev = bufferevent_socket_new(c->srv->base, c->fd, BEV_OPTS);
	if (c->bev == NULL || setup_bev(c) < 0) {
		dm_log_error(c->srv->log, "cannot serve %s: out of resources", c->peer);
		conn_free(c);
		return;
	}
	c->state = ST_HEAD;
	process_input(c);
}

static void start_tls(struct conn *c)
{
	dm_http_server *srv = c->srv;
	dm_err err;
	SSL_CTX *ctx = dm_tls_ctx(c->tls->tls, &err);
	char **warn = NULL;
	size_t nwarn = dm_tls_take_warnings(c->tls->tls, &warn);
	for (size_t i = 0; i < nwarn; i++)
		dm_log_warn(srv->log, "%s", warn[i]);
	dm_tls_warnings_free(warn, nwarn);
	if (ctx == NULL) {
		dm_log_error(srv->log, "cannot accept TLS client %s: %s", c->peer, err.msg);
		conn_free(c);
		return;
	}
	SSL *ssl = SSL_new(ctx);
	SSL_CTX_free(ctx);
	if (ssl != NULL)
		c->bev = bufferevent_openssl_socket_new(srv->base, c->fd, ssl,
		                                        BUFFEREVENT_SSL_ACCEPTING, BEV_OPTS);
	if (c->bev == NULL) {
		SSL_free(ssl);
		ERR_clear_error();
		dm_log_error(srv->log, "cannot accept TLS client %s: out of resources", c->peer);
		conn_free(c);
		return;
	}
	/* curl and others often close without close_notify. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	c->is_tls = true;
	c->state = ST_HANDSHAKE;
	if (setup_bev(c) < 0) {
		conn_free(c);
		return;
	}
}

static void peek_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)what;
	unsigned char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		event_add(c->peek_ev, NULL);
		return;
	}
	if (n <= 0) {
		conn_free(c);
		return;
	}
	event_free(c->peek_ev);
	c->peek_ev = NULL;
	if (dm_tls_looks_like_handshake(b)) {
		start_tls(c);
		return;
	}
	tls_ref_put(c->tls);
	c->tls = NULL;
	start_plain(c);
}

static void format_peer(const struct sockaddr *sa, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, n, "%s:%u", host, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, n, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(out, n, "(unknown)");
	}
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
	dm_http_server *srv = arg;
	(void)l;
	(void)salen;
	char peer[64];
	format_peer(sa, peer, sizeof(peer));
	if (srv->shutting_down) {
		evutil_closesocket(fd);
		return;
	}
	if (srv->nconns >= srv->max_conns) {
		dm_log_warn(srv->log,
		            "refused connection from %s: %zu connections are open (the limit)",
		            peer, srv->nconns);
		evutil_closesocket(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct conn *c = dm_xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->fd = fd;
	memcpy(c->peer, peer, sizeof(peer));
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	c->timer = evtimer_new(srv->base, timeout_cb, c);
	arm(c, srv->timeout_s);
	dm_tls_mode mode = srv->tls != NULL ? dm_tls_get_mode(srv->tls->tls) : DM_TLS_OFF;
	if (mode == DM_TLS_OFF) {
		start_plain(c);
		return;
	}
	/* The connection keeps the configuration it was accepted with. */
	c->tls = srv->tls;
	c->tls->refs++;
	if (mode == DM_TLS_STRICT) {
		start_tls(c);
		return;
	}
	c->state = ST_PEEK;
	c->peek_ev = event_new(srv->base, fd, EV_READ, peek_cb, c);
	event_add(c->peek_ev, NULL);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	dm_http_server *srv = arg;
	(void)fd;
	(void)what;
	for (size_t i = 0; i < srv->nlisteners && !srv->shutting_down; i++)
		evconnlistener_enable(srv->listeners[i]);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	dm_http_server *srv = arg;
	int e = EVUTIL_SOCKET_ERROR();
	(void)l;
	/* EMFILE and friends would make the listener spin: pause accepting
	 * for a second instead. */
	dm_log_error(srv->log, "accepting connections failed: %s; pausing for 1 s",
	             evutil_socket_error_to_string(e));
	for (size_t i = 0; i < srv->nlisteners; i++)
		evconnlistener_disable(srv->listeners[i]);
	struct timeval tv = {1, 0};
	evtimer_add(srv->resume_ev, &tv);
}

static void drained_cb(evutil_socket_t fd, short what, void *arg)
{
	dm_http_server *srv = arg;
	(void)fd;
	(void)what;
	if (srv->drained != NULL)
		srv->drained(srv->drained_arg);
}

dm_http_server *dm_http_server_new(struct event_base *base, const dm_http_server_opts *opts,
                                   dm_log *log, dm_err *err)
{
	dm_tls *tls = opts != NULL ? opts->tls : NULL;
	if (base == NULL || log == NULL) {
		dm_tls_free(tls);
		dm_err_set(err, DM_EINVAL, "HTTP server: no event base or log given");
		return NULL;
	}
	if (tls != NULL && dm_tls_get_role(tls) != DM_TLS_SERVER) {
		dm_tls_free(tls);
		dm_err_set(err, DM_EINVAL, "HTTP server: TLS settings are for a client");
		return NULL;
	}
	dm_http_server *srv = dm_xcalloc(1, sizeof(*srv));
	srv->base = base;
	srv->log = log;
	srv->max_body =
	        opts != NULL && opts->max_body > 0 ? opts->max_body : DM_HTTP_BODY_MAX_DEFAULT;
	srv->timeout_s =
	        opts != NULL && opts->timeout_s > 0 ? opts->timeout_s : DM_HTTP_TIMEOUT_DEFAULT;
	srv->max_conns =
	        opts != NULL && opts->max_conns > 0 ? opts->max_conns : DM_HTTP_MAX_CONNS_DEFAULT;
	srv->tls = tls_ref_new(tls);
	srv->resume_ev = evtimer_new(base, resume_cb, srv);
	srv->drained_ev = evtimer_new(base, drained_cb, srv);
	return srv;
}

void dm_http_server_free(dm_http_server *srv)
{
	if (srv == NULL)
		return;
	struct event_base *base = srv->base;
	bool had_conns = srv->conns != NULL;
	srv->drained = NULL;
	while (srv->conns != NULL)
		conn_free(srv->conns);
	for (size_t i = 0; i < srv->nlisteners; i++)
		evconnlistener_free(srv->listeners[i]);
	dm_http_router_fini(&srv->router);
	event_free(srv->resume_ev);
	event_free(srv->drained_ev);
	tls_ref_put(srv->tls);
	free(srv);
	/* A bufferevent freed while one of its deferred callbacks is pending
	 * is released by the loop when that callback comes up; event_base_free
	 * only cancels it, which would leak it. Give the loop a few turns.
	 * (event_base_get_running_event() cannot tell whether we are inside
	 * the loop: libevent 2.1.12 crashes on it outside.) */
	for (int i = 0; had_conns && i < 3; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static void protocol_error(struct conn *c, int status)
{
	dm_http_server *srv = c->srv;
	dm_http_req *req = c->req;
	req->force_close = true;
	const char *msg;
	switch (status) {
	case 411: msg = "chunked request bodies are not supported; send Content-Length"; break;
	case 413: msg = "the request body is larger than the server's limit"; break;
	case 414: msg = "the request line is too long"; break;
	case 417: msg = "only \"Expect: 100-continue\" is supported"; break;
	case 431: msg = "the request head is too long or has too many header fields"; break;
	case 501: msg = "this method or Transfer-Encoding is not supported"; break;
	case 505: msg = "only HTTP/1.0 and HTTP/1.1 are supported"; break;
	default: msg = "malformed HTTP request"; break;
	}
	dm_log_info(srv->log, "bad request from %s: %d %s", c->peer, status, msg);
	if (status == 413)
		dm_http_reply_error(req, status, status, "%s of %zu bytes", msg, srv->max_body);
	else if (status == 414 || status == 431)
		dm_http_reply_error(req, status, status, "%s (limit %d bytes)", msg,
		                    DM_HTTP_HEAD_MAX);
	else
		dm_http_reply_error(req, status, status, "%s", msg);
}

static void process_input(struct conn *c)
{
	dm_http_server *srv = c->srv;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	if (c->state == ST_HEAD) {
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		if (c->idle_wait) {
			/* The idle timeout is over; the request gets its own. */
			c->idle_wait = false;
			arm(c, srv->timeout_s);
		}
		size_t n = len < DM_HTTP_HEAD_MAX ? len : DM_HTTP_HEAD_MAX;
		const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		dm_http_req *req = dm_xcalloc(1, sizeof(*req));
		req->conn = c;
		req->peer = c->peer;
		req->peer_cn = c->is_tls ? c->cn : NULL;
		req->log = srv->log;
		int rc = dm_http_parse_head(data, n, srv->max_body, &req->head);
		if (rc == DM_HTTP_PARSE_NEED_MORE) {
			if (len < DM_HTTP_HEAD_MAX) {
				dm_http_req_free(req);
				return;
			}
			rc = 431;
		}
		c->req = req;
		if (rc != DM_HTTP_PARSE_OK) {
			protocol_error(c, rc);
			return;
		}
		/* The head has no NUL: the parser refuses control bytes. */
		req->headbuf = dm_xstrndup(data, req->head.head_len);
		req->path = dm_xstrndup(data + req->head.path.off, req->head.path.len);
		evbuffer_drain(in, req->head.head_len);
		c->state = ST_BODY;
		if (req->head.expect_continue && evbuffer_get_length(in) < req->head.content_length)
			bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
	if (c->state == ST_BODY) {
		dm_http_req *req = c->req;
		size_t want = req->head.content_length;
		if (evbuffer_get_length(in) < want)
			return;
		req->body = dm_xmalloc(want + 1);
		evbuffer_remove(in, req->body, want);
		req->body[want] = '\0';
		req->body_len = want;
		c->state = ST_HANDLER;
		dm_http_router_dispatch(&srv->router, req);
	}
}

void dm_http_send(dm_http_req *req, int status, const char *ctype, const char *body, size_t len,
                  const char *extra)
{
	struct conn *c = req->conn;
	dm_http_server *srv = c->srv;
	if (req->replied) {
		dm_log_error(srv->log, "second reply to %s %s ignored (a bug)", req->head.method,
		             req->path != NULL ? req->path : "");
		return;
	}
	req->replied = true;
	bool keep = req->head.keep_alive && !req->force_close && !srv->shutting_down;
	dm_buf out;
	dm_buf_init(&out);
	dm_http_write_response(&out, status, ctype, body, len, keep, extra, req->is_head);
	bufferevent_write(c->bev, out.data, out.len);
	dm_buf_fini(&out);
	c->keep_alive = keep;
	c->state = ST_WRITING;
	arm(c, srv->timeout_s);
	if (dm_log_enabled(srv->log, DM_LOG_DEBUG))
		dm_log_debug(srv->log, "%s %s from %s%s%s%s -> %d",
		             req->head.method[0] ? req->head.method : "-",
		             req->path != NULL ? req->path : "-", c->peer,
		             c->is_tls ? " (CN \"" : "", c->is_tls ? c->cn : "",
		             c->is_tls ? "\")" : "", status);
}

int dm_http_server_route(dm_http_server *srv, const char *method, const char *pattern,
                         dm_http_handler fn, void *arg)
{
	if (dm_http_router_add(&srv->router, method, pattern, fn, arg) < 0) {
		dm_log_error(srv->log, "HTTP route %s %s is malformed or a duplicate (a bug)",
		             method != NULL ? method : "(null)",
		             pattern != NULL ? pattern : "(null)");
		return -1;
	}
	return 0;
}

int dm_http_server_listen(dm_http_server *srv, const char *addr, dm_err *err)
{
	if (addr == NULL)
		return dm_err_set(err, DM_EINVAL, "no listen address given");
	if (srv->nlisteners == MAX_LISTENERS)
		return dm_err_set(err, DM_ELIMIT, "cannot listen on %s: already on %d addresses",
		                  addr, MAX_LISTENERS);
	struct sockaddr_storage ss;
	int len = 0;
	if (dm_http_parse_listen_addr(addr, &ss, &len) < 0)
		return dm_err_set(err, DM_EINVAL,
		                  "listen address \"%s\" is not host:port with an IPv4 address, "
		                  "[IPv6] or nothing before the colon (names are not resolved)",
		                  addr);
	struct evconnlistener *l = evconnlistener_new_bind(
	        srv->base, accept_cb, srv,
	        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
	        (struct sockaddr *)&ss, len);
	if (l == NULL) {
		int e = errno;
		return dm_err_set(err, DM_ENET, "cannot listen on %s: %s", addr, strerror(e));
	}
	evconnlistener_set_error_cb(l, accept_error_cb);
	srv->listeners[srv->nlisteners++] = l;
	socklen_t sl = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&ss, &sl) == 0)
		srv->port = ss.ss_family == AF_INET6
		                    ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
		                    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

int dm_http_server_port(const dm_http_server *srv)
{
	return srv->port;
}

void dm_http_server_set_tls(dm_http_server *srv, dm_tls *tls)
{
	if (tls != NULL && dm_tls_get_role(tls) != DM_TLS_SERVER) {
		dm_log_error(srv->log,
		             "HTTP server: client TLS settings given to a server (a bug); "
		             "keeping the current ones");
		dm_tls_free(tls);
		return;
	}
	tls_ref_put(srv->tls);
	srv->tls = tls_ref_new(tls);
}

size_t dm_http_server_close_idle(dm_http_server *srv)
{
	size_t n = 0;
	struct conn *next;
	for (struct conn *c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (conn_idle(c)) {
			conn_free(c);
			n++;
		}
	}
	return n;
}

void dm_http_server_shutdown(dm_http_server *srv)
{
	if (srv->shutting_down)
		return;
	srv->shutting_down = true;
	for (size_t i = 0; i < srv->nlisteners; i++)
		evconnlistener_free(srv->listeners[i]);
	srv->nlisteners = 0;
	evtimer_del(srv->resume_ev);
	struct conn *next;
	for (struct conn *c = srv->conns; c != NULL; c = next) {
		next = c->next;
		/* Nothing asked yet: nothing to finish. */
		if (c->state == ST_PEEK || c->state == ST_HANDSHAKE || conn_idle(c))
			conn_free(c);
	}
	check_drained(srv);
}

void dm_http_server_on_drained(dm_http_server *srv, void (*fn)(void *arg), void *arg)
{
	srv->drained = fn;
	srv->drained_arg = arg;
	srv->drained_sent = false;
	check_drained(srv);
}

size_t dm_http_server_conn_count(const dm_http_server *srv)
{
	return srv->nconns;
}
