/* The order chunks are handed to readers in (dm_plan_order). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "migrate/plan.h"

static void add_table(dm_plan *p, const char *name, int64_t est_bytes, int nchunks)
{
	size_t t = dm_plan_add_table(p, "db", name, "db", name);
	p->tables[t].est_bytes = est_bytes;
	p->tables[t].nchunks = nchunks;
	for (int i = 0; i < nchunks; i++)
		dm_plan_add_chunk(p, t, i, "1");
}

/* "a0" is table a's chunk 0 */
static void assert_order(const dm_plan *p, const char *const *want, size_t n)
{
	assert_int_equal(p->nchunks, n);
	for (size_t i = 0; i < n; i++) {
		char got[64];
		snprintf(got, sizeof(got), "%s%d", p->tables[p->chunks[i].table].name,
		         p->chunks[i].id);
		assert_string_equal(got, want[i]);
	}
}

static void test_largest_chunks_first(void **state)
{
	(void)state;
	dm_plan p;
	dm_plan_init(&p);
	add_table(&p, "a", 300, 3); /* chunks of 100 */
	add_table(&p, "b", 800, 2); /* chunks of 400: first */
	add_table(&p, "c", 50, 1);
	dm_plan_order(&p);
	const char *want[] = {"b0", "b1", "a0", "a1", "a2", "c0"};
	assert_order(&p, want, 6);
	dm_plan_fini(&p);
}

static void test_resumed_plan_keeps_chunk_ids(void **state)
{
	(void)state;
	/* a resumed plan has only the unfinished chunks, and no estimates */
	dm_plan p;
	dm_plan_init(&p);
	size_t a = dm_plan_add_table(&p, "db", "a", "db", "a");
	size_t b = dm_plan_add_table(&p, "db", "b", "db", "b");
	dm_plan_add_chunk(&p, a, 3, "1");
	dm_plan_add_chunk(&p, b, 0, "1");
	dm_plan_add_chunk(&p, a, 5, "1");
	dm_plan_order(&p);
	const char *want[] = {"a3", "a5", "b0"};
	assert_order(&p, want, 3);
	dm_plan_fini(&p);
}

static void test_one_table_unchanged(void **state)
{
	(void)state;
	dm_plan p;
	dm_plan_init(&p);
	add_table(&p, "a", 300, 3);
	dm_plan_order(&p);
	const char *want[] = {"a0", "a1", "a2"};
	assert_order(&p, want, 3);
	dm_plan_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_largest_chunks_first),
	        cmocka_unit_test(test_resumed_plan_keeps_chunk_ids),
	        cmocka_unit_test(test_one_table_unchanged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
