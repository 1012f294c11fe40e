/* dm_par_each: every step runs, at the same time, and the first failure
 * (by index) is the one reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "base/par.h"

typedef struct seen {
	atomic_int ran[8];
	atomic_int inside, most_inside;
} seen;

static int step(void *arg, int i, dm_err *err)
{
	seen *s = arg;
	int now = atomic_fetch_add(&s->inside, 1) + 1;
	int most = atomic_load(&s->most_inside);
	while (now > most && !atomic_compare_exchange_weak(&s->most_inside, &most, now))
		;
	nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000L}, NULL);
	atomic_fetch_sub(&s->inside, 1);
	atomic_fetch_add(&s->ran[i], 1);
	if (i == 5 || i == 3)
		return dm_err_set(err, DM_EINVAL, "step %d failed", i);
	return 0;
}

static void test_all_run_together_first_error_wins(void **state)
{
	(void)state;
	seen s = {0};
	dm_err err;
	assert_int_equal(dm_par_each(8, step, &s, &err), -1);
	assert_string_equal(err.msg, "step 3 failed");
	for (int i = 0; i < 8; i++)
		assert_int_equal(atomic_load(&s.ran[i]), 1);
	/* 8 sleeps of 50 ms overlap */
	assert_true(atomic_load(&s.most_inside) > 1);
}

static int ok_step(void *arg, int i, dm_err *err)
{
	(void)err;
	atomic_fetch_add(&((seen *)arg)->ran[i], 1);
	return 0;
}

static void test_success_and_nothing_to_do(void **state)
{
	(void)state;
	seen s = {0};
	dm_err err;
	assert_int_equal(dm_par_each(3, ok_step, &s, &err), 0);
	assert_int_equal(atomic_load(&s.ran[0]) + atomic_load(&s.ran[1]) + atomic_load(&s.ran[2]),
	                 3);
	assert_int_equal(dm_par_each(0, ok_step, &s, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_all_run_together_first_error_wins),
	        cmocka_unit_test(test_success_and_nothing_to_do),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
