#include "tls/pki.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/buf.h"
#include "base/mem.h"
#include "tls/util.h"

/* RFC 5280 ub-common-name. */
#define DM_PKI_CN_LEN_MAX 64

static int check_cn(const char *cn, dm_err *err)
{
	if (cn == NULL || cn[0] == '\0')
		return dm_err_set(err, DM_EINVAL, "certificate CN is empty; give a name");
	if (strlen(cn) > DM_PKI_CN_LEN_MAX)
		return dm_err_set(err, DM_EINVAL,
		                  "certificate CN \"%.*s...\" is longer than %d bytes", 20, cn,
		                  DM_PKI_CN_LEN_MAX);
	return 0;
}

static int check_paths(const char *cert_path, const char *key_path, dm_err *err)
{
	if (cert_path == NULL || cert_path[0] == '\0' || key_path == NULL || key_path[0] == '\0')
		return dm_err_set(err, DM_EINVAL,
		                  "both a certificate path and a key path are needed");
	if (strcmp(cert_path, key_path) == 0)
		return dm_err_set(err, DM_EINVAL,
		                  "certificate and key would both be written to %s; give two paths",
		                  cert_path);
	return 0;
}

static EVP_PKEY *new_key(dm_err *err)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	if (key == NULL) {
		ERR_clear_error();
		dm_err_set(err, DM_ETLS, "cannot generate a P-256 key");
	}
	return key;
}

/* Random, positive, never zero. 128 bits keep serials unique without any
 * state; the DER encoding stays within RFC 5280's 20 octets. */
static int set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = bn != NULL;
	do {
		ok = ok && BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1;
	} while (ok && BN_is_zero(bn));
	ok = ok && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int set_validity(X509 *x, int offset_days, int days)
{
	/* An hour back so a peer whose clock is slightly behind accepts a
	 * certificate issued a moment ago. */
	if (X509_time_adj_ex(X509_getm_notBefore(x), offset_days, -3600, NULL) == NULL)
		return -1;
	if (X509_time_adj_ex(X509_getm_notAfter(x), offset_days + days, 0, NULL) == NULL)
		return -1;
	return 0;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	if (e == NULL)
		return -1;
	int ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

static bool dns_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 253)
		return false;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_' || c == '*'))
			return false;
	}
	return true;
}

/* Built as GENERAL_NAMEs rather than a config string, so a name with a
 * comma cannot smuggle in another entry. */
static int add_sans(X509 *x, const char *const *sans, size_t n, dm_err *err)
{
	if (n == 0)
		return 0;
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	if (gens == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const char *san = sans[i] != NULL ? sans[i] : "";
		GENERAL_NAME *g = GENERAL_NAME_new();
		if (g == NULL)
			goto oom;
		ASN1_OCTET_STRING *ip = a2i_IPADDRESS(san);
		ERR_clear_error();
		if (ip != NULL) {
			GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
		} else if (dns_name_ok(san)) {
			ASN1_IA5STRING *dns = ASN1_IA5STRING_new();
			if (dns == NULL || !ASN1_STRING_set(dns, san, (int)strlen(san))) {
				ASN1_IA5STRING_free(dns);
				GENERAL_NAME_free(g);
				goto oom;
			}
			GENERAL_NAME_set0_value(g, GEN_DNS, dns);
		} else {
			GENERAL_NAME_free(g);
			GENERAL_NAMES_free(gens);
			return dm_err_set(err, DM_EINVAL,
			                  "SAN \"%s\" is neither an IP address nor a DNS name",
			                  san);
		}
		if (!sk_GENERAL_NAME_push(gens, g)) {
			GENERAL_NAME_free(g);
			goto oom;
		}
	}
	int ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT);
	GENERAL_NAMES_free(gens);
	if (ok != 1)
		goto oom;
	return 0;
oom:
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	return dm_err_set(err, DM_ETLS, "cannot build subjectAltName: out of memory");
}

/* A certificate with subject CN=cn, the key's public half, a serial and a
 * validity window; extensions and signature are up to the caller. */
static X509 *new_cert(const char *cn, EVP_PKEY *key, int offset_days, int days)
{
	X509 *x = X509_new();
	if (x == NULL)
		return NULL;
	X509_NAME *name = X509_get_subject_name(x);
	if (X509_set_version(x, 2) != 1 || set_serial(x) < 0 ||
	    set_validity(x, offset_days, days) < 0 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                               0) != 1 ||
	    X509_set_pubkey(x, key) != 1) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int write_key(const char *path, EVP_PKEY *key, dm_err *err)
{
	/* secmem: the PEM text is wiped when the BIO is freed. */
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data = NULL;
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		BIO_free(bio);
		ERR_clear_error();
		return dm_err_set(err, DM_ETLS, "key %s: cannot encode the key", path);
	}
	long len = BIO_get_mem_data(bio, &data);
	int rc = dm_tls_util_write_atomic("key", path, data, (size_t)len, 0600, err);
	BIO_free(bio);
	return rc;
}

static int write_cert(const char *path, X509 *x, dm_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1) {
		BIO_free(bio);
		ERR_clear_error();
		return dm_err_set(err, DM_ETLS, "certificate %s: cannot encode the certificate",
		                  path);
	}
	long len = BIO_get_mem_data(bio, &data);
	int rc = dm_tls_util_write_atomic("certificate", path, data, (size_t)len, 0644, err);
	BIO_free(bio);
	return rc;
}

int dm_pki_create_ca(const char *cn, int days, const char *cert_path, const char *key_path,
                     dm_err *err)
{
	if (check_cn(cn, err) < 0 || check_paths(cert_path, key_path, err) < 0)
		return -1;
	if (days <= 0)
		days = DM_PKI_CA_DAYS;
	EVP_PKEY *key = new_key(err);
	if (key == NULL)
		return -1;
	int rc = -1;
	X509 *x = new_cert(cn, key, 0, days);
	X509V3_CTX ctx;
	if (x == NULL || X509_set_issuer_name(x, X509_get_subject_name(x)) != 1)
		goto ossl_fail;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	/* The subject key identifier must exist before the authority key
	 * identifier of a self-signed certificate can refer to it. */
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0 ||
	    X509_sign(x, key, EVP_sha256()) == 0)
		goto ossl_fail;
	if (write_key(key_path, key, err) < 0 || write_cert(cert_path, x, err) < 0)
		goto out;
	rc = 0;
	goto out;
ossl_fail:
	ERR_clear_error();
	dm_err_set(err, DM_ETLS, "cannot build the CA certificate \"%s\"", cn);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

static X509 *read_cert(const char *what, const char *path, dm_err *err)
{
	char *data;
	size_t len;
	if (dm_tls_util_read(what, path, &data, &len, NULL, err) < 0)
		return NULL;
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	X509 *x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	dm_tls_util_free_data(data, len);
	ERR_clear_error();
	if (x == NULL)
		dm_err_set(err, DM_ETLS,
		           "%s %s: not a PEM certificate (expected -----BEGIN CERTIFICATE-----)",
		           what, path);
	return x;
}

static EVP_PKEY *read_key(const char *what, const char *path, dm_err *err)
{
	char *data;
	size_t len;
	if (dm_tls_util_read(what, path, &data, &len, NULL, err) < 0)
		return NULL;
	BIO *bio = BIO_new_mem_buf(data, (int)len);
	/* An empty passphrase makes an encrypted key fail instead of
	 * prompting on the terminal. */
	EVP_PKEY *k = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
	BIO_free(bio);
	dm_tls_util_free_data(data, len);
	ERR_clear_error();
	if (k == NULL)
		dm_err_set(err, DM_ETLS,
		           "%s %s: not an unencrypted PEM private key (expected -----BEGIN "
		           "PRIVATE KEY-----)",
		           what, path);
	return k;
}

int dm_pki_check_ca(const char *cert_path, const char *key_path, dm_err *err)
{
	int rc = -1;
	X509 *ca = read_cert("ca-cert", cert_path, err);
	EVP_PKEY *key = ca != NULL ? read_key("ca-key", key_path, err) : NULL;
	if (ca == NULL || key == NULL)
		goto out;
	if (X509_check_private_key(ca, key) != 1) {
		ERR_clear_error();
		dm_err_set(err, DM_ETLS,
		           "ca-key %s does not match ca-cert %s: give the key the CA certificate "
		           "was made with",
		           key_path, cert_path);
		goto out;
	}
	if (X509_check_ca(ca) < 1) {
		dm_err_set(err, DM_ETLS,
		           "ca-cert %s is not a CA certificate (no basicConstraints CA:TRUE)",
		           cert_path);
		goto out;
	}
	rc = 0;
out:
	X509_free(ca);
	EVP_PKEY_free(key);
	return rc;
}

int dm_pki_issue(const dm_pki_issue_opts *o, dm_err *err)
{
	if (check_cn(o->cn, err) < 0 || check_paths(o->cert_path, o->key_path, err) < 0)
		return -1;
	if (o->ca_cert_path == NULL || o->ca_key_path == NULL)
		return dm_err_set(err, DM_EINVAL, "issuing \"%s\" needs the CA certificate and key",
		                  o->cn);
	int days = o->days > 0 ? o->days : DM_PKI_LEAF_DAYS;
	int rc = -1;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	X509 *ca = read_cert("ca-cert", o->ca_cert_path, err);
	EVP_PKEY *ca_key = ca != NULL ? read_key("ca-key", o->ca_key_path, err) : NULL;
	if (ca == NULL || ca_key == NULL)
		goto out;
	if (X509_check_private_key(ca, ca_key) != 1) {
		ERR_clear_error();
		dm_err_set(err, DM_ETLS, "ca-key %s does not match ca-cert %s", o->ca_key_path,
		           o->ca_cert_path);
		goto out;
	}
	if (X509_check_ca(ca) < 1) {
		dm_err_set(err, DM_ETLS,
		           "ca-cert %s is not a CA certificate (no basicConstraints CA:TRUE)",
		           o->ca_cert_path);
		goto out;
	}
	key = new_key(err);
	if (key == NULL)
		goto out;
	x = new_cert(o->cn, key, o->not_before_offset_days, days);
	X509V3_CTX ctx;
	if (x == NULL || X509_set_issuer_name(x, X509_get_subject_name(ca)) != 1)
		goto ossl_fail;
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
	    add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth") < 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") < 0)
		goto ossl_fail;
	if (add_sans(x, o->sans, o->n_sans, err) < 0)
		goto out;
	if (X509_sign(x, ca_key, EVP_sha256()) == 0)
		goto ossl_fail;
	/* Key first: a certificate on disk without its key would be the
	 * worse half-state for a reader checking the pair. */
	if (write_key(o->key_path, key, err) < 0 || write_cert(o->cert_path, x, err) < 0)
		goto out;
	rc = 0;
	goto out;
ossl_fail:
	ERR_clear_error();
	dm_err_set(err, DM_ETLS, "cannot build the certificate \"%s\"", o->cn);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return rc;
}

static void format_sans(X509 *x, char *out, size_t n)
{
	dm_buf b;
	dm_buf_init(&b);
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *sep = b.len > 0 ? ", " : "";
		if (g->type == GEN_DNS) {
			const ASN1_IA5STRING *s = g->d.dNSName;
			dm_buf_printf(&b, "%sDNS:%.*s", sep, ASN1_STRING_length(s),
			              (const char *)ASN1_STRING_get0_data(s));
		} else if (g->type == GEN_IPADD) {
			const ASN1_OCTET_STRING *s = g->d.iPAddress;
			char ip[INET6_ADDRSTRLEN] = "?";
			int len = ASN1_STRING_length(s);
			if (len == 4 || len == 16)
				inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s),
				          ip, sizeof(ip));
			dm_buf_printf(&b, "%sIP:%s", sep, ip);
		}
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	snprintf(out, n, "%s", dm_buf_str(&b));
	dm_buf_fini(&b);
}

int dm_pki_cert_info(const char *path, dm_pki_info *out, dm_err *err)
{
	X509 *x = read_cert("certificate", path, err);
	if (x == NULL)
		return -1;
	dm_pki_info info;
	memset(&info, 0, sizeof(info));
	if (dm_tls_util_time(X509_get0_notBefore(x), &info.not_before) < 0 ||
	    dm_tls_util_time(X509_get0_notAfter(x), &info.not_after) < 0) {
		X509_free(x);
		return dm_err_set(err, DM_ETLS, "certificate %s: unreadable validity period", path);
	}
	if (dm_tls_util_cn(X509_get_subject_name(x), info.cn, sizeof(info.cn)) < 0)
		info.cn[0] = '\0';
	if (dm_tls_util_cn(X509_get_issuer_name(x), info.issuer_cn, sizeof(info.issuer_cn)) < 0)
		info.issuer_cn[0] = '\0';
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	snprintf(info.serial_hex, sizeof(info.serial_hex), "%s", hex != NULL ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
	format_sans(x, info.sans, sizeof(info.sans));
	info.days_left = dm_tls_util_days(time(NULL), info.not_after);
	info.is_ca = X509_check_ca(x) >= 1;
	X509_free(x);
	ERR_clear_error();
	*out = info;
	return 0;
}
