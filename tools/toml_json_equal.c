/* toml-json-equal A.json B.json: are two toml-test tagged-JSON documents the
 * same TOML value?
 *
 * Objects compare unordered; integers and floats by value (nan equals nan);
 * offset date-times by the instant they name; local dates and times by their
 * fields, with fractional seconds compared as numbers ("07:32:00" equals
 * "07:32:00.000"). Exit 0 when equal, 1 with the first difference on stdout
 * when not, 2 on unreadable or malformed input. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

static const char *const types[] = {"string",   "integer",        "float",      "bool",
                                    "datetime", "datetime-local", "date-local", "time-local"};

/* The tag of a tagged scalar, or NULL when j is a table or an array. */
static const char *tag_of(json_t *j)
{
	if (!json_is_object(j) || json_object_size(j) != 2)
		return NULL;
	json_t *t = json_object_get(j, "type"), *v = json_object_get(j, "value");
	if (!json_is_string(t) || !json_is_string(v))
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(json_string_value(t), types[i]) == 0)
			return types[i];
	return NULL;
}

typedef struct when {
	bool has_date, has_time, has_off;
	int y, mo, d, h, mi, s, off; /* off in minutes east of UTC */
	char frac[40];               /* fraction digits without trailing zeros */
} when;

static bool num(const char **t, int digits, int *out)
{
	*out = 0;
	for (int i = 0; i < digits; i++, (*t)++) {
		if (**t < '0' || **t > '9')
			return false;
		*out = *out * 10 + (**t - '0');
	}
	return true;
}

static bool parse_when(const char *t, when *w)
{
	memset(w, 0, sizeof(*w));
	if (strlen(t) >= 10 && t[4] == '-') {
		if (!num(&t, 4, &w->y) || *t++ != '-' || !num(&t, 2, &w->mo) || *t++ != '-' ||
		    !num(&t, 2, &w->d))
			return false;
		w->has_date = true;
		if (*t == '\0')
			return true;
		if (*t != 'T' && *t != 't' && *t != ' ')
			return false;
		t++;
	}
	if (!num(&t, 2, &w->h) || *t++ != ':' || !num(&t, 2, &w->mi))
		return false;
	w->has_time = true;
	if (*t == ':' && (t++, !num(&t, 2, &w->s)))
		return false;
	if (*t == '.') {
		size_t n = 0;
		for (t++; *t >= '0' && *t <= '9'; t++)
			if (n + 1 < sizeof(w->frac))
				w->frac[n++] = *t;
		while (n > 0 && w->frac[n - 1] == '0')
			w->frac[--n] = '\0';
	}
	if (*t == 'Z' || *t == 'z') {
		w->has_off = true;
		t++;
	} else if (*t == '+' || *t == '-') {
		int sign = *t++ == '-' ? -1 : 1, oh, om;
		if (!num(&t, 2, &oh) || *t++ != ':' || !num(&t, 2, &om))
			return false;
		w->has_off = true;
		w->off = sign * (oh * 60 + om);
	}
	return *t == '\0';
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool same_when(const char *a, const char *b)
{
	when x, y;
	if (!parse_when(a, &x) || !parse_when(b, &y))
		return strcmp(a, b) == 0;
	if (x.has_date != y.has_date || x.has_time != y.has_time || x.has_off != y.has_off ||
	    x.s != y.s || strcmp(x.frac, y.frac) != 0)
		return false;
	if (x.has_off) {
		int64_t mx = (days_from_civil(x.y, x.mo, x.d) * 24 + x.h) * 60 + x.mi - x.off;
		int64_t my = (days_from_civil(y.y, y.mo, y.d) * 24 + y.h) * 60 + y.mi - y.off;
		return mx == my;
	}
	return x.y == y.y && x.mo == y.mo && x.d == y.d && x.h == y.h && x.mi == y.mi;
}

static bool same_scalar(const char *type, const char *a, size_t alen, const char *b, size_t blen)
{
	if (strcmp(type, "integer") == 0) {
		char *ea, *eb;
		errno = 0;
		long long x = strtoll(a, &ea, 10), y = strtoll(b, &eb, 10);
		if (errno == 0 && *a && *b && *ea == '\0' && *eb == '\0')
			return x == y;
	} else if (strcmp(type, "float") == 0) {
		char *ea, *eb;
		double x = strtod(a, &ea), y = strtod(b, &eb);
		if (*a && *b && *ea == '\0' && *eb == '\0')
			return (isnan(x) && isnan(y)) || x == y;
	} else if (strncmp(type, "date", 4) == 0 || strcmp(type, "time-local") == 0) {
		return same_when(a, b);
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* jansson refuses NUL in object keys, so before parsing every string is
 * rewritten one-to-one: U+0000 becomes U+0001 U+0001 and U+0001 becomes
 * U+0001 U+0002. Raw control characters are not valid JSON, so both only
 * ever appear as \u escapes. */
static void hide_nul(const char *in, size_t n, dm_buf *out)
{
	bool in_string = false;
	for (size_t i = 0; i < n; i++) {
		if (in_string && in[i] == '\\' && i + 1 < n) {
			if (i + 5 < n && memcmp(in + i + 1, "u000", 4) == 0 &&
			    (in[i + 5] == '0' || in[i + 5] == '1')) {
				dm_buf_puts(out,
				            in[i + 5] == '0' ? "\\u0001\\u0001" : "\\u0001\\u0002");
				i += 5;
			} else {
				dm_buf_append(out, in + i, 2);
				i++;
			}
			continue;
		}
		if (in[i] == '"')
			in_string = !in_string;
		dm_buf_putc(out, in[i]);
	}
}

static void path_key(dm_buf *path, const char *key, size_t len)
{
	dm_buf_putc(path, '.');
	for (size_t i = 0; i < len; i++) {
		if (key[i] == '\1' && i + 1 < len) {
			dm_buf_puts(path, key[++i] == '\1' ? "\\u0000" : "\\u0001");
			continue;
		}
		dm_buf_putc(path, key[i]);
	}
}

/* Reports the first difference under path; returns whether a equals b. */
static bool equal(json_t *a, json_t *b, dm_buf *path)
{
	const char *ta = tag_of(a), *tb = tag_of(b);
	if (ta != NULL || tb != NULL) {
		if (ta != tb) {
			printf("%s: expected %s, got %s\n", dm_buf_str(path),
			       ta ? ta : "a container", tb ? tb : "a container");
			return false;
		}
		json_t *va = json_object_get(a, "value"), *vb = json_object_get(b, "value");
		if (same_scalar(ta, json_string_value(va), json_string_length(va),
		                json_string_value(vb), json_string_length(vb)))
			return true;
		printf("%s: expected %s \"%s\", got \"%s\"\n", dm_buf_str(path), ta,
		       json_string_value(va), json_string_value(vb));
		return false;
	}
	if (json_is_object(a) && json_is_object(b)) {
		const char *key;
		size_t klen;
		json_t *va;
		json_object_keylen_foreach(a, key, klen, va)
		{
			size_t mark = path->len;
			path_key(path, key, klen);
			json_t *vb = json_object_getn(b, key, klen);
			if (vb == NULL) {
				printf("%s: missing\n", dm_buf_str(path));
				return false;
			}
			if (!equal(va, vb, path))
				return false;
			path->len = mark;
			path->data[mark] = '\0';
		}
		json_object_keylen_foreach(b, key, klen, va)
		{
			if (json_object_getn(a, key, klen) == NULL) {
				path_key(path, key, klen);
				printf("%s: unexpected key\n", dm_buf_str(path));
				return false;
			}
		}
		return true;
	}
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b)) {
			printf("%s: expected %zu elements, got %zu\n", dm_buf_str(path),
			       json_array_size(a), json_array_size(b));
			return false;
		}
		for (size_t i = 0; i < json_array_size(a); i++) {
			size_t mark = path->len;
			dm_buf_printf(path, "[%zu]", i);
			if (!equal(json_array_get(a, i), json_array_get(b, i), path))
				return false;
			path->len = mark;
			path->data[mark] = '\0';
		}
		return true;
	}
	printf("%s: expected %s, got %s\n", dm_buf_str(path),
	       json_is_array(a)    ? "an array"
	       : json_is_object(a) ? "a table"
	                           : "a non-TOML value",
	       json_is_array(b)    ? "an array"
	       : json_is_object(b) ? "a table"
	                           : "a non-TOML value");
	return false;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: toml-json-equal A.json B.json\n");
		return 2;
	}
	json_t *doc[2] = {NULL, NULL};
	for (int i = 0; i < 2; i++) {
		dm_buf raw, text;
		dm_buf_init(&raw);
		dm_buf_init(&text);
		FILE *f = fopen(argv[i + 1], "rb");
		char chunk[65536];
		size_t n;
		while (f != NULL && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			dm_buf_append(&raw, chunk, n);
		if (f == NULL || ferror(f)) {
			fprintf(stderr, "toml-json-equal: %s: %s\n", argv[i + 1], strerror(errno));
			if (f != NULL)
				fclose(f);
			dm_buf_fini(&raw);
			json_decref(doc[0]);
			return 2;
		}
		fclose(f);
		hide_nul(dm_buf_str(&raw), raw.len, &text);
		json_error_t e;
		doc[i] = json_loadb(dm_buf_str(&text), text.len, 0, &e);
		dm_buf_fini(&raw);
		dm_buf_fini(&text);
		if (doc[i] == NULL) {
			fprintf(stderr, "toml-json-equal: %s:%d:%d: %s\n", argv[i + 1], e.line,
			        e.column, e.text);
			json_decref(doc[0]);
			return 2;
		}
	}
	dm_buf path;
	dm_buf_init(&path);
	dm_buf_putc(&path, '$');
	bool same = equal(doc[0], doc[1], &path);
	dm_buf_fini(&path);
	json_decref(doc[0]);
	json_decref(doc[1]);
	return same ? 0 : 1;
}
