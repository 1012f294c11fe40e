/* TOML documents: keys, [tables], [[arrays of tables]], inline tables and
 * arrays, and the rules about what may be defined twice. Scalars are read by
 * toml_value.c. */
#include "config/toml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/toml_impl.h"

/* dm_node.flags of tables and arrays: how a table came to exist decides
 * what may still be added to it later in the document. */
enum {
	/* Table opened by [header] or [[header]]; array made by [[header]]. */
	T_HEADER = 1u << 0,
	/* Table made on the way to a deeper header: [a] may still open it. */
	T_IMPLICIT = 1u << 1,
	/* Table made by a dotted key: deeper headers may pass through it, but
	 * it never gets a [header] of its own. */
	T_DOTTED = 1u << 2,
	/* Inline table or array value: complete once written. */
	T_FROZEN = 1u << 3,
};

typedef struct key_part {
	char *s;
	size_t at;
} key_part;

typedef struct key_path {
	key_part *v;
	size_t n, cap;
} key_path;

static void path_free(key_path *kp)
{
	for (size_t i = 0; i < kp->n; i++)
		free(kp->v[i].s);
	free(kp->v);
}

static const char *found(const toml_parser *p, char *buf, size_t size)
{
	int c = toml_peek(p, 0);
	if (c < 0)
		return "the end of the input";
	if (c == '\n' || (c == '\r' && toml_peek(p, 1) == '\n'))
		return "the end of the line";
	if (c == ' ' || c == '\t')
		return "a blank";
	if (c > ' ' && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else if (c >= 0x80)
		snprintf(buf, size, "a non-ASCII character");
	else
		snprintf(buf, size, "control character U+%04X", (unsigned)c);
	return buf;
}

static int check_utf8(toml_parser *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	for (size_t i = p->pos; i < p->len;) {
		unsigned c = s[i], cp, min;
		size_t n;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0)
			n = 1, cp = c & 0x1F, min = 0x80;
		else if ((c & 0xF0) == 0xE0)
			n = 2, cp = c & 0x0F, min = 0x800;
		else if ((c & 0xF8) == 0xF0)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			return toml_fail_at(p, i, "invalid UTF-8 byte 0x%02X", c);
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= p->len || (s[i + k] & 0xC0) != 0x80)
				return toml_fail_at(p, i, "truncated UTF-8 sequence");
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		/* Overlong forms and surrogates are not valid UTF-8 either. */
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return toml_fail_at(p, i, "invalid UTF-8 sequence");
		i += n + 1;
	}
	return 0;
}

static void skip_blanks(toml_parser *p)
{
	while (toml_peek(p, 0) == ' ' || toml_peek(p, 0) == '\t')
		p->pos++;
}

static size_t newline_len(const toml_parser *p)
{
	int c = toml_peek(p, 0);
	if (c == '\n')
		return 1;
	return c == '\r' && toml_peek(p, 1) == '\n' ? 2 : 0;
}

static int comment(toml_parser *p)
{
	for (p->pos++; p->pos < p->len && newline_len(p) == 0; p->pos++) {
		int c = toml_peek(p, 0);
		if (toml_is_ctrl(c))
			return toml_fail(p, "control character U+%04X is not allowed in a comment",
			                 (unsigned)c);
	}
	return 0;
}

/* What may follow a key/value pair or a header: blanks, a comment, then a
 * newline or the end of the input. */
static int line_end(toml_parser *p, const char *after)
{
	char fb[40];
	skip_blanks(p);
	if (toml_peek(p, 0) == '#' && comment(p) < 0)
		return -1;
	if (p->pos >= p->len)
		return 0;
	size_t nl = newline_len(p);
	if (nl == 0)
		return toml_fail(p, "expected a newline after %s, found %s", after,
		                 found(p, fb, sizeof(fb)));
	p->pos += nl;
	return 0;
}

/* Blanks, newlines and comments, as allowed between array elements. */
static int skip_space(toml_parser *p)
{
	for (;;) {
		skip_blanks(p);
		if (toml_peek(p, 0) == '#' && comment(p) < 0)
			return -1;
		size_t nl = newline_len(p);
		if (nl == 0)
			return 0;
		p->pos += nl;
	}
}

static bool is_bare(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static int simple_key(toml_parser *p, key_path *kp)
{
	size_t at = p->pos;
	int c = toml_peek(p, 0);
	dm_buf raw, key;
	dm_buf_init(&raw);
	dm_buf_init(&key);
	if (c == '"' || c == '\'') {
		if (toml_string(p, true, &raw) < 0) {
			dm_buf_fini(&raw);
			return -1;
		}
	} else {
		while (is_bare(toml_peek(p, 0)))
			p->pos++;
		if (p->pos == at) {
			char fb[40];
			return toml_fail(p, "expected a key, found %s", found(p, fb, sizeof(fb)));
		}
		dm_buf_append(&raw, p->s + at, p->pos - at);
	}
	/* Keys are C strings in the tree: see toml.h on U+0000. */
	for (size_t i = 0; i < raw.len; i++) {
		if (raw.data[i] == '\0')
			dm_buf_append(&key, "\xC0\x80", 2);
		else
			dm_buf_putc(&key, raw.data[i]);
	}
	dm_buf_fini(&raw);
	if (kp->n == kp->cap) {
		kp->cap = kp->cap ? kp->cap * 2 : 4;
		kp->v = dm_xrealloc(kp->v, kp->cap * sizeof(*kp->v));
	}
	kp->v[kp->n].s = dm_buf_detach(&key);
	kp->v[kp->n++].at = at;
	return 0;
}

static int dotted_key(toml_parser *p, key_path *kp)
{
	for (;;) {
		skip_blanks(p);
		if (simple_key(p, kp) < 0)
			return -1;
		if (p->depth + (int)kp->n > DM_TOML_MAX_DEPTH)
			return toml_fail(p, "nesting deeper than %d levels", DM_TOML_MAX_DEPTH);
		skip_blanks(p);
		if (toml_peek(p, 0) != '.')
			return 0;
		p->pos++;
	}
}

static int clash(toml_parser *p, size_t at, const char *what, const char *key, const dm_node *old)
{
	const char *as = dm_tree_type_name(old->type);
	if (old->type == DM_NODE_TABLE && (old->flags & T_FROZEN))
		as = "inline table";
	else if (old->type == DM_NODE_TABLE && (old->flags & T_HEADER))
		as = "[table]";
	else if (old->type == DM_NODE_TABLE && (old->flags & T_DOTTED))
		as = "table made by dotted keys";
	else if (old->type == DM_NODE_ARRAY && (old->flags & T_HEADER))
		as = "[[array of tables]]";
	return toml_fail_at(p, at, "%s \"%s\": already defined as %s at line %d", what, key, as,
	                    old->line);
}

static int value(toml_parser *p, dm_node **out);

static int keyval(toml_parser *p, dm_node *tab)
{
	key_path kp = {0};
	int rc = -1, depth = p->depth;
	if (dotted_key(p, &kp) < 0)
		goto out;
	key_part *last = &kp.v[kp.n - 1];
	if (toml_peek(p, 0) != '=') {
		toml_fail(p, "expected '=' after key \"%s\"", last->s);
		goto out;
	}
	p->pos++;
	skip_blanks(p);
	p->depth += (int)kp.n - 1;
	for (size_t i = 0; i + 1 < kp.n; i++) {
		dm_node *c = dm_tree_get(tab, kp.v[i].s);
		if (c == NULL) {
			c = toml_node(p, DM_NODE_TABLE, kp.v[i].at);
			c->flags = T_DOTTED;
			dm_tree_add(tab, kp.v[i].s, c);
		} else if (c->type != DM_NODE_TABLE || (c->flags & (T_HEADER | T_FROZEN))) {
			/* Dotted keys may only extend tables they made themselves. */
			clash(p, kp.v[i].at, "cannot add keys to", kp.v[i].s, c);
			goto out;
		} else {
			c->flags = (c->flags & ~T_IMPLICIT) | T_DOTTED;
		}
		tab = c;
	}
	dm_node *old = dm_tree_get(tab, last->s), *v;
	if (old != NULL) {
		clash(p, last->at, "duplicate key", last->s, old);
		goto out;
	}
	if (value(p, &v) < 0)
		goto out;
	dm_tree_add(tab, last->s, v);
	rc = 0;
out:
	p->depth = depth;
	path_free(&kp);
	return rc;
}

static int array(toml_parser *p, dm_node **out)
{
	char fb[40];
	if (++p->depth > DM_TOML_MAX_DEPTH)
		return toml_fail(p, "nesting deeper than %d levels", DM_TOML_MAX_DEPTH);
	size_t at = p->pos++;
	dm_node *a = toml_node(p, DM_NODE_ARRAY, at);
	a->flags = T_FROZEN;
	for (;;) {
		if (skip_space(p) < 0)
			goto fail;
		if (toml_peek(p, 0) == ']')
			break;
		if (toml_peek(p, 0) < 0) {
			toml_fail_at(p, at, "unterminated array");
			goto fail;
		}
		dm_node *v;
		if (value(p, &v) < 0)
			goto fail;
		dm_tree_add(a, NULL, v);
		if (skip_space(p) < 0)
			goto fail;
		if (toml_peek(p, 0) == ']')
			break;
		if (toml_peek(p, 0) != ',') {
			toml_fail(p, "expected ',' or ']' in array, found %s",
			          found(p, fb, sizeof(fb)));
			goto fail;
		}
		p->pos++;
	}
	p->pos++;
	p->depth--;
	*out = a;
	return 0;
fail:
	dm_tree_free(a);
	return -1;
}

static int inline_table(toml_parser *p, dm_node **out)
{
	char fb[40];
	if (++p->depth > DM_TOML_MAX_DEPTH)
		return toml_fail(p, "nesting deeper than %d levels", DM_TOML_MAX_DEPTH);
	dm_node *t = toml_node(p, DM_NODE_TABLE, p->pos++);
	skip_blanks(p);
	/* TOML 1.0 inline tables are one line long and have no trailing comma. */
	while (toml_peek(p, 0) != '}') {
		if (keyval(p, t) < 0)
			goto fail;
		skip_blanks(p);
		int c = toml_peek(p, 0);
		if (c == ',') {
			p->pos++;
			skip_blanks(p);
			if (toml_peek(p, 0) != '}')
				continue;
			toml_fail(p, "trailing comma in inline table");
			goto fail;
		}
		if (c != '}') {
			toml_fail(p, "expected ',' or '}' in inline table, found %s",
			          found(p, fb, sizeof(fb)));
			goto fail;
		}
	}
	p->pos++;
	p->depth--;
	t->flags = T_FROZEN;
	*out = t;
	return 0;
fail:
	dm_tree_free(t);
	return -1;
}

static int value(toml_parser *p, dm_node **out)
{
	int c = toml_peek(p, 0);
	if (c == '[')
		return array(p, out);
	if (c == '{')
		return inline_table(p, out);
	return toml_scalar(p, out);
}

static int header(toml_parser *p, dm_node *root, dm_node **cur)
{
	key_path kp = {0};
	int rc = -1;
	size_t at = p->pos;
	int line, col; /* asked first: positions are cheapest to find in order */
	toml_where(p, at, &line, &col);
	bool aot = toml_peek(p, 1) == '[';
	p->pos += aot ? 2 : 1;
	p->depth = 0;
	if (dotted_key(p, &kp) < 0)
		goto out;
	if (toml_peek(p, 0) != ']' || (aot && toml_peek(p, 1) != ']')) {
		toml_fail(p, "expected '%s' to close the table header", aot ? "]]" : "]");
		goto out;
	}
	p->pos += aot ? 2 : 1;
	dm_node *t = root;
	for (size_t i = 0; i + 1 < kp.n; i++) {
		dm_node *c = dm_tree_get(t, kp.v[i].s);
		if (c == NULL) {
			c = toml_node(p, DM_NODE_TABLE, kp.v[i].at);
			c->flags = T_IMPLICIT;
			dm_tree_add(t, kp.v[i].s, c);
		} else if (c->type == DM_NODE_ARRAY && (c->flags & T_HEADER)) {
			/* A header below [[a]] belongs to the latest element. */
			c = c->kids[c->nkids - 1];
		} else if (c->type != DM_NODE_TABLE || (c->flags & T_FROZEN)) {
			clash(p, kp.v[i].at, "cannot add a table to", kp.v[i].s, c);
			goto out;
		}
		t = c;
	}
	key_part *last = &kp.v[kp.n - 1];
	dm_node *c = dm_tree_get(t, last->s);
	if (aot) {
		if (c == NULL) {
			c = dm_tree_new(DM_NODE_ARRAY, line, col);
			c->flags = T_HEADER;
			dm_tree_add(t, last->s, c);
		} else if (c->type != DM_NODE_ARRAY || !(c->flags & T_HEADER)) {
			clash(p, last->at, "cannot define array of tables", last->s, c);
			goto out;
		}
		t = dm_tree_new(DM_NODE_TABLE, line, col);
		dm_tree_add(c, NULL, t);
	} else if (c == NULL) {
		c = dm_tree_new(DM_NODE_TABLE, line, col);
		dm_tree_add(t, last->s, c);
		t = c;
	} else if (c->type == DM_NODE_TABLE && (c->flags & T_IMPLICIT)) {
		c->line = line;
		c->col = col;
		t = c;
	} else {
		clash(p, last->at, "cannot define table", last->s, c);
		goto out;
	}
	t->flags = T_HEADER;
	p->depth = (int)kp.n;
	*cur = t;
	rc = 0;
out:
	path_free(&kp);
	return rc;
}

int dm_toml_parse(const char *text, size_t len, const char *filename, dm_node **ret_root,
                  dm_err *err)
{
	toml_parser p = {
	        .s = text, .len = len, .filename = filename ? filename : "<toml>", .err = err};
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		p.pos = 3;
	if (check_utf8(&p) < 0)
		return -1;
	dm_node *root = dm_tree_new(DM_NODE_TABLE, 1, 1);
	dm_node *cur = root;
	while (p.pos < p.len) {
		skip_blanks(&p);
		int c = toml_peek(&p, 0), rc;
		if (c == '[')
			rc = header(&p, root, &cur) < 0 ? -1 : line_end(&p, "a table header");
		else if (c < 0 || c == '#' || c == '\n' || c == '\r')
			rc = line_end(&p, "a blank line");
		else
			rc = keyval(&p, cur) < 0 ? -1 : line_end(&p, "a key/value pair");
		if (rc < 0) {
			dm_tree_free(root);
			return -1;
		}
	}
	*ret_root = root;
	return 0;
}
