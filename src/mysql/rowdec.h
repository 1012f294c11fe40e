/* Row decoder for ROW-format binlog events (no network, no server state).
 *
 * A TABLE_MAP event describes a table's columns (types, per-type metadata,
 * and with binlog_row_metadata MINIMAL/FULL signedness and charsets, with
 * FULL also names and primary key). dm_tmap_from_event() copies that into
 * a dm_tmap that outlives the event; dm_rows_decode() then walks the rows
 * of the WRITE/UPDATE/DELETE events that follow and hands each row image
 * to a callback as an array of dm_value. Connector/C's own
 * mariadb_rpl_extract_rows() is wrong for several types and for partial
 * images; this replaces it.
 *
 * What the table map lacks, the caller supplies from its own schema
 * before decoding: names and key columns (dm_tmap_set_name/_pk) without
 * FULL metadata; signedness (dm_tmap_set_unsigned) with NO_LOG, where
 * integers otherwise decode as signed; and with NO_LOG also charset 63
 * (set dm_tcol.charset directly) on BINARY/INET6/UUID columns, whose
 * trailing zero bytes the binlog drops and dm_value_sql() puts back only
 * for columns it knows to be binary.
 *
 * Not decodable (DM_EINVAL naming the column): MariaDB COMPRESSED columns
 * (types 140/141), MySQL 9 VECTOR, pre-5.0 DECIMAL. MariaDB's pre-10.1
 * fractional TIME/DATETIME/TIMESTAMP (tables created with
 * mysql56_temporal_format=OFF and a precision above 0) show in the table
 * map as the old types without their precision, so their rows cannot be
 * read: the caller must refuse tables whose schema has a precision for a
 * column the table map types as TIME, DATETIME or TIMESTAMP. */
#ifndef DM_MYSQL_ROWDEC_H
#define DM_MYSQL_ROWDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>
#include <mariadb_rpl.h>

#include "base/buf.h"
#include "base/err.h"

/* One column of a table map.
 *
 * type is the binlog type (enum_field_types), with CHAR/ENUM/SET resolved
 * from the metadata (the table map calls all three MYSQL_TYPE_STRING), and
 * DATE always MYSQL_TYPE_DATE. meta, by type:
 *   STRING (CHAR/BINARY)   maximum length in bytes (up to 1020)
 *   ENUM, SET              bytes per value (ENUM 1-2, SET 1-8)
 *   VARCHAR, VAR_STRING    maximum length in bytes (length prefix 1 byte
 *                          below 256, else 2)
 *   BLOB, GEOMETRY, JSON   bytes of the length prefix (1-4)
 *   NEWDECIMAL             precision << 8 | scale
 *   BIT                    number of bits (1-64)
 *   FLOAT, DOUBLE          4, 8
 *   TIME2, DATETIME2,
 *   TIMESTAMP2             fractional digits (0-6)
 *   others                 0 */
typedef struct dm_tcol {
	uint8_t type;
	uint16_t meta;
	bool is_unsigned; /* from SIGNEDNESS metadata or dm_tmap_set_unsigned() */
	bool nullable;
	uint32_t charset; /* collation id; 0 unknown, 63 binary (settable) */
	char *name;       /* NULL without FULL metadata (see dm_tmap_set_name) */
	bool pk;          /* part of the primary key (FULL metadata or dm_tmap_set_pk) */
} dm_tcol;

typedef struct dm_tmap {
	uint64_t table_id;
	char *schema, *table;
	uint32_t ncols;
	dm_tcol *cols;
	bool has_names;      /* every column has a name */
	bool has_signedness; /* integer signedness came with the table map */
	/* dm_rows_decode's images (2 * ncols values), kept with the map so
	 * that the rows events of a cached map allocate nothing */
	struct dm_value *vals;
} dm_tmap;

/* Deep copy of a TABLE_MAP event (it survives the event). DM_EINVAL for
 * a malformed event or a column type this decoder does not know; the
 * message names the table and column. The caller frees *out. */
int dm_tmap_from_event(const MARIADB_RPL_EVENT *ev, dm_tmap **out, dm_err *err);
void dm_tmap_free(dm_tmap *t);

/* For tables logged without FULL metadata: fill in what the caller knows
 * from its own schema. col must be < t->ncols (otherwise no-op). */
void dm_tmap_set_unsigned(dm_tmap *t, uint32_t col, bool is_unsigned);
/* Copies name; has_names becomes true once every column has one. */
void dm_tmap_set_name(dm_tmap *t, uint32_t col, const char *name);
void dm_tmap_set_pk(dm_tmap *t, uint32_t col, bool pk);

typedef enum {
	DM_V_NULL,
	DM_V_INT,    /* i: signed integers, YEAR (0 or 1901-2155) */
	DM_V_UINT,   /* u: unsigned integers */
	DM_V_DOUBLE, /* d */
	DM_V_FLOAT,  /* f */
	/* ptr/len: CHAR/VARCHAR/TEXT/BLOB/BINARY/GEOMETRY bytes as stored,
	 * MariaDB JSON (text), MySQL JSON rendered as JSON text */
	DM_V_BYTES,
	/* buf (NUL-terminated, len bytes; ptr points at buf): DECIMAL as
	 * "-12.3400", DATE "2024-01-02", DATETIME "2024-01-02 03:04:05.123456",
	 * TIME "-838:59:59", TIMESTAMP in UTC like DATETIME ("0000-00-00
	 * 00:00:00" for 0; i holds the seconds since the epoch) */
	DM_V_TEXT,
	DM_V_BIT,  /* u */
	DM_V_ENUM, /* u: 1-based index, 0 for the invalid '' */
	DM_V_SET,  /* u: bit i set = member i+1 */
} dm_vkind;

typedef struct dm_value {
	dm_vkind kind;
	bool present; /* false: the column is not in this image (MINIMAL) */
	union {
		int64_t i;
		uint64_t u;
		double d;
		float f;
	};
	/* BYTES: into the event (or a scratch buffer of the decoder), valid
	 * during the callback only. TEXT: into buf — a copy of a dm_value
	 * must use its own buf, not the copied ptr. */
	const unsigned char *ptr;
	size_t len;
	char buf[80];
} dm_value;

typedef struct dm_row {
	uint32_t ncols;
	dm_value *v; /* ncols values, in table order */
} dm_row;

/* Rows callback: WRITE gives before NULL, DELETE after NULL, UPDATE both.
 * A non-zero return stops decoding; dm_rows_decode returns it. */
typedef int (*dm_rows_cb)(void *arg, const dm_row *before, const dm_row *after);

/* Calls cb for each row of a WRITE/UPDATE/DELETE rows event: v1 (23-25,
 * MariaDB), v2 (30-32, MySQL) and MariaDB's compressed v1 (166-168,
 * inflated by Connector/C). t must be the table map with the event's
 * table id. DM_EINVAL when the event does not fit the table map
 * (truncated value, wrong column count) or holds a type not supported
 * (the message says which column). cb's non-zero return is passed on
 * without touching err. The images cb sees live in t->vals: one decode
 * per map at a time. */
int dm_rows_decode(const dm_tmap *t, const MARIADB_RPL_EVENT *ev, dm_rows_cb cb, void *arg,
                   dm_err *err);

/* Appends v as an SQL literal for a column of col's type, on a session
 * with time_zone '+00:00' and an sql_mode without NO_ZERO_DATE /
 * NO_ZERO_IN_DATE: NULL; integers; FLOAT and DOUBLE with 17 significant
 * digits (exact: a FLOAT is widened to double first, so the literal
 * round-trips and `col <=> literal` holds for the stored value); DECIMAL
 * bare; temporal values quoted; strings, blobs, geometry, JSON and binary
 * as 0x.. hex literals ('' when empty; BINARY(n) padded back to n bytes
 * when col->charset is 63); ENUM/SET as their index/bitmask; BIT as an
 * integer. A value not present in the image appends DEFAULT. Collations
 * still apply when a hex literal is compared with a text column ('a' =
 * 'A' under a case-insensitive collation). */
void dm_value_sql(dm_buf *out, const dm_tcol *col, const dm_value *v);

#endif
