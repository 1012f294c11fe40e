/* TOML scalars: strings with their escapes, integers, floats, booleans and
 * the four date/time kinds, plus the position and error helpers. */
#include "config/toml_impl.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void toml_where(toml_parser *p, size_t at, int *line, int *col)
{
	if (at > p->len)
		at = p->len;
	if (at < p->lc_pos || p->lc_line == 0) {
		p->lc_pos = 0;
		p->lc_line = 1;
		p->lc_col = 1;
	}
	for (; p->lc_pos < at; p->lc_pos++) {
		unsigned char c = (unsigned char)p->s[p->lc_pos];
		if (c == '\n') {
			p->lc_line++;
			p->lc_col = 1;
		} else if ((c & 0xC0) != 0x80) {
			/* UTF-8 continuation bytes do not start a column. */
			p->lc_col++;
		}
	}
	*line = p->lc_line;
	*col = p->lc_col;
}

dm_node *toml_node(toml_parser *p, dm_node_type type, size_t at)
{
	int line, col;
	toml_where(p, at, &line, &col);
	return dm_tree_new(type, line, col);
}

int toml_fail_at(toml_parser *p, size_t at, const char *fmt, ...)
{
	char msg[DM_ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int line, col;
	toml_where(p, at, &line, &col);
	return dm_err_set(p->err, DM_EINVAL, "%s:%d:%d: %s", p->filename, line, col, msg);
}

static void put_utf8(dm_buf *out, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (char)(0xF0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	dm_buf_append(out, b, n);
}

/* Length of the newline at pos (1 for LF, 2 for CRLF) or 0. */
static size_t newline_at(const toml_parser *p, size_t off)
{
	int c = toml_peek(p, off);
	if (c == '\n')
		return 1;
	return c == '\r' && toml_peek(p, off + 1) == '\n' ? 2 : 0;
}

static int hex_value(int h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	h |= 0x20; /* lower case; -1 (end of input) stays -1 */
	return h >= 'a' && h <= 'f' ? h - 'a' + 10 : -1;
}

static int escape(toml_parser *p, bool multi, dm_buf *out)
{
	size_t at = p->pos;
	int c = toml_peek(p, 1);
	char simple = 0;
	switch (c) {
	case 'b': simple = '\b'; break;
	case 't': simple = '\t'; break;
	case 'n': simple = '\n'; break;
	case 'f': simple = '\f'; break;
	case 'r': simple = '\r'; break;
	case '"': simple = '"'; break;
	case '\\': simple = '\\'; break;
	}
	if (simple != 0) {
		dm_buf_putc(out, simple);
		p->pos += 2;
		return 0;
	}
	if (c == 'u' || c == 'U') {
		int n = c == 'u' ? 4 : 8;
		uint32_t cp = 0;
		for (int i = 0; i < n; i++) {
			int v = hex_value(toml_peek(p, 2 + (size_t)i));
			if (v < 0)
				return toml_fail_at(p, at, "\\%c escape needs %d hex digits", c, n);
			cp = cp << 4 | (uint32_t)v;
		}
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return toml_fail_at(p, at, "\\%c%0*X is not a Unicode scalar value", c, n,
			                    (unsigned)cp);
		put_utf8(out, cp);
		p->pos += 2 + (size_t)n;
		return 0;
	}
	if (multi) {
		/* A backslash ending a line swallows all whitespace up to the
		 * next non-blank character. */
		size_t i = 1;
		while (toml_peek(p, i) == ' ' || toml_peek(p, i) == '\t')
			i++;
		if (newline_at(p, i) > 0) {
			for (;;) {
				size_t nl = newline_at(p, i);
				if (nl > 0)
					i += nl;
				else if (toml_peek(p, i) == ' ' || toml_peek(p, i) == '\t')
					i++;
				else
					break;
			}
			p->pos += i;
			return 0;
		}
	}
	if (c < 0x20 || c >= 0x7f)
		return toml_fail_at(p, at, "invalid escape sequence in string");
	return toml_fail_at(p, at, "invalid escape sequence \\%c in string", c);
}

int toml_string(toml_parser *p, bool key, dm_buf *out)
{
	size_t at = p->pos;
	char q = p->s[p->pos];
	bool multi = toml_peek(p, 1) == q && toml_peek(p, 2) == q;
	if (multi && key)
		return toml_fail(p, "a key cannot be a multi-line string");
	p->pos += multi ? 3 : 1;
	if (multi)
		p->pos += newline_at(p, 0); /* a newline right after """ is trimmed */
	for (;;) {
		int c = toml_peek(p, 0);
		if (c < 0)
			return toml_fail_at(p, at, "unterminated string");
		if (c == q) {
			if (!multi) {
				p->pos++;
				return 0;
			}
			size_t run = 1;
			while (toml_peek(p, run) == q)
				run++;
			if (run < 3) {
				dm_buf_append(out, p->s + p->pos, run);
				p->pos += run;
				continue;
			}
			/* Up to two quotes may sit just inside the closing three. */
			if (run > 5)
				return toml_fail(p, "too many quotes at the end of a string");
			dm_buf_append(out, p->s + p->pos, run - 3);
			p->pos += run;
			return 0;
		}
		if (c == '\\' && q == '"') {
			if (escape(p, multi, out) < 0)
				return -1;
			continue;
		}
		size_t nl = newline_at(p, 0);
		if (nl > 0) {
			if (!multi)
				return toml_fail_at(p, at,
				                    "unterminated string (newline before the "
				                    "closing quote)");
			dm_buf_putc(out, '\n');
			p->pos += nl;
			continue;
		}
		if (toml_is_ctrl(c))
			return toml_fail(p, "control character U+%04X must be escaped in a string",
			                 (unsigned)c);
		dm_buf_putc(out, (char)c);
		p->pos++;
	}
}

static bool is_digit(int c, int base)
{
	switch (base) {
	case 2: return c == '0' || c == '1';
	case 8: return c >= '0' && c <= '7';
	case 16: return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
	default: return c >= '0' && c <= '9';
	}
}

/* Copies digits from t[*i] on to out, dropping the underscores allowed
 * between two digits. Returns the digit count, or -1 on a stray '_'. */
static int digits(const char *t, size_t n, size_t *i, int base, char *out, size_t *o)
{
	int count = 0;
	for (; *i < n; (*i)++) {
		if (t[*i] == '_') {
			if (count == 0 || *i + 1 >= n || !is_digit(t[*i + 1], base))
				return -1;
			continue;
		}
		if (!is_digit(t[*i], base))
			break;
		out[(*o)++] = t[*i];
		count++;
	}
	return count;
}

static int number(toml_parser *p, const char *t, size_t n, size_t at, dm_node **out)
{
	char *clean = dm_xmalloc(n + 1);
	size_t i = 0, o = 0;
	int base = 10, nd;
	bool is_float = false;
	const char *why = "invalid value";
	if (n > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'o' || t[1] == 'b')) {
		base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
		i = 2;
		if (digits(t, n, &i, base, clean, &o) <= 0 || i != n)
			goto bad;
	} else {
		if (t[0] == '+' || t[0] == '-')
			clean[o++] = t[i++];
		size_t first = o;
		if ((nd = digits(t, n, &i, 10, clean, &o)) <= 0)
			goto bad;
		if (nd > 1 && clean[first] == '0') {
			why = "leading zeros are not allowed in a number";
			goto bad;
		}
		if (i < n && t[i] == '.') {
			is_float = true;
			clean[o++] = t[i++];
			if (digits(t, n, &i, 10, clean, &o) <= 0)
				goto bad;
		}
		if (i < n && (t[i] == 'e' || t[i] == 'E')) {
			is_float = true;
			clean[o++] = t[i++];
			if (i < n && (t[i] == '+' || t[i] == '-'))
				clean[o++] = t[i++];
			if (digits(t, n, &i, 10, clean, &o) <= 0)
				goto bad;
		}
		if (i != n)
			goto bad;
	}
	clean[o] = '\0';
	errno = 0;
	dm_node *v;
	if (is_float) {
		v = toml_node(p, DM_NODE_FLOAT, at);
		v->f = strtod(clean, NULL);
	} else {
		/* strtoull covers binary, octal and hex up to 64 bits; values
		 * above INT64_MAX do not fit TOML's signed 64-bit integers. */
		long long s = 0;
		unsigned long long u = 0;
		if (base == 10)
			s = strtoll(clean, NULL, 10);
		else
			u = strtoull(clean, NULL, base);
		if (errno == ERANGE || u > INT64_MAX) {
			why = "integer does not fit in 64 bits";
			goto bad;
		}
		v = toml_node(p, DM_NODE_INTEGER, at);
		v->i = base == 10 ? (int64_t)s : (int64_t)u;
	}
	free(clean);
	*out = v;
	return 0;
bad:
	free(clean);
	return toml_fail_at(p, at, "%s: '%.*s'", why, (int)(n > 60 ? 60 : n), t);
}

static int num2(const char *t)
{
	return (t[0] >= '0' && t[0] <= '9' && t[1] >= '0' && t[1] <= '9')
	               ? (t[0] - '0') * 10 + t[1] - '0'
	               : -1;
}

/* Checks HH:MM:SS[.frac] at t and returns its length, or 0. */
static size_t time_part(const char *t, size_t n)
{
	if (n < 8 || t[2] != ':' || t[5] != ':')
		return 0;
	int h = num2(t), m = num2(t + 3), s = num2(t + 6);
	if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60)
		return 0;
	size_t i = 8;
	if (i < n && t[i] == '.') {
		while (++i < n && t[i] >= '0' && t[i] <= '9')
			;
		if (i == 9)
			return 0;
	}
	return i;
}

static int date_time(toml_parser *p, const char *t, size_t n, size_t at, dm_node **out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	dm_node_type type;
	size_t i = 0;
	if (n >= 10 && t[4] == '-') {
		int y = num2(t) * 100 + num2(t + 2), mo = num2(t + 5), d = num2(t + 8);
		bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
		if (num2(t) < 0 || num2(t + 2) < 0 || t[7] != '-' || mo < 1 || mo > 12 || d < 1 ||
		    d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap))
			goto bad;
		i = 10;
		type = DM_NODE_DATE_LOCAL;
		if (n > 10) {
			if (t[10] != 'T' && t[10] != 't' && t[10] != ' ')
				goto bad;
			size_t tl = time_part(t + 11, n - 11);
			if (tl == 0)
				goto bad;
			i = 11 + tl;
			type = DM_NODE_DATETIME_LOCAL;
		}
		if (i < n && type == DM_NODE_DATETIME_LOCAL && (t[i] == 'Z' || t[i] == 'z')) {
			i++;
			type = DM_NODE_DATETIME;
		} else if (i < n && type == DM_NODE_DATETIME_LOCAL &&
		           (t[i] == '+' || t[i] == '-')) {
			int oh = n - i >= 6 ? num2(t + i + 1) : -1;
			int om = oh >= 0 ? num2(t + i + 4) : -1;
			if (oh < 0 || oh > 23 || t[i + 3] != ':' || om < 0 || om > 59)
				goto bad;
			i += 6;
			type = DM_NODE_DATETIME;
		}
		if (type == DM_NODE_DATE_LOCAL && i < n)
			goto bad;
	} else {
		i = time_part(t, n);
		type = DM_NODE_TIME_LOCAL;
		if (i == 0)
			goto bad;
	}
	if (i != n)
		goto bad;
	dm_node *v = toml_node(p, type, at);
	v->str = dm_xstrndup(t, n);
	v->len = n;
	if (n > 10 && type != DM_NODE_TIME_LOCAL)
		v->str[10] = 'T';
	if (v->str[n - 1] == 'z')
		v->str[n - 1] = 'Z';
	*out = v;
	return 0;
bad:
	return toml_fail_at(p, at, "invalid date or time '%.*s'", (int)n, t);
}

static bool is_token(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '_' || c == '+' || c == '-' || c == '.' || c == ':';
}

int toml_scalar(toml_parser *p, dm_node **out)
{
	size_t at = p->pos;
	int c = toml_peek(p, 0);
	if (c == '"' || c == '\'') {
		dm_buf b;
		dm_buf_init(&b);
		if (toml_string(p, false, &b) < 0) {
			dm_buf_fini(&b);
			return -1;
		}
		dm_node *v = toml_node(p, DM_NODE_STRING, at);
		v->len = b.len;
		v->str = dm_buf_detach(&b);
		*out = v;
		return 0;
	}
	while (is_token(toml_peek(p, 0)))
		p->pos++;
	const char *t = p->s + at;
	size_t n = p->pos - at;
	/* A date and a time may be separated by one space instead of 'T'. */
	if (n == 10 && t[4] == '-' && toml_peek(p, 0) == ' ' && is_digit(toml_peek(p, 1), 10) &&
	    is_digit(toml_peek(p, 2), 10) && toml_peek(p, 3) == ':') {
		p->pos++;
		while (is_token(toml_peek(p, 0)))
			p->pos++;
		n = p->pos - at;
	}
	if (n == 0) {
		if (c < 0 || c == '\n' || c == '\r' || c == '#')
			return toml_fail(p, "expected a value");
		if (c < 0x20 || c >= 0x7f)
			return toml_fail(p, "expected a value, found byte 0x%02X", (unsigned)c);
		return toml_fail(p, "expected a value, found '%c'", c);
	}
	if ((n == 4 && memcmp(t, "true", 4) == 0) || (n == 5 && memcmp(t, "false", 5) == 0)) {
		*out = toml_node(p, DM_NODE_BOOL, at);
		(*out)->b = n == 4;
		return 0;
	}
	size_t sign = t[0] == '+' || t[0] == '-';
	if (n == sign + 3 && (memcmp(t + sign, "inf", 3) == 0 || memcmp(t + sign, "nan", 3) == 0)) {
		*out = toml_node(p, DM_NODE_FLOAT, at);
		(*out)->f = t[sign] == 'i' ? INFINITY : NAN;
		if (t[0] == '-')
			(*out)->f = -(*out)->f;
		return 0;
	}
	if ((n >= 5 && num2(t) >= 0 && num2(t + 2) >= 0 && t[4] == '-') ||
	    (n >= 3 && num2(t) >= 0 && t[2] == ':'))
		return date_time(p, t, n, at, out);
	return number(p, t, n, at, out);
}
