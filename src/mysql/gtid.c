#include "mysql/gtid.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

/* MySQL's GNO_END - 1. Keeping ends below UINT64_MAX also lets the interval
 * code write end + 1 without overflow. */
#define GNO_MAX ((uint64_t)INT64_MAX)
/* Longest piece of input quoted in an error message. */
#define QUOTE_MAX 80

typedef struct mdb_gtid {
	uint32_t domain;
	uint32_t server;
	uint64_t seq;
} mdb_gtid;

/* Inclusive at both ends, 1 <= start <= end <= GNO_MAX. */
typedef struct interval {
	uint64_t start;
	uint64_t end;
} interval;

/* Invariant: iv sorted by start, never overlapping nor adjacent (a gap of
 * at least one number between neighbours), n >= 1. */
typedef struct sid_entry {
	unsigned char uuid[16];
	interval *iv;
	size_t n;
	size_t cap;
} sid_entry;

/* Only the array of the set's flavour is used. mdb is sorted by domain,
 * sid by uuid bytes (the same order as lowercase text). */
struct dm_gtid_set {
	enum dm_gtid_flavor flavor;
	mdb_gtid *mdb;
	size_t n_mdb;
	size_t cap_mdb;
	sid_entry *sid;
	size_t n_sid;
	size_t cap_sid;
};

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 4;
	while (c < need)
		c *= 2;
	*cap = c;
	return dm_xrealloc(p, c * elem);
}

static const char *flavor_name(enum dm_gtid_flavor f)
{
	switch (f) {
	case DM_GTID_MARIADB: return "MariaDB";
	case DM_GTID_MYSQL: return "MySQL";
	case DM_GTID_NONE: break;
	}
	return "empty";
}

static void uuid_text(const unsigned char uuid[16], char out[37])
{
	static const char digits[] = "0123456789abcdef";
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = digits[uuid[i] >> 4];
		*o++ = digits[uuid[i] & 15];
	}
	*o = '\0';
}

/* Binary search: true when found; *at is the index, or where to insert. */
static bool mdb_find(const dm_gtid_set *s, uint32_t domain, size_t *at)
{
	size_t lo = 0, hi = s->n_mdb;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->mdb[mid].domain < domain)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < s->n_mdb && s->mdb[lo].domain == domain;
}

static void mdb_put(dm_gtid_set *s, uint32_t domain, uint32_t server, uint64_t seq)
{
	size_t at;
	if (!mdb_find(s, domain, &at)) {
		s->mdb = grow(s->mdb, &s->cap_mdb, s->n_mdb + 1, sizeof(*s->mdb));
		memmove(&s->mdb[at + 1], &s->mdb[at], (s->n_mdb - at) * sizeof(*s->mdb));
		s->n_mdb++;
		s->mdb[at].domain = domain;
	}
	s->mdb[at].server = server;
	s->mdb[at].seq = seq;
	s->flavor = DM_GTID_MARIADB;
}

static bool sid_find(const dm_gtid_set *s, const unsigned char uuid[16], size_t *at)
{
	size_t lo = 0, hi = s->n_sid;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(s->sid[mid].uuid, uuid, 16) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < s->n_sid && memcmp(s->sid[lo].uuid, uuid, 16) == 0;
}

/* First interval that ends at or after gno - 1, i.e. the first one gno
 * could fall in or extend; n when there is none. */
static size_t iv_lower(const sid_entry *e, uint64_t gno)
{
	size_t lo = 0, hi = e->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (e->iv[mid].end + 1 < gno)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void iv_add(sid_entry *e, uint64_t start, uint64_t end)
{
	/* The binlog reader's common case: the next number of the last run. */
	if (e->n > 0 && e->iv[e->n - 1].end + 1 == start) {
		e->iv[e->n - 1].end = end;
		return;
	}
	size_t i = iv_lower(e, start);
	if (i == e->n || e->iv[i].start > end + 1) {
		e->iv = grow(e->iv, &e->cap, e->n + 1, sizeof(*e->iv));
		memmove(&e->iv[i + 1], &e->iv[i], (e->n - i) * sizeof(*e->iv));
		e->iv[i] = (interval){start, end};
		e->n++;
		return;
	}
	if (start < e->iv[i].start)
		e->iv[i].start = start;
	if (end > e->iv[i].end)
		e->iv[i].end = end;
	size_t j = i + 1;
	while (j < e->n && e->iv[j].start <= e->iv[i].end + 1) {
		if (e->iv[j].end > e->iv[i].end)
			e->iv[i].end = e->iv[j].end;
		j++;
	}
	memmove(&e->iv[i + 1], &e->iv[j], (e->n - j) * sizeof(*e->iv));
	e->n -= j - i - 1;
}

static void sid_add(dm_gtid_set *s, const unsigned char uuid[16], uint64_t start, uint64_t end)
{
	size_t at;
	if (!sid_find(s, uuid, &at)) {
		s->sid = grow(s->sid, &s->cap_sid, s->n_sid + 1, sizeof(*s->sid));
		memmove(&s->sid[at + 1], &s->sid[at], (s->n_sid - at) * sizeof(*s->sid));
		s->n_sid++;
		memset(&s->sid[at], 0, sizeof(s->sid[at]));
		memcpy(s->sid[at].uuid, uuid, 16);
	}
	iv_add(&s->sid[at], start, end);
	s->flavor = DM_GTID_MYSQL;
}

static bool iv_covers(const sid_entry *e, uint64_t start, uint64_t end)
{
	/* Intervals are disjoint and not adjacent, so a covered range lies in
	 * the one interval that can hold its start. */
	size_t i = iv_lower(e, start + 1);
	return i < e->n && e->iv[i].start <= start && e->iv[i].end >= end;
}

dm_gtid_set *dm_gtid_new(void)
{
	return dm_xcalloc(1, sizeof(dm_gtid_set));
}

void dm_gtid_free(dm_gtid_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->n_sid; i++)
		free(set->sid[i].iv);
	free(set->sid);
	free(set->mdb);
	free(set);
}

dm_gtid_set *dm_gtid_dup(const dm_gtid_set *set)
{
	dm_gtid_set *d = dm_gtid_new();
	d->flavor = set->flavor;
	if (set->n_mdb) {
		d->mdb = dm_xmalloc(set->n_mdb * sizeof(*d->mdb));
		memcpy(d->mdb, set->mdb, set->n_mdb * sizeof(*d->mdb));
		d->n_mdb = d->cap_mdb = set->n_mdb;
	}
	if (set->n_sid) {
		d->sid = dm_xmalloc(set->n_sid * sizeof(*d->sid));
		d->n_sid = d->cap_sid = set->n_sid;
		for (size_t i = 0; i < set->n_sid; i++) {
			const sid_entry *from = &set->sid[i];
			sid_entry *to = &d->sid[i];
			memcpy(to->uuid, from->uuid, 16);
			to->iv = dm_xmalloc(from->n * sizeof(*to->iv));
			memcpy(to->iv, from->iv, from->n * sizeof(*to->iv));
			to->n = to->cap = from->n;
		}
	}
	return d;
}

enum dm_gtid_flavor dm_gtid_flavor(const dm_gtid_set *set)
{
	return set->flavor;
}

bool dm_gtid_is_empty(const dm_gtid_set *set)
{
	return set->flavor == DM_GTID_NONE;
}

char *dm_gtid_format(const dm_gtid_set *set)
{
	dm_buf b;
	dm_buf_init(&b);
	for (size_t i = 0; i < set->n_mdb; i++) {
		const mdb_gtid *g = &set->mdb[i];
		dm_buf_printf(&b, "%s%u-%u-%llu", i ? "," : "", (unsigned)g->domain,
		              (unsigned)g->server, (unsigned long long)g->seq);
	}
	for (size_t i = 0; i < set->n_sid; i++) {
		const sid_entry *e = &set->sid[i];
		char u[37];
		uuid_text(e->uuid, u);
		dm_buf_printf(&b, "%s%s", i ? "," : "", u);
		for (size_t k = 0; k < e->n; k++) {
			if (e->iv[k].start == e->iv[k].end)
				dm_buf_printf(&b, ":%llu", (unsigned long long)e->iv[k].start);
			else
				dm_buf_printf(&b, ":%llu-%llu", (unsigned long long)e->iv[k].start,
				              (unsigned long long)e->iv[k].end);
		}
	}
	return dm_buf_detach(&b);
}

/* What the parser is looking at: the whole text (for offsets) and the
 * entry between two commas (quoted in errors). */
typedef struct cursor {
	const char *text;
	const char *entry;
	size_t entry_len;
	dm_err *err;
} cursor;

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "... at offset N, in "E": <reason>" with E cut to QUOTE_MAX bytes. */
static int fail(const cursor *c, const char *at, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int fail(const cursor *c, const char *at, const char *fmt, ...)
{
	char reason[DM_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	int n = c->entry_len > QUOTE_MAX ? QUOTE_MAX : (int)c->entry_len;
	dm_err_set(c->err, DM_EINVAL, "invalid GTID set at offset %zu, in \"%.*s%s\": %s",
	           (size_t)(at - c->text), n, c->entry, c->entry_len > QUOTE_MAX ? "..." : "",
	           reason);
	/* Entries may span lines (MySQL's ",\n"); keep the message on one. */
	if (c->err != NULL)
		for (char *m = c->err->msg; *m; m++)
			if ((unsigned char)*m < 0x20 || *m == 0x7f)
				*m = ' ';
	return -1;
}

/* Digits only, at most max. 0 on success, -1 when not a number, -2 when
 * above max. */
static int parse_number(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	if (n == 0)
		return -1;
	uint64_t v = 0;
	bool over = false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		unsigned d = (unsigned)(p[i] - '0');
		if (v > (max - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (over)
		return -2;
	*out = v;
	return 0;
}

static bool parse_uuid(const char *p, size_t n, unsigned char out[16])
{
	if (n != 36)
		return false;
	size_t k = 0;
	for (size_t i = 0; i < n; k++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return false;
			i++;
		}
		int hi = hex_value(p[i]), lo = hex_value(p[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[k] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	return true;
}

#define MARIADB_HINT "write a MariaDB GTID as domain-server-seq, e.g. 0-1-100"
#define MYSQL_HINT                                                                                 \
	"write a MySQL GTID set entry as uuid:interval[:interval...], e.g. "                       \
	"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7"

static int parse_mariadb(const cursor *c, dm_gtid_set *s)
{
	static const char *const what[3] = {"domain id", "server id", "sequence number"};
	static const uint64_t max[3] = {UINT32_MAX, UINT32_MAX, UINT64_MAX};
	uint64_t v[3];
	const char *p = c->entry, *end = c->entry + c->entry_len;
	for (int f = 0; f < 3; f++) {
		const char *q = p;
		while (q < end && *q != '-')
			q++;
		if (f < 2 && q == end)
			return fail(c, end, "%s; " MARIADB_HINT,
			            f == 0 ? "the server id and sequence number are missing"
			                   : "the sequence number is missing");
		if (f == 2 && q != end)
			return fail(c, q,
			            "unexpected '-' after the sequence number; " MARIADB_HINT);
		int rc = parse_number(p, (size_t)(q - p), max[f], &v[f]);
		if (rc == -1 && p == q)
			return fail(c, p, "the %s is empty; " MARIADB_HINT, what[f]);
		if (rc == -1)
			return fail(c, p, "the %s \"%.*s\" is not a decimal number; " MARIADB_HINT,
			            what[f], (int)(q - p), p);
		if (rc == -2)
			return fail(c, p, "the %s %.*s is larger than %llu", what[f], (int)(q - p),
			            p, (unsigned long long)max[f]);
		p = q + 1;
	}
	mdb_put(s, (uint32_t)v[0], (uint32_t)v[1], v[2]);
	return 0;
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p;
}

/* A number of an interval, starting at *pp; leaves *pp after it. */
static int parse_gno(const cursor *c, const char **pp, const char *end, const char *what,
                     uint64_t *out)
{
	const char *p = *pp, *q = p;
	while (q < end && *q != ':' && *q != '-' && !is_space(*q))
		q++;
	if (q == p)
		return fail(c, p, "the %s of an interval is missing; " MYSQL_HINT, what);
	int rc = parse_number(p, (size_t)(q - p), GNO_MAX, out);
	if (rc == -1)
		return fail(c, p,
		            "the %s \"%.*s\" of an interval is not a decimal number; " MYSQL_HINT,
		            what, (int)(q - p), p);
	if (rc == -2)
		return fail(c, p,
		            "transaction number %.*s is larger than %llu, the largest MySQL has",
		            (int)(q - p), p, (unsigned long long)GNO_MAX);
	if (*out == 0)
		return fail(c, p, "transaction number 0 does not exist; MySQL numbers start at 1");
	*pp = q;
	return 0;
}

static int parse_mysql(const cursor *c, dm_gtid_set *s)
{
	const char *p = c->entry, *end = c->entry + c->entry_len;
	const char *q = p;
	while (q < end && *q != ':' && !is_space(*q))
		q++;
	unsigned char uuid[16];
	if (!parse_uuid(p, (size_t)(q - p), uuid))
		return fail(c, p,
		            "\"%.*s\" is not a UUID (8-4-4-4-12 hexadecimal digits, e.g. "
		            "3e11fa47-71ca-11e1-9e33-c80aa9429562)",
		            (int)(q - p), p);
	p = skip_space(q, end);
	if (p == end)
		return fail(c, p, "the UUID has no transaction intervals; " MYSQL_HINT);
	if (*p != ':')
		return fail(c, p, "unexpected '%c' after the UUID; " MYSQL_HINT, *p);
	/* Intervals go straight into s: dm_gtid_parse() drops s whole on
	 * any error, so nothing half-added escapes. */
	while (p < end) {
		p = skip_space(p + 1, end); /* past ':' */
		if (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			return fail(
			        c, p,
			        "tagged GTIDs (MySQL 8.3 and later, uuid:tag:n) are not supported");
		uint64_t start, last;
		const char *istart = p;
		if (parse_gno(c, &p, end, "start", &start) < 0)
			return -1;
		last = start;
		p = skip_space(p, end);
		if (p < end && *p == '-') {
			p = skip_space(p + 1, end);
			if (parse_gno(c, &p, end, "end", &last) < 0)
				return -1;
			if (last < start)
				return fail(c, istart,
				            "interval %llu-%llu ends before it starts; write it as "
				            "%llu-%llu",
				            (unsigned long long)start, (unsigned long long)last,
				            (unsigned long long)last, (unsigned long long)start);
			p = skip_space(p, end);
		}
		if (p < end && *p != ':')
			return fail(c, p, "unexpected '%c' after an interval; " MYSQL_HINT, *p);
		sid_add(s, uuid, start, last);
	}
	return 0;
}

/* Which flavour an entry is written in, so errors can speak of the right
 * syntax: a ':' or a leading UUID is MySQL; digits, '-' and spaces, or any
 * '-' at all (a MariaDB GTID with a typo), MariaDB; the rest neither. */
static enum dm_gtid_flavor entry_flavor(const cursor *c)
{
	bool dash = false, digits_only = true;
	for (size_t i = 0; i < c->entry_len; i++) {
		char ch = c->entry[i];
		if (ch == ':')
			return DM_GTID_MYSQL;
		if (ch == '-')
			dash = true;
		else if (!is_digit(ch) && !is_space(ch))
			digits_only = false;
	}
	unsigned char uuid[16];
	if (c->entry_len >= 36 && parse_uuid(c->entry, 36, uuid))
		return DM_GTID_MYSQL;
	if (dash || digits_only)
		return DM_GTID_MARIADB;
	return DM_GTID_NONE;
}

int dm_gtid_parse(const char *text, dm_gtid_set **out, dm_err *err)
{
	size_t len = strlen(text);
	if (len > DM_GTID_TEXT_MAX)
		return dm_err_set(
		        err, DM_ELIMIT,
		        "GTID set is %zu bytes long, more than the %u accepted; check that "
		        "the value is a GTID set",
		        len, (unsigned)DM_GTID_TEXT_MAX);
	const char *end = text + len;
	dm_gtid_set *s = dm_gtid_new();
	cursor c = {.text = text, .err = err};
	const char *p = skip_space(text, end);
	if (p == end) {
		*out = s;
		return 0;
	}
	const char *prev_comma = NULL;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		const char *e = stop;
		while (e > p && is_space(e[-1]))
			e--;
		c.entry = p;
		c.entry_len = (size_t)(e - p);
		if (c.entry_len == 0) {
			/* No entry to quote: quote the whole text. */
			c.entry = text;
			c.entry_len = len;
			if (prev_comma == NULL)
				fail(&c, p, "nothing before the first comma; remove it");
			else if (comma == NULL)
				fail(&c, prev_comma,
				     "nothing after the last comma; remove the trailing comma");
			else
				fail(&c, p, "empty entry between two commas; remove one comma");
			dm_gtid_free(s);
			return -1;
		}
		enum dm_gtid_flavor f = entry_flavor(&c);
		int rc = 0;
		if (f == DM_GTID_NONE)
			rc = fail(&c, p,
			          "neither a MariaDB GTID (domain-server-seq, e.g. 0-1-100) nor a "
			          "MySQL GTID set entry (uuid:interval, e.g. "
			          "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5)");
		else if (s->flavor != DM_GTID_NONE && f != s->flavor)
			rc = fail(
			        &c, p,
			        "a %s GTID in a set that began with %s GTIDs; a set holds GTIDs of "
			        "one server family only",
			        flavor_name(f), flavor_name(s->flavor));
		else if (f == DM_GTID_MARIADB)
			rc = parse_mariadb(&c, s);
		else
			rc = parse_mysql(&c, s);
		if (rc < 0) {
			dm_gtid_free(s);
			return -1;
		}
		if (comma == NULL)
			break;
		prev_comma = comma;
		p = skip_space(comma + 1, end);
	}
	*out = s;
	return 0;
}

static int check_flavor(const dm_gtid_set *set, enum dm_gtid_flavor want, dm_err *err)
{
	if (set->flavor == DM_GTID_NONE || set->flavor == want)
		return 0;
	return dm_err_set(err, DM_EINVAL,
	                  "cannot add a %s GTID to a set of %s GTIDs; the source server changed "
	                  "family, or the saved position belongs to another server: reset the "
	                  "task's position",
	                  flavor_name(want), flavor_name(set->flavor));
}

int dm_gtid_add_mariadb(dm_gtid_set *set, uint32_t domain, uint32_t server, uint64_t seq,
                        dm_err *err)
{
	if (check_flavor(set, DM_GTID_MARIADB, err) < 0)
		return -1;
	mdb_put(set, domain, server, seq);
	return 0;
}

int dm_gtid_add_mysql(dm_gtid_set *set, const unsigned char uuid[16], uint64_t gno, dm_err *err)
{
	if (check_flavor(set, DM_GTID_MYSQL, err) < 0)
		return -1;
	if (gno == 0 || gno > GNO_MAX) {
		char u[37];
		uuid_text(uuid, u);
		return dm_err_set(
		        err, DM_EINVAL,
		        "GTID %s:%llu has a transaction number outside 1..%llu; the binlog "
		        "event is corrupt",
		        u, (unsigned long long)gno, (unsigned long long)GNO_MAX);
	}
	sid_add(set, uuid, gno, gno);
	return 0;
}

int dm_gtid_merge(dm_gtid_set *dst, const dm_gtid_set *src, dm_err *err)
{
	if (src->flavor == DM_GTID_NONE)
		return 0;
	if (dst->flavor != DM_GTID_NONE && dst->flavor != src->flavor)
		return dm_err_set(
		        err, DM_EINVAL,
		        "cannot merge a set of %s GTIDs into a set of %s GTIDs; positions "
		        "of different server families do not combine",
		        flavor_name(src->flavor), flavor_name(dst->flavor));
	for (size_t i = 0; i < src->n_mdb; i++) {
		const mdb_gtid *g = &src->mdb[i];
		size_t at;
		if (!mdb_find(dst, g->domain, &at) || dst->mdb[at].seq < g->seq)
			mdb_put(dst, g->domain, g->server, g->seq);
	}
	for (size_t i = 0; i < src->n_sid; i++) {
		const sid_entry *e = &src->sid[i];
		for (size_t k = 0; k < e->n; k++)
			sid_add(dst, e->uuid, e->iv[k].start, e->iv[k].end);
	}
	return 0;
}

bool dm_gtid_contains_mariadb(const dm_gtid_set *set, uint32_t domain, uint32_t server,
                              uint64_t seq)
{
	(void)server;
	size_t at;
	return mdb_find(set, domain, &at) && set->mdb[at].seq >= seq;
}

bool dm_gtid_contains_mysql(const dm_gtid_set *set, const unsigned char uuid[16], uint64_t gno)
{
	size_t at;
	if (gno == 0 || gno > GNO_MAX)
		return false;
	return sid_find(set, uuid, &at) && iv_covers(&set->sid[at], gno, gno);
}

bool dm_gtid_contains(const dm_gtid_set *set, const dm_gtid_set *other)
{
	if (other->flavor == DM_GTID_NONE)
		return true;
	if (set->flavor != other->flavor)
		return false;
	for (size_t i = 0; i < other->n_mdb; i++) {
		const mdb_gtid *g = &other->mdb[i];
		if (!dm_gtid_contains_mariadb(set, g->domain, g->server, g->seq))
			return false;
	}
	for (size_t i = 0; i < other->n_sid; i++) {
		const sid_entry *e = &other->sid[i];
		size_t at;
		if (!sid_find(set, e->uuid, &at))
			return false;
		for (size_t k = 0; k < e->n; k++)
			if (!iv_covers(&set->sid[at], e->iv[k].start, e->iv[k].end))
				return false;
	}
	return true;
}

bool dm_gtid_equal(const dm_gtid_set *a, const dm_gtid_set *b)
{
	if (a->flavor != b->flavor || a->n_mdb != b->n_mdb || a->n_sid != b->n_sid)
		return false;
	for (size_t i = 0; i < a->n_mdb; i++)
		if (a->mdb[i].domain != b->mdb[i].domain || a->mdb[i].server != b->mdb[i].server ||
		    a->mdb[i].seq != b->mdb[i].seq)
			return false;
	for (size_t i = 0; i < a->n_sid; i++) {
		const sid_entry *x = &a->sid[i], *y = &b->sid[i];
		if (memcmp(x->uuid, y->uuid, 16) != 0 || x->n != y->n ||
		    memcmp(x->iv, y->iv, x->n * sizeof(*x->iv)) != 0)
			return false;
	}
	return true;
}
