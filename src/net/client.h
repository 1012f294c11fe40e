/* JSON over HTTP(S) to dm's own servers (and etcd's gateway), on libcurl.
 *
 * TLS uses the same material and policy as src/tls: for every connection
 * the context comes from dm_tls_ctx() (files as they are on disk now) and
 * its trust store, certificate, key, chain, minimum version and cipher list
 * are copied into curl's. Each call uses a fresh curl handle, so nothing
 * (connection, TLS session) is reused across calls: a replaced certificate
 * is used by the very next call. Control-plane calls are rare enough that
 * the extra handshake does not matter.
 *
 * A client holds no per-call state: several threads may call it at once. */
#ifndef DM_NET_CLIENT_H
#define DM_NET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/err.h"
#include "config/bind.h"
#include "tls/tls.h"

#define DM_HTTP_CONNECT_TIMEOUT_MS_DEFAULT 5000
#define DM_HTTP_CALL_TIMEOUT_MS_DEFAULT    30000
#define DM_HTTP_RESPONSE_MAX_DEFAULT       (64 * 1024 * 1024)

typedef struct dm_http_client_opts {
	long connect_timeout_ms; /* TCP + TLS set-up per address; 0 = default */
	long timeout_ms;         /* whole exchange per address; 0 = default */
	size_t max_response;     /* larger response bodies fail the call; 0 = default */
} dm_http_client_opts;

typedef struct dm_http_client dm_http_client;

/* tls NULL, empty (no CA, cert or key) or mode off: plain http. Otherwise
 * https, with the material checked and loaded now (a bad file fails here,
 * naming it). opts may be NULL. Free with dm_http_client_free(). */
dm_http_client *dm_http_client_new(const dm_tls_settings *tls, const dm_http_client_opts *opts,
                                   dm_err *err);
void dm_http_client_free(dm_http_client *c);

bool dm_http_client_is_tls(const dm_http_client *c);

/* Warnings about the TLS material (expiring certificates, key mode) since
 * the last call, as dm_tls_take_warnings(); 0 for plain http. */
size_t dm_http_client_take_warnings(dm_http_client *c, char ***ret);

/* Sends method path (with body as JSON when not NULL; borrowed) to the
 * addresses ("host:port", "[v6]:port"; a leading "http://" or "https://"
 * is ignored) in order, until one answers. Failing to connect or to set up
 * TLS moves on to the next address; so does any failure of a GET or HEAD.
 * Other methods are not sent again once a request may have reached a
 * server, because it may have been applied.
 * An HTTP answer with any status is success: *ret_status is set, and
 * *ret_body to the parsed JSON body (the caller decrefs) or NULL when the
 * body is empty or not JSON. ret_body may be NULL.
 * On failure the message names the addresses and curl's reason, e.g.
 * "cannot reach 127.0.0.1:8361: Connection refused; tried 127.0.0.1:8261
 * (Connection refused), 127.0.0.1:8361". */
int dm_http_client_call(dm_http_client *c, const char *method, const dm_strlist *addrs,
                        const char *path, json_t *body, long *ret_status, json_t **ret_body,
                        dm_err *err);

#endif
