-- Schema for the binlog-decode scenario, created on the upstream and on
-- the replay target alike: one table per family of column types, the
-- storage variants of each (length prefixes of 1 and 2 bytes, CHAR over
-- 255 bytes, ENUM/SET of every width, every fractional precision, MySQL
-- 5.6 and old temporal formats), tables without a key, with a composite
-- key, with a big blob. YEAR sits before unsigned columns on purpose: the
-- SIGNEDNESS metadata counts it on MariaDB.
SET NAMES utf8mb4;
SET SESSION group_concat_max_len = 1000000;
DROP DATABASE IF EXISTS bd;
CREATE DATABASE bd CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
USE bd;

CREATE TABLE t_int (
  id INT PRIMARY KEY, y YEAR, tu TINYINT UNSIGNED, ti TINYINT, si SMALLINT,
  su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, bu BIGINT UNSIGNED, b1 BIT(1), b8 BIT(8), b13 BIT(13), b64 BIT(64), bo BOOL);

CREATE TABLE t_num (
  id INT PRIMARY KEY, d1 DECIMAL(65,30), d2 DECIMAL(10,0), d3 DECIMAL(5,2) UNSIGNED,
  d4 DECIMAL(18,9), d5 DECIMAL(9,9), d6 DECIMAL(1,0), d7 DECIMAL(38,10), d8 DECIMAL(65,0),
  f FLOAT, d DOUBLE, f2 FLOAT(10,3), du DOUBLE UNSIGNED);

CREATE TABLE t_str (
  id INT PRIMARY KEY, c CHAR(10), cu CHAR(255), cl CHAR(20) CHARACTER SET latin1,
  v VARCHAR(200), vl VARCHAR(100) CHARACTER SET latin1, vl2 VARCHAR(300) CHARACTER SET latin1,
  b BINARY(8), vb VARBINARY(64), vb2 VARBINARY(1000), tt TINYTEXT, tx TEXT, mt MEDIUMTEXT,
  lt LONGTEXT, tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB, j JSON);

SET @e300 = (SELECT GROUP_CONCAT(CONCAT("'e", seq, "'") ORDER BY seq) FROM seq_1_to_300);
SET @s10 = (SELECT GROUP_CONCAT(CONCAT("'s", seq, "'") ORDER BY seq) FROM seq_1_to_10);
SET @s20 = (SELECT GROUP_CONCAT(CONCAT("'s", seq, "'") ORDER BY seq) FROM seq_1_to_20);
SET @s64 = (SELECT GROUP_CONCAT(CONCAT("'s", seq, "'") ORDER BY seq) FROM seq_1_to_64);
SET @q = CONCAT("CREATE TABLE t_enum (id INT PRIMARY KEY, e ENUM('a','b','c d',''), e300 ENUM(",
  @e300, "), s SET('x','y','z'), s10 SET(", @s10, "), s20 SET(", @s20, "), s64 SET(", @s64, "))");
PREPARE st FROM @q;
EXECUTE st;
DEALLOCATE PREPARE st;

CREATE TABLE t_time (
  id INT PRIMARY KEY, d DATE, dt DATETIME, dt1 DATETIME(1), dt2 DATETIME(2), dt3 DATETIME(3),
  dt4 DATETIME(4), dt5 DATETIME(5), dt6 DATETIME(6), ts TIMESTAMP NULL, ts1 TIMESTAMP(1) NULL,
  ts2 TIMESTAMP(2) NULL, ts3 TIMESTAMP(3) NULL, ts4 TIMESTAMP(4) NULL, ts5 TIMESTAMP(5) NULL,
  ts6 TIMESTAMP(6) NULL, t TIME, t1 TIME(1), t2 TIME(2), t3 TIME(3), t4 TIME(4), t5 TIME(5),
  t6 TIME(6));

-- Pre-MySQL-5.6 storage (binlog types TIME, DATETIME, TIMESTAMP); only
-- without fractions, which the binlog cannot describe in this format.
SET @old_fmt = @@GLOBAL.mysql56_temporal_format;
SET GLOBAL mysql56_temporal_format = OFF;
CREATE TABLE t_old (id INT PRIMARY KEY, t TIME, dt DATETIME, ts TIMESTAMP NULL);
SET GLOBAL mysql56_temporal_format = @old_fmt;

CREATE TABLE t_geo (id INT PRIMARY KEY, g GEOMETRY, p POINT, ls LINESTRING);
CREATE TABLE t_new (id INT PRIMARY KEY, ip INET6, u UUID);
CREATE TABLE t_nokey (a INT, b VARCHAR(10), f FLOAT, d DOUBLE, dc DECIMAL(6,2), t DATETIME(3));
CREATE TABLE t_ckey (k1 VARCHAR(20) NOT NULL, k2 INT NOT NULL, v INT, PRIMARY KEY (k1, k2));
CREATE TABLE t_big (id INT PRIMARY KEY, b LONGBLOB);
