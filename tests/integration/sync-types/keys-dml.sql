-- Changes to keys-schema.sql's tables (upstream): rows in, non-key
-- columns changed (the row found by its key), keys changed, rows out;
-- several per transaction. Same session settings as binlog-decode's dml.
SET NAMES utf8mb4;
SET SESSION sql_mode = '', time_zone = '+03:00';

INSERT INTO k_float VALUES (0.1, 1), (-1.17549e-38, 2), (3.40282e38, 3), (1.0000001, 4), (-0e0, 5);
INSERT INTO k_double VALUES (0.1, 1), (5e-324, 2), (1.7976931348623157e308, 3),
  (0.30000000000000004, 4), (-2.2250738585072014e-308, 5);
INSERT INTO k_dec VALUES (-12345678901234567890.0123456789, 1), (0.0000000001, 2), (0, 3), (-0.5, 4);
INSERT INTO k_bit VALUES (0, 1), (1, 2), (4096, 3), (8191, 4);
INSERT INTO k_bin VALUES (0x00000000, 0x00, 1), (0x61000000, 0x6100, 2), (0x00000001, '', 3),
  ('ab', 'a', 4), (0xFFFFFFFF, 0xFF, 5);
INSERT INTO k_time VALUES ('0000-00-00 00:00:00', '1970-01-01 03:00:01', '-838:59:59.9999', '0000-00-00', 1),
  ('9999-12-31 23:59:59.999999', '2038-01-19 06:14:07.999', '838:59:59', '9999-12-31', 2),
  ('2024-02-29 12:00:00.000001', '2021-10-31 02:30:00.5', '-00:00:00.0001', '2000-00-00', 3),
  ('2000-01-00 00:00:00.5', '2021-03-28 03:30:00.001', '00:00:00', '2024-02-29', 4);
INSERT INTO k_enum VALUES ('a', '', 1), ('a', 'x,y,z', 2), ('c d', 'y', 3), ('b', 'x', 4);
INSERT INTO k_new VALUES ('::', '00000000-0000-0000-0000-000000000000', 1),
  ('::ffff:1.2.3.4', '123e4567-e89b-12d3-a456-426655440000', 2),
  ('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 3);
INSERT INTO k_ci VALUES ('a', 1), ('b ', 2), ('é', 3), ('😀', 4);
INSERT INTO k_uk VALUES (1, 'x', NULL, 1), (2, 'x', 2, 2), (1, 'y', 3, 3), (3, '', NULL, 4);
INSERT INTO k_nuk VALUES (1, 0.1, 0.1, 1), (NULL, 0.1, 0.1, 2), (NULL, 0.1, 0.1, 2), (2, NULL, -0e0, 3);
INSERT INTO k_gen (id, a, b, h) VALUES (1, 1, 1, 1), (2, NULL, 2, NULL), (3, 3, 3, 3);
INSERT INTO k_gen (id, a, b) VALUES (4, 4, 4);
INSERT INTO k_uns VALUES (18446744073709551615, 16777215, 255, 2155, 1), (0, 0, 0, 0, 2),
  (9223372036854775808, 8388608, 128, 1901, 3), (1, 1, 1, 2000, 4);
INSERT INTO k_wide VALUES ('a', 'a', 'a', 'a', 'a', 1), ('😀 é', 'é ', '😀', '😀', '😀', 2),
  ('', '', '', '', '', 3), ('ab  ', 'x', ' y ', ' z ', REPEAT('é', 100), 4),
  ('𝄞', 'ÿ', NULL, NULL, NULL, 5);

BEGIN;
UPDATE k_float SET v = v + 10;
UPDATE k_float SET f = 2.5 WHERE v = 14;
DELETE FROM k_float WHERE v = 12;
UPDATE k_double SET v = v + 10;
UPDATE k_double SET d = -d WHERE v IN (11, 14);
DELETE FROM k_double WHERE v = 12;
UPDATE k_dec SET v = v + 10;
UPDATE k_dec SET d = d * 2 WHERE v = 11;
DELETE FROM k_dec WHERE v = 12;
COMMIT;

UPDATE k_bit SET v = v + 10;
UPDATE k_bit SET b = 8190 WHERE v = 14;
DELETE FROM k_bit WHERE v = 11;
UPDATE k_bin SET v = v + 10, vb = CONCAT(vb, 0x00);
UPDATE k_bin SET b = 0x00000002 WHERE v = 11;
DELETE FROM k_bin WHERE v IN (12, 13);
UPDATE k_time SET v = v + 10;
UPDATE k_time SET t = '2020-01-01 00:00:00.1', tm = '-01:00:00.5' WHERE v = 13;
DELETE FROM k_time WHERE v IN (11, 12);
UPDATE k_enum SET v = v + 10;
UPDATE k_enum SET s = 'x,z' WHERE v = 11;
DELETE FROM k_enum WHERE v = 13;
UPDATE k_new SET v = v + 10;
UPDATE k_new SET ip = '2001:db8::1' WHERE v = 11;
DELETE FROM k_new WHERE v = 13;
UPDATE k_ci SET v = v + 10;
UPDATE k_ci SET c = 'A' WHERE c = 'a';
UPDATE k_ci SET c = 'É' WHERE v = 13;
DELETE FROM k_ci WHERE c = 'b';

BEGIN;
UPDATE k_uk SET v = v + 10;
UPDATE k_uk SET b = 'z', n = 20 WHERE v = 11;
DELETE FROM k_uk WHERE v = 14;
UPDATE k_nuk SET v = 20 WHERE a IS NULL LIMIT 1;
UPDATE k_nuk SET f = 1.5 WHERE a = 1;
DELETE FROM k_nuk WHERE a IS NULL AND v = 2;
DELETE FROM k_nuk WHERE a = 2;
UPDATE k_gen SET a = 10 WHERE id = 1;
UPDATE k_gen SET a = 2, b = NULL WHERE id = 2;
UPDATE k_gen SET b = 30 WHERE id = 3;
DELETE FROM k_gen WHERE id = 1;
UPDATE k_gen SET h = 50 WHERE id = 4;
COMMIT;

UPDATE k_uns SET v = v + 10;
UPDATE k_uns SET u = u - 1, m = m - 1, t = t - 1 WHERE v = 11;
UPDATE k_uns SET y = 2001 WHERE v = 14;
DELETE FROM k_uns WHERE v = 13;
UPDATE k_wide SET n = n + 10;
UPDATE k_wide SET c = 'ab', v = 'x', l = NULL, t = '' WHERE n = 14;
UPDATE k_wide SET u = 'b', v = NULL, l = 'é', t = 'τ' WHERE n = 15;
UPDATE k_wide SET v = 'v', t = NULL WHERE n = 12;
DELETE FROM k_wide WHERE n IN (11, 13);
