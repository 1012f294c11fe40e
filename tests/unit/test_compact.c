/* The compaction window: what folds, what is refused, the order out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "migrate/compact.h"

/* t(id PK, k, c): three columns, key id */
static size_t key0[] = {0};
static bool gen3[3], text3[3], unsig3[3];
static char *cols3[] = {"id", "k", "c"};

static dm_tinfo table(const char *name)
{
	return (dm_tinfo){.qname = (char *)name,
	                  .ncols = 3,
	                  .cols = cols3,
	                  .qcols = cols3,
	                  .generated = gen3,
	                  .text = text3,
	                  .unsig = unsig3,
	                  .nkey = 1,
	                  .key = key0,
	                  .key_hashable = true};
}

static dm_rowchange *ins(const dm_tinfo *t, char *id, char *k, char *c)
{
	char *a[3] = {id, k, c};
	return dm_rowchange_new(DM_CH_INSERT, t, NULL, a);
}

static dm_rowchange *del(const dm_tinfo *t, char *id, char *k, char *c)
{
	char *b[3] = {id, k, c};
	return dm_rowchange_new(DM_CH_DELETE, t, b, NULL);
}

/* MINIMAL-style update: before has the key, after the changed columns */
static dm_rowchange *upd(const dm_tinfo *t, char *id, char *newid, char *k, char *c)
{
	char *b[3] = {id, NULL, NULL}, *a[3] = {newid, k, c};
	return dm_rowchange_new(DM_CH_UPDATE, t, b, a);
}

static void add(dm_compact *w, dm_rowchange *c)
{
	assert_true(dm_compact_add(w, c));
}

static void test_folds(void **state)
{
	(void)state;
	dm_tinfo t = table("`d`.`t`");
	dm_compact *w = dm_compact_new();
	add(w, ins(&t, "1", "10", "'a'"));
	add(w, upd(&t, "1", NULL, "11", NULL)); /* INSERT+UPDATE: one INSERT */
	add(w, upd(&t, "2", NULL, NULL, "'b'"));
	add(w, upd(&t, "2", NULL, "20", NULL)); /* UPDATE+UPDATE: one UPDATE */
	add(w, del(&t, "3", "30", "'c'"));
	add(w, ins(&t, "3", "31", "'d'")); /* DELETE+INSERT (complete): UPDATE */
	add(w, ins(&t, "4", "40", "'e'"));
	add(w, del(&t, "4", "40", "'e'")); /* INSERT+DELETE: nothing */
	add(w, upd(&t, "5", NULL, "50", NULL));
	add(w, del(&t, "5", "50", "'f'")); /* UPDATE+DELETE: DELETE */
	assert_int_equal(dm_compact_rows(w), 10);
	const dm_netchange *n;
	size_t nn = dm_compact_net(w, &n);
	assert_int_equal(nn, 4);
	/* deletes, updates, inserts */
	assert_int_equal(n[0].op, DM_CH_DELETE);
	assert_string_equal(n[0].before[0], "5");
	assert_int_equal(n[1].op, DM_CH_UPDATE);
	assert_string_equal(n[1].before[0], "2");
	assert_string_equal(n[1].after[1], "20");
	assert_string_equal(n[1].after[2], "'b'");
	assert_int_equal(n[2].op, DM_CH_UPDATE);
	assert_string_equal(n[2].before[0], "3");
	assert_string_equal(n[2].after[1], "31");
	assert_int_equal(n[3].op, DM_CH_INSERT);
	assert_string_equal(n[3].after[1], "11");
	assert_string_equal(n[3].after[2], "'a'");
	dm_compact_reset(w);
	assert_int_equal(dm_compact_rows(w), 0);
	assert_int_equal(dm_compact_net(w, &n), 0);
	dm_compact_free(w);
}

static void test_refusals(void **state)
{
	(void)state;
	dm_tinfo t = table("`d`.`t`");
	dm_compact *w = dm_compact_new();
	add(w, ins(&t, "1", "10", "'a'"));
	dm_rowchange *dup = ins(&t, "1", "10", "'a'");
	assert_false(dm_compact_add(w, dup)); /* INSERT of an inserted row */
	free(dup);
	add(w, del(&t, "2", "20", "'b'"));
	dm_rowchange *u = upd(&t, "2", NULL, "21", NULL);
	assert_false(dm_compact_add(w, u)); /* UPDATE of a deleted row */
	free(u);
	/* refused even by an empty window: never reordered */
	dm_compact *empty = dm_compact_new();
	dm_rowchange *moved = upd(&t, "7", "8", NULL, NULL);
	assert_false(dm_compact_add(empty, moved)); /* the key changes */
	assert_false(dm_compact_add(w, moved));
	free(moved);
	dm_tinfo nokey = t;
	nokey.nkey = 0;
	dm_rowchange *c = ins(&nokey, "1", "1", "'x'");
	assert_false(dm_compact_add(empty, c));
	free(c);
	dm_tinfo uniq = t;
	uniq.nuniq = 1;
	c = ins(&uniq, "1", "1", "'x'");
	assert_false(dm_compact_add(empty, c)); /* another unique index */
	free(c);
	dm_tinfo coll = t;
	coll.key_hashable = false;
	c = ins(&coll, "'a'", "1", "'x'");
	assert_false(dm_compact_add(empty, c)); /* 'a' = 'A' on the target */
	free(c);
	assert_int_equal(dm_compact_rows(empty), 0);
	dm_compact_free(empty);
	assert_int_equal(dm_compact_rows(w), 2);
	dm_compact_free(w); /* frees what it holds */
}

static void test_incomplete_reinsert(void **state)
{
	(void)state;
	dm_tinfo t = table("`d`.`t`");
	dm_compact *w = dm_compact_new();
	add(w, del(&t, "1", "10", "'a'"));
	add(w, ins(&t, "1", "11", NULL)); /* c omitted: its default applies */
	const dm_netchange *n;
	assert_int_equal(dm_compact_net(w, &n), 2);
	assert_int_equal(n[0].op, DM_CH_DELETE);
	assert_int_equal(n[1].op, DM_CH_INSERT);
	assert_string_equal(n[1].after[1], "11");
	dm_compact_free(w);
}

static void test_tables_and_many_rows(void **state)
{
	(void)state;
	dm_tinfo a = table("`d`.`a`"), b = table("`d`.`b`");
	dm_compact *w = dm_compact_new();
	char ids[3000][8];
	for (int i = 0; i < 3000; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%d", i);
		add(w, ins(i % 2 ? &b : &a, ids[i], "0", "''"));
		if (i % 3 == 0)
			add(w, del(i % 2 ? &b : &a, ids[i], "0", "''"));
	}
	const dm_netchange *n;
	size_t nn = dm_compact_net(w, &n);
	assert_int_equal(nn, 2000);
	/* every change of a (seen first) before b's, in arrival order */
	for (size_t i = 1; i < nn; i++) {
		if (n[i].t == n[i - 1].t)
			assert_true(atoi(n[i].after[0]) > atoi(n[i - 1].after[0]));
		else
			assert_true(n[i].t == &b && n[i - 1].t == &a);
	}
	dm_compact_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_folds),
	        cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_incomplete_reinsert),
	        cmocka_unit_test(test_tables_and_many_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
