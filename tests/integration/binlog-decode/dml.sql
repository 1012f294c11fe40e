-- Changes replayed by binlog-dump: edge values in, every column of
-- existing rows changed (values to NULL, NULL to values, key changes),
-- rows out; several changes per transaction. A non-UTC session time zone
-- and an sql_mode that allows zero dates.
SET NAMES utf8mb4;
SET SESSION sql_mode = '', time_zone = '+03:00';
USE bd;

BEGIN;
INSERT INTO t_int VALUES
  (1, 1901, 0, -128, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0, 0, 0, 0, 0),
  (2, 2155, 255, 127, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
      9223372036854775807, 18446744073709551615, 1, 255, 8191, 18446744073709551615, 1),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 0, 1, -1, -1, 1, -1, 1, -1, 1, -1, 1, 1, 128, 4096, 9223372036854775808, 0),
  (5, 2000, 128, 0, 0, 32768, 0, 8388608, 0, 2147483648, 0, 9223372036854775808, 0, 1, 1, 1, 1);
INSERT INTO t_num VALUES
  (1, -12345678901234567890123456789012345.123456789012345678901234567890, -9999999999, 999.99,
      -999999999.999999999, 0.999999999, -9, 1234567890123456789012345678.0123456789,
      99999999999999999999999999999999999999999999999999999999999999999,
      3.40282e38, 1.7976931348623157e308, -1234567.125, 0),
  (2, 0.000000000000000000000000000001, 0, 0.00, 0.000000001, -0.000000001, 0, -0.0000000001,
      -99999999999999999999999999999999999999999999999999999999999999999,
      -1.17549e-38, 2.2250738585072014e-308, 0, 1.7976931348623157e308),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, -0.5, 1, 0.01, 123.456, 0.5, 5, -1, 1, 0.1, 0.1, 0.1, 0.1),
  (5, 1, 2, 3, -4, -0.123456789, -1, 10, -10, -0e0, 5e-324, 3.333, 4.9406564584124654e-324);
COMMIT;

-- The rest goes to the next binlog file: the reader follows the ROTATE.
FLUSH BINARY LOGS;

INSERT INTO t_str VALUES
  (1, 'abc', REPEAT('é', 255), 'café', 'héllo 😀 wörld', REPEAT('x', 100), REPEAT('y', 300),
      0x00010203, 0x00FF00FF00, REPEAT(0xAB, 1000), 'tiny', 'tab\there\nnewline\\back',
      REPEAT('m', 70000), REPEAT('x', 100000), 0x00, 0x00FF, REPEAT(0x01, 70000),
      REPEAT(0x00FF, 50000), '{"a": [1, 2, {"b": null}], "c": "\\u00e9"}'),
  (2, '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '[]'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL),
  (4, 'trail  ', '𝄞', 'x', CONCAT('a', CHAR(0), 'b'), 'NULL', '\\N', 0x5C4E, 0x5C, 0x00, '\0',
      'ü', '\0', '', 0x0A0D09, 0x5C5C4E, '', 0x00000000, 'null'),
  (5, '😀', 'z', 'ÿ', REPEAT('😀', 200), 'v', REPEAT('w', 256), 0x0100000000000000,
      0x0000, 0x00, REPEAT('t', 255), REPEAT('😀', 16000), 'mt', 'lt', REPEAT(0xFF, 255),
      REPEAT(0x00, 65535), 0xFFFF, 0x00, '{"k": "😀"}');

INSERT INTO t_enum VALUES
  (1, 'a', 'e1', 'x', 's1', 's1', 's1'),
  (2, 'c d', 'e300', 'x,y,z', 's1,s10', 's1,s20', 's1,s64'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, '', 'e256', '', '', 's20', 18446744073709551615),
  (5, 'b', 'e255', 'z', 's5', 's17', 's33');

INSERT INTO t_time VALUES
  (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.0', '0000-00-00 00:00:00.00',
      '0000-00-00 00:00:00.000', '0000-00-00 00:00:00.0000', '0000-00-00 00:00:00.00000',
      '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
      '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00',
      '0000-00-00 00:00:00', '-838:59:59', '-838:59:59.9', '-838:59:59.99', '-838:59:59.999',
      '-838:59:59.9999', '-838:59:59.99999', '-838:59:59.999999'),
  (2, '1000-01-01', '1000-01-01 00:00:00', '9999-12-31 23:59:59.9', '9999-12-31 23:59:59.99',
      '9999-12-31 23:59:59.999', '9999-12-31 23:59:59.9999', '9999-12-31 23:59:59.99999',
      '9999-12-31 23:59:59.999999', '1970-01-01 03:00:01', '2038-01-19 06:14:07.9',
      '2038-01-19 06:14:07.99', '2038-01-19 06:14:07.999', '2038-01-19 06:14:07.9999',
      '2038-01-19 06:14:07.99999', '2038-01-19 06:14:07.999999', '838:59:59', '838:59:59.9',
      '838:59:59.99', '838:59:59.999', '838:59:59.9999', '838:59:59.99999', '838:59:59.999999'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
      NULL, NULL, NULL, NULL, NULL, NULL),
  (4, '2024-02-29', '2024-03-31 02:30:00', '2020-01-01 12:00:00.1', '2020-01-01 12:00:00.12',
      '2020-01-01 12:00:00.123', '2020-01-01 12:00:00.1234', '2020-01-01 12:00:00.12345',
      '2020-01-01 12:00:00.123456', '2021-03-28 02:30:00', '2021-10-31 02:30:00.1',
      '2021-10-31 02:30:00.01', '2021-10-31 02:30:00.001', '2021-10-31 02:30:00.0001',
      '2021-10-31 02:30:00.00001', '2021-10-31 02:30:00.000001', '00:00:00', '-00:00:00.1',
      '-00:00:00.01', '-00:00:00.001', '-00:00:00.0001', '-00:00:00.00001', '-00:00:00.000001'),
  (5, '2000-00-00', '2000-01-00 10:00:00', '2000-01-01 00:00:00.5', '1999-12-31 23:59:59.01',
      '1999-12-31 23:59:59.999', '1999-12-31 23:59:59.5', '1999-12-31 23:59:59.00001',
      '1999-12-31 23:59:59.000001', '2000-01-01 00:00:00', '2000-01-01 00:00:00.5',
      '2000-01-01 00:00:00.05', '2000-01-01 00:00:00.005', '2000-01-01 00:00:00.0005',
      '2000-01-01 00:00:00.00005', '2000-01-01 00:00:00.000005', '12:34:56', '-12:34:56.5',
      '-1:00:00.99', '-12:34:56.789', '-0:00:01.5', '-838:59:58.99999', '00:00:00.5');

INSERT INTO t_old VALUES (1, '-838:59:59', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
  (2, '838:59:59', '9999-12-31 23:59:59', '2038-01-19 06:14:07'), (3, NULL, NULL, NULL),
  (4, '-00:00:01', '1000-01-01 00:00:00', '1970-01-01 03:00:01');

INSERT INTO t_geo VALUES
  (1, ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))'), POINT(1.5, -2.25),
      ST_GeomFromText('LINESTRING(0 0,1 1,2 5)')),
  (2, NULL, NULL, NULL),
  (3, ST_GeomFromText('POINT(1 2)', 4326), POINT(0, 0), LINESTRING(POINT(0, 0), POINT(1, 1)));

INSERT INTO t_new VALUES (1, '::1', '123e4567-e89b-12d3-a456-426655440000'),
  (2, '2001:db8::', '00000000-0000-0000-0000-000000000000'), (3, NULL, NULL),
  (4, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffffffff-ffff-ffff-ffff-ffffffffffff'),
  (5, '::ffff:1.2.3.4', '6ccd780c-baba-1026-9564-5b8c656024db');

INSERT INTO t_nokey VALUES (1, 'x', 0.1, 0.1, 1.50, '2024-01-01 00:00:00.123'),
  (1, 'x', 0.1, 0.1, 1.50, '2024-01-01 00:00:00.123'), (NULL, NULL, NULL, NULL, NULL, NULL),
  (NULL, NULL, NULL, NULL, NULL, NULL), (2, '', -0e0, 1e300, -9999.99, '0000-00-00 00:00:00.000'),
  (3, 'y', 3.40282e38, 5e-324, 0, '9999-12-31 23:59:59.999'), (5, 'q', -1.17549e-38, -0.3, 0.01, NULL);

INSERT INTO t_ckey VALUES ('a', 1, 1), ('a', 2, 2), ('é', 1, 3), ('b', 1, NULL), ('😀', 7, 7);
INSERT INTO t_big VALUES (1, REPEAT(0x00FF01, 200000)), (2, 0x01);

-- Every column of existing rows changes.
BEGIN;
UPDATE t_int SET y = 2155, tu = 255, ti = 127, si = 32767, su = 65535, mi = 8388607,
  mu = 16777215, i = 2147483647, iu = 4294967295, bi = 9223372036854775807,
  bu = 18446744073709551615, b1 = 1, b8 = 255, b13 = 8191, b64 = 18446744073709551615, bo = 1
  WHERE id = 1;
UPDATE t_int SET y = NULL, tu = NULL, ti = NULL, si = NULL, su = NULL, mi = NULL, mu = NULL,
  i = NULL, iu = NULL, bi = NULL, bu = NULL, b1 = NULL, b8 = NULL, b13 = NULL, b64 = NULL,
  bo = NULL WHERE id = 2;
UPDATE t_int SET y = 1999, tu = 7, ti = -7, si = -300, su = 300, mi = -70000, mu = 70000,
  i = -100000, iu = 100000, bi = -5000000000, bu = 5000000000, b1 = 0, b8 = 170, b13 = 4095,
  b64 = 12345678901234567890, bo = 0 WHERE id = 3;
UPDATE t_int SET id = 104, tu = tu + 1 WHERE id = 4;
DELETE FROM t_int WHERE id = 5;
COMMIT;

UPDATE t_num SET d1 = 0.000000000000000000000000000001, d2 = 0, d3 = 0.00, d4 = 0.000000001,
  d5 = -0.000000001, d6 = 0, d7 = -0.0000000001, d8 = 1, f = -1.17549e-38,
  d = 2.2250738585072014e-308, f2 = 0, du = 0 WHERE id = 1;
UPDATE t_num SET d1 = NULL, d2 = NULL, d3 = NULL, d4 = NULL, d5 = NULL, d6 = NULL, d7 = NULL,
  d8 = NULL, f = NULL, d = NULL, f2 = NULL, du = NULL WHERE id = 2;
UPDATE t_num SET d1 = -1.5, d2 = 42, d3 = 1.23, d4 = -123456789.123456789, d5 = 0.000000001,
  d6 = -1, d7 = 12345678901234567890123456789.0123456789, d8 = -42, f = 1.0000001,
  d = 0.30000000000000004, f2 = 3.333, du = 1e-300 WHERE id = 3;
UPDATE t_num SET id = 40, d1 = d1 * 2 WHERE id = 4;
DELETE FROM t_num WHERE id = 5;

UPDATE t_str SET c = 'new', cu = REPEAT('ü', 200), cl = 'àé', v = '', vl = 'x', vl2 = REPEAT('z', 299),
  b = 0xFFFFFFFFFFFFFFFF, vb = 0x09, vb2 = '', tt = '', tx = 'τ', mt = REPEAT('n', 17),
  lt = REPEAT('l', 1000), tb = 0x00, bl = '', mb = 0x00, lb = '', j = '{"x": 1}' WHERE id = 1;
UPDATE t_str SET c = NULL, cu = NULL, cl = NULL, v = NULL, vl = NULL, vl2 = NULL, b = NULL,
  vb = NULL, vb2 = NULL, tt = NULL, tx = NULL, mt = NULL, lt = NULL, tb = NULL, bl = NULL,
  mb = NULL, lb = NULL, j = NULL WHERE id = 2;
UPDATE t_str SET c = 'x', cu = 'y', cl = 'z', v = 'ä', vl = 'b', vl2 = 'c', b = 0x00, vb = 0x00,
  vb2 = 0x00, tt = 't', tx = 'x', mt = 'm', lt = 'l', tb = 0xFF, bl = 0xFF, mb = 0xFF, lb = 0xFF,
  j = '[1, "two", 3.5]' WHERE id = 3;
UPDATE t_str SET id = 44 WHERE id = 4;
DELETE FROM t_str WHERE id = 5;

UPDATE t_enum SET e = 'c d', e300 = 'e299', s = 'y', s10 = 's10', s20 = 's20', s64 = 's64' WHERE id = 1;
UPDATE t_enum SET e = NULL, e300 = NULL, s = NULL, s10 = NULL, s20 = NULL, s64 = NULL WHERE id = 2;
UPDATE t_enum SET e = 'a', e300 = 'e2', s = 'x,z', s10 = 's2,s9', s20 = 's9,s19', s64 = 's63,s1' WHERE id = 3;
DELETE FROM t_enum WHERE id = 5;

UPDATE t_time SET d = '2024-01-02', dt = '2024-01-02 03:04:05', dt1 = '2024-01-02 03:04:05.6',
  dt2 = '2024-01-02 03:04:05.67', dt3 = '2024-01-02 03:04:05.678', dt4 = '2024-01-02 03:04:05.6789',
  dt5 = '2024-01-02 03:04:05.67891', dt6 = '2024-01-02 03:04:05.678912', ts = '2024-01-02 03:04:05',
  ts1 = '2024-01-02 03:04:05.6', ts2 = '2024-01-02 03:04:05.67', ts3 = '2024-01-02 03:04:05.678',
  ts4 = '2024-01-02 03:04:05.6789', ts5 = '2024-01-02 03:04:05.67891',
  ts6 = '2024-01-02 03:04:05.678912', t = '-01:02:03', t1 = '-01:02:03.4', t2 = '-01:02:03.45',
  t3 = '-01:02:03.456', t4 = '-01:02:03.4567', t5 = '-01:02:03.45678', t6 = '-01:02:03.456789'
  WHERE id = 1;
UPDATE t_time SET d = NULL, dt = NULL, dt1 = NULL, dt2 = NULL, dt3 = NULL, dt4 = NULL, dt5 = NULL,
  dt6 = NULL, ts = NULL, ts1 = NULL, ts2 = NULL, ts3 = NULL, ts4 = NULL, ts5 = NULL, ts6 = NULL,
  t = NULL, t1 = NULL, t2 = NULL, t3 = NULL, t4 = NULL, t5 = NULL, t6 = NULL WHERE id = 2;
UPDATE t_time SET d = '9999-12-31', dt = '9999-12-31 23:59:59', dt1 = '0001-01-01 00:00:00.1',
  dt2 = '0001-01-01 00:00:00.01', dt3 = '0001-01-01 00:00:00.001', dt4 = '0001-01-01 00:00:00.0001',
  dt5 = '0001-01-01 00:00:00.00001', dt6 = '0001-01-01 00:00:00.000001',
  ts = '1970-01-01 03:00:01', ts1 = '1970-01-01 03:00:01.1', ts2 = '1970-01-01 03:00:01.01',
  ts3 = '1970-01-01 03:00:01.001', ts4 = '1970-01-01 03:00:01.0001', ts5 = '1970-01-01 03:00:01.00001',
  ts6 = '1970-01-01 03:00:01.000001', t = '838:59:59', t1 = '00:00:00.1', t2 = '00:00:00.01',
  t3 = '00:00:00.001', t4 = '00:00:00.0001', t5 = '00:00:00.00001', t6 = '00:00:00.000001'
  WHERE id = 3;
UPDATE t_time SET id = 44, t6 = '-00:00:00.5' WHERE id = 4;
DELETE FROM t_time WHERE id = 5;

UPDATE t_old SET t = '00:00:00', dt = '2024-01-02 03:04:05', ts = '2024-01-02 03:04:05' WHERE id = 1;
UPDATE t_old SET t = NULL, dt = NULL, ts = NULL WHERE id = 2;
UPDATE t_old SET t = '-12:34:56', dt = '2000-00-00 00:00:00', ts = '2000-01-01 00:00:00' WHERE id = 3;
DELETE FROM t_old WHERE id = 4;

UPDATE t_geo SET g = POINT(3, 4), p = POINT(-1, -1), ls = ST_GeomFromText('LINESTRING(5 5,6 6)') WHERE id = 1;
UPDATE t_geo SET g = ST_GeomFromText('MULTIPOINT(1 1,2 2)'), p = POINT(9, 9),
  ls = ST_GeomFromText('LINESTRING(0 0,9 9)') WHERE id = 2;
DELETE FROM t_geo WHERE id = 3;

UPDATE t_new SET ip = '2001:db8::1', u = 'ffffffff-ffff-ffff-ffff-fffffffffff0' WHERE id = 1;
UPDATE t_new SET ip = NULL, u = NULL WHERE id = 2;
UPDATE t_new SET ip = '::', u = '00000000-0000-0000-0000-000000000001' WHERE id = 3;
DELETE FROM t_new WHERE id = 5;

BEGIN;
UPDATE t_nokey SET b = 'z', f = 1.5 WHERE a = 1 LIMIT 1;
DELETE FROM t_nokey WHERE a IS NULL LIMIT 1;
UPDATE t_nokey SET a = 4, f = 2.5, d = -2.5 WHERE a = 3;
UPDATE t_nokey SET b = 'neg' WHERE a = 2;
UPDATE t_nokey SET a = 6, t = '2020-02-02 02:02:02.002' WHERE a = 5;
DELETE FROM t_nokey WHERE a = 4;
COMMIT;

UPDATE t_ckey SET k1 = 'c' WHERE k1 = 'a' AND k2 = 2;
UPDATE t_ckey SET v = 10 WHERE k1 = 'é';
DELETE FROM t_ckey WHERE k1 = 'b';

UPDATE t_big SET b = REPEAT(0x02, 600000) WHERE id = 1;
DELETE FROM t_big WHERE id = 2;
