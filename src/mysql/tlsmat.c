#include "mysql/tlsmat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "base/file.h"
#include "base/mem.h"

/* Certificate files are small; anything bigger is the wrong file. */
#define DM_TLSMAT_PEM_MAX (1024 * 1024)

static bool is_set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static const char *const mat_key[DM_TLSMAT_N] = {"ssl-ca", "ssl-cert", "ssl-key"};

/* "ssl-ca /etc/dm/ca.pem" or "ssl-ca (PEM content)". */
char *dm_tlsmat_name(const dm_tlsmat *t, int i)
{
	if (t->pem[i] != NULL)
		return dm_xasprintf("%s (PEM content)", mat_key[i]);
	return dm_xasprintf("%s %s", mat_key[i], t->path[i]);
}

/* Never prompt on a terminal for a passphrase (OpenSSL's default callback
 * would): an encrypted key is a configuration error we report. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The reason of the oldest queued OpenSSL error, then the queue cleared so
 * nothing stale reaches Connector/C's own error reporting. */
static const char *ssl_reason(void)
{
	unsigned long e = ERR_get_error();
	ERR_clear_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
	return r != NULL ? r : "not valid PEM";
}

/* Loads item i into a memory BIO (from the file or the inline PEM). The
 * file is read here, with our own error text naming it, because
 * Connector/C's text for an unreadable file does not say which one. */
static BIO *mat_bio(const dm_tlsmat *t, int i, char **data, size_t *len, dm_err *err)
{
	*data = NULL;
	*len = 0;
	if (t->pem[i] != NULL)
		return BIO_new_mem_buf(t->pem[i], -1);
	dm_err e;
	if (dm_file_read(t->path[i], DM_TLSMAT_PEM_MAX, data, len, &e) < 0) {
		/* e.msg starts with the path: "ssl-key /x/k.pem: No such file...". */
		dm_err_set(err, e.code == DM_ELIMIT ? DM_EINVAL : e.code, "%s %s", mat_key[i],
		           e.msg);
		return NULL;
	}
	return BIO_new_mem_buf(*data, (int)*len);
}

static void mat_bio_free(BIO *b, char *data, size_t len)
{
	BIO_free(b);
	if (data != NULL) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
}

int dm_tlsmat_check(const dm_tlsmat *t, dm_err *err)
{
	int rc = 0;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	ERR_clear_error();
	for (int i = 0; i < DM_TLSMAT_N && rc == 0; i++) {
		if (t->path[i] == NULL)
			continue;
		char *data;
		size_t len;
		BIO *b = mat_bio(t, i, &data, &len, err);
		if (b == NULL) {
			rc = -1;
			break;
		}
		char *name = dm_tlsmat_name(t, i);
		if (i == DM_TLSMAT_CA) {
			STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(b, NULL, NULL, NULL);
			int n = 0;
			for (int j = 0; infos != NULL && j < sk_X509_INFO_num(infos); j++)
				n += sk_X509_INFO_value(infos, j)->x509 != NULL;
			sk_X509_INFO_pop_free(infos, X509_INFO_free);
			if (n == 0)
				rc = dm_err_set(
				        err, DM_ETLS,
				        "%s: no PEM certificate in it (%s); it must hold the "
				        "CA certificate(s) that signed the server's certificate",
				        name, ssl_reason());
		} else if (i == DM_TLSMAT_CERT) {
			cert = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
			if (cert == NULL)
				rc = dm_err_set(
				        err, DM_ETLS,
				        "%s: no PEM certificate in it (%s); it must hold this "
				        "client's certificate",
				        name, ssl_reason());
			else if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0)
				rc = dm_err_set(err, DM_ETLS,
				                "%s: the certificate has expired; issue a new one",
				                name);
			else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
				rc = dm_err_set(err, DM_ETLS,
				                "%s: the certificate is not valid yet (check the "
				                "clock of this host and of the issuer)",
				                name);
		} else {
			key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
			if (key == NULL)
				rc = dm_err_set(err, DM_ETLS,
				                "%s: no usable private key in it (%s); it must be "
				                "an unencrypted PEM key",
				                name, ssl_reason());
		}
		free(name);
		mat_bio_free(b, data, len);
	}
	if (rc == 0 && cert != NULL && key != NULL && X509_check_private_key(cert, key) != 1) {
		char *cn = dm_tlsmat_name(t, DM_TLSMAT_CERT),
		     *kn = dm_tlsmat_name(t, DM_TLSMAT_KEY);
		rc = dm_err_set(err, DM_ETLS,
		                "%s does not belong to %s: the key does not match the "
		                "certificate's public key",
		                kn, cn);
		free(cn);
		free(kn);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}

static int write_private(const char *path, const char *data, dm_err *err)
{
	/* O_EXCL|O_NOFOLLOW in a fresh 0700 directory: nobody else can have
	 * planted or opened this name. 0600 from the moment it exists. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return dm_err_set(err, DM_EIO, "cannot create temporary file %s: %s", path,
		                  strerror(errno));
	size_t len = strlen(data), off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			unlink(path);
			return dm_err_set(err, DM_EIO, "cannot write temporary file %s: %s", path,
			                  strerror(e));
		}
		off += (size_t)n;
	}
	if (close(fd) < 0) {
		int e = errno;
		unlink(path);
		return dm_err_set(err, DM_EIO, "cannot write temporary file %s: %s", path,
		                  strerror(e));
	}
	return 0;
}

void dm_tlsmat_fini(dm_tlsmat *t)
{
	for (int i = 0; i < DM_TLSMAT_N; i++) {
		if (t->tmp_path[i] != NULL) {
			unlink(t->tmp_path[i]);
			free(t->tmp_path[i]);
			t->tmp_path[i] = NULL;
			t->path[i] = ""; /* still "set"; named by dm_tlsmat_name as inline */
		}
	}
	if (t->tmp_dir != NULL) {
		rmdir(t->tmp_dir);
		free(t->tmp_dir);
		t->tmp_dir = NULL;
	}
}

/* Connector/C 3.3 takes only paths (MYSQL_OPT_SSL_CA/CERT/KEY are handed to
 * SSL_CTX_load_verify_locations and friends; there is no in-memory
 * option), so inline PEM is written to 0600 files in a private 0700
 * directory that exists only for the duration of the connect call. */
int dm_tlsmat_materialize(dm_tlsmat *t, dm_err *err)
{
	for (int i = 0; i < DM_TLSMAT_N; i++) {
		if (t->pem[i] == NULL)
			continue;
		if (t->tmp_dir == NULL) {
			const char *base = getenv("TMPDIR");
			if (!is_set(base))
				base = "/tmp";
			char *dir = dm_xasprintf("%s/dm-mysql-tls-XXXXXX", base);
			if (mkdtemp(dir) == NULL) {
				int e = errno;
				dm_err_set(
				        err, DM_EIO,
				        "cannot create a private directory for inline TLS "
				        "material in %s: %s (set TMPDIR to a writable directory)",
				        base, strerror(e));
				free(dir);
				return -1;
			}
			t->tmp_dir = dir;
		}
		char *p = dm_xasprintf("%s/%s.pem", t->tmp_dir, mat_key[i]);
		if (write_private(p, t->pem[i], err) < 0) {
			free(p);
			dm_tlsmat_fini(t);
			return -1;
		}
		t->tmp_path[i] = p;
		t->path[i] = p;
	}
	return 0;
}

void dm_tlsmat_init(dm_tlsmat *t, const dm_tls_settings *s)
{
	memset(t, 0, sizeof(*t));
	const char *files[DM_TLSMAT_N] = {s->ca_file, s->cert_file, s->key_file};
	const char *pems[DM_TLSMAT_N] = {s->ca_pem, s->cert_pem, s->key_pem};
	for (int i = 0; i < DM_TLSMAT_N; i++) {
		if (is_set(pems[i])) {
			t->pem[i] = pems[i];
			t->path[i] = "";
		} else if (is_set(files[i])) {
			t->path[i] = files[i];
		}
	}
	if (s->insecure_skip_verify) {
		/* Connector/C verifies the chain whenever it gets a CA, so not
		 * verifying means not giving it one. */
		t->path[DM_TLSMAT_CA] = NULL;
		t->pem[DM_TLSMAT_CA] = NULL;
	}
	t->verify_server = t->path[DM_TLSMAT_CA] != NULL;
}
