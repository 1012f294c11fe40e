-- What the sync adds to binlog-decode's type matrix (created on both
-- servers, after its schema.sql): rows found by keys of every type.
-- Under a MINIMAL image the before image holds the key alone, so an
-- UPDATE or DELETE is matched (WHERE, DELETE … IN) on typed key literals
-- only. Also a NOT NULL unique key without a PK, a nullable unique key
-- (no usable key: the whole row), generated and invisible columns,
-- unsigned keys (their sign comes from the target without metadata), and
-- the wide character sets (ucs2, utf16, utf16le, utf32), which
-- binlog-decode's schema lacks.
SET NAMES utf8mb4;
CREATE TABLE k_float (f FLOAT PRIMARY KEY, v INT);
CREATE TABLE k_double (d DOUBLE PRIMARY KEY, v INT);
CREATE TABLE k_dec (d DECIMAL(30,10) PRIMARY KEY, v INT);
CREATE TABLE k_bit (b BIT(13) PRIMARY KEY, v INT);
CREATE TABLE k_bin (b BINARY(4) PRIMARY KEY, vb VARBINARY(8), v INT);
CREATE TABLE k_time (t DATETIME(6) NOT NULL, ts TIMESTAMP(3) NOT NULL, tm TIME(4) NOT NULL,
  d DATE NOT NULL, v INT, PRIMARY KEY (t, ts, tm, d));
CREATE TABLE k_enum (e ENUM('a','b','c d') NOT NULL, s SET('x','y','z') NOT NULL, v INT,
  PRIMARY KEY (e, s));
CREATE TABLE k_new (ip INET6 NOT NULL, u UUID NOT NULL, v INT, PRIMARY KEY (ip, u));
CREATE TABLE k_ci (c VARCHAR(10) CHARACTER SET utf8mb4 PRIMARY KEY, v INT);
CREATE TABLE k_uk (a INT NOT NULL, b VARCHAR(10) NOT NULL, n INT, v INT, UNIQUE KEY (n),
  UNIQUE KEY (b, a));
CREATE TABLE k_nuk (a INT, f FLOAT, d DOUBLE, v INT, UNIQUE KEY (a));
CREATE TABLE k_gen (id INT PRIMARY KEY, a INT, g INT AS (a * 2) VIRTUAL,
  p INT AS (a + 1) PERSISTENT, b INT, h INT INVISIBLE DEFAULT 5);
CREATE TABLE k_uns (u BIGINT UNSIGNED NOT NULL, m MEDIUMINT UNSIGNED NOT NULL,
  t TINYINT UNSIGNED NOT NULL, y YEAR NOT NULL, v INT, PRIMARY KEY (u, m, t, y));
CREATE TABLE k_wide (c CHAR(5) CHARACTER SET utf32 NOT NULL,
  u CHAR(4) CHARACTER SET ucs2 NOT NULL, v VARCHAR(10) CHARACTER SET utf16,
  l VARCHAR(10) CHARACTER SET utf16le, t TEXT CHARACTER SET utf32, n INT,
  PRIMARY KEY (c, u));
