#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "mysql/gtid.h"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U2 "8ac7a0a1-0000-11ee-b000-0242ac120002"
#define U3 "f0000000-0000-0000-0000-000000000001"

static const unsigned char u1[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                     0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};
static const unsigned char u2[16] = {0x8a, 0xc7, 0xa0, 0xa1, 0x00, 0x00, 0x11, 0xee,
                                     0xb0, 0x00, 0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
static const unsigned char u3[16] = {0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static dm_gtid_set *parse_ok(const char *text)
{
	dm_gtid_set *s = NULL;
	dm_err err;
	if (dm_gtid_parse(text, &s, &err) < 0)
		fail_msg("parsing \"%s\": %s", text, err.msg);
	assert_non_null(s);
	return s;
}

static void assert_format(const dm_gtid_set *s, const char *want)
{
	char *got = dm_gtid_format(s);
	assert_string_equal(got, want);
	free(got);
}

/* in parses to a set whose canonical text is want, which parses back to an
 * equal set and formats the same again. */
static void roundtrip(const char *in, const char *want)
{
	dm_gtid_set *s = parse_ok(in);
	assert_format(s, want);
	dm_gtid_set *again = parse_ok(want);
	assert_true(dm_gtid_equal(s, again));
	assert_format(again, want);
	dm_gtid_free(again);
	dm_gtid_free(s);
}

/* in is refused with DM_EINVAL, *out untouched, and the message holds
 * every needle (NULL-terminated list). */
static void parse_bad(const char *in, ...)
{
	dm_gtid_set *sentinel = (dm_gtid_set *)&sentinel;
	dm_gtid_set *s = sentinel;
	dm_err err;
	dm_err_clear(&err);
	if (dm_gtid_parse(in, &s, &err) == 0)
		fail_msg("\"%s\" was accepted", in);
	assert_ptr_equal(s, sentinel);
	assert_int_equal(err.code, DM_EINVAL);
	va_list ap;
	va_start(ap, in);
	for (const char *needle; (needle = va_arg(ap, const char *)) != NULL;)
		if (strstr(err.msg, needle) == NULL)
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"", in, err.msg, needle);
	va_end(ap);
}

static void test_empty(void **state)
{
	(void)state;
	const char *blanks[] = {"", " ", "\n", " \t\r\n "};
	for (size_t i = 0; i < sizeof(blanks) / sizeof(blanks[0]); i++) {
		dm_gtid_set *s = parse_ok(blanks[i]);
		assert_true(dm_gtid_is_empty(s));
		assert_int_equal(dm_gtid_flavor(s), DM_GTID_NONE);
		assert_format(s, "");
		dm_gtid_free(s);
	}
	dm_gtid_set *n = dm_gtid_new();
	assert_true(dm_gtid_is_empty(n));
	assert_format(n, "");
	dm_gtid_free(n);
	dm_gtid_free(NULL);
}

static void test_mariadb_roundtrip(void **state)
{
	(void)state;
	roundtrip("0-1-100", "0-1-100");
	roundtrip("0-0-0", "0-0-0");
	roundtrip("2-1-5,0-1-100,1-2-7", "0-1-100,1-2-7,2-1-5");
	roundtrip(" 0-1-1 ,\n 1-1-2\n", "0-1-1,1-1-2");
	roundtrip("0-1-1,\n\t1-1-2", "0-1-1,1-1-2");
	roundtrip("007-01-0100", "7-1-100");
	roundtrip("4294967295-4294967295-18446744073709551615",
	          "4294967295-4294967295-18446744073709551615");
	roundtrip("1-2-18446744073709551615,4294967295-0-1",
	          "1-2-18446744073709551615,4294967295-0-1");
	/* A position holds the last GTID seen per domain, even a lower one. */
	roundtrip("0-1-100,0-2-50", "0-2-50");
	roundtrip("0-1-5,1-1-1,0-2-9,0-3-7", "0-3-7,1-1-1");

	dm_gtid_set *s = parse_ok("3-1-1,1-1-1");
	assert_int_equal(dm_gtid_flavor(s), DM_GTID_MARIADB);
	assert_false(dm_gtid_is_empty(s));
	dm_gtid_free(s);
}

static void test_mysql_roundtrip(void **state)
{
	(void)state;
	roundtrip(U1 ":1-5", U1 ":1-5");
	roundtrip(U1 ":7", U1 ":7");
	roundtrip(U1 ":3-3", U1 ":3");
	roundtrip(U1 ":5:5", U1 ":5");
	roundtrip(U1 ":1-5:6-9", U1 ":1-9");
	roundtrip(U1 ":1-5:7-9", U1 ":1-5:7-9");
	roundtrip(U1 ":7-9:1-5", U1 ":1-5:7-9");
	roundtrip(U1 ":1-5:3-8:20:10-19", U1 ":1-8:10-20");
	roundtrip(U1 ":10-20:1-100:50", U1 ":1-100");
	roundtrip(U1 ":1:3:5:2:4", U1 ":1-5");
	roundtrip(U1 ":1-9223372036854775807", U1 ":1-9223372036854775807");
	roundtrip(U1 ":9223372036854775807", U1 ":9223372036854775807");
	roundtrip("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", U1 ":1-5");
	roundtrip(U2 ":1-100," U1 ":1-5", U1 ":1-5," U2 ":1-100");
	roundtrip(U3 ":1," U2 ":2," U1 ":3", U1 ":3," U2 ":2," U3 ":1");
	/* One UUID twice, in either case: one entry. */
	roundtrip(U1 ":1-3,3E11FA47-71CA-11E1-9E33-C80AA9429562:4-6", U1 ":1-6");
	/* As MySQL prints gtid_executed, and looser spacing it accepts. */
	roundtrip(U1 ":1-5,\n" U2 ":1-100", U1 ":1-5," U2 ":1-100");
	roundtrip("\n " U1 " : 1 - 5 : 7 ,\r\n\t" U2 ":1\n", U1 ":1-5:7," U2 ":1");

	dm_gtid_set *s = parse_ok(U1 ":1");
	assert_int_equal(dm_gtid_flavor(s), DM_GTID_MYSQL);
	dm_gtid_free(s);
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_bad("garbage", "offset 0", "\"garbage\"", "neither", NULL);
	parse_bad("0-1-1,hello", "offset 6", "\"hello\"", "neither", NULL);

	parse_bad("0", "offset 1", "server id and sequence number are missing", "\"0\"", NULL);
	parse_bad("0-1", "offset 3", "sequence number is missing", "\"0-1\"", NULL);
	parse_bad("0-1-", "offset 4", "sequence number is empty", NULL);
	parse_bad("0--1", "offset 2", "server id is empty", NULL);
	parse_bad("-1-1-1", "offset 0", "domain id is empty", NULL);
	parse_bad("0-1-x", "offset 4", "\"0-1-x\"", "sequence number \"x\" is not a decimal", NULL);
	parse_bad("a-1-1", "offset 0", "domain id \"a\"", NULL);
	parse_bad("0-+1-1", "offset 2", "server id \"+1\"", NULL);
	parse_bad("0 -1-1", "domain id \"0 \"", NULL);
	parse_bad("1-1-1,0-1-2-3", "offset 11", "\"0-1-2-3\"", "unexpected '-'", NULL);
	parse_bad("4294967296-1-1", "offset 0", "domain id 4294967296 is larger than 4294967295",
	          NULL);
	parse_bad("0-4294967296-1", "offset 2", "server id 4294967296 is larger", NULL);
	parse_bad("0-1-18446744073709551616", "offset 4",
	          "sequence number 18446744073709551616 is larger than 18446744073709551615", NULL);
	parse_bad("0-1-99999999999999999999999", "is larger", NULL);

	parse_bad(",0-1-1", "offset 0", "nothing before the first comma", NULL);
	parse_bad(" ,0-1-1", "offset 1", "nothing before the first comma", NULL);
	parse_bad("0-1-1,", "offset 5", "trailing comma", "\"0-1-1,\"", NULL);
	parse_bad("0-1-1 , \n", "offset 6", "trailing comma", NULL);
	parse_bad("0-1-1,,1-1-1", "offset 6", "empty entry between two commas", NULL);
	parse_bad(U1 ":1-5,", "offset 40", "trailing comma", NULL);

	parse_bad("0-1-1," U1 ":1-5", "offset 6", "MySQL GTID in a set that began with MariaDB",
	          NULL);
	parse_bad(U1 ":1-5,0-1-1", "offset 41", "MariaDB GTID in a set that began with MySQL",
	          NULL);

	parse_bad("3e11fa47-71ca-11e1-9e33-c80aa942956:1-5", "offset 0", "is not a UUID", NULL);
	parse_bad("3e11fa47-71ca-11e1-9e33-c80aa942956g:1", "is not a UUID", NULL);
	parse_bad("3e11fa4771ca11e19e33c80aa9429562:1", "is not a UUID", NULL);
	parse_bad("3e11fa47_71ca-11e1-9e33-c80aa9429562:1", "is not a UUID", NULL);
	parse_bad(":1-5", "offset 0", "\"\" is not a UUID", NULL);
	parse_bad(U1, "offset 36", "no transaction intervals", NULL);
	parse_bad(U1 " x", "offset 37", "unexpected 'x' after the UUID", NULL);
	parse_bad(U1 ":", "offset 37", "start of an interval is missing", NULL);
	parse_bad(U1 "::1", "offset 37", "start of an interval is missing", NULL);
	parse_bad(U1 ":1-", "offset 39", "end of an interval is missing", NULL);
	parse_bad(U1 ":1-5:", "offset 41", "start of an interval is missing", NULL);
	parse_bad(U1 ":5-3", "offset 37", "interval 5-3 ends before it starts", "write it as 3-5",
	          NULL);
	parse_bad(U1 ":1-5:9-8", "offset 41", "interval 9-8", NULL);
	parse_bad(U1 ":0", "offset 37", "transaction number 0 does not exist", NULL);
	parse_bad(U1 ":0-5", "transaction number 0", NULL);
	parse_bad(U1 ":1-9223372036854775808", "offset 39",
	          "9223372036854775808 is larger than 9223372036854775807", NULL);
	parse_bad(U1 ":1-x", "offset 39", "end \"x\"", NULL);
	parse_bad(U1 ":1-5x", "offset 39", "end \"5x\"", NULL);
	parse_bad(U1 ":-5", "offset 37", "start of an interval is missing", NULL);
	parse_bad(U1 ":1-5-7", "offset 40", "unexpected '-' after an interval", NULL);
	parse_bad(U1 ":1-5 7", "offset 41", "unexpected '7' after an interval", NULL);
	parse_bad(U1 ":tag:1-5", "offset 37", "tagged GTIDs", NULL);
	parse_bad(U1 ":1\n-\tx", "offset 41", "in \"" U1 ":1 - x\"", NULL);

	/* A long entry is quoted, but cut. */
	char long_entry[300];
	memset(long_entry, 'x', sizeof(long_entry) - 1);
	long_entry[sizeof(long_entry) - 1] = '\0';
	parse_bad(long_entry, "...\"", NULL);

	/* err may be NULL. */
	dm_gtid_set *s = NULL;
	assert_int_equal(dm_gtid_parse("nope", &s, NULL), -1);
	assert_null(s);
}

static void test_parse_limit(void **state)
{
	(void)state;
	size_t n = DM_GTID_TEXT_MAX + 1;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	big[n] = '\0';
	dm_gtid_set *s = NULL;
	dm_err err;
	assert_int_equal(dm_gtid_parse(big, &s, &err), -1);
	assert_int_equal(err.code, DM_ELIMIT);
	assert_null(s);
	big[n - 1] = '\0';
	s = parse_ok(big);
	assert_true(dm_gtid_is_empty(s));
	dm_gtid_free(s);
	free(big);
}

static void test_add_mariadb(void **state)
{
	(void)state;
	dm_err err;
	dm_gtid_set *s = dm_gtid_new();
	assert_int_equal(dm_gtid_add_mariadb(s, 0, 1, 5, &err), 0);
	assert_int_equal(dm_gtid_flavor(s), DM_GTID_MARIADB);
	assert_format(s, "0-1-5");
	assert_int_equal(dm_gtid_add_mariadb(s, 0, 1, 6, &err), 0);
	assert_format(s, "0-1-6");
	/* Last one wins, as the binlog order says. */
	assert_int_equal(dm_gtid_add_mariadb(s, 0, 2, 3, &err), 0);
	assert_format(s, "0-2-3");
	assert_int_equal(dm_gtid_add_mariadb(s, 5, 1, 1, &err), 0);
	assert_int_equal(dm_gtid_add_mariadb(s, 1, 1, 1, &err), 0);
	assert_int_equal(dm_gtid_add_mariadb(s, UINT32_MAX, UINT32_MAX, UINT64_MAX, &err), 0);
	assert_format(s, "0-2-3,1-1-1,5-1-1,4294967295-4294967295-18446744073709551615");

	assert_int_equal(dm_gtid_add_mysql(s, u1, 1, &err), -1);
	assert_int_equal(err.code, DM_EINVAL);
	assert_non_null(strstr(err.msg, "cannot add a MySQL GTID to a set of MariaDB GTIDs"));
	assert_format(s, "0-2-3,1-1-1,5-1-1,4294967295-4294967295-18446744073709551615");
	dm_gtid_free(s);
}

static void test_add_mysql(void **state)
{
	(void)state;
	dm_err err;
	dm_gtid_set *s = dm_gtid_new();
	const uint64_t gnos[] = {1, 2, 3, 5, 4};
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(dm_gtid_add_mysql(s, u1, gnos[i], &err), 0);
	assert_int_equal(dm_gtid_flavor(s), DM_GTID_MYSQL);
	assert_format(s, U1 ":1-5");
	assert_int_equal(dm_gtid_add_mysql(s, u1, 10, &err), 0);
	assert_format(s, U1 ":1-5:10");
	assert_int_equal(dm_gtid_add_mysql(s, u1, 7, &err), 0);
	assert_format(s, U1 ":1-5:7:10");
	assert_int_equal(dm_gtid_add_mysql(s, u1, 9, &err), 0);
	assert_int_equal(dm_gtid_add_mysql(s, u1, 8, &err), 0);
	assert_format(s, U1 ":1-5:7-10");
	assert_int_equal(dm_gtid_add_mysql(s, u1, 6, &err), 0);
	assert_format(s, U1 ":1-10");
	assert_int_equal(dm_gtid_add_mysql(s, u1, 3, &err), 0);
	assert_format(s, U1 ":1-10");
	assert_int_equal(dm_gtid_add_mysql(s, u2, 1, &err), 0);
	assert_int_equal(dm_gtid_add_mysql(s, u3, 9223372036854775807ULL, &err), 0);
	assert_format(s, U1 ":1-10," U2 ":1," U3 ":9223372036854775807");

	assert_int_equal(dm_gtid_add_mysql(s, u1, 0, &err), -1);
	assert_non_null(strstr(err.msg, U1 ":0"));
	assert_int_equal(dm_gtid_add_mysql(s, u1, 9223372036854775808ULL, &err), -1);
	assert_int_equal(dm_gtid_add_mysql(s, u1, UINT64_MAX, &err), -1);
	assert_int_equal(dm_gtid_add_mariadb(s, 0, 1, 1, &err), -1);
	assert_int_equal(err.code, DM_EINVAL);
	assert_non_null(strstr(err.msg, "cannot add a MariaDB GTID to a set of MySQL GTIDs"));
	assert_format(s, U1 ":1-10," U2 ":1," U3 ":9223372036854775807");
	dm_gtid_free(s);
}

static void merge_case(const char *dst_text, const char *src_text, const char *want)
{
	dm_gtid_set *dst = parse_ok(dst_text), *src = parse_ok(src_text);
	dm_err err;
	assert_int_equal(dm_gtid_merge(dst, src, &err), 0);
	assert_format(dst, want);
	assert_true(dm_gtid_contains(dst, src));
	dm_gtid_free(dst);
	dm_gtid_free(src);
}

static void test_merge(void **state)
{
	(void)state;
	merge_case("0-1-10,1-1-5", "0-2-7,1-2-9,2-1-1", "0-1-10,1-2-9,2-1-1");
	merge_case("0-1-5", "0-2-5", "0-1-5");
	merge_case("", "0-2-5", "0-2-5");
	merge_case("0-2-5", "", "0-2-5");
	merge_case("", "", "");
	merge_case(U1 ":1-5", U1 ":6-10:20," U2 ":1", U1 ":1-10:20," U2 ":1");
	merge_case(U1 ":1-5:10-15:20-25", U1 ":3-22", U1 ":1-25");
	merge_case(U2 ":1", U1 ":1", U1 ":1," U2 ":1");
	merge_case("", U1 ":1", U1 ":1");

	dm_gtid_set *a = parse_ok("0-1-1"), *b = parse_ok(U1 ":1");
	dm_err err;
	assert_int_equal(dm_gtid_merge(a, b, &err), -1);
	assert_int_equal(err.code, DM_EINVAL);
	assert_non_null(strstr(err.msg, "MySQL GTIDs into a set of MariaDB GTIDs"));
	assert_format(a, "0-1-1");
	assert_int_equal(dm_gtid_merge(b, a, &err), -1);
	assert_format(b, U1 ":1");
	dm_gtid_free(a);
	dm_gtid_free(b);
}

static bool contains_text(const char *set_text, const char *other_text)
{
	dm_gtid_set *s = parse_ok(set_text), *o = parse_ok(other_text);
	bool r = dm_gtid_contains(s, o);
	dm_gtid_free(s);
	dm_gtid_free(o);
	return r;
}

static void test_contains(void **state)
{
	(void)state;
	const char *m = "0-1-10,1-1-5";
	assert_true(contains_text(m, "0-1-10"));
	assert_true(contains_text(m, "0-1-3"));
	assert_true(contains_text(m, "0-2-9"));
	assert_true(contains_text(m, "1-1-5,0-1-10"));
	assert_true(contains_text(m, ""));
	assert_false(contains_text(m, "0-1-11"));
	assert_false(contains_text(m, "2-1-1"));
	assert_false(contains_text(m, "0-1-1,2-1-1"));
	assert_false(contains_text("", "0-1-1"));
	assert_true(contains_text("", ""));

	dm_gtid_set *s = parse_ok(m);
	assert_true(dm_gtid_contains_mariadb(s, 0, 1, 10));
	assert_true(dm_gtid_contains_mariadb(s, 0, 7, 1));
	assert_true(dm_gtid_contains_mariadb(s, 1, 9, 5));
	assert_false(dm_gtid_contains_mariadb(s, 0, 1, 11));
	assert_false(dm_gtid_contains_mariadb(s, 2, 1, 1));
	assert_false(dm_gtid_contains_mysql(s, u1, 1));
	dm_gtid_free(s);

	const char *y = U1 ":1-10:20-30," U2 ":5";
	assert_true(contains_text(y, U1 ":3-7"));
	assert_true(contains_text(y, U1 ":10"));
	assert_true(contains_text(y, U1 ":1-10:20-30"));
	assert_true(contains_text(y, U1 ":20-30," U2 ":5"));
	assert_true(contains_text(y, y));
	assert_false(contains_text(y, U1 ":10-20"));
	assert_false(contains_text(y, U1 ":11"));
	assert_false(contains_text(y, U1 ":31"));
	assert_false(contains_text(y, U1 ":1-10:21-31"));
	assert_false(contains_text(y, U2 ":4-5"));
	assert_false(contains_text(y, U3 ":1"));
	assert_false(contains_text(U1 ":1-5", U1 ":1-5," U2 ":1"));

	s = parse_ok(y);
	assert_true(dm_gtid_contains_mysql(s, u1, 1));
	assert_true(dm_gtid_contains_mysql(s, u1, 25));
	assert_true(dm_gtid_contains_mysql(s, u2, 5));
	assert_false(dm_gtid_contains_mysql(s, u1, 15));
	assert_false(dm_gtid_contains_mysql(s, u1, 0));
	assert_false(dm_gtid_contains_mysql(s, u1, UINT64_MAX));
	assert_false(dm_gtid_contains_mysql(s, u3, 1));
	assert_false(dm_gtid_contains_mariadb(s, 0, 1, 1));
	dm_gtid_free(s);

	/* Across flavours nothing is included. */
	assert_false(contains_text("0-1-1", U1 ":1"));
	assert_false(contains_text(U1 ":1", "0-1-1"));
}

static void test_equal_dup(void **state)
{
	(void)state;
	dm_gtid_set *a = parse_ok("0-1-1,1-1-2"), *b = parse_ok("1-1-2,0-1-1");
	assert_true(dm_gtid_equal(a, b));
	dm_gtid_set *c = parse_ok("0-2-1,1-1-2");
	assert_false(dm_gtid_equal(a, c));
	dm_gtid_set *d = dm_gtid_dup(a);
	assert_true(dm_gtid_equal(a, d));
	dm_err err;
	assert_int_equal(dm_gtid_add_mariadb(d, 2, 1, 1, &err), 0);
	assert_false(dm_gtid_equal(a, d));
	assert_format(a, "0-1-1,1-1-2");
	dm_gtid_free(a);
	dm_gtid_free(b);
	dm_gtid_free(c);
	dm_gtid_free(d);

	a = parse_ok(U1 ":1-5:7," U2 ":1");
	d = dm_gtid_dup(a);
	assert_true(dm_gtid_equal(a, d));
	assert_int_equal(dm_gtid_add_mysql(d, u1, 6, &err), 0);
	assert_false(dm_gtid_equal(a, d));
	assert_format(a, U1 ":1-5:7," U2 ":1");
	assert_format(d, U1 ":1-7," U2 ":1");
	b = parse_ok(U1 ":1-5:7");
	assert_false(dm_gtid_equal(a, b));
	c = parse_ok("0-1-1");
	assert_false(dm_gtid_equal(b, c));
	dm_gtid_free(a);
	dm_gtid_free(b);
	dm_gtid_free(c);
	dm_gtid_free(d);

	a = dm_gtid_new();
	b = parse_ok("");
	d = dm_gtid_dup(a);
	assert_true(dm_gtid_equal(a, b));
	assert_true(dm_gtid_equal(a, d));
	dm_gtid_free(a);
	dm_gtid_free(b);
	dm_gtid_free(d);
}

static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#define NSID 3
#define NGNO 120

/* Canonical text of a bitmap model, built independently of the module. */
static char *model_text(bool bits[NSID][NGNO + 1])
{
	static const char *const names[NSID] = {U1, U2, U3};
	dm_buf b;
	dm_buf_init(&b);
	for (int u = 0; u < NSID; u++) {
		bool any = false;
		for (int g = 1; g <= NGNO; g++) {
			if (!bits[u][g] || bits[u][g - 1])
				continue;
			int e = g;
			while (e < NGNO && bits[u][e + 1])
				e++;
			if (!any)
				dm_buf_printf(&b, "%s%s", b.len ? "," : "", names[u]);
			any = true;
			if (e == g)
				dm_buf_printf(&b, ":%d", g);
			else
				dm_buf_printf(&b, ":%d-%d", g, e);
		}
	}
	return dm_buf_detach(&b);
}

static void check_roundtrip(const dm_gtid_set *s)
{
	char *text = dm_gtid_format(s);
	dm_gtid_set *back = parse_ok(text);
	assert_true(dm_gtid_equal(s, back));
	assert_true(dm_gtid_contains(s, back));
	assert_true(dm_gtid_contains(back, s));
	dm_gtid_free(back);
	free(text);
}

static void test_random_mysql(void **state)
{
	(void)state;
	const unsigned char *uuids[NSID] = {u1, u2, u3};
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	dm_err err;
	for (int round = 0; round < 200; round++) {
		bool bits[NSID][NGNO + 1] = {{false}};
		bool sub[NSID][NGNO + 1] = {{false}};
		dm_gtid_set *s = dm_gtid_new();
		dm_gtid_set *part = dm_gtid_new();
		int adds = (int)(next_rand(&x) % 150);
		for (int i = 0; i < adds; i++) {
			int u = (int)(next_rand(&x) % NSID);
			int g = 1 + (int)(next_rand(&x) % NGNO);
			if (next_rand(&x) % 4 == 0) {
				/* A whole interval, through merge of parsed text. */
				int e = g + (int)(next_rand(&x) % 10);
				if (e > NGNO)
					e = NGNO;
				static const char *const names[NSID] = {U1, U2, U3};
				char text[80];
				snprintf(text, sizeof(text), "%s:%d-%d", names[u], g, e);
				dm_gtid_set *iv = parse_ok(text);
				assert_int_equal(dm_gtid_merge(s, iv, &err), 0);
				dm_gtid_free(iv);
				for (int k = g; k <= e; k++)
					bits[u][k] = true;
			} else {
				assert_int_equal(dm_gtid_add_mysql(s, uuids[u], (uint64_t)g, &err),
				                 0);
				bits[u][g] = true;
				if (next_rand(&x) % 2) {
					assert_int_equal(dm_gtid_add_mysql(part, uuids[u],
					                                   (uint64_t)g, &err),
					                 0);
					sub[u][g] = true;
				}
			}
		}
		char *want = model_text(bits);
		char *got = dm_gtid_format(s);
		assert_string_equal(got, want);
		free(got);
		free(want);
		check_roundtrip(s);
		for (int u = 0; u < NSID; u++)
			for (int g = 0; g <= NGNO + 1; g++)
				assert_int_equal(dm_gtid_contains_mysql(s, uuids[u], (uint64_t)g),
				                 g <= NGNO && bits[u][g]);
		/* part holds some of s's single adds, so s includes it; part
		 * includes s only when they are the same. */
		assert_true(dm_gtid_contains(s, part));
		assert_int_equal(dm_gtid_contains(part, s), memcmp(bits, sub, sizeof(bits)) == 0);
		dm_gtid_free(part);
		dm_gtid_free(s);
	}
}

static void test_random_mariadb(void **state)
{
	(void)state;
	uint64_t x = 0x2545f4914f6cdd1dULL;
	dm_err err;
	for (int round = 0; round < 200; round++) {
		uint32_t server[8] = {0};
		uint64_t seq[8] = {0};
		bool has[8] = {false};
		dm_gtid_set *s = dm_gtid_new();
		int adds = (int)(next_rand(&x) % 20);
		for (int i = 0; i < adds; i++) {
			int d = (int)(next_rand(&x) % 8);
			uint32_t sv = (uint32_t)next_rand(&x);
			uint64_t sq = next_rand(&x) >> (next_rand(&x) % 64);
			assert_int_equal(
			        dm_gtid_add_mariadb(s, (uint32_t)d * 536870911u, sv, sq, &err), 0);
			has[d] = true;
			server[d] = sv;
			seq[d] = sq;
		}
		dm_buf b;
		dm_buf_init(&b);
		for (int d = 0; d < 8; d++)
			if (has[d])
				dm_buf_printf(&b, "%s%u-%u-%llu", b.len ? "," : "",
				              (unsigned)d * 536870911u, (unsigned)server[d],
				              (unsigned long long)seq[d]);
		assert_format(s, dm_buf_str(&b));
		dm_buf_fini(&b);
		check_roundtrip(s);
		for (int d = 0; d < 8; d++) {
			uint32_t dom = (uint32_t)d * 536870911u;
			assert_int_equal(dm_gtid_contains_mariadb(s, dom, 0, 0), has[d]);
			if (has[d] && seq[d] < UINT64_MAX)
				assert_false(
				        dm_gtid_contains_mariadb(s, dom, server[d], seq[d] + 1));
		}
		dm_gtid_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_empty),           cmocka_unit_test(test_mariadb_roundtrip),
	        cmocka_unit_test(test_mysql_roundtrip), cmocka_unit_test(test_parse_errors),
	        cmocka_unit_test(test_parse_limit),     cmocka_unit_test(test_add_mariadb),
	        cmocka_unit_test(test_add_mysql),       cmocka_unit_test(test_merge),
	        cmocka_unit_test(test_contains),        cmocka_unit_test(test_equal_dup),
	        cmocka_unit_test(test_random_mysql),    cmocka_unit_test(test_random_mariadb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
