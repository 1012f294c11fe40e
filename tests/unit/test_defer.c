/* Which indexes the full copy puts off, and the table it creates first
 * (dm_defer_split, on SHOW CREATE TABLE text as MariaDB prints it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "migrate/defer.h"

static const char sysbench[] = " (\n"
                               "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
                               "  `k` int(11) NOT NULL DEFAULT 0,\n"
                               "  `c` char(120) NOT NULL DEFAULT '',\n"
                               "  PRIMARY KEY (`id`),\n"
                               "  KEY `k_1` (`k`)\n"
                               ") ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=latin1";

static void test_sysbench(void **state)
{
	(void)state;
	char *body;
	dm_defer d;
	dm_defer_init(&d);
	dm_defer_split(sysbench, &body, &d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.items[0].name, "k_1");
	assert_string_equal(d.items[0].clause, "KEY `k_1` (`k`)");
	assert_string_equal(body, " (\n"
	                          "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
	                          "  `k` int(11) NOT NULL DEFAULT 0,\n"
	                          "  `c` char(120) NOT NULL DEFAULT '',\n"
	                          "  PRIMARY KEY (`id`)\n"
	                          ") ENGINE=InnoDB AUTO_INCREMENT=7 DEFAULT CHARSET=latin1");
	free(body);
	dm_defer_fini(&d);
}

static void test_keys_that_stay(void **state)
{
	(void)state;
	static const char def[] = "(\n"
	                          "  `id` bigint NOT NULL AUTO_INCREMENT,\n"
	                          "  `a` int DEFAULT NULL,\n"
	                          "  `b` varchar(20) DEFAULT NULL,\n"
	                          "  `t` text DEFAULT NULL,\n"
	                          "  UNIQUE KEY `ua` (`a`),\n"
	                          "  KEY `id_b` (`id`,`b`),\n"
	                          "  KEY `b``q` (`b`(10)) COMMENT 'x, y',\n"
	                          "  FULLTEXT KEY `ft` (`t`),\n"
	                          "  KEY `fn` ((`a` + 1)),\n"
	                          "  CONSTRAINT `pos` CHECK (`a` > 0)\n"
	                          ") ENGINE=InnoDB";
	char *body;
	dm_defer d;
	dm_defer_init(&d);
	dm_defer_split(def, &body, &d);
	/* id_b is what makes the AUTO_INCREMENT column a key: it stays */
	assert_int_equal(d.n, 2);
	assert_string_equal(d.items[0].name, "b`q");
	assert_string_equal(d.items[0].clause, "KEY `b``q` (`b`(10)) COMMENT 'x, y'");
	assert_string_equal(d.items[1].name, "fn");
	assert_string_equal(d.items[1].clause, "KEY `fn` ((`a` + 1))");
	assert_string_equal(body, "(\n"
	                          "  `id` bigint NOT NULL AUTO_INCREMENT,\n"
	                          "  `a` int DEFAULT NULL,\n"
	                          "  `b` varchar(20) DEFAULT NULL,\n"
	                          "  `t` text DEFAULT NULL,\n"
	                          "  UNIQUE KEY `ua` (`a`),\n"
	                          "  KEY `id_b` (`id`,`b`),\n"
	                          "  FULLTEXT KEY `ft` (`t`),\n"
	                          "  CONSTRAINT `pos` CHECK (`a` > 0)\n"
	                          ") ENGINE=InnoDB");
	free(body);
	dm_defer_fini(&d);
}

static void assert_whole(const char *def)
{
	char *body;
	dm_defer d;
	dm_defer_init(&d);
	dm_defer_split(def, &body, &d);
	assert_int_equal(d.n, 0);
	assert_string_equal(body, def);
	free(body);
	dm_defer_fini(&d);
}

static void test_tables_created_whole(void **state)
{
	(void)state;
	/* a foreign key may need the index */
	assert_whole(" (\n  `id` int NOT NULL,\n  `p` int,\n  PRIMARY KEY (`id`),\n"
	             "  KEY `p` (`p`),\n  CONSTRAINT `fk` FOREIGN KEY (`p`) REFERENCES `par` "
	             "(`id`)\n) ENGINE=InnoDB");
	/* ALTER TABLE ADD INDEX copies a MyISAM or Aria table */
	assert_whole(" (\n  `id` int NOT NULL,\n  `k` int,\n  PRIMARY KEY (`id`),\n"
	             "  KEY `k` (`k`)\n) ENGINE=MyISAM");
	/* nothing to put off */
	assert_whole(" (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB");
	/* not SHOW CREATE's layout */
	assert_whole(" (`id` int, KEY `k` (`id`)) ENGINE=InnoDB");
	assert_whole("");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sysbench),
	        cmocka_unit_test(test_keys_that_stay),
	        cmocka_unit_test(test_tables_created_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
