#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "tls/secret.h"

static char dir[] = "/tmp/dm-secret-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = dm_xasprintf("rm -rf %s", dir);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

static void test_generate_load_roundtrip(void **state)
{
	(void)state;
	char *path = dm_xasprintf("%s/secret.key", dir);
	dm_secret_key k1, k2, other;
	dm_err err;
	assert_int_equal(dm_secret_key_generate(path, &k1, &err), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(dm_secret_key_generate(path, &k2, &err), -1); /* never overwrites */
	char *warn = NULL;
	assert_int_equal(dm_secret_key_load(path, &k2, &warn, &err), 0);
	assert_null(warn);
	assert_memory_equal(k1.bytes, k2.bytes, DM_SECRET_KEY_LEN);

	char *ct, *pt;
	size_t len;
	assert_int_equal(dm_secret_encrypt(&k1, "s3cret\0x", 8, &ct, &err), 0);
	assert_null(strstr(ct, "s3cret"));
	assert_true(dm_secret_looks_encrypted(ct));
	assert_false(dm_secret_looks_encrypted("123456"));
	assert_int_equal(dm_secret_decrypt(&k2, ct, &pt, &len, &err), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(pt, "s3cret\0x", 8);
	dm_free_secret(pt);

	/* Another key, or one flipped character, is refused. */
	char *path2 = dm_xasprintf("%s/other.key", dir);
	assert_int_equal(dm_secret_key_generate(path2, &other, &err), 0);
	assert_int_equal(dm_secret_decrypt(&other, ct, &pt, &len, &err), -1);
	assert_non_null(strstr(err.msg, "another secret key"));
	ct[10] = ct[10] == 'A' ? 'B' : 'A';
	assert_int_equal(dm_secret_decrypt(&k1, ct, &pt, &len, &err), -1);
	assert_int_equal(dm_secret_decrypt(&k1, "not base64!", &pt, &len, &err), -1);
	assert_int_equal(dm_secret_decrypt(&k1, "", &pt, &len, &err), -1);
	free(ct);
	free(path2);
	free(path);
}

static void test_load_rejects_bad_files_and_warns(void **state)
{
	(void)state;
	char *path = dm_xasprintf("%s/hex.key", dir);
	FILE *f = fopen(path, "w");
	fputs("  0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef\n", f);
	fclose(f);
	chmod(path, 0644);
	dm_secret_key k;
	char *warn = NULL;
	dm_err err;
	assert_int_equal(dm_secret_key_load(path, &k, &warn, &err), 0);
	assert_int_equal(k.bytes[0], 0x01);
	assert_int_equal(k.bytes[31], 0xef);
	assert_non_null(warn);
	assert_non_null(strstr(warn, "chmod 600"));
	free(warn);
	f = fopen(path, "w");
	fputs("0123456789abcdef\n", f);
	fclose(f);
	assert_int_equal(dm_secret_key_load(path, &k, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "64 hex digits"));
	assert_null(strstr(err.msg, "0123456789abcdef"));
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_generate_load_roundtrip),
	        cmocka_unit_test(test_load_rejects_bad_files_and_warns),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
