#include "net/client.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "base/buf.h"
#include "base/mem.h"

struct dm_http_client {
	dm_tls *tls; /* NULL: plain http */
	bool skip_verify;
	char *ciphers; /* TLS 1.2 suites of src/tls's policy, for curl's own setup */
	long connect_timeout_ms;
	long timeout_ms;
	size_t max_response;
};

/* State of one attempt, shared with curl's callbacks. */
struct attempt {
	dm_http_client *c;
	dm_buf body;
	bool too_big;
	bool ctx_failed;
	dm_err ctx_err;
};

/* The TLS 1.2 suites a context allows, as a cipher string. Taken from a
 * src/tls context so the policy is written down in one place only. */
static char *cipher_list(SSL_CTX *ctx)
{
	dm_buf b;
	dm_buf_init(&b);
	STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
	for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
		const SSL_CIPHER *ci = sk_SSL_CIPHER_value(sk, i);
		if (strcmp(SSL_CIPHER_get_version(ci), "TLSv1.3") == 0)
			continue; /* TLS 1.3 suites are set apart and all acceptable */
		dm_buf_printf(&b, "%s%s", b.len ? ":" : "", SSL_CIPHER_get_name(ci));
	}
	return dm_buf_detach(&b);
}

dm_http_client *dm_http_client_new(const dm_tls_settings *tls, const dm_http_client_opts *opts,
                                   dm_err *err)
{
	dm_http_client *c = dm_xcalloc(1, sizeof(*c));
	c->connect_timeout_ms = opts != NULL && opts->connect_timeout_ms > 0
	                                ? opts->connect_timeout_ms
	                                : DM_HTTP_CONNECT_TIMEOUT_MS_DEFAULT;
	c->timeout_ms = opts != NULL && opts->timeout_ms > 0 ? opts->timeout_ms
	                                                     : DM_HTTP_CALL_TIMEOUT_MS_DEFAULT;
	c->max_response = opts != NULL && opts->max_response > 0 ? opts->max_response
	                                                         : DM_HTTP_RESPONSE_MAX_DEFAULT;
	if (tls != NULL && tls->mode != DM_TLS_OFF && !dm_tls_settings_empty(tls)) {
		c->tls = dm_tls_new(tls, DM_TLS_CLIENT, err);
		if (c->tls == NULL) {
			free(c);
			return NULL;
		}
		SSL_CTX *ctx = dm_tls_ctx(c->tls, err);
		if (ctx == NULL) {
			dm_http_client_free(c);
			return NULL;
		}
		c->ciphers = cipher_list(ctx);
		SSL_CTX_free(ctx);
		c->skip_verify = tls->insecure_skip_verify;
	}
	/* Reference-counted by curl, and thread-safe in the curl we use. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return c;
}

void dm_http_client_free(dm_http_client *c)
{
	if (c == NULL)
		return;
	dm_tls_free(c->tls);
	free(c->ciphers);
	free(c);
	curl_global_cleanup();
}

bool dm_http_client_is_tls(const dm_http_client *c)
{
	return c->tls != NULL;
}

size_t dm_http_client_take_warnings(dm_http_client *c, char ***ret)
{
	if (c->tls == NULL) {
		*ret = NULL;
		return 0;
	}
	return dm_tls_take_warnings(c->tls, ret);
}

/* Copies what src/tls decided into the context curl is about to use. */
static int copy_ctx(SSL_CTX *dst, SSL_CTX *src)
{
	X509_STORE *store = SSL_CTX_get_cert_store(src);
	if (store == NULL || X509_STORE_up_ref(store) != 1)
		return -1;
	SSL_CTX_set_cert_store(dst, store); /* takes the reference */
	X509 *leaf = SSL_CTX_get0_certificate(src);
	EVP_PKEY *key = SSL_CTX_get0_privatekey(src);
	if (leaf != NULL && key != NULL) {
		STACK_OF(X509) *chain = NULL;
		SSL_CTX_get0_chain_certs(src, &chain);
		if (SSL_CTX_use_certificate(dst, leaf) != 1 ||
		    SSL_CTX_use_PrivateKey(dst, key) != 1 || SSL_CTX_set1_chain(dst, chain) != 1)
			return -1;
	}
	SSL_CTX_set_options(dst, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_set_min_proto_version(dst, (int)SSL_CTX_get_min_proto_version(src)) != 1)
		return -1;
	char *ciphers = cipher_list(src);
	int ok = ciphers[0] == '\0' || SSL_CTX_set_cipher_list(dst, ciphers) == 1;
	free(ciphers);
	return ok ? 0 : -1;
}

static CURLcode ssl_ctx_cb(CURL *curl, void *sslctx, void *parm)
{
	struct attempt *a = parm;
	(void)curl;
	SSL_CTX *src = dm_tls_ctx(a->c->tls, &a->ctx_err);
	if (src == NULL) {
		a->ctx_failed = true;
		return CURLE_SSL_CERTPROBLEM;
	}
	int rc = copy_ctx(sslctx, src);
	SSL_CTX_free(src);
	ERR_clear_error();
	if (rc < 0) {
		a->ctx_failed = true;
		dm_err_set(&a->ctx_err, DM_ETLS, "cannot apply the TLS settings to the connection");
		return CURLE_SSL_CERTPROBLEM;
	}
	return CURLE_OK;
}

static size_t write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct attempt *a = arg;
	size_t len = size * n;
	if (a->body.len + len > a->c->max_response) {
		a->too_big = true;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	dm_buf_append(&a->body, data, len);
	return len;
}

static const char *strip_scheme(const char *addr)
{
	if (strncasecmp(addr, "http://", 7) == 0)
		return addr + 7;
	if (strncasecmp(addr, "https://", 8) == 0)
		return addr + 8;
	return addr;
}

/* One exchange with one address. 0 with *status set, or -1 with err set
 * and *sent telling whether request bytes left this process. */
static int attempt(dm_http_client *c, const char *method, const char *addr, const char *path,
                   const char *payload, long *status, char **resp, size_t *resp_len, bool *sent,
                   dm_err *err)
{
	CURL *h = curl_easy_init();
	if (h == NULL)
		return dm_err_set(err, DM_EINTERNAL, "cannot create a curl handle");
	struct attempt a = {.c = c};
	dm_buf_init(&a.body);
	char errbuf[CURL_ERROR_SIZE] = "";
	char *url = dm_xasprintf("%s://%s%s", c->tls != NULL ? "https" : "http", addr, path);
	struct curl_slist *hdrs = NULL;
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
	if (payload != NULL)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "dm/0.1");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, ""); /* cluster links never go through a proxy */
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (payload != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload));
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
	}
	if (c->tls != NULL) {
		curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		curl_easy_setopt(h, CURLOPT_SSL_CIPHER_LIST, c->ciphers);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->skip_verify ? 0L : 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->skip_verify ? 0L : 2L);
		curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L);
		/* The callback installs our trust store; curl's default bundle
		 * would only be loaded to be thrown away. */
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, &a);
	}
	CURLcode rc = curl_easy_perform(h);
	long req_size = 0;
	curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &req_size);
	*sent = req_size > 0;
	int ret = 0;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		*resp_len = a.body.len;
		*resp = dm_buf_detach(&a.body);
	} else if (a.ctx_failed) {
		ret = dm_err_set(err, DM_ETLS, "%s", a.ctx_err.msg);
	} else if (a.too_big) {
		ret = dm_err_set(err, DM_ELIMIT, "the response is larger than %zu bytes",
		                 c->max_response);
	} else {
		enum dm_err_code code = DM_ENET;
		if (rc == CURLE_OPERATION_TIMEDOUT)
			code = DM_ETIMEOUT;
		else if (rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
		         rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CACERT_BADFILE)
			code = DM_ETLS;
		const char *why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
		long os_errno = 0;
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
		/* curl says "Couldn't connect to server"; the system's reason
		 * ("Connection refused", "No route to host") is what helps. */
		if (rc == CURLE_COULDNT_CONNECT && os_errno != 0)
			why = strerror((int)os_errno);
		/* In TLS 1.3 a server's refusal of our certificate arrives
		 * after the handshake, as a cut connection. */
		bool maybe_refused = c->tls != NULL && *sent &&
		                     (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR);
		ret = dm_err_set(err, code, "%s%s", why,
		                 maybe_refused ? " (the server may have refused this client's "
		                                 "certificate: check its log and cert-allowed-cn)"
		                               : "");
	}
	dm_buf_fini(&a.body);
	curl_slist_free_all(hdrs);
	free(url);
	curl_easy_cleanup(h);
	return ret;
}

int dm_http_client_call(dm_http_client *c, const char *method, const dm_strlist *addrs,
                        const char *path, json_t *body, long *ret_status, json_t **ret_body,
                        dm_err *err)
{
	if (addrs == NULL || addrs->n == 0)
		return dm_err_set(err, DM_EINVAL, "%s %s: no address to send it to", method, path);
	if (path == NULL || path[0] != '/')
		return dm_err_set(err, DM_EINVAL, "HTTP path \"%s\" must start with /",
		                  path != NULL ? path : "");
	char *payload = NULL;
	if (body != NULL) {
		payload = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
		if (payload == NULL)
			return dm_err_set(err, DM_EINVAL,
			                  "%s %s: the body cannot be encoded as JSON", method,
			                  path);
	}
	bool idempotent = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	dm_buf tried;
	dm_buf_init(&tried);
	dm_err last;
	dm_err_clear(&last);
	const char *last_addr = "";
	int ret = -1;
	for (size_t i = 0; i < addrs->n; i++) {
		const char *addr = strip_scheme(addrs->items[i]);
		long status = 0;
		char *resp = NULL;
		size_t resp_len = 0;
		bool sent = false;
		if (i > 0)
			dm_buf_printf(&tried, "%s (%s), ", last_addr, last.msg);
		if (attempt(c, method, addr, path, payload, &status, &resp, &resp_len, &sent,
		            &last) == 0) {
			*ret_status = status;
			if (ret_body != NULL)
				*ret_body = resp_len > 0 ? json_loadb(resp, resp_len,
				                                      JSON_DECODE_ANY, NULL)
				                         : NULL;
			free(resp);
			ret = 0;
			break;
		}
		last_addr = addr;
		if (sent && !idempotent) {
			dm_err_set(err, last.code,
			           "%s %s to %s failed after the request was sent: %s; not retried "
			           "elsewhere because it may have been applied",
			           method, path, addr, last.msg);
			free(payload);
			dm_buf_fini(&tried);
			return -1;
		}
	}
	if (ret < 0) {
		if (addrs->n == 1)
			dm_err_set(err, last.code, "cannot reach %s: %s", last_addr, last.msg);
		else
			dm_err_set(err, last.code, "cannot reach %s: %s; tried %s%s", last_addr,
			           last.msg, dm_buf_str(&tried), last_addr);
	}
	free(payload);
	dm_buf_fini(&tried);
	return ret;
}
