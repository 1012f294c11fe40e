#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "base/err.h"
#include "base/mem.h"
#include "tls/pki.h"

/* Every test gets a fresh directory; nothing is checked in. */
struct fx {
	char dir[64];
};

static char *path_in(const struct fx *f, const char *name)
{
	return dm_xasprintf("%s/%s", f->dir, name);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	struct fx *f = dm_xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/dm-test-pki-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static X509 *load_cert(const char *path)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	X509 *x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return x;
}

static void make_ca(const struct fx *f, const char *name, const char *cn)
{
	dm_err err;
	char *cert = dm_xasprintf("%s/%s.pem", f->dir, name);
	char *key = dm_xasprintf("%s/%s.key", f->dir, name);
	if (dm_pki_create_ca(cn, 0, cert, key, &err) < 0)
		fail_msg("create CA: %s", err.msg);
	free(cert);
	free(key);
}

static void issue(const struct fx *f, const char *ca, const char *name, const char *cn, int offset,
                  int days)
{
	static const char *const sans[] = {"127.0.0.1", "localhost"};
	char *ca_cert = dm_xasprintf("%s/%s.pem", f->dir, ca);
	char *ca_key = dm_xasprintf("%s/%s.key", f->dir, ca);
	char *cert = dm_xasprintf("%s/%s.pem", f->dir, name);
	char *key = dm_xasprintf("%s/%s.key", f->dir, name);
	dm_pki_issue_opts o = {
	        .ca_cert_path = ca_cert,
	        .ca_key_path = ca_key,
	        .cn = cn,
	        .sans = sans,
	        .n_sans = 2,
	        .days = days,
	        .not_before_offset_days = offset,
	        .cert_path = cert,
	        .key_path = key,
	};
	dm_err err;
	if (dm_pki_issue(&o, &err) < 0)
		fail_msg("issue %s: %s", name, err.msg);
	free(ca_cert);
	free(ca_key);
	free(cert);
	free(key);
}

static int verify(X509 *ca, X509 *leaf, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_add_cert(store, ca);
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_STORE_CTX_init(ctx, store, leaf, NULL);
	X509_STORE_CTX_set_purpose(ctx, purpose);
	int ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static void test_ca_and_leaf_verify(void **state)
{
	struct fx *f = *state;
	make_ca(f, "ca", "dm-ca");
	make_ca(f, "ca2", "other-ca");
	issue(f, "ca", "leaf", "dm", 0, 0);
	char *p;
	X509 *ca = load_cert(p = path_in(f, "ca.pem"));
	free(p);
	X509 *ca2 = load_cert(p = path_in(f, "ca2.pem"));
	free(p);
	X509 *leaf = load_cert(p = path_in(f, "leaf.pem"));
	free(p);

	assert_int_equal(X509_check_ca(ca), 1);
	assert_int_equal(X509_check_ca(leaf), 0);
	assert_true(X509_get_key_usage(ca) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
	assert_true(X509_get_key_usage(leaf) == (KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
	assert_true(X509_get_extended_key_usage(leaf) == (XKU_SSL_SERVER | XKU_SSL_CLIENT));
	assert_non_null(X509_get0_subject_key_id(ca));
	assert_non_null(X509_get0_authority_key_id(leaf));
	assert_memory_equal(ASN1_STRING_get0_data(X509_get0_subject_key_id(ca)),
	                    ASN1_STRING_get0_data(X509_get0_authority_key_id(leaf)), 20);
	assert_int_equal(X509_get_pathlen(ca), 0);
	assert_int_equal(X509_check_host(leaf, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(leaf)), 256);
	assert_int_equal(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA256);

	assert_int_equal(verify(ca, leaf, X509_PURPOSE_SSL_SERVER), 1);
	assert_int_equal(verify(ca, leaf, X509_PURPOSE_SSL_CLIENT), 1);
	assert_int_equal(verify(ca, ca, X509_PURPOSE_ANY), 1);
	assert_int_not_equal(verify(ca2, leaf, X509_PURPOSE_SSL_CLIENT), 1);
	X509_free(ca);
	X509_free(ca2);
	X509_free(leaf);
}

static void test_cert_info(void **state)
{
	struct fx *f = *state;
	make_ca(f, "ca", "dm-ca");
	issue(f, "ca", "a", "dm-master", 0, 0);
	issue(f, "ca", "b", "dm-master", 0, 30);
	dm_pki_info a, b, c;
	dm_err err;
	char *p = path_in(f, "a.pem");
	assert_int_equal(dm_pki_cert_info(p, &a, &err), 0);
	X509 *x = load_cert(p);
	free(p);
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = BN_bn2hex(bn);
	assert_string_equal(a.serial_hex, hex);
	assert_false(BN_is_negative(bn));
	assert_true(BN_num_bits(bn) <= 128 && BN_num_bits(bn) > 64);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);

	assert_string_equal(a.cn, "dm-master");
	assert_string_equal(a.issuer_cn, "dm-ca");
	assert_string_equal(a.sans, "IP:127.0.0.1, DNS:localhost");
	assert_false(a.is_ca);
	assert_true(a.days_left == DM_PKI_LEAF_DAYS - 1 || a.days_left == DM_PKI_LEAF_DAYS);
	assert_true(a.not_before <= time(NULL) - 3500);

	p = path_in(f, "b.pem");
	assert_int_equal(dm_pki_cert_info(p, &b, &err), 0);
	free(p);
	assert_string_not_equal(a.serial_hex, b.serial_hex);
	assert_true(b.days_left == 29 || b.days_left == 30);

	p = path_in(f, "ca.pem");
	assert_int_equal(dm_pki_cert_info(p, &c, &err), 0);
	free(p);
	assert_true(c.is_ca);
	assert_string_equal(c.cn, "dm-ca");
	assert_true(c.days_left >= DM_PKI_CA_DAYS - 1);

	issue(f, "ca", "old", "old", -10, 5);
	p = path_in(f, "old.pem");
	assert_int_equal(dm_pki_cert_info(p, &c, &err), 0);
	free(p);
	assert_true(c.days_left == -5 || c.days_left == -6);
	assert_true(c.not_after < time(NULL));
}

static void test_key_modes(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char *key = path_in(f, "leaf.key");
	char *cert = path_in(f, "leaf.pem");
	/* A pre-existing world-readable file must not lend its mode. */
	FILE *fp = fopen(key, "w");
	fputs("old\n", fp);
	fclose(fp);
	chmod(key, 0644);
	make_ca(f, "ca", "dm-ca");
	issue(f, "ca", "leaf", "dm", 0, 0);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(cert, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	char *cakey = path_in(f, "ca.key");
	assert_int_equal(stat(cakey, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(cakey);
	free(key);
	free(cert);
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	dm_err err;
	make_ca(f, "ca", "dm-ca");
	make_ca(f, "ca2", "other-ca");
	char *ca = path_in(f, "ca.pem"), *ca_key = path_in(f, "ca.key");
	char *ca2_key = path_in(f, "ca2.key"), *missing = path_in(f, "nope.pem");
	char *cert = path_in(f, "x.pem"), *key = path_in(f, "x.key");
	dm_pki_issue_opts o = {.ca_cert_path = missing,
	                       .ca_key_path = ca_key,
	                       .cn = "dm",
	                       .cert_path = cert,
	                       .key_path = key};

	assert_int_equal(dm_pki_issue(&o, &err), -1);
	char *want = dm_xasprintf("ca-cert %s: No such file or directory", missing);
	assert_string_equal(err.msg, want);
	free(want);

	o.ca_cert_path = ca;
	o.ca_key_path = ca2_key;
	assert_int_equal(dm_pki_issue(&o, &err), -1);
	want = dm_xasprintf("ca-key %s does not match ca-cert %s", ca2_key, ca);
	assert_string_equal(err.msg, want);
	free(want);

	o.ca_key_path = ca;
	assert_int_equal(dm_pki_issue(&o, &err), -1);
	assert_non_null(strstr(err.msg, "not an unencrypted PEM private key"));
	assert_null(strstr(err.msg, "BEGIN CERT"));

	static const char *const bad_sans[] = {"localhost", "a,DNS:evil"};
	o.ca_key_path = ca_key;
	o.sans = bad_sans;
	o.n_sans = 2;
	assert_int_equal(dm_pki_issue(&o, &err), -1);
	assert_string_equal(err.msg, "SAN \"a,DNS:evil\" is neither an IP address nor a DNS name");
	assert_int_equal(access(cert, F_OK), -1);
	assert_int_equal(access(key, F_OK), -1);

	o.sans = NULL;
	o.n_sans = 0;
	o.cn = "";
	assert_int_equal(dm_pki_issue(&o, &err), -1);
	assert_int_equal(err.code, DM_EINVAL);
	o.cn = "dm";
	o.key_path = cert;
	assert_int_equal(dm_pki_issue(&o, &err), -1);
	assert_int_equal(err.code, DM_EINVAL);

	/* A leaf is not a CA. */
	o.key_path = key;
	assert_int_equal(dm_pki_issue(&o, &err), 0);
	char *cert2 = path_in(f, "y.pem"), *key2 = path_in(f, "y.key");
	dm_pki_issue_opts o2 = {.ca_cert_path = cert,
	                        .ca_key_path = key,
	                        .cn = "dm2",
	                        .cert_path = cert2,
	                        .key_path = key2};
	assert_int_equal(dm_pki_issue(&o2, &err), -1);
	assert_non_null(strstr(err.msg, "is not a CA certificate"));

	dm_pki_info info;
	memset(&info, 0x5a, sizeof(info));
	assert_int_equal(dm_pki_cert_info(ca_key, &info, &err), -1);
	want = dm_xasprintf("certificate %s: not a PEM certificate", ca_key);
	assert_non_null(strstr(err.msg, want));
	assert_null(strstr(err.msg, "PRIVATE KEY-----\n"));
	free(want);
	assert_int_equal((unsigned char)info.cn[0], 0x5a);

	/* Importing a CA checks the pair first. */
	assert_int_equal(dm_pki_check_ca(ca, ca_key, &err), 0);
	assert_int_equal(dm_pki_check_ca(ca, ca2_key, &err), -1);
	assert_non_null(strstr(err.msg, "does not match ca-cert"));
	assert_int_equal(dm_pki_check_ca(cert, key, &err), -1);
	assert_non_null(strstr(err.msg, "is not a CA certificate"));
	assert_int_equal(dm_pki_check_ca(ca, ca, &err), -1);
	assert_non_null(strstr(err.msg, "not an unencrypted PEM private key"));

	free(ca);
	free(ca_key);
	free(ca2_key);
	free(missing);
	free(cert);
	free(key);
	free(cert2);
	free(key2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_ca_and_leaf_verify, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_cert_info, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_key_modes, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
