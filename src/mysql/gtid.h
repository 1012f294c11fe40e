/* GTID sets of either server family: where replication stands, and which
 * transactions a binlog reader may skip because the target has them.
 *
 * A set holds one flavour, fixed by the first GTID that enters it:
 *
 *   MariaDB, a position as in gtid_binlog_pos / gtid_slave_pos:
 *     "0-1-100,1-2-7" — domain-server-seq, at most one GTID per domain.
 *     A position is where each domain's stream has got to, so when text or
 *     a binlog reader gives a domain again, the LAST one wins, even with a
 *     lower seq: that is what the binlog order says (multi-source writes
 *     without gtid_strict_mode can go backwards; go-mysql, which DM uses,
 *     does the same). gtid_binlog_state, with one GTID per server, reduces
 *     to its last entry per domain. Only dm_gtid_merge() keeps the higher
 *     seq, since it unites two positions that have no order between them.
 *
 *   MySQL, a set as in gtid_executed / gtid_purged:
 *     "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9,..." — the UUID in any
 *     case, intervals in any order, overlapping or not. Whitespace and line
 *     breaks around ',' ':' and '-' are accepted, as MySQL prints them.
 *     Transaction numbers run from 1 to 2^63-1, as in MySQL. Tagged GTIDs
 *     (MySQL 8.3+, uuid:tag:1-5) are refused with a message saying so.
 *
 * An empty set has no flavour (DM_GTID_NONE) and takes either. Mixing the
 * two flavours in one set is refused, never guessed at.
 *
 * A dm_gtid_set is owned by whoever got it from dm_gtid_new(),
 * dm_gtid_parse() or dm_gtid_dup() and is freed with dm_gtid_free(). It is
 * not locked: one thread at a time, or readers only. */
#ifndef DM_MYSQL_GTID_H
#define DM_MYSQL_GTID_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

/* Longest text dm_gtid_parse() accepts: a few times the gtid_executed of a
 * server with tens of thousands of source UUIDs. */
#define DM_GTID_TEXT_MAX (4u * 1024 * 1024)

enum dm_gtid_flavor {
	DM_GTID_NONE = 0, /* empty set */
	DM_GTID_MARIADB,
	DM_GTID_MYSQL,
};

typedef struct dm_gtid_set dm_gtid_set;

/* An empty set. Never NULL. */
dm_gtid_set *dm_gtid_new(void);
/* NULL is a no-op. */
void dm_gtid_free(dm_gtid_set *set);
/* A deep copy the caller frees. Never NULL. */
dm_gtid_set *dm_gtid_dup(const dm_gtid_set *set);

/* Reads a MariaDB position or a MySQL set (flavour told by the text);
 * blank text is the empty set. On success *out is the caller's. Errors are
 * DM_EINVAL quoting the bad entry and the byte offset of the bad part
 * (garbage, a missing or extra part, a number out of range, an interval
 * that ends before it starts, a bad UUID, mixed flavours, an empty entry
 * such as a trailing comma), or DM_ELIMIT above DM_GTID_TEXT_MAX. */
int dm_gtid_parse(const char *text, dm_gtid_set **out, dm_err *err);

/* Canonical text, malloc'd for the caller ("" for an empty set): MariaDB
 * GTIDs sorted by domain; MySQL UUIDs lowercase and sorted, each with its
 * intervals merged and sorted, "n" for a one-transaction interval, entries
 * joined by "," without line breaks. dm_gtid_parse() reads it back to an
 * equal set. */
char *dm_gtid_format(const dm_gtid_set *set);

enum dm_gtid_flavor dm_gtid_flavor(const dm_gtid_set *set);
bool dm_gtid_is_empty(const dm_gtid_set *set);

/* The binlog reader's step on a MariaDB GTID event: the domain's position
 * becomes exactly this GTID (last one wins, see above). Fails, leaving the
 * set as it was, only when the set holds MySQL GTIDs. */
int dm_gtid_add_mariadb(dm_gtid_set *set, uint32_t domain, uint32_t server, uint64_t seq,
                        dm_err *err);
/* The binlog reader's step on a MySQL GTID event: adds uuid:gno, the UUID
 * as the 16 bytes of the event. Fails, leaving the set as it was, when the
 * set holds MariaDB GTIDs or gno is 0 or above 2^63-1. */
int dm_gtid_add_mysql(dm_gtid_set *set, const unsigned char uuid[16], uint64_t gno, dm_err *err);

/* dst becomes the union of dst and src: for MariaDB, per domain the GTID
 * with the higher seq (dst's on a tie); for MySQL, all intervals. Fails,
 * leaving dst as it was, when both are non-empty and of different
 * flavours. */
int dm_gtid_merge(dm_gtid_set *dst, const dm_gtid_set *src, dm_err *err);

/* Whether set includes other: MariaDB, every domain of other is in set with
 * a seq at least as high (server ids are not compared, as MariaDB does not
 * when it decides where a replica resumes); MySQL, every transaction of
 * other is in set. The empty set is included in every set; non-empty sets
 * of different flavours include neither the other. */
bool dm_gtid_contains(const dm_gtid_set *set, const dm_gtid_set *other);
/* Whether the transaction domain-server-seq is already covered by the
 * position set, i.e. its domain is there with a seq >= this one: the test
 * for skipping an applied transaction. server is not compared (see above);
 * it is taken so callers pass the GTID whole. False on a MySQL set. */
bool dm_gtid_contains_mariadb(const dm_gtid_set *set, uint32_t domain, uint32_t server,
                              uint64_t seq);
/* Whether uuid:gno is in set. False on a MariaDB set. */
bool dm_gtid_contains_mysql(const dm_gtid_set *set, const unsigned char uuid[16], uint64_t gno);

/* Same flavour and same GTIDs (server ids included for MariaDB). Two
 * empty sets are equal. */
bool dm_gtid_equal(const dm_gtid_set *a, const dm_gtid_set *b);

#endif
