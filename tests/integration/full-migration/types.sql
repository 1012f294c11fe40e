-- Upstream data for the full-migration scenario: one table per column
-- type family with edge values, a table without a key, tables to route
-- and a schema to ignore.
SET NAMES utf8mb4;
CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE DATABASE junk;
CREATE DATABASE shard_a;
USE shop;

CREATE TABLE t_int (
  id INT PRIMARY KEY,
  ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED,
  mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, bu BIGINT UNSIGNED, y YEAR, b1 BIT(1), b64 BIT(64), b13 BIT(13));
INSERT INTO t_int VALUES
  (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 1901, 0, 0, 0),
  (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
      9223372036854775807, 18446744073709551615, 2155, 1, 18446744073709551615, 8191),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 0, 1, -1, 1, 0, 1, 0, 1, -1, 1, 0, 1, 5, 1234);

CREATE TABLE t_num (
  id INT PRIMARY KEY,
  d1 DECIMAL(65,30), d2 DECIMAL(10,0), d3 DECIMAL(5,2) UNSIGNED,
  f FLOAT, d DOUBLE, f2 FLOAT(10,3));
INSERT INTO t_num VALUES
  (1, -12345678901234567890123456789012345.123456789012345678901234567890, -9999999999, 999.99,
      3.40282e38, 1.7976931348623157e308, -1234567.125),
  (2, 0.000000000000000000000000000001, 0, 0.00, -1.17549e-38, 2.2250738585072014e-308, 0),
  (3, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, -0.5, 1, 0.01, 0.1, 0.1, 0.1),
  (5, 1, 2, 3, 1.0000001, 0.30000000000000004, 3.333);

CREATE TABLE t_str (
  id INT PRIMARY KEY,
  c CHAR(10), v VARCHAR(200), b BINARY(8), vb VARBINARY(64),
  tx TEXT, lt LONGTEXT, bl BLOB, lb LONGBLOB,
  l1 VARCHAR(20) CHARACTER SET latin1, e ENUM('a','b','c d',''), s SET('x','y','z'),
  j JSON);
INSERT INTO t_str VALUES
  (1, 'abc', 'héllo 😀 wörld', 0x00010203, 0x00FF00FF00, 'tab\there\nnewline\\back', REPEAT('x', 100000),
      0x00, REPEAT(0x00FF, 300000), 'café', 'c d', 'x,z', '{"a": [1, 2, {"b": null}], "c": "\\u00e9"}'),
  (2, '', '', '', '', '', '', '', '', '', 'a', '', '[]'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 'trail  ', 'NULL', 0x5C4E, 0x5C, '\\N', '\0', 0x0A0D09, 0x5C5C4E, 'x', 'b', 'x,y,z', '"s"'),
  (5, '𝄞', CONCAT('a', CHAR(0), 'b'), 0xFFFFFFFFFFFFFFFF, 0x09, CONCAT(CHAR(9), CHAR(10), CHAR(13)), 'ü', NULL, '', 'ÿ', 'a', 'y', 'null');

CREATE TABLE t_time (
  id INT PRIMARY KEY,
  d DATE, dt DATETIME, dt6 DATETIME(6), ts TIMESTAMP NULL, ts3 TIMESTAMP(3) NULL,
  t TIME, t6 TIME(6));
SET SESSION sql_mode = '';
INSERT INTO t_time VALUES
  (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', NULL, '-838:59:59', '-838:59:59.000000'),
  (2, '1000-01-01', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999', '838:59:59', '838:59:59.000000'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, '2024-02-29', '2024-03-31 02:30:00', '2020-01-01 12:00:00.000001', '2021-03-28 02:30:00', '2021-10-31 02:30:00.123', '00:00:00', '-00:00:00.000001'),
  (5, '2000-00-00', '2000-01-00 10:00:00', NULL, NULL, NULL, '12:34:56', '00:00:00.5');
SET SESSION sql_mode = DEFAULT;

CREATE TABLE t_geo (id INT PRIMARY KEY, g GEOMETRY, p POINT);
INSERT INTO t_geo VALUES (1, ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'), POINT(1.5, -2.25)),
  (2, NULL, NULL), (3, ST_GeomFromText('LINESTRING(0 0, 1 1, 2 5)', 4326), POINT(0, 0));

-- a table without any key, with duplicate rows
CREATE TABLE t_nokey (a INT, b VARCHAR(10));
INSERT INTO t_nokey VALUES (1, 'x'), (1, 'x'), (NULL, NULL), (2, '');

-- a composite string key and a generated column
CREATE TABLE t_ckey (
  k1 VARCHAR(20) NOT NULL, k2 INT NOT NULL, v INT,
  g INT AS (v * 2) STORED, PRIMARY KEY (k1, k2)) COLLATE utf8mb4_general_ci;

-- many rows, several chunks
CREATE TABLE t_big (id BIGINT PRIMARY KEY, pad VARCHAR(100), n INT, KEY (n), KEY pn (pad(10), n));

-- a foreign key to a plain index: neither table's keys are put off
CREATE TABLE t_par (id INT PRIMARY KEY, code INT, KEY code (code));
CREATE TABLE t_chi (id INT PRIMARY KEY, pcode INT, KEY pcode (pcode),
  CONSTRAINT fk_code FOREIGN KEY (pcode) REFERENCES t_par (code));
INSERT INTO t_par VALUES (1, 10), (2, 20);
INSERT INTO t_chi VALUES (1, 10), (2, 20);

CREATE VIEW v_big AS SELECT id, n FROM shop.t_big WHERE n < 10;

-- ignored by the block-allow-list
CREATE TABLE t_skip (id INT PRIMARY KEY);
INSERT INTO t_skip VALUES (1);
CREATE TABLE junk.j1 (id INT PRIMARY KEY);
INSERT INTO junk.j1 VALUES (1);

-- two shards merged into one downstream table by a route
CREATE TABLE shard_a.orders_01 (id INT PRIMARY KEY, amount DECIMAL(10,2), KEY amount (amount));
CREATE TABLE shard_a.orders_02 (id INT PRIMARY KEY, amount DECIMAL(10,2), KEY amount (amount));
INSERT INTO shard_a.orders_01 VALUES (1, 10.50), (2, 20.00);
INSERT INTO shard_a.orders_02 VALUES (3, 30.25), (4, 0.01);

INSERT INTO t_big SELECT seq, REPEAT(CHAR(65 + seq % 26), seq % 100), seq % 1000 FROM seq_1_to_20000;
INSERT INTO t_ckey (k1, k2, v) SELECT CONCAT('k', seq % 37, IF(seq % 2, 'É', 'e')), seq, seq FROM seq_1_to_5000;
