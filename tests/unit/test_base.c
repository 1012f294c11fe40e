#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"

static void test_err_set_and_prefix(void **state)
{
	(void)state;
	dm_err err;
	dm_err_clear(&err);
	assert_int_equal(dm_err_set(&err, DM_EINVAL, "key \"%s\" is unknown", "x"), -1);
	assert_int_equal(err.code, DM_EINVAL);
	dm_err_prefix(&err, "%s:%d", "dm-master.toml", 7);
	assert_string_equal(err.msg, "dm-master.toml:7: key \"x\" is unknown");
	assert_int_equal(dm_err_set(NULL, DM_EIO, "ignored"), -1);
	assert_string_equal(dm_err_code_name(DM_ETLS), "tls");
}

static void test_buf_grows_and_detaches(void **state)
{
	(void)state;
	dm_buf b;
	dm_buf_init(&b);
	assert_string_equal(dm_buf_str(&b), "");
	for (int i = 0; i < 1000; i++)
		dm_buf_printf(&b, "%d,", i);
	assert_true(b.len > 3000);
	assert_memory_equal(b.data, "0,1,2,", 6);
	assert_int_equal(b.data[b.len], '\0');
	dm_buf_append(&b, "\0x", 2);
	assert_int_equal(b.data[b.len - 1], 'x');
	char *s = dm_buf_detach(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	dm_buf_fini(&b);
}

/* A piece longer than the room left (and than the first guess) is
 * formatted again after growing, with nothing lost around it. */
static void test_buf_printf_long_piece(void **state)
{
	(void)state;
	dm_buf b;
	dm_buf_init(&b);
	char big[1000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	dm_buf_puts(&b, "ab");
	dm_buf_printf(&b, "<%s>", big);
	dm_buf_printf(&b, "%s", "");
	dm_buf_printf(&b, "%d", 7);
	assert_int_equal(b.len, 2 + 1 + 999 + 1 + 1);
	assert_memory_equal(b.data, "ab<yy", 5);
	assert_string_equal(b.data + b.len - 3, "y>7");
	dm_buf_fini(&b);
}

static void test_buf_integers(void **state)
{
	(void)state;
	dm_buf b;
	dm_buf_init(&b);
	int64_t s[] = {0, -1, 9, -10, INT64_MAX, INT64_MIN};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		dm_buf_put_i64(&b, s[i]);
		dm_buf_putc(&b, ' ');
	}
	dm_buf_put_u64(&b, 0);
	dm_buf_putc(&b, ' ');
	dm_buf_put_u64(&b, UINT64_MAX);
	assert_string_equal(dm_buf_str(&b), "0 -1 9 -10 9223372036854775807 -9223372036854775808 0 "
	                                    "18446744073709551615");
	dm_buf_fini(&b);
}

static void test_asprintf(void **state)
{
	(void)state;
	char *s = dm_xasprintf("%s-%03d", "dm", 7);
	assert_string_equal(s, "dm-007");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_err_set_and_prefix),
	        cmocka_unit_test(test_buf_grows_and_detaches),
	        cmocka_unit_test(test_buf_printf_long_piece),
	        cmocka_unit_test(test_buf_integers),
	        cmocka_unit_test(test_asprintf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
