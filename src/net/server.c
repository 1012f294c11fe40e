/* The server object: listeners, accepting, TLS settings, shutdown. A
 * connection's life (TLS, requests, replies) is in conn.c. */
#include "net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/listener.h>
#include <event2/util.h>

#include "base/mem.h"
#include "net/http.h"
#include "net/server_int.h"

static struct dm_http_tls_ref *tls_ref_new(dm_tls *tls)
{
	if (tls == NULL)
		return NULL;
	struct dm_http_tls_ref *r = dm_xcalloc(1, sizeof(*r));
	r->tls = tls;
	r->refs = 1;
	return r;
}

void dm_http_tls_ref_put(struct dm_http_tls_ref *r)
{
	if (r != NULL && --r->refs == 0) {
		dm_tls_free(r->tls);
		free(r);
	}
}

void dm_http_check_drained(dm_http_server *srv)
{
	if (srv->shutting_down && srv->nconns == 0 && !srv->drained_sent && srv->drained) {
		srv->drained_sent = true;
		/* Through the loop, so the callback never runs inside
		 * dm_http_conn_free() or shutdown() and may do anything. */
		event_active(srv->drained_ev, EV_TIMEOUT, 0);
	}
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
	dm_http_conn_accept(srv, fd, peer);
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
		dm_http_conn_free(srv->conns);
	for (size_t i = 0; i < srv->nlisteners; i++)
		evconnlistener_free(srv->listeners[i]);
	dm_http_router_fini(&srv->router);
	event_free(srv->resume_ev);
	event_free(srv->drained_ev);
	dm_http_tls_ref_put(srv->tls);
	free(srv);
	/* A bufferevent freed while one of its deferred callbacks is pending
	 * is released by the loop when that callback comes up; event_base_free
	 * only cancels it, which would leak it. Give the loop a few turns.
	 * (event_base_get_running_event() cannot tell whether we are inside
	 * the loop: libevent 2.1.12 crashes on it outside.) */
	for (int i = 0; had_conns && i < 3; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
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
	if (srv->nlisteners == DM_HTTP_LISTENERS_MAX)
		return dm_err_set(err, DM_ELIMIT, "cannot listen on %s: already on %d addresses",
		                  addr, DM_HTTP_LISTENERS_MAX);
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
	dm_http_tls_ref_put(srv->tls);
	srv->tls = tls_ref_new(tls);
}

size_t dm_http_server_close_idle(dm_http_server *srv)
{
	size_t n = 0;
	struct dm_http_conn *next;
	for (struct dm_http_conn *c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (dm_http_conn_idle(c)) {
			dm_http_conn_free(c);
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
	struct dm_http_conn *next;
	for (struct dm_http_conn *c = srv->conns; c != NULL; c = next) {
		next = c->next;
		/* Nothing asked yet: nothing to finish. A deferred request
		 * is in progress and is waited for. */
		if (dm_http_conn_unstarted(c))
			dm_http_conn_free(c);
	}
	dm_http_check_drained(srv);
}

void dm_http_server_on_drained(dm_http_server *srv, void (*fn)(void *arg), void *arg)
{
	srv->drained = fn;
	srv->drained_arg = arg;
	srv->drained_sent = false;
	dm_http_check_drained(srv);
}

size_t dm_http_server_conn_count(const dm_http_server *srv)
{
	return srv->nconns;
}
