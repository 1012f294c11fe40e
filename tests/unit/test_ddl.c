#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "migrate/ddl.h"

/* Parses a heap copy of exactly the statement's bytes, without a NUL, so
 * ASan reports any read past the end. */
static int parse_n(const char *sql, size_t n, const char *db, dm_ddl *d, dm_err *err)
{
	char *copy = malloc(n ? n : 1);
	memcpy(copy, sql, n);
	int rc = dm_ddl_parse(copy, n, db, d, err);
	free(copy);
	return rc;
}

static void str_is(const char *got, const char *want, const char *sql)
{
	if (want == NULL && got != NULL)
		fail_msg("%s: got \"%s\", want NULL", sql, got);
	if (want != NULL && (got == NULL || strcmp(got, want) != 0))
		fail_msg("%s: got \"%s\", want \"%s\"", sql, got ? got : "(null)", want);
}

/* Parses sql and checks its kind and names: n triples of schema, table and
 * the name's text as written. The caller finishes the result. */
static dm_ddl check(const char *sql, const char *db, dm_ddl_kind kind, size_t n, ...)
{
	dm_ddl d;
	dm_err err;
	if (parse_n(sql, strlen(sql), db, &d, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
	if (d.kind != kind || d.nnames != n)
		fail_msg("%s: kind %d with %zu names, want %d with %zu", sql, (int)d.kind, d.nnames,
		         (int)kind, n);
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		const char *schema = va_arg(ap, const char *);
		const char *table = va_arg(ap, const char *);
		const char *text = va_arg(ap, const char *);
		const dm_ddl_name *nm = &d.names[i];
		str_is(nm->schema, schema, sql);
		str_is(nm->table, table, sql);
		assert_true(nm->off + nm->len <= strlen(sql));
		if (nm->len != strlen(text) || memcmp(sql + nm->off, text, nm->len) != 0)
			fail_msg("%s: name %zu is \"%.*s\", want \"%s\"", sql, i, (int)nm->len,
			         sql + nm->off, text);
	}
	va_end(ap);
	return d;
}

/* check() for statements whose flags do not matter. */
static void check0(const char *sql, const char *db, dm_ddl_kind kind, const char *schema,
                   const char *table, const char *text)
{
	dm_ddl d = check(sql, db, kind, 1, schema, table, text);
	dm_ddl_fini(&d);
}

static void test_create_table(void **state)
{
	(void)state;
	check0("CREATE TABLE t (a INT)", "db", DM_DDL_CREATE_TABLE, "db", "t", "t");
	check0("create table t(a int)", NULL, DM_DDL_CREATE_TABLE, NULL, "t", "t");
	check0("CREATE TABLE db2.t (a INT)", "db", DM_DDL_CREATE_TABLE, "db2", "t", "db2.t");
	check0("CREATE TABLE `db2` . `t`(a INT)", NULL, DM_DDL_CREATE_TABLE, "db2", "t",
	       "`db2` . `t`");
	check0("CREATE\n\tTABLE\r\n  t\n(\n a INT\n)\n", "db", DM_DDL_CREATE_TABLE, "db", "t", "t");
	dm_ddl d = check("CREATE TABLE IF NOT EXISTS `t` (id INT PRIMARY KEY) ENGINE=InnoDB", "db",
	                 DM_DDL_CREATE_TABLE, 1, "db", "t", "`t`");
	assert_true(d.if_not_exists);
	assert_false(d.if_exists);
	assert_false(d.temporary);
	dm_ddl_fini(&d);
	d = check("CREATE OR REPLACE TEMPORARY TABLE tmp (a INT)", "db", DM_DDL_CREATE_TABLE, 1,
	          "db", "tmp", "tmp");
	assert_true(d.temporary);
	dm_ddl_fini(&d);
	d = check("CREATE TABLE a.t LIKE b.u", "db", DM_DDL_CREATE_TABLE, 2, "a", "t", "a.t", "b",
	          "u", "b.u");
	dm_ddl_fini(&d);
	d = check("CREATE TABLE IF NOT EXISTS t ( LIKE `u` ) ;", "db", DM_DDL_CREATE_TABLE, 2, "db",
	          "t", "t", "db", "u", "`u`");
	dm_ddl_fini(&d);
	check0("CREATE TABLE t AS SELECT * FROM other.u WHERE x = 'a)'", "db", DM_DDL_CREATE_TABLE,
	       "db", "t", "t");
	check0("CREATE TABLE t SELECT 1 AS a", "db", DM_DDL_CREATE_TABLE, "db", "t", "t");
	check0("CREATE TABLE t (a INT) IGNORE SELECT a FROM u", "db", DM_DDL_CREATE_TABLE, "db",
	       "t", "t");
	check0("CREATE TABLE `p` (`id` int(11) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB "
	       "/*!50100 PARTITION BY RANGE (`id`) (PARTITION p0 VALUES LESS THAN (10) ENGINE = "
	       "InnoDB) */",
	       "db", DM_DDL_CREATE_TABLE, "db", "p", "`p`");
	check0("CREATE TABLE t (a INT COMMENT 'x; DROP TABLE y', b TEXT DEFAULT 'it''s (')", "db",
	       DM_DDL_CREATE_TABLE, "db", "t", "t");
}

static void test_alter_table(void **state)
{
	(void)state;
	check0("ALTER TABLE t ADD COLUMN b INT", "db", DM_DDL_ALTER_TABLE, "db", "t", "t");
	check0("ALTER ONLINE IGNORE TABLE x.t ADD INDEX (a)", NULL, DM_DDL_ALTER_TABLE, "x", "t",
	       "x.t");
	check0("ALTER IGNORE TABLE t DROP COLUMN c", "db", DM_DDL_ALTER_TABLE, "db", "t", "t");
	dm_ddl d = check("ALTER TABLE IF EXISTS t ENGINE=InnoDB", "db", DM_DDL_ALTER_TABLE, 1, "db",
	                 "t", "t");
	assert_true(d.if_exists);
	dm_ddl_fini(&d);
	d = check("ALTER TABLE a RENAME TO b", "db", DM_DDL_ALTER_TABLE, 2, "db", "a", "a", "db",
	          "b", "b");
	dm_ddl_fini(&d);
	d = check("alter table a rename as x.b", "db", DM_DDL_ALTER_TABLE, 2, "db", "a", "a", "x",
	          "b", "x.b");
	dm_ddl_fini(&d);
	d = check("ALTER TABLE s.a ADD c INT, RENAME `b`, ALGORITHM=COPY", "db", DM_DDL_ALTER_TABLE,
	          2, "s", "a", "s.a", "db", "b", "`b`");
	dm_ddl_fini(&d);
	d = check("ALTER TABLE a ADD (c INT, d INT), RENAME TO b", NULL, DM_DDL_ALTER_TABLE, 2,
	          NULL, "a", "a", NULL, "b", "b");
	dm_ddl_fini(&d);
	/* Renaming something else, or RENAME where it is not the keyword. */
	check0("ALTER TABLE t RENAME COLUMN a TO b", "db", DM_DDL_ALTER_TABLE, "db", "t", "t");
	check0("ALTER TABLE t RENAME INDEX a TO b, RENAME KEY c TO d", "db", DM_DDL_ALTER_TABLE,
	       "db", "t", "t");
	check0("ALTER TABLE t COMMENT 'RENAME TO x'", "db", DM_DDL_ALTER_TABLE, "db", "t", "t");
	check0("ALTER TABLE t COMMENT \"RENAME TO x\"", "db", DM_DDL_ALTER_TABLE, "db", "t", "t");
	check0("ALTER TABLE t ADD `rename` INT /* RENAME TO x */", "db", DM_DDL_ALTER_TABLE, "db",
	       "t", "t");
	check0("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES o.rename (id)", "db",
	       DM_DDL_ALTER_TABLE, "db", "t", "t");
	check0("ALTER TABLE t ADD CHECK (a IN ('(', ')'))", "db", DM_DDL_ALTER_TABLE, "db", "t",
	       "t");
	check0("ALTER TABLE t", "db", DM_DDL_ALTER_TABLE, "db", "t", "t");
}

static void test_drop_table(void **state)
{
	(void)state;
	dm_ddl d = check("DROP TABLE a, db2.b ,`c`", "db", DM_DDL_DROP_TABLE, 3, "db", "a", "a",
	                 "db2", "b", "db2.b", "db", "c", "`c`");
	assert_false(d.if_exists);
	dm_ddl_fini(&d);
	d = check("drop tables if exists a,b", NULL, DM_DDL_DROP_TABLE, 2, NULL, "a", "a", NULL,
	          "b", "b");
	assert_true(d.if_exists);
	dm_ddl_fini(&d);
	d = check("DROP TABLE `t` /* generated by server */", "db", DM_DDL_DROP_TABLE, 1, "db", "t",
	          "`t`");
	dm_ddl_fini(&d);
	d = check("DROP TABLE IF EXISTS `db`.`t` /* generated by server */", NULL,
	          DM_DDL_DROP_TABLE, 1, "db", "t", "`db`.`t`");
	assert_true(d.if_exists);
	dm_ddl_fini(&d);
	d = check("DROP TEMPORARY TABLE IF EXISTS t", "db", DM_DDL_DROP_TABLE, 1, "db", "t", "t");
	assert_true(d.temporary);
	dm_ddl_fini(&d);
	d = check("DROP /*!40005 TEMPORARY */ TABLE IF EXISTS `t`", "db", DM_DDL_DROP_TABLE, 1,
	          "db", "t", "`t`");
	assert_true(d.temporary);
	assert_true(d.if_exists);
	dm_ddl_fini(&d);
	check0("DROP TABLE t RESTRICT", "db", DM_DDL_DROP_TABLE, "db", "t", "t");
	check0("DROP TABLE t WAIT 5 CASCADE;", "db", DM_DDL_DROP_TABLE, "db", "t", "t");
	check0("DROP TABLE t NOWAIT", "db", DM_DDL_DROP_TABLE, "db", "t", "t");
}

static void test_rename_table(void **state)
{
	(void)state;
	dm_ddl d = check("RENAME TABLE a TO b, x.c TO `y`.`d`", "db", DM_DDL_RENAME_TABLE, 4, "db",
	                 "a", "a", "db", "b", "b", "x", "c", "x.c", "y", "d", "`y`.`d`");
	dm_ddl_fini(&d);
	d = check("rename tables if exists a wait 3 to b", NULL, DM_DDL_RENAME_TABLE, 2, NULL, "a",
	          "a", NULL, "b", "b");
	assert_true(d.if_exists);
	dm_ddl_fini(&d);
	d = check("RENAME TABLE a NOWAIT TO b", "db", DM_DDL_RENAME_TABLE, 2, "db", "a", "a", "db",
	          "b", "b");
	dm_ddl_fini(&d);
}

static void test_truncate(void **state)
{
	(void)state;
	check0("TRUNCATE TABLE t", "db", DM_DDL_TRUNCATE_TABLE, "db", "t", "t");
	check0("truncate x.t", "db", DM_DDL_TRUNCATE_TABLE, "x", "t", "x.t");
	check0("TRUNCATE `t` WAIT 1", NULL, DM_DDL_TRUNCATE_TABLE, NULL, "t", "`t`");
}

static void test_index(void **state)
{
	(void)state;
	check0("CREATE INDEX i ON t (a)", "db", DM_DDL_CREATE_INDEX, "db", "t", "t");
	dm_ddl d = check("CREATE UNIQUE INDEX IF NOT EXISTS `i` ON x.`t` (a(10) DESC) USING BTREE",
	                 "db", DM_DDL_CREATE_INDEX, 1, "x", "t", "x.`t`");
	assert_true(d.if_not_exists);
	dm_ddl_fini(&d);
	check0("create fulltext index ft on t(body)", "db", DM_DDL_CREATE_INDEX, "db", "t", "t");
	check0("CREATE SPATIAL INDEX sp ON t (g)", "db", DM_DDL_CREATE_INDEX, "db", "t", "t");
	check0("CREATE OR REPLACE ONLINE UNIQUE INDEX i USING HASH ON t (a)", "db",
	       DM_DDL_CREATE_INDEX, "db", "t", "t");
	check0("DROP INDEX i ON t", "db", DM_DDL_DROP_INDEX, "db", "t", "t");
	d = check("DROP INDEX IF EXISTS `PRIMARY` ON x.t ALGORITHM=INPLACE LOCK=NONE", NULL,
	          DM_DDL_DROP_INDEX, 1, "x", "t", "x.t");
	assert_true(d.if_exists);
	dm_ddl_fini(&d);
}

static void test_database(void **state)
{
	(void)state;
	dm_ddl d = check("CREATE DATABASE IF NOT EXISTS `shop` /*!40100 DEFAULT CHARACTER SET "
	                 "utf8mb4 */",
	                 "other", DM_DDL_CREATE_DATABASE, 1, "shop", NULL, "`shop`");
	assert_true(d.if_not_exists);
	dm_ddl_fini(&d);
	check0("create schema s", NULL, DM_DDL_CREATE_DATABASE, "s", NULL, "s");
	check0("CREATE OR REPLACE DATABASE s CHARACTER SET = latin1", NULL, DM_DDL_CREATE_DATABASE,
	       "s", NULL, "s");
	d = check("DROP DATABASE IF EXISTS s", "s", DM_DDL_DROP_DATABASE, 1, "s", NULL, "s");
	assert_true(d.if_exists);
	dm_ddl_fini(&d);
	check0("DROP SCHEMA `s`", NULL, DM_DDL_DROP_DATABASE, "s", NULL, "`s`");
	check0("ALTER DATABASE s CHARACTER SET utf8mb4", NULL, DM_DDL_ALTER_DATABASE, "s", NULL,
	       "s");
	check0("ALTER SCHEMA `s` DEFAULT COLLATE utf8mb4_bin", NULL, DM_DDL_ALTER_DATABASE, "s",
	       NULL, "`s`");
	check0("ALTER DATABASE `#mysql50#a-b` UPGRADE DATA DIRECTORY NAME", NULL,
	       DM_DDL_ALTER_DATABASE, "#mysql50#a-b", NULL, "`#mysql50#a-b`");
	check0("ALTER DATABASE charset CHARSET latin1", NULL, DM_DDL_ALTER_DATABASE, "charset",
	       NULL, "charset");
	/* No name: the default database, an empty span after DATABASE. */
	const char *sql = "ALTER DATABASE CHARACTER SET utf8mb4";
	d = check(sql, "cur", DM_DDL_ALTER_DATABASE, 1, "cur", NULL, "");
	assert_int_equal(d.names[0].off, strlen("ALTER DATABASE"));
	dm_ddl_fini(&d);
	check0("alter schema default charset = latin1", NULL, DM_DDL_ALTER_DATABASE, NULL, NULL,
	       "");
	check0("ALTER DATABASE comment COMMENT 'x'", NULL, DM_DDL_ALTER_DATABASE, "comment", NULL,
	       "comment");
	check0("ALTER DATABASE COMMENT 'x'", "cur", DM_DDL_ALTER_DATABASE, "cur", NULL, "");
}

static void test_quoting(void **state)
{
	(void)state;
	check0("DROP TABLE `a.b`.`c d`", NULL, DM_DDL_DROP_TABLE, "a.b", "c d", "`a.b`.`c d`");
	check0("DROP TABLE `a``b`", "db", DM_DDL_DROP_TABLE, "db", "a`b", "`a``b`");
	check0("DROP TABLE ````", "db", DM_DDL_DROP_TABLE, "db", "`", "````");
	check0("DROP TABLE `x'y\"z`", "db", DM_DDL_DROP_TABLE, "db", "x'y\"z", "`x'y\"z`");
	check0("DROP TABLE `über`.`tä`", NULL, DM_DDL_DROP_TABLE, "über", "tä", "`über`.`tä`");
	check0("DROP TABLE über.表", NULL, DM_DDL_DROP_TABLE, "über", "表", "über.表");
	check0("DROP TABLE db\n.\n`t`", NULL, DM_DDL_DROP_TABLE, "db", "t", "db\n.\n`t`");
	check0("DROP TABLE `db` /* c */ . /* d */ t", NULL, DM_DDL_DROP_TABLE, "db", "t",
	       "`db` /* c */ . /* d */ t");
	/* After a dot even a reserved word is a name. */
	check0("DROP TABLE db.select", NULL, DM_DDL_DROP_TABLE, "db", "select", "db.select");
	check0("DROP TABLE `select`", "db", DM_DDL_DROP_TABLE, "db", "select", "`select`");
	dm_ddl d = check("DROP TABLE a,1t,_x", "db", DM_DDL_DROP_TABLE, 3, "db", "a", "a", "db",
	                 "1t", "1t", "db", "_x", "_x");
	dm_ddl_fini(&d);
}

static void test_comments(void **state)
{
	(void)state;
	check0("/* lead */ DROP /* a */ TABLE /* b */ t /* c */", "db", DM_DDL_DROP_TABLE, "db",
	       "t", "t");
	check0("-- lead\nDROP -- x\nTABLE # y\nt -- z", "db", DM_DDL_DROP_TABLE, "db", "t", "t");
	check0("# only\nTRUNCATE t#", "db", DM_DDL_TRUNCATE_TABLE, "db", "t", "t");
	check0("/*!40000 ALTER TABLE `t` DISABLE KEYS */", "db", DM_DDL_ALTER_TABLE, "db", "t",
	       "`t`");
	check0("/*!40000 ALTER TABLE `t` DISABLE KEYS */;", "db", DM_DDL_ALTER_TABLE, "db", "t",
	       "`t`");
	check0("/*M!100000 CREATE OR REPLACE TABLE t (a INT) */", "db", DM_DDL_CREATE_TABLE, "db",
	       "t", "t");
	check0("/*!DROP*/ TABLE/*!*/t", "db", DM_DDL_DROP_TABLE, "db", "t", "t");
	check0("CREATE TABLE t (a INT /*!80016 NOT ENFORCED */) /*M!100301 COMMENT 'c' */", "db",
	       DM_DDL_CREATE_TABLE, "db", "t", "t");
	check0("DROP TABLE /*!40101 IF EXISTS */ t", "db", DM_DDL_DROP_TABLE, "db", "t", "t");
	check0("CREATE TABLE t (a INT) /*!40101 x /* inner */ y */", "db", DM_DDL_CREATE_TABLE,
	       "db", "t", "t");
	/* "--" without a blank after it is two minus signs, not a comment. */
	check0("CREATE TABLE t (a INT DEFAULT 1--1)", "db", DM_DDL_CREATE_TABLE, "db", "t", "t");
	check0("/*+ hint */ TRUNCATE t", "db", DM_DDL_TRUNCATE_TABLE, "db", "t", "t");
}

static void test_strings(void **state)
{
	(void)state;
	check0("CREATE TABLE t (a INT) COMMENT 'x; DROP TABLE y'", "db", DM_DDL_CREATE_TABLE, "db",
	       "t", "t");
	check0("CREATE TABLE t (a VARCHAR(3) DEFAULT 'it\\'s ) `x', b INT) COMMENT \"a\"\"b\"",
	       "db", DM_DDL_CREATE_TABLE, "db", "t", "t");
	check0("ALTER TABLE t COMMENT = '/* not a comment', ADD c INT", "db", DM_DDL_ALTER_TABLE,
	       "db", "t", "t");
	check0("ALTER TABLE t COMMENT '-- x\n RENAME TO y' -- RENAME TO z", "db",
	       DM_DDL_ALTER_TABLE, "db", "t", "t");
	check0("CREATE TABLE t (a ENUM('\\\\', '`'))", "db", DM_DDL_CREATE_TABLE, "db", "t", "t");
}

static void test_other(void **state)
{
	(void)state;
	static const char *const others[] = {
	        "",
	        "   ",
	        "/* only a comment */",
	        "INSERT INTO t VALUES (1, 'DROP TABLE x')",
	        "UPDATE t SET a = 1",
	        "DELETE FROM t",
	        "REPLACE INTO t VALUES (1)",
	        "GRANT ALL ON db.* TO 'u'@'%'",
	        "REVOKE ALL ON db.* FROM u",
	        "CREATE VIEW v AS SELECT 1",
	        "CREATE OR REPLACE VIEW v AS SELECT 1",
	        "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW v AS "
	        "SELECT 1",
	        "/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER=`r`@`%` */ /*!50001 VIEW "
	        "`v` AS select 1 */",
	        "CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN DROP TABLE t; END",
	        "CREATE FUNCTION f() RETURNS INT RETURN 1",
	        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @a = 1",
	        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO TRUNCATE t",
	        "CREATE USER 'u'@'%' IDENTIFIED BY 'p'",
	        "ALTER USER u IDENTIFIED BY 'x'",
	        "DROP USER u",
	        "RENAME USER a TO b",
	        "CREATE ROLE r",
	        "CREATE TABLESPACE ts ADD DATAFILE 'ts.ibd'",
	        "ALTER TABLESPACE ts RENAME TO ts2",
	        "CREATE SEQUENCE s",
	        "CREATE TEMPORARY SEQUENCE s",
	        "DROP SEQUENCE s",
	        "DROP TEMPORARY SEQUENCE s",
	        "CREATE SPATIAL REFERENCE SYSTEM 4120 NAME 'x' DEFINITION 'y'",
	        "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'h')",
	        "DROP VIEW v",
	        "DROP PROCEDURE IF EXISTS p",
	        "ALTER VIEW v AS SELECT 2",
	        "ALTER EVENT e DISABLE",
	        "ALTER ONLINE VIEW v",
	        "BEGIN",
	        "COMMIT",
	        "ROLLBACK",
	        "SAVEPOINT sp",
	        "XA START 'x'",
	        "SET NAMES utf8mb4",
	        "FLUSH PRIVILEGES",
	        "ANALYZE TABLE t",
	        "OPTIMIZE TABLE t",
	        "USE db",
	        "'unterminated",
	        "CREATE 'x",
	        "/* unterminated",
	        "CREATE OR",
	        "DROP",
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		dm_ddl d = check(others[i], "db", DM_DDL_OTHER, 0);
		assert_null(d.names);
		assert_false(d.temporary || d.if_exists || d.if_not_exists);
		dm_ddl_fini(&d);
	}
}

/* Parses sql, rewrites it with the given names, compares with want, and
 * parses the result again: it must name exactly the routed tables. */
static void rewrite_is(const char *sql, const char *db, const char *const *schemas,
                       const char *const *tables, const char *want)
{
	dm_ddl d;
	dm_err err;
	if (parse_n(sql, strlen(sql), db, &d, &err) < 0)
		fail_msg("%s: %s", sql, err.msg);
	char *got = dm_ddl_rewrite(sql, strlen(sql), &d, schemas, tables);
	if (strcmp(got, want) != 0)
		fail_msg("rewrite of %s:\n got %s\nwant %s", sql, got, want);
	dm_ddl again;
	if (parse_n(got, strlen(got), "elsewhere", &again, &err) < 0)
		fail_msg("%s: %s", got, err.msg);
	assert_int_equal(again.kind, d.kind);
	assert_int_equal(again.nnames, d.nnames);
	for (size_t i = 0; i < d.nnames; i++) {
		if (schemas && schemas[i] && (d.names[i].table == NULL || (tables && tables[i])))
			str_is(again.names[i].schema, schemas[i], got);
		if (d.names[i].table && tables && tables[i])
			str_is(again.names[i].table, tables[i], got);
	}
	dm_ddl_fini(&again);
	dm_ddl_fini(&d);
	free(got);
}

static void test_rewrite(void **state)
{
	(void)state;
	const char *s1[] = {"tdb"}, *t1[] = {"tt"};
	rewrite_is("CREATE TABLE t (a INT COMMENT 'the t') /* t */", "db", s1, t1,
	           "CREATE TABLE `tdb`.`tt` (a INT COMMENT 'the t') /* t */");
	rewrite_is("ALTER TABLE `db` . `t`\n  ADD b INT", NULL, s1, t1,
	           "ALTER TABLE `tdb`.`tt`\n  ADD b INT");
	rewrite_is("DROP TABLE`t`/* generated by server */", "db", s1, t1,
	           "DROP TABLE`tdb`.`tt`/* generated by server */");
	rewrite_is("/*!40000 ALTER TABLE t DISABLE KEYS */", "db", s1, t1,
	           "/*!40000 ALTER TABLE `tdb`.`tt` DISABLE KEYS */");
	const char *s3[] = {"x`y", "b", "c"}, *t3[] = {"we`ird", "u", "v"};
	rewrite_is("DROP TABLE IF EXISTS a, b.u,c.v", "db", s3, t3,
	           "DROP TABLE IF EXISTS `x``y`.`we``ird`, `b`.`u`,`c`.`v`");
	const char *s4[] = {"S1", "S2", "S3", "S4"}, *t4[] = {"A", "B", "C", "D"};
	rewrite_is("RENAME TABLE a TO b, `c` TO d.e", "db", s4, t4,
	           "RENAME TABLE `S1`.`A` TO `S2`.`B`, `S3`.`C` TO `S4`.`D`");
	const char *s2[] = {"n", "n"}, *t2[] = {"a2", "b2"};
	rewrite_is("ALTER TABLE a ADD c INT, RENAME TO b", "db", s2, t2,
	           "ALTER TABLE `n`.`a2` ADD c INT, RENAME TO `n`.`b2`");
	rewrite_is("CREATE TABLE a LIKE b", "db", s2, t2, "CREATE TABLE `n`.`a2` LIKE `n`.`b2`");
	rewrite_is("CREATE INDEX i ON t (a)", "db", s1, t1, "CREATE INDEX i ON `tdb`.`tt` (a)");
	rewrite_is("DROP INDEX i ON t", "db", s1, t1, "DROP INDEX i ON `tdb`.`tt`");
	rewrite_is("TRUNCATE t", "db", s1, t1, "TRUNCATE `tdb`.`tt`");
	rewrite_is("TRUNCATE über.表", "db", (const char *[]){"ü2"}, (const char *[]){"表2"},
	           "TRUNCATE `ü2`.`表2`");
	/* Databases, including the empty span of ALTER DATABASE. */
	rewrite_is("CREATE DATABASE IF NOT EXISTS `shop`", NULL, s1, NULL,
	           "CREATE DATABASE IF NOT EXISTS `tdb`");
	rewrite_is("DROP SCHEMA shop", NULL, s1, NULL, "DROP SCHEMA `tdb`");
	rewrite_is("ALTER DATABASE CHARACTER SET utf8mb4", "shop", s1, NULL,
	           "ALTER DATABASE `tdb` CHARACTER SET utf8mb4");
	rewrite_is("ALTER DATABASE shop CHARACTER SET utf8mb4", NULL, s1, NULL,
	           "ALTER DATABASE `tdb` CHARACTER SET utf8mb4");
	/* NULL entries keep names as written; a NULL schema leaves a table
	 * unqualified. */
	const char *sn[] = {NULL, "z"}, *tn[] = {"k", NULL};
	rewrite_is("DROP TABLE a.b, c", "db", sn, tn, "DROP TABLE `k`, c");
	const char *sql = "DROP TABLE a /*x*/, `b`";
	rewrite_is(sql, "db", NULL, NULL, sql);
	/* A backquote right after a name must not merge with the new one. */
	rewrite_is("ALTER TABLE a RENAME b`c`", "db", s2, t2,
	           "ALTER TABLE `n`.`a2` RENAME `n`.`b2` `c`");
	rewrite_is("INSERT INTO t VALUES (1)", "db", s1, t1, "INSERT INTO t VALUES (1)");
}

/* The statement must fail, naming the offset and quoting the text. */
static void bad(const char *sql, const char *in_msg)
{
	dm_ddl d;
	memset(&d, 0x5a, sizeof(d));
	dm_err err;
	if (parse_n(sql, strlen(sql), "db", &d, &err) == 0)
		fail_msg("%s: parsed as kind %d", sql, (int)d.kind);
	assert_int_equal(err.code, DM_EINVAL);
	if (strstr(err.msg, in_msg) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", sql, err.msg, in_msg);
	assert_non_null(strstr(err.msg, "offset"));
	unsigned char *raw = (unsigned char *)&d;
	for (size_t i = 0; i < sizeof(d); i++)
		assert_int_equal(raw[i], 0x5a);
}

static void test_malformed(void **state)
{
	(void)state;
	bad("DROP TABLE", "offset 10, found the end");
	bad("DROP TABLE ,", "found \",\"");
	bad("DROP TABLE a,", "offset 13");
	bad("DROP TABLE a b", "offset 13, found \"b\"");
	bad("DROP TABLE `abc", "unterminated quoted name at offset 11: \"`abc\"");
	bad("DROP TABLE 'x'", "found \"'x'\"");
	bad("DROP TABLE \"x\"", "found the string \"\"x\"\" (names in double quotes need");
	bad("DROP TABLE 123", "found \"123\"");
	bad("DROP TABLE a.", "a table name after the dot");
	bad("DROP TABLE a.b.c", "found \".\"");
	bad("DROP TABLE select", "found \"select\"");
	bad("DROP TABLE IF t", "expected EXISTS");
	bad("DROP TABLE t WAIT x", "a number of seconds");
	bad("DROP TABLE a; DROP TABLE b", "the end of the statement at offset 14");
	bad("DROP /*!40005 TEMPORARY TABLE t", "unterminated executable comment at offset 5");
	bad("DROP TABLE t /* x", "unterminated comment at offset 13");
	bad("/*!40000 TRUNCATE a.*/ b", "\"a.*/ b\", is cut by the edge of an executable comment");
	bad("CREATE TABLE t (a INT", "a closing parenthesis");
	bad("CREATE TABLE t (a INT))", "no ')'");
	bad("CREATE TABLE t (a INT) COMMENT 'abc", "unterminated string at offset 31");
	bad("CREATE TABLE (a INT)", "CREATE TABLE statement: expected a table name");
	bad("CREATE TABLE t LIKE", "a table name");
	bad("CREATE TABLE t (LIKE u", "')'");
	bad("CREATE TABLE IF EXISTS t (a INT)", "expected NOT");
	bad("ALTER TABLE t RENAME", "a table name");
	bad("ALTER TABLE a RENAME b, RENAME c", "a single RENAME clause");
	bad("RENAME TABLE a b", "expected TO");
	bad("RENAME TABLE a TO", "a table name");
	bad("RENAME TABLE a TO b,", "a table name");
	bad("TRUNCATE", "a table name");
	bad("TRUNCATE TABLE", "a table name");
	bad("CREATE INDEX i t (a)", "expected ON");
	bad("CREATE INDEX ON t (a)", "an index name");
	bad("DROP INDEX i", "expected ON");
	bad("CREATE DATABASE", "a database name");
	bad("DROP DATABASE a b", "the end of the statement");
	bad("ALTER DATABASE", "a database name or option");
	char long_name[200];
	memset(long_name, 'x', sizeof(long_name));
	memcpy(long_name, "DROP TABLE a ", 13);
	long_name[sizeof(long_name) - 1] = '\0';
	bad(long_name, "xxx...\"");
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Whatever parses must give names inside the text in statement order, and
 * rewriting with no new names or with the parsed names must be lossless. */
static void fuzz_one(const char *sql, size_t n)
{
	dm_ddl d;
	dm_err err;
	char *copy = malloc(n ? n : 1);
	memcpy(copy, sql, n);
	if (dm_ddl_parse(copy, n, (n & 1) ? "db" : NULL, &d, &err) < 0) {
		assert_true(strstr(err.msg, "offset") != NULL);
		free(copy);
		return;
	}
	size_t pos = 0;
	const char **schemas = calloc(d.nnames + 1, sizeof(char *));
	const char **tables = calloc(d.nnames + 1, sizeof(char *));
	for (size_t i = 0; i < d.nnames; i++) {
		assert_true(d.names[i].off >= pos);
		assert_true(d.names[i].off + d.names[i].len <= n);
		pos = d.names[i].off + d.names[i].len;
		schemas[i] = d.names[i].schema;
		tables[i] = d.names[i].table;
	}
	char *same = dm_ddl_rewrite(copy, n, &d, NULL, NULL);
	assert_int_equal(strlen(same), strnlen(copy, n));
	assert_memory_equal(same, copy, strlen(same));
	free(same);
	/* A NUL in the text would cut the rewritten string short. */
	if (memchr(copy, '\0', n) == NULL) {
		char *routed = dm_ddl_rewrite(copy, n, &d, schemas, tables);
		dm_ddl again;
		if (dm_ddl_parse(routed, strlen(routed), "elsewhere", &again, &err) < 0)
			fail_msg("%.*s rewritten as %s: %s", (int)n, copy, routed, err.msg);
		assert_int_equal(again.kind, d.kind);
		assert_int_equal(again.nnames, d.nnames);
		dm_ddl_fini(&again);
		free(routed);
	}
	free(schemas);
	free(tables);
	dm_ddl_fini(&d);
	free(copy);
}

static void test_fuzz(void **state)
{
	(void)state;
	static const char *const seeds[] = {
	        "CREATE TABLE IF NOT EXISTS `a``b`.t (x INT COMMENT 'c;)') /*!50100 ENGINE=X */",
	        "ALTER ONLINE TABLE db . `t` ADD c INT, RENAME TO `n`.u -- end",
	        "DROP /*!40005 TEMPORARY */ TABLE IF EXISTS a, `b`.c /* generated by server */",
	        "RENAME TABLE a TO b, c WAIT 2 TO d",
	        "CREATE TABLE t (LIKE u)",
	        "CREATE UNIQUE INDEX i USING BTREE ON t (a)",
	        "DROP INDEX IF EXISTS i ON über.表",
	        "ALTER DATABASE DEFAULT CHARACTER SET \"x\\\"\"",
	        "/*M!100000 TRUNCATE TABLE t */ # x",
	        "/*!40000 ALTER TABLE `t` DISABLE KEYS */;",
	        "ALTER SCHEMA comment COMMENT 'c' -- x",
	};
	static const char alphabet[] = "`'\"/*!-#\n(),.;\\ aT";
	uint64_t rnd = 0x9e3779b97f4a7c15u;
	char buf[256];
	for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
		size_t n = strlen(seeds[s]);
		for (size_t cut = 0; cut <= n; cut++)
			fuzz_one(seeds[s], cut);
		for (int round = 0; round < 4000; round++) {
			memcpy(buf, seeds[s], n);
			int edits = 1 + (int)(next_rand(&rnd) % 4);
			for (int e = 0; e < edits; e++) {
				uint64_t r = next_rand(&rnd);
				char c = (r >> 32) % 3 == 0
				                 ? (char)(r >> 40)
				                 : alphabet[(r >> 40) % (sizeof(alphabet) - 1)];
				buf[r % n] = c;
			}
			fuzz_one(buf, 1 + next_rand(&rnd) % n);
		}
	}
	for (int round = 0; round < 20000; round++) {
		size_t n = next_rand(&rnd) % sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)next_rand(&rnd);
		fuzz_one(buf, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_create_table), cmocka_unit_test(test_alter_table),
	        cmocka_unit_test(test_drop_table),   cmocka_unit_test(test_rename_table),
	        cmocka_unit_test(test_truncate),     cmocka_unit_test(test_index),
	        cmocka_unit_test(test_database),     cmocka_unit_test(test_quoting),
	        cmocka_unit_test(test_comments),     cmocka_unit_test(test_strings),
	        cmocka_unit_test(test_other),        cmocka_unit_test(test_rewrite),
	        cmocka_unit_test(test_malformed),    cmocka_unit_test(test_fuzz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
