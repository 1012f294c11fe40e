/* TLS settings in, OpenSSL contexts out.
 *
 * Every link in dm (dmctl/worker/master HTTPS, etcd, MySQL) is configured by
 * one dm_tls_settings value. dm_tls_new() checks and loads it once, so a
 * daemon refuses to start with bad material; dm_tls_ctx() then hands out a
 * context that reflects the files on disk *now*: callers ask for one per new
 * connection, and replacing ssl-ca/ssl-cert/ssl-key takes effect on the next
 * connection without a restart.
 *
 * Secure by default: TLS 1.2 minimum, ECDHE+AEAD suites only, no
 * compression, no renegotiation, servers require a client certificate.
 * Weakening a default takes a field whose name starts with `insecure_`.
 *
 * Only src/net and src/mysql include this header; it exposes SSL_CTX and SSL
 * because those layers drive the handshakes. */
#ifndef DM_TLS_TLS_H
#define DM_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "base/err.h"

typedef enum {
	DM_TLS_OFF,        /* plaintext only */
	DM_TLS_PERMISSIVE, /* server: TLS and plaintext on one port (rolling upgrades only) */
	DM_TLS_STRICT,     /* TLS only */
} dm_tls_mode;

typedef enum {
	DM_TLS_SERVER,
	DM_TLS_CLIENT,
} dm_tls_role;

/* Own certificates expiring within this many days produce a warning. */
#define DM_TLS_EXPIRY_WARN_DAYS 30

/* Longest CN dm_tls_peer_cn() returns (RFC 5280 ub-common-name is 64). */
#define DM_TLS_CN_MAX 256

/* "off", "permissive", "strict" (case-sensitive, as written in configs). */
int dm_tls_mode_parse(const char *s, dm_tls_mode *ret, dm_err *err);
/* Never NULL. */
const char *dm_tls_mode_name(dm_tls_mode mode);

/* A plain value: every string is owned by the struct and freed by
 * dm_tls_settings_fini(). For each of CA, cert and key give a file path or
 * PEM content (material dmctl sends over the API), not both. */
typedef struct dm_tls_settings {
	dm_tls_mode mode;
	char *ca_file;   /* ssl-ca: trust store for verifying the peer */
	char *cert_file; /* ssl-cert: own certificate, optionally followed by its chain */
	char *key_file;  /* ssl-key: own private key, unencrypted PEM */
	char *ca_pem;
	char *cert_pem;
	char *key_pem;     /* a secret: wiped on fini, never in messages */
	char **allowed_cn; /* cert-allowed-cn; empty = any CN the CA signed */
	size_t n_allowed_cn;
	char *min_version; /* tls-min-version "1.2" or "1.3"; NULL means "1.2" */
	/* Server only: accept clients without a certificate. Nothing in dm sets
	 * this; it exists so the choice is explicit if it is ever needed. */
	bool insecure_no_client_cert;
	/* Client only: do not verify the server certificate. */
	bool insecure_skip_verify;
} dm_tls_settings;

/* Empty settings: mode strict, no material, min version 1.2. */
void dm_tls_settings_init(dm_tls_settings *s);
/* Frees every member (key PEM wiped first) and re-initialises s. */
void dm_tls_settings_fini(dm_tls_settings *s);
/* Deep copy into dst, which must be initialised or zeroed; its old contents
 * are freed. */
void dm_tls_settings_copy(dm_tls_settings *dst, const dm_tls_settings *src);
/* True when no CA, cert or key is given, neither as file nor as PEM. For
 * source/target blocks an empty block means plaintext. */
bool dm_tls_settings_empty(const dm_tls_settings *s);
/* Checks the combination without touching any file: cert and key go
 * together, a TLS server needs cert+key and a CA, the version is known. */
int dm_tls_settings_validate(const dm_tls_settings *s, dm_tls_role role, dm_err *err);

/* A loaded configuration plus a cache of the last context built from it.
 * Thread-safe: any thread may call any function on the same dm_tls. */
typedef struct dm_tls dm_tls;

/* Validates s, copies it, and (unless mode is off) loads the material once,
 * failing with a message that names the file and the fix. Problems that do
 * not stop the daemon (expiry soon or past, key readable by others) become
 * warnings: collect them with dm_tls_take_warnings(). Never NULL on
 * success; free with dm_tls_free(). */
dm_tls *dm_tls_new(const dm_tls_settings *s, dm_tls_role role, dm_err *err);
/* Drops the cache's context reference; contexts held by callers stay
 * valid. NULL is a no-op. */
void dm_tls_free(dm_tls *t);

dm_tls_mode dm_tls_get_mode(const dm_tls *t);
dm_tls_role dm_tls_get_role(const dm_tls *t);

/* A context for one new connection, built from what is on disk now. Each
 * file is stat()ed; only when a (dev, ino, size, mtime, ctime) tuple changed
 * is everything re-read and a complete new context built, which replaces
 * the cached one only if all of it loaded. On failure (broken or missing
 * file) returns NULL with a message and keeps the previous context cached
 * but does not hand it out: callers log and may retry later.
 * The caller owns one reference: SSL_CTX_free() it (after SSL_new(), the
 * SSL holds its own). Fails when the mode is off. */
SSL_CTX *dm_tls_ctx(dm_tls *t, dm_err *err);

/* Moves the warnings produced since the last call into *ret (a malloc'd
 * array of malloc'd strings; free with dm_tls_warnings_free) and returns
 * their count; *ret is NULL when there are none. Messages name files and
 * days, never key material. Rebuilds after a file change add new ones. */
size_t dm_tls_take_warnings(dm_tls *t, char ***ret);
void dm_tls_warnings_free(char **w, size_t n);

/* Client side, before SSL_connect: the server certificate must name host
 * (an IP literal is matched against IP SANs, a name against DNS SANs) and
 * host is sent as SNI when it is a name. 0 or -1. */
int dm_tls_client_set_host(SSL *ssl, const char *host);

/* Leaf CN of the peer, only if the peer sent a certificate and it verified.
 * 0, or -1 (no certificate, not verified, no CN, longer than outlen-1). */
int dm_tls_peer_cn(SSL *ssl, char *out, size_t outlen);

/* True when cn is in cert-allowed-cn, or the list is empty. */
bool dm_tls_cn_allowed(const dm_tls *t, const char *cn);

/* After a completed handshake: the peer presented a certificate that
 * verified, and its leaf CN is allowed. On success copies the CN to cn_out
 * (when not NULL). On failure the message names the refused CN and the
 * list, e.g. `client certificate CN "other" is not in cert-allowed-cn
 * [dm-master]`; the caller adds the peer address, logs, and closes. */
int dm_tls_check_peer(dm_tls *t, SSL *ssl, char *cn_out, size_t n, dm_err *err);

/* For permissive mode: whether the first byte a client sent starts a TLS
 * record of type handshake (0x16). Plaintext HTTP starts with a letter. */
bool dm_tls_looks_like_handshake(unsigned char first_byte);

#endif
