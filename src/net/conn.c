/* One server connection: permissive peek, TLS handshake, reading requests
 * one at a time, writing replies, timeouts, and deferred replies. The
 * server object (listeners, accept, shutdown) is in server.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/buf.h"
#include "base/mem.h"
#include "net/http.h"
#include "net/server_int.h"

/* After a "Connection: close" response the socket is half-closed and the
 * rest of what the client sends is read and dropped for this long: closing
 * with unread data makes the kernel send a reset, which can destroy the
 * response before the client reads it (an early 413, for example). */
#define LINGER_S 2

typedef struct dm_http_conn conn_t;

static void process_input(conn_t *c);

void dm_http_conn_free(conn_t *c)
{
	dm_http_server *srv = c->srv;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	free(c->refused);
	dm_http_req *req = c->req;
	if (req != NULL && req->deferred && !req->replied) {
		/* Whoever deferred it still holds it and will reply: the
		 * request lives on, detached, until then. */
		dm_log_info(srv->log,
		            "connection from %s closed before the deferred reply to %s %s; "
		            "the reply will be dropped",
		            c->peer, req->head.method, req->path);
		req->conn = NULL;
	} else {
		dm_http_req_free(req);
	}
	if (c->peek_ev != NULL)
		event_free(c->peek_ev);
	event_free(c->timer);
	if (c->bev != NULL)
		bufferevent_free(c->bev); /* closes fd, frees the SSL */
	else
		evutil_closesocket(c->fd);
	dm_http_tls_ref_put(c->tls);
	free(c);
	dm_http_check_drained(srv);
}

static void arm(conn_t *c, int secs)
{
	struct timeval tv = {secs, 0};
	evtimer_add(c->timer, &tv);
}

bool dm_http_conn_idle(const conn_t *c)
{
	return c->state == ST_HEAD && c->req == NULL &&
	       evbuffer_get_length(bufferevent_get_input(c->bev)) == 0;
}

bool dm_http_conn_unstarted(const conn_t *c)
{
	return c->state == ST_PEEK || c->state == ST_HANDSHAKE || dm_http_conn_idle(c);
}

/* OpenSSL's reason for a failed handshake, with a hint for the common
 * cases. Names files and CNs at most, never key material. */
static void describe_tls_failure(conn_t *c, dm_buf *out)
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
	conn_t *c = arg;
	dm_http_server *srv = c->srv;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* The TLS handshake completed; the chain verified against
		 * ssl-ca. Now the CN. */
		dm_err err;
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		if (dm_tls_check_peer(c->tls->tls, ssl, c->cn, sizeof(c->cn), &err) < 0) {
			dm_log_warn(srv->log, "refused TLS client %s: %s", c->peer, err.msg);
			c->refused = dm_xstrdup(err.msg);
			c->cn[0] = '\0';
		} else {
			dm_log_debug(srv->log, "TLS client %s: CN \"%s\", %s", c->peer, c->cn,
			             SSL_get_version(ssl));
		}
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
	dm_http_conn_free(c);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_t *c = arg;
	(void)fd;
	(void)what;
	const char *why = NULL;
	switch (c->state) {
	case ST_PEEK: why = "nothing received"; break;
	case ST_HANDSHAKE: why = "TLS handshake not complete"; break;
	case ST_HEAD:
		if (!dm_http_conn_idle(c))
			why = "request not complete";
		break;
	case ST_BODY: why = "request body not complete"; break;
	case ST_HANDLER: why = "no reply to the deferred request"; break;
	case ST_WRITING: why = "response not read"; break;
	case ST_CLOSING: break;
	}
	if (why != NULL)
		dm_log_info(c->srv->log, "closing connection from %s: %s after %d s", c->peer, why,
		            c->srv->timeout_s);
	dm_http_conn_free(c);
}

/* Half-closes after a "Connection: close" reply; see LINGER_S. */
static void start_linger(conn_t *c)
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
	conn_t *c = arg;
	if (c->state == ST_CLOSING) {
		struct evbuffer *in = bufferevent_get_input(bev);
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	process_input(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	conn_t *c = arg;
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

static int setup_bev(conn_t *c)
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

static void start_plain(conn_t *c)
{
	c->bev = bufferevent_socket_new(c->srv->base, c->fd, BEV_OPTS);
	if (c->bev == NULL || setup_bev(c) < 0) {
		dm_log_error(c->srv->log, "cannot serve %s: out of resources", c->peer);
		dm_http_conn_free(c);
		return;
	}
	c->state = ST_HEAD;
	process_input(c);
}

static void start_tls(conn_t *c)
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
		dm_http_conn_free(c);
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
		dm_http_conn_free(c);
		return;
	}
	/* curl and others often close without close_notify. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	c->is_tls = true;
	c->state = ST_HANDSHAKE;
	if (setup_bev(c) < 0) {
		dm_http_conn_free(c);
		return;
	}
}

static void peek_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_t *c = arg;
	(void)what;
	unsigned char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		event_add(c->peek_ev, NULL);
		return;
	}
	if (n <= 0) {
		dm_http_conn_free(c);
		return;
	}
	event_free(c->peek_ev);
	c->peek_ev = NULL;
	if (dm_tls_looks_like_handshake(b)) {
		start_tls(c);
		return;
	}
	dm_http_tls_ref_put(c->tls);
	c->tls = NULL;
	start_plain(c);
}

/* The connection keeps the TLS configuration it was accepted with. */
void dm_http_conn_accept(dm_http_server *srv, evutil_socket_t fd, const char *peer)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_t *c = dm_xcalloc(1, sizeof(*c));
	c->srv = srv;
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
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

static void protocol_error(conn_t *c, int status)
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

static void process_input(conn_t *c)
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
		snprintf(req->peer_buf, sizeof(req->peer_buf), "%s", c->peer);
		req->peer = req->peer_buf;
		if (c->is_tls) {
			snprintf(req->cn_buf, sizeof(req->cn_buf), "%s", c->cn);
			req->peer_cn = req->cn_buf;
		}
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
		if (c->refused) {
			req->force_close = true;
			dm_http_reply_error(req, 403, 0, "%s", c->refused);
			return;
		}
		dm_http_router_dispatch(&srv->router, req);
	}
}

void dm_http_send(dm_http_req *req, int status, const char *ctype, const char *body, size_t len,
                  const char *extra)
{
	conn_t *c = req->conn;
	if (c == NULL) {
		/* Deferred, and the connection closed meanwhile: nobody to
		 * answer, and this reply was the last use of the request. */
		dm_http_req_free(req);
		return;
	}
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

void dm_http_req_defer(dm_http_req *req)
{
	conn_t *c = req->conn;
	if (c == NULL || req->replied || req->deferred)
		return;
	req->deferred = true;
	/* The deferred work gets a whole timeout for its reply; past it the
	 * client has likely given up, and the connection is closed. */
	arm(c, c->srv->timeout_s);
}
