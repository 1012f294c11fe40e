#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include "base/clock.h"
#include "base/queue.h"

enum { PRODUCERS = 4, PER_PRODUCER = 20000 };

struct shared {
	dm_queue *q;
	int64_t sum;
	int64_t count;
	pthread_mutex_t mu;
};

static void *produce(void *arg)
{
	struct shared *s = arg;
	for (intptr_t i = 1; i <= PER_PRODUCER; i++)
		assert_int_equal(dm_queue_push(s->q, (void *)i, -1), DM_QUEUE_OK);
	return NULL;
}

static void *consume(void *arg)
{
	struct shared *s = arg;
	void *item;
	int64_t sum = 0, count = 0;
	while (dm_queue_pop(s->q, &item, -1) == DM_QUEUE_OK) {
		sum += (intptr_t)item;
		count++;
	}
	pthread_mutex_lock(&s->mu);
	s->sum += sum;
	s->count += count;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Every item pushed by several producers reaches exactly one of several
 * consumers through a queue far smaller than the traffic. */
static void test_mpmc_delivers_everything_once(void **state)
{
	(void)state;
	struct shared s = {.q = dm_queue_new(8)};
	pthread_mutex_init(&s.mu, NULL);
	pthread_t p[PRODUCERS], c[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&c[i], NULL, consume, &s);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_create(&p[i], NULL, produce, &s);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(p[i], NULL);
	dm_queue_close(s.q);
	for (int i = 0; i < 3; i++)
		pthread_join(c[i], NULL);
	assert_int_equal(s.count, PRODUCERS * PER_PRODUCER);
	assert_int_equal(s.sum, (int64_t)PRODUCERS * PER_PRODUCER * (PER_PRODUCER + 1) / 2);
	pthread_mutex_destroy(&s.mu);
	dm_queue_free(s.q);
}

static void test_bounded_and_timeouts(void **state)
{
	(void)state;
	dm_queue *q = dm_queue_new(2);
	void *item;
	assert_int_equal(dm_queue_pop(q, &item, 0), DM_QUEUE_TIMEOUT);
	assert_int_equal(dm_queue_push(q, (void *)1, 0), DM_QUEUE_OK);
	assert_int_equal(dm_queue_push(q, (void *)2, 0), DM_QUEUE_OK);
	int64_t t0 = dm_clock_mono_ms();
	assert_int_equal(dm_queue_push(q, (void *)3, 50), DM_QUEUE_TIMEOUT);
	assert_true(dm_clock_mono_ms() - t0 >= 49);
	assert_int_equal(dm_queue_len(q), 2);
	dm_queue_close(q);
	assert_int_equal(dm_queue_push(q, (void *)4, -1), DM_QUEUE_CLOSED);
	/* Items queued before close still come out, in order. */
	assert_int_equal(dm_queue_pop(q, &item, -1), DM_QUEUE_OK);
	assert_ptr_equal(item, (void *)1);
	assert_int_equal(dm_queue_pop(q, &item, -1), DM_QUEUE_OK);
	assert_ptr_equal(item, (void *)2);
	assert_int_equal(dm_queue_pop(q, &item, -1), DM_QUEUE_CLOSED);
	dm_queue_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_mpmc_delivers_everything_once),
	        cmocka_unit_test(test_bounded_and_timeouts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
