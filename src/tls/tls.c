#include "tls/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/buf.h"
#include "base/mem.h"
#include "tls/util.h"

/* TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only. TLS 1.3 suites are
 * all AEAD with ephemeral key exchange, so OpenSSL's default list stays. */
#define DM_TLS_CIPHERS_12 "ECDHE+AESGCM:ECDHE+CHACHA20"

/* Bounds the warning list when nobody collects it. */
#define DM_TLS_WARNINGS_MAX 64

enum { SRC_CA, SRC_CERT, SRC_KEY, SRC_N };

static const char *const src_what[SRC_N] = {"ssl-ca", "ssl-cert", "ssl-key"};

/* What identifies a file's content without reading it. ctime is in the
 * tuple so that a chmod of the key also triggers a rebuild, which
 * re-evaluates the permission warning. */
struct file_id {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	long long mtime_ns;
	long long ctime_ns;
	mode_t mode; /* not part of the identity: ctime covers chmod */
};

struct dm_tls {
	/* Immutable after dm_tls_new: read without the lock. */
	dm_tls_settings s;
	dm_tls_role role;
	int min_proto;

	/* mu guards everything below. It is held while a new context is
	 * built, so concurrent callers wait for one rebuild instead of each
	 * doing their own. */
	pthread_mutex_t mu;
	SSL_CTX *ctx; /* last context that loaded completely; one reference */
	struct file_id ids[SRC_N];
	char **warnings;
	size_t n_warnings;
};

/* Where one piece of material comes from: a file or inline PEM. */
struct source {
	const char *what;
	const char *path; /* NULL for inline PEM */
	const char *pem;
};

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static void get_source(const dm_tls_settings *s, int i, struct source *src)
{
	const char *file[SRC_N] = {s->ca_file, s->cert_file, s->key_file};
	const char *pem[SRC_N] = {s->ca_pem, s->cert_pem, s->key_pem};
	src->what = src_what[i];
	src->path = is_set(file[i]) ? file[i] : NULL;
	src->pem = is_set(pem[i]) ? pem[i] : NULL;
}

/* How a source is named in messages; never its content. */
static const char *source_label(const struct source *src)
{
	return src->path != NULL ? src->path : "(PEM content)";
}

static void id_from_stat(struct file_id *id, const struct stat *st)
{
	id->present = true;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	id->ctime_ns = (long long)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
	id->mode = st->st_mode;
}

static bool ids_equal(const struct file_id *a, const struct file_id *b)
{
	for (int i = 0; i < SRC_N; i++) {
		if (a[i].present != b[i].present || a[i].dev != b[i].dev || a[i].ino != b[i].ino ||
		    a[i].size != b[i].size || a[i].mtime_ns != b[i].mtime_ns ||
		    a[i].ctime_ns != b[i].ctime_ns)
			return false;
	}
	return true;
}

/* Reads one source's bytes; for a file also its identity. */
static int source_read(const struct source *src, char **data, size_t *len, struct file_id *id,
                       dm_err *err)
{
	memset(id, 0, sizeof(*id));
	if (src->path == NULL) {
		*len = strlen(src->pem);
		*data = dm_xstrndup(src->pem, *len);
		return 0;
	}
	struct stat st;
	if (dm_tls_util_read(src->what, src->path, data, len, &st, err) < 0)
		return -1;
	id_from_stat(id, &st);
	id->present = true;
	return 0;
}

struct warnings {
	char **v;
	size_t n;
};

static void add_warning(struct warnings *w, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void add_warning(struct warnings *w, const char *fmt, ...)
{
	if (w->n >= DM_TLS_WARNINGS_MAX)
		return;
	dm_buf b;
	dm_buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	dm_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	w->v = dm_xrealloc(w->v, (w->n + 1) * sizeof(char *));
	w->v[w->n++] = dm_buf_detach(&b);
}

/* Warnings about a certificate's validity window. `own` certificates also
 * get the "expires soon" notice; a CA only warns once it is unusable. */
static void check_validity(struct warnings *w, const char *what, const char *label, X509 *x,
                           bool own)
{
	time_t nb, na, now = time(NULL);
	char cn[DM_TLS_CN_MAX] = "";
	char when[64];
	if (dm_tls_util_cn(X509_get_subject_name(x), cn, sizeof(cn)) < 0)
		snprintf(cn, sizeof(cn), "(no CN)");
	if (dm_tls_util_time(X509_get0_notBefore(x), &nb) < 0 ||
	    dm_tls_util_time(X509_get0_notAfter(x), &na) < 0) {
		add_warning(w, "%s %s: certificate \"%s\" has an unreadable validity period", what,
		            label, cn);
		return;
	}
	if (now < nb) {
		dm_tls_util_fmt_time(nb, when, sizeof(when));
		add_warning(
		        w,
		        "%s %s: certificate \"%s\" is not yet valid: it becomes valid in %ld days "
		        "(%s); peers will refuse it until then, check the clocks",
		        what, label, cn, dm_tls_util_days(now, nb), when);
	} else if (now > na) {
		dm_tls_util_fmt_time(na, when, sizeof(when));
		add_warning(w,
		            "%s %s: certificate \"%s\" is expired: it expired %ld days ago (%s); "
		            "peers will refuse it, replace it",
		            what, label, cn, dm_tls_util_days(na, now), when);
	} else if (own && dm_tls_util_days(now, na) < DM_TLS_EXPIRY_WARN_DAYS) {
		dm_tls_util_fmt_time(na, when, sizeof(when));
		add_warning(w,
		            "%s %s: certificate \"%s\" expires in %ld days (%s); replace it soon",
		            what, label, cn, dm_tls_util_days(now, na), when);
	}
}

/* After the PEM readers stop: was it the clean end of input, or garbage
 * such as a half-written file? */
static bool pem_clean_eof(void)
{
	unsigned long e = ERR_peek_last_error();
	bool clean = e == 0 ||
	             (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
	ERR_clear_error();
	return clean;
}

static int load_ca(SSL_CTX *ctx, dm_tls_role role, const struct source *src, const char *data,
                   size_t len, struct warnings *w, dm_err *err)
{
	const char *label = source_label(src);
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
	if (bio == NULL || store == NULL || names == NULL)
		goto oom;
	int n = 0;
	X509 *x;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		n++;
		check_validity(w, src->what, label, x, false);
		int ok = X509_STORE_add_cert(store, x);
		X509_NAME *name = X509_NAME_dup(X509_get_subject_name(x));
		X509_free(x);
		if (!ok || name == NULL || !sk_X509_NAME_push(names, name)) {
			X509_NAME_free(name);
			goto oom;
		}
	}
	bool clean = pem_clean_eof();
	BIO_free(bio);
	if (n == 0 || !clean) {
		X509_STORE_free(store);
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		if (n == 0)
			return dm_err_set(err, DM_ETLS,
			                  "%s %s: not a PEM certificate (expected -----BEGIN "
			                  "CERTIFICATE-----)",
			                  src->what, label);
		return dm_err_set(err, DM_ETLS,
		                  "%s %s: certificate %d is not valid PEM (truncated or corrupted "
		                  "file?)",
		                  src->what, label, n + 1);
	}
	SSL_CTX_set_cert_store(ctx, store);
	/* Tells clients which CAs we accept, so one holding several
	 * certificates picks the right one. */
	if (role == DM_TLS_SERVER)
		SSL_CTX_set_client_CA_list(ctx, names);
	else
		sk_X509_NAME_pop_free(names, X509_NAME_free);
	return 0;
oom:
	ERR_clear_error();
	BIO_free(bio);
	X509_STORE_free(store);
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	return dm_err_set(err, DM_ETLS, "%s %s: cannot load: out of memory", src->what, label);
}

/* Loads the leaf and its chain; returns the leaf (borrowed from ctx). */
static X509 *load_cert(SSL_CTX *ctx, const struct source *src, const char *data, size_t len,
                       struct warnings *w, dm_err *err)
{
	const char *label = source_label(src);
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL) {
		dm_err_set(err, DM_ETLS, "%s %s: cannot load: out of memory", src->what, label);
		return NULL;
	}
	X509 *leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (leaf == NULL) {
		ERR_clear_error();
		BIO_free(bio);
		dm_err_set(err, DM_ETLS,
		           "%s %s: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)",
		           src->what, label);
		return NULL;
	}
	check_validity(w, src->what, label, leaf, true);
	if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
		unsigned long e = ERR_get_error();
		ERR_clear_error();
		X509_free(leaf);
		BIO_free(bio);
		dm_err_set(err, DM_ETLS,
		           "%s %s: certificate refused: %s (a key of at least 2048 bits RSA or "
		           "256 bits EC is needed)",
		           src->what, label, ERR_reason_error_string(e));
		return NULL;
	}
	X509_free(leaf);
	int n = 1;
	X509 *x;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		n++;
		int ok = SSL_CTX_add0_chain_cert(ctx, x);
		if (!ok) {
			X509_free(x);
			ERR_clear_error();
			BIO_free(bio);
			dm_err_set(err, DM_ETLS, "%s %s: certificate %d of the chain is refused",
			           src->what, label, n);
			return NULL;
		}
	}
	bool clean = pem_clean_eof();
	BIO_free(bio);
	if (!clean) {
		dm_err_set(err, DM_ETLS,
		           "%s %s: certificate %d is not valid PEM (truncated or corrupted file?)",
		           src->what, label, n + 1);
		return NULL;
	}
	return SSL_CTX_get0_certificate(ctx);
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(bool *)u = true;
	return -1;
}

static int load_key(SSL_CTX *ctx, X509 *cert, const struct source *key_src,
                    const struct source *cert_src, const char *data, size_t len, dm_err *err)
{
	const char *label = source_label(key_src);
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL)
		return dm_err_set(err, DM_ETLS, "%s %s: cannot load: out of memory", key_src->what,
		                  label);
	bool encrypted = false;
	EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, &encrypted);
	BIO_free(bio);
	ERR_clear_error();
	if (key == NULL && encrypted)
		return dm_err_set(
		        err, DM_ETLS,
		        "%s %s: the key is protected by a passphrase; dm needs an "
		        "unencrypted key (openssl pkey -in OLD -out NEW) kept at mode 0600",
		        key_src->what, label);
	if (key == NULL)
		return dm_err_set(err, DM_ETLS,
		                  "%s %s: not a PEM private key (expected -----BEGIN PRIVATE "
		                  "KEY-----)",
		                  key_src->what, label);
	/* Checked before SSL_CTX_use_PrivateKey so the message can name both
	 * files instead of OpenSSL's "key values mismatch". */
	if (X509_check_private_key(cert, key) != 1) {
		EVP_PKEY_free(key);
		ERR_clear_error();
		return dm_err_set(err, DM_ETLS,
		                  "%s %s does not match %s %s; give the key the certificate was "
		                  "issued for",
		                  key_src->what, label, cert_src->what, source_label(cert_src));
	}
	int ok = SSL_CTX_use_PrivateKey(ctx, key);
	EVP_PKEY_free(key);
	if (ok != 1) {
		ERR_clear_error();
		return dm_err_set(err, DM_ETLS, "%s %s: the key is refused by OpenSSL",
		                  key_src->what, label);
	}
	return 0;
}

static SSL_CTX *new_policy_ctx(const dm_tls *t, dm_err *err)
{
	bool server = t->role == DM_TLS_SERVER;
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ctx == NULL) {
		ERR_clear_error();
		dm_err_set(err, DM_ETLS, "cannot create a TLS context: out of memory");
		return NULL;
	}
	uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
	if (server)
		opts |= SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET;
	SSL_CTX_set_options(ctx, opts);
	if (SSL_CTX_set_min_proto_version(ctx, t->min_proto) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, 0) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, DM_TLS_CIPHERS_12) != 1) {
		ERR_clear_error();
		SSL_CTX_free(ctx);
		dm_err_set(err, DM_EINTERNAL, "this OpenSSL refuses dm's TLS policy");
		return NULL;
	}
	if (server) {
		/* No resumption: every connection is a full handshake, so the
		 * client certificate is verified against the CA and
		 * cert-allowed-cn as they are now. Our connections are
		 * long-lived; the saving would be small. */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_num_tickets(ctx, 0);
		SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"dm", 2);
		SSL_CTX_set_verify(ctx,
		                   t->s.insecure_no_client_cert
		                           ? SSL_VERIFY_NONE
		                           : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
		                   NULL);
	} else {
		SSL_CTX_set_verify(
		        ctx, t->s.insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	}
	return ctx;
}

/* Builds a complete context from the current material; nothing is shared
 * with the cached one, so a failure leaves that untouched. */
static SSL_CTX *build_ctx(const dm_tls *t, struct file_id *ids, struct warnings *w, dm_err *err)
{
	struct source src[SRC_N];
	char *data[SRC_N] = {NULL, NULL, NULL};
	size_t len[SRC_N] = {0, 0, 0};
	SSL_CTX *ctx = NULL;
	for (int i = 0; i < SRC_N; i++) {
		get_source(&t->s, i, &src[i]);
		memset(&ids[i], 0, sizeof(ids[i]));
		if ((src[i].path != NULL || src[i].pem != NULL) &&
		    source_read(&src[i], &data[i], &len[i], &ids[i], err) < 0)
			goto fail;
	}
	ctx = new_policy_ctx(t, err);
	if (ctx == NULL)
		goto fail;
	if (data[SRC_CA] != NULL) {
		if (load_ca(ctx, t->role, &src[SRC_CA], data[SRC_CA], len[SRC_CA], w, err) < 0)
			goto fail;
	} else if (t->role == DM_TLS_CLIENT && SSL_CTX_set_default_verify_paths(ctx) != 1) {
		/* No ssl-ca on a client: the system trust store verifies. */
		ERR_clear_error();
		dm_err_set(err, DM_ETLS,
		           "no ssl-ca given and the system trust store cannot be loaded; set "
		           "ssl-ca");
		goto fail;
	}
	if (data[SRC_CERT] != NULL) {
		X509 *leaf = load_cert(ctx, &src[SRC_CERT], data[SRC_CERT], len[SRC_CERT], w, err);
		if (leaf == NULL)
			goto fail;
		if (load_key(ctx, leaf, &src[SRC_KEY], &src[SRC_CERT], data[SRC_KEY], len[SRC_KEY],
		             err) < 0)
			goto fail;
		if (ids[SRC_KEY].present && (ids[SRC_KEY].mode & 0077) != 0)
			add_warning(
			        w,
			        "ssl-key %s is readable by group/others (mode %04o); chmod 600 it",
			        src[SRC_KEY].path, (unsigned)(ids[SRC_KEY].mode & 07777));
	}
	for (int i = 0; i < SRC_N; i++)
		dm_tls_util_free_data(data[i], len[i]);
	return ctx;
fail:
	for (int i = 0; i < SRC_N; i++)
		dm_tls_util_free_data(data[i], len[i]);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

static void add_warnings(dm_tls *t, struct warnings *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (t->n_warnings >= DM_TLS_WARNINGS_MAX) {
			free(w->v[i]);
			continue;
		}
		t->warnings = dm_xrealloc(t->warnings, (t->n_warnings + 1) * sizeof(char *));
		t->warnings[t->n_warnings++] = w->v[i];
	}
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

dm_tls *dm_tls_new(const dm_tls_settings *s, dm_tls_role role, dm_err *err)
{
	if (dm_tls_settings_validate(s, role, err) < 0)
		return NULL;
	/* validate accepted only "1.2", "1.3" or nothing. */
	int min_proto = is_set(s->min_version) && strcmp(s->min_version, "1.3") == 0
	                        ? TLS1_3_VERSION
	                        : TLS1_2_VERSION;
	dm_tls *t = dm_xcalloc(1, sizeof(*t));
	dm_tls_settings_init(&t->s);
	dm_tls_settings_copy(&t->s, s);
	t->role = role;
	t->min_proto = min_proto;
	pthread_mutex_init(&t->mu, NULL);
	if (s->mode != DM_TLS_OFF) {
		struct warnings w = {NULL, 0};
		t->ctx = build_ctx(t, t->ids, &w, err);
		if (t->ctx == NULL) {
			dm_tls_warnings_free(w.v, w.n);
			dm_tls_free(t);
			return NULL;
		}
		add_warnings(t, &w);
	}
	return t;
}

void dm_tls_free(dm_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	dm_tls_warnings_free(t->warnings, t->n_warnings);
	pthread_mutex_destroy(&t->mu);
	dm_tls_settings_fini(&t->s);
	free(t);
}

dm_tls_mode dm_tls_get_mode(const dm_tls *t)
{
	return t->s.mode;
}

dm_tls_role dm_tls_get_role(const dm_tls *t)
{
	return t->role;
}

/* The identities of the files as they are now, for the cache check. */
static int stat_sources(const dm_tls *t, struct file_id *ids, dm_err *err)
{
	for (int i = 0; i < SRC_N; i++) {
		struct source src;
		struct stat st;
		get_source(&t->s, i, &src);
		memset(&ids[i], 0, sizeof(ids[i]));
		if (src.path == NULL)
			continue;
		if (stat(src.path, &st) < 0)
			return dm_err_set(err, DM_ETLS, "%s %s: %s", src.what, src.path,
			                  strerror(errno));
		id_from_stat(&ids[i], &st);
	}
	return 0;
}

SSL_CTX *dm_tls_ctx(dm_tls *t, dm_err *err)
{
	if (t->s.mode == DM_TLS_OFF) {
		dm_err_set(err, DM_EINVAL, "TLS is off (tls-mode off); there is no TLS context");
		return NULL;
	}
	struct file_id now[SRC_N];
	SSL_CTX *ctx = NULL;
	pthread_mutex_lock(&t->mu);
	if (stat_sources(t, now, err) < 0)
		goto out;
	if (t->ctx == NULL || !ids_equal(now, t->ids)) {
		struct warnings w = {NULL, 0};
		struct file_id built[SRC_N];
		SSL_CTX *fresh = build_ctx(t, built, &w, err);
		if (fresh == NULL) {
			dm_tls_warnings_free(w.v, w.n);
			goto out;
		}
		SSL_CTX_free(t->ctx);
		t->ctx = fresh;
		memcpy(t->ids, built, sizeof(built));
		add_warnings(t, &w);
	}
	SSL_CTX_up_ref(t->ctx);
	ctx = t->ctx;
out:
	pthread_mutex_unlock(&t->mu);
	return ctx;
}

size_t dm_tls_take_warnings(dm_tls *t, char ***ret)
{
	pthread_mutex_lock(&t->mu);
	size_t n = t->n_warnings;
	*ret = t->warnings;
	t->warnings = NULL;
	t->n_warnings = 0;
	pthread_mutex_unlock(&t->mu);
	return n;
}

void dm_tls_warnings_free(char **w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

int dm_tls_client_set_host(SSL *ssl, const char *host)
{
	if (ssl == NULL || !is_set(host))
		return -1;
	char bare[64];
	size_t len = strlen(host);
	/* "[::1]" as written in URLs. */
	if (host[0] == '[' && host[len - 1] == ']' && len - 2 < sizeof(bare)) {
		memcpy(bare, host + 1, len - 2);
		bare[len - 2] = '\0';
		host = bare;
	}
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1 ? 0 : -1;
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1 ||
	    SSL_set_tlsext_host_name(ssl, host) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int dm_tls_peer_cn(SSL *ssl, char *out, size_t outlen)
{
	X509 *peer = SSL_get0_peer_certificate(ssl);
	if (peer == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return -1;
	return dm_tls_util_cn(X509_get_subject_name(peer), out, outlen);
}

bool dm_tls_cn_allowed(const dm_tls *t, const char *cn)
{
	if (t->s.n_allowed_cn == 0)
		return true;
	for (size_t i = 0; cn != NULL && i < t->s.n_allowed_cn; i++) {
		if (strcmp(t->s.allowed_cn[i], cn) == 0)
			return true;
	}
	return false;
}

/* A peer-chosen CN goes into logs: keep it to one printable line. */
static void sanitize(char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '"')
			*s = '?';
	}
}

int dm_tls_check_peer(dm_tls *t, SSL *ssl, char *cn_out, size_t n, dm_err *err)
{
	const char *who = t->role == DM_TLS_SERVER ? "client" : "server";
	X509 *peer = SSL_get0_peer_certificate(ssl);
	if (peer == NULL)
		return dm_err_set(err, DM_ETLS, "%s sent no certificate", who);
	long v = SSL_get_verify_result(ssl);
	if (v != X509_V_OK)
		return dm_err_set(err, DM_ETLS, "%s certificate did not verify: %s", who,
		                  X509_verify_cert_error_string(v));
	char cn[DM_TLS_CN_MAX];
	if (dm_tls_util_cn(X509_get_subject_name(peer), cn, sizeof(cn)) < 0) {
		if (t->s.n_allowed_cn > 0)
			return dm_err_set(err, DM_ETLS,
			                  "%s certificate has no usable CN (missing, too long or "
			                  "containing NUL), so cert-allowed-cn cannot match it",
			                  who);
		cn[0] = '\0';
	}
	if (!dm_tls_cn_allowed(t, cn)) {
		dm_buf list;
		dm_buf_init(&list);
		for (size_t i = 0; i < t->s.n_allowed_cn; i++)
			dm_buf_printf(&list, "%s%s", i > 0 ? ", " : "", t->s.allowed_cn[i]);
		sanitize(cn);
		dm_err_set(err, DM_ETLS, "%s certificate CN \"%s\" is not in cert-allowed-cn [%s]",
		           who, cn, dm_buf_str(&list));
		dm_buf_fini(&list);
		return -1;
	}
	if (cn_out != NULL) {
		if (strlen(cn) >= n)
			return dm_err_set(err, DM_EINTERNAL, "peer CN buffer too small");
		memcpy(cn_out, cn, strlen(cn) + 1);
	}
	return 0;
}

bool dm_tls_looks_like_handshake(unsigned char first_byte)
{
	return first_byte == 0x16;
}
