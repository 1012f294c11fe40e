#include "migrate/ddl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mysql/sql.h"

/* How much of the statement an error message quotes. */
#define EXCERPT_MAX 40

enum tok_type { T_END, T_WORD, T_QIDENT, T_STRING, T_PUNCT, T_ERROR };

typedef struct tok {
	enum tok_type type;
	size_t off, len;
	unsigned marks;  /* executable-comment markers lexed before it */
	const char *why; /* T_ERROR only */
} tok;

/* Every read is bounded by len: the text comes from a binlog event and
 * carries no terminating NUL. */
typedef struct lexer {
	const char *s;
	size_t len, pos;
	int exec;        /* executable comments open around pos */
	size_t exec_off; /* where the outermost one started */
	unsigned marks;  /* opening and closing markers passed */
} lexer;

typedef struct parser {
	lexer lx;
	tok t;               /* the current token */
	size_t last_end;     /* end of the token before t */
	unsigned last_marks; /* its marks */
	bool after_dot;      /* that token was '.' */
	const char *default_db;
	const char *what; /* statement kind for messages */
	dm_ddl d;         /* built here, handed over only when complete */
	size_t cap;
	dm_err *err;
} parser;

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Bytes of an unquoted name: MySQL also allows any non-ASCII character,
 * and a UTF-8 sequence is all bytes >= 0x80. */
static bool is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c >= 0x80;
}

static bool at(const lexer *lx, size_t i, char c)
{
	return i < lx->len && lx->s[i] == c;
}

static tok lex_error(size_t off, const char *why)
{
	return (tok){.type = T_ERROR, .off = off, .len = 0, .why = why};
}

/* Skips blanks and comments. The markers of an executable comment are
 * skipped too, so its content is lexed as part of the statement, the way
 * the server runs it. */
static int skip_blank(lexer *lx, tok *bad)
{
	for (;;) {
		size_t i = lx->pos;
		if (i >= lx->len)
			return 0;
		unsigned char c = (unsigned char)lx->s[i];
		if (is_space(c)) {
			lx->pos++;
		} else if (c == '/' && at(lx, i + 1, '*')) {
			size_t body = 0;
			if (at(lx, i + 2, '!'))
				body = i + 3;
			else if (at(lx, i + 2, 'M') && at(lx, i + 3, '!'))
				body = i + 4;
			if (body) {
				for (int n = 0; n < 6 && body < lx->len && lx->s[body] >= '0' &&
				                lx->s[body] <= '9';
				     n++)
					body++;
				if (lx->exec++ == 0)
					lx->exec_off = i;
				lx->marks++;
				lx->pos = body;
				continue;
			}
			size_t j = i + 2;
			while (j + 1 < lx->len && !(lx->s[j] == '*' && lx->s[j + 1] == '/'))
				j++;
			if (j + 1 >= lx->len) {
				*bad = lex_error(i, "unterminated comment");
				return -1;
			}
			lx->pos = j + 2;
		} else if (c == '*' && lx->exec > 0 && at(lx, i + 1, '/')) {
			lx->exec--;
			lx->marks++;
			lx->pos = i + 2;
		} else if (c == '#' || (c == '-' && at(lx, i + 1, '-') &&
		                        (i + 2 >= lx->len || (unsigned char)lx->s[i + 2] <= ' '))) {
			while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
				lx->pos++;
		} else {
			return 0;
		}
	}
}

/* A quoted token starting at pos with quote q: doubling q escapes it, and
 * in strings (not in backquoted names) so does a backslash. Returns the
 * index of the closing quote, or len. */
static size_t scan_quoted(const lexer *lx, char q)
{
	size_t i = lx->pos + 1;
	while (i < lx->len) {
		char c = lx->s[i];
		if (c == '\\' && q != '`') {
			i += 2;
		} else if (c == q) {
			if (!at(lx, i + 1, q))
				return i;
			i += 2;
		} else {
			i++;
		}
	}
	return lx->len;
}

static tok lex_next(lexer *lx)
{
	tok bad;
	if (skip_blank(lx, &bad) < 0)
		return bad;
	size_t i = lx->pos;
	if (i >= lx->len) {
		if (lx->exec > 0)
			return lex_error(lx->exec_off, "unterminated executable comment");
		return (tok){.type = T_END, .off = lx->len};
	}
	char c = lx->s[i];
	tok t = {.type = T_PUNCT, .off = i, .len = 1, .marks = lx->marks};
	if (c == '`' || c == '\'' || c == '"') {
		size_t end = scan_quoted(lx, c);
		if (end >= lx->len)
			return lex_error(i, c == '`' ? "unterminated quoted name"
			                             : "unterminated string");
		t.type = c == '`' ? T_QIDENT : T_STRING;
		t.len = end + 1 - i;
	} else if (is_word((unsigned char)c)) {
		size_t j = i;
		while (j < lx->len && is_word((unsigned char)lx->s[j]))
			j++;
		t.type = T_WORD;
		t.len = j - i;
	}
	lx->pos = i + t.len;
	return t;
}

static void advance(parser *p)
{
	p->last_end = p->t.off + p->t.len;
	p->last_marks = p->t.marks;
	p->after_dot = p->t.type == T_PUNCT && p->lx.s[p->t.off] == '.';
	p->t = lex_next(&p->lx);
}

static bool tok_is(const parser *p, const tok *t, const char *kw)
{
	size_t n = strlen(kw);
	return t->type == T_WORD && t->len == n && strncasecmp(p->lx.s + t->off, kw, n) == 0;
}

static bool is_kw(const parser *p, const char *kw)
{
	return tok_is(p, &p->t, kw);
}

static bool accept_kw(parser *p, const char *kw)
{
	if (!is_kw(p, kw))
		return false;
	advance(p);
	return true;
}

static bool is_punct(const parser *p, char c)
{
	return p->t.type == T_PUNCT && p->lx.s[p->t.off] == c;
}

static bool accept_punct(parser *p, char c)
{
	if (!is_punct(p, c))
		return false;
	advance(p);
	return true;
}

static bool is_any(const parser *p, const tok *t, const char *const *kws)
{
	for (; *kws; kws++)
		if (tok_is(p, t, *kws))
			return true;
	return false;
}

static tok peek(const parser *p)
{
	lexer copy = p->lx;
	return lex_next(&copy);
}

/* Fails saying what was expected and quoting the current token with its
 * offset; a lexing error reports itself instead. */
static int fail(parser *p, const char *expected)
{
	const tok *t = &p->t;
	const char *s = p->lx.s;
	if (t->type == T_ERROR) {
		size_t n = p->lx.len - t->off;
		return dm_err_set(p->err, DM_EINVAL, "%s statement: %s at offset %zu: \"%.*s%s\"",
		                  p->what, t->why, t->off, (int)(n > EXCERPT_MAX ? EXCERPT_MAX : n),
		                  s + t->off, n > EXCERPT_MAX ? "..." : "");
	}
	if (t->type == T_END)
		return dm_err_set(p->err, DM_EINVAL,
		                  "%s statement: expected %s at offset %zu, found the end of the "
		                  "statement",
		                  p->what, expected, t->off);
	return dm_err_set(p->err, DM_EINVAL,
	                  "%s statement: expected %s at offset %zu, found \"%.*s%s\"", p->what,
	                  expected, t->off, (int)(t->len > EXCERPT_MAX ? EXCERPT_MAX : t->len),
	                  s + t->off, t->len > EXCERPT_MAX ? "..." : "");
}

static int expect_kw(parser *p, const char *kw)
{
	if (accept_kw(p, kw))
		return 0;
	return fail(p, kw);
}

/* Reserved words that can stand where this grammar expects a name: seeing
 * one there unquoted means the statement is malformed, not that a table
 * has that name (the server would refuse it too). */
static const char *const reserved[] = {
        "ALTER",    "AS",     "BY",     "CASCADE", "CHARACTER", "COLLATE", "CREATE", "DATABASE",
        "DEFAULT",  "DROP",   "EXISTS", "FROM",    "FULLTEXT",  "IF",      "IGNORE", "INDEX",
        "KEY",      "LIKE",   "NOT",    "ON",      "OR",        "PRIMARY", "RENAME", "REPLACE",
        "RESTRICT", "SCHEMA", "SELECT", "SET",     "SPATIAL",   "TABLE",   "TO",     "UNIQUE",
        "USING",    "WHERE",  "WITH",   NULL,
};

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* One identifier, unquoted, as a new string. After a dot any word is a
 * name, reserved or not, as in the server. */
static int ident(parser *p, const char *expected, bool after_dot, char **out)
{
	const tok *t = &p->t;
	const char *s = p->lx.s + t->off;
	if (t->type == T_WORD && !all_digits(s, t->len) && (after_dot || !is_any(p, t, reserved))) {
		*out = dm_xstrndup(s, t->len);
	} else if (t->type == T_QIDENT) {
		char *name = dm_xmalloc(t->len);
		size_t n = 0;
		for (size_t i = 1; i + 1 < t->len; i++) {
			name[n++] = s[i];
			if (s[i] == '`')
				i++;
		}
		name[n] = '\0';
		*out = name;
	} else if (t->type == T_STRING && *s == '"') {
		return dm_err_set(p->err, DM_EINVAL,
		                  "%s statement: expected %s at offset %zu, found the string "
		                  "\"%.*s\" (names in double quotes need sql_mode ANSI_QUOTES, "
		                  "which is not supported)",
		                  p->what, expected, t->off,
		                  (int)(t->len > EXCERPT_MAX ? EXCERPT_MAX : t->len), s);
	} else {
		return fail(p, expected);
	}
	advance(p);
	return 0;
}

static void add_name(parser *p, char *schema, char *table, size_t off, size_t len)
{
	if (p->d.nnames == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4;
		p->d.names = dm_xrealloc(p->d.names, p->cap * sizeof(*p->d.names));
	}
	p->d.names[p->d.nnames++] = (dm_ddl_name){schema, table, off, len};
}

static char *default_db(const parser *p)
{
	return p->default_db ? dm_xstrdup(p->default_db) : NULL;
}

/* [schema .] table */
static int table_name(parser *p)
{
	size_t off = p->t.off;
	unsigned marks = p->t.marks;
	char *first = NULL, *second = NULL;
	if (ident(p, "a table name", false, &first) < 0)
		return -1;
	if (!accept_punct(p, '.')) {
		add_name(p, default_db(p), first, off, p->last_end - off);
		return 0;
	}
	if (ident(p, "a table name after the dot", true, &second) < 0) {
		free(first);
		return -1;
	}
	add_name(p, first, second, off, p->last_end - off);
	/* Rewriting such a name would drop the comment's marker. */
	if (p->last_marks != marks)
		return dm_err_set(
		        p->err, DM_EINVAL,
		        "%s statement: the name at offset %zu, \"%.*s\", is cut by the "
		        "edge of an executable comment",
		        p->what, off,
		        (int)(p->last_end - off > EXCERPT_MAX ? EXCERPT_MAX : p->last_end - off),
		        p->lx.s + off);
	return 0;
}

static int db_name(parser *p)
{
	size_t off = p->t.off;
	char *name = NULL;
	if (ident(p, "a database name", false, &name) < 0)
		return -1;
	add_name(p, name, NULL, off, p->last_end - off);
	return 0;
}

static int if_exists(parser *p, bool negated)
{
	if (!accept_kw(p, "IF"))
		return 0;
	if (negated && expect_kw(p, "NOT") < 0)
		return -1;
	if (expect_kw(p, "EXISTS") < 0)
		return -1;
	if (negated)
		p->d.if_not_exists = true;
	else
		p->d.if_exists = true;
	return 0;
}

/* [WAIT n | NOWAIT] (MariaDB lock timeouts) */
static int lock_wait(parser *p)
{
	if (accept_kw(p, "NOWAIT"))
		return 0;
	if (!accept_kw(p, "WAIT"))
		return 0;
	if (p->t.type != T_WORD || !all_digits(p->lx.s + p->t.off, p->t.len))
		return fail(p, "a number of seconds after WAIT");
	advance(p);
	return 0;
}

/* An optional ';', then nothing: one event carries one statement. */
static int expect_end(parser *p)
{
	accept_punct(p, ';');
	if (p->t.type == T_END)
		return 0;
	return fail(p, "the end of the statement");
}

/* RENAME [TO|AS] name inside ALTER TABLE, already past RENAME. RENAME
 * COLUMN/INDEX/KEY/CONSTRAINT renames something else and is left to the
 * scan. */
static int alter_rename(parser *p)
{
	static const char *const others[] = {"COLUMN", "INDEX", "KEY", "CONSTRAINT", NULL};
	if (is_any(p, &p->t, others))
		return 0;
	if (p->d.nnames > 1)
		return fail(p, "a single RENAME clause");
	if (!accept_kw(p, "TO"))
		accept_kw(p, "AS");
	return table_name(p);
}

/* The rest of a statement whose remaining names do not matter: checks
 * that it lexes, that parentheses balance and that it ends, and for ALTER
 * TABLE picks up a RENAME. RENAME is reserved, so an unquoted one that
 * does not follow a dot is the keyword. */
static int skip_rest(parser *p, int depth, bool alter)
{
	for (;;) {
		switch (p->t.type) {
		case T_ERROR: return fail(p, "");
		case T_END:
			if (depth > 0)
				return fail(p, "a closing parenthesis");
			return 0;
		case T_PUNCT:
			if (is_punct(p, '(')) {
				depth++;
			} else if (is_punct(p, ')')) {
				if (depth == 0)
					return fail(p, "no ')' without a matching '('");
				depth--;
			} else if (is_punct(p, ';') && depth == 0) {
				return expect_end(p);
			}
			break;
		case T_WORD:
			if (alter && depth == 0 && !p->after_dot && is_kw(p, "RENAME")) {
				advance(p);
				if (alter_rename(p) < 0)
					return -1;
				continue;
			}
			break;
		default: break;
		}
		advance(p);
	}
}

/* CREATE [OR REPLACE] [TEMPORARY] TABLE, past TABLE */
static int create_table(parser *p)
{
	p->what = "CREATE TABLE";
	p->d.kind = DM_DDL_CREATE_TABLE;
	if (if_exists(p, true) < 0 || table_name(p) < 0)
		return -1;
	if (accept_kw(p, "LIKE")) {
		if (table_name(p) < 0)
			return -1;
		return expect_end(p);
	}
	if (!accept_punct(p, '('))
		return skip_rest(p, 0, false);
	if (!accept_kw(p, "LIKE"))
		return skip_rest(p, 1, false);
	if (table_name(p) < 0)
		return -1;
	if (!accept_punct(p, ')'))
		return fail(p, "')'");
	return expect_end(p);
}

/* CREATE [OR REPLACE] [ONLINE|OFFLINE] [UNIQUE|FULLTEXT|SPATIAL] INDEX,
 * past INDEX */
static int create_index(parser *p)
{
	p->what = "CREATE INDEX";
	p->d.kind = DM_DDL_CREATE_INDEX;
	char *index = NULL;
	if (if_exists(p, true) < 0 || ident(p, "an index name", false, &index) < 0)
		return -1;
	free(index);
	if (accept_kw(p, "USING")) {
		if (p->t.type != T_WORD)
			return fail(p, "an index type after USING");
		advance(p);
	}
	if (expect_kw(p, "ON") < 0 || table_name(p) < 0)
		return -1;
	return skip_rest(p, 0, false);
}

static int database(parser *p, dm_ddl_kind kind)
{
	p->d.kind = kind;
	switch (kind) {
	case DM_DDL_CREATE_DATABASE:
		p->what = "CREATE DATABASE";
		if (if_exists(p, true) < 0 || db_name(p) < 0)
			return -1;
		return skip_rest(p, 0, false);
	case DM_DDL_DROP_DATABASE:
		p->what = "DROP DATABASE";
		if (if_exists(p, false) < 0 || db_name(p) < 0)
			return -1;
		return expect_end(p);
	default: break;
	}
	/* ALTER DATABASE may leave out the name and mean the default database;
	 * then the first word starts an option. Reserved option words cannot be
	 * a name; the others are one only when an option follows them. */
	static const char *const reserved_opts[] = {"DEFAULT", "CHARACTER", "COLLATE", "READ",
	                                            NULL};
	static const char *const plain_opts[] = {"CHARSET", "COMMENT", "ENCRYPTION", NULL};
	static const char *const opts[] = {"DEFAULT", "CHARACTER",  "CHARSET",
	                                   "COLLATE", "ENCRYPTION", "READ",
	                                   "COMMENT", "UPGRADE",    NULL};
	p->what = "ALTER DATABASE";
	if (p->t.type == T_END)
		return fail(p, "a database name or option");
	bool unnamed = is_any(p, &p->t, reserved_opts);
	if (!unnamed && is_any(p, &p->t, plain_opts)) {
		tok next = peek(p);
		unnamed = !is_any(p, &next, opts);
	}
	if (unnamed) {
		add_name(p, default_db(p), NULL, p->last_end, 0);
		return skip_rest(p, 0, false);
	}
	if (db_name(p) < 0)
		return -1;
	return skip_rest(p, 0, false);
}

static int parse_create(parser *p)
{
	if (accept_kw(p, "OR") && !accept_kw(p, "REPLACE"))
		return 0;
	if (accept_kw(p, "TEMPORARY")) {
		if (!accept_kw(p, "TABLE"))
			return 0;
		p->d.temporary = true;
		return create_table(p);
	}
	if (accept_kw(p, "TABLE"))
		return create_table(p);
	if (accept_kw(p, "DATABASE") || accept_kw(p, "SCHEMA"))
		return database(p, DM_DDL_CREATE_DATABASE);
	if (!accept_kw(p, "ONLINE"))
		accept_kw(p, "OFFLINE");
	if (!accept_kw(p, "UNIQUE") && !accept_kw(p, "FULLTEXT"))
		accept_kw(p, "SPATIAL");
	if (accept_kw(p, "INDEX"))
		return create_index(p);
	return 0;
}

static int parse_alter(parser *p)
{
	bool modifiers = false;
	while (accept_kw(p, "ONLINE") || accept_kw(p, "IGNORE"))
		modifiers = true;
	if (accept_kw(p, "TABLE")) {
		p->what = "ALTER TABLE";
		p->d.kind = DM_DDL_ALTER_TABLE;
		if (if_exists(p, false) < 0 || table_name(p) < 0)
			return -1;
		return skip_rest(p, 0, true);
	}
	if (!modifiers && (accept_kw(p, "DATABASE") || accept_kw(p, "SCHEMA")))
		return database(p, DM_DDL_ALTER_DATABASE);
	return 0;
}

static int drop_table(parser *p)
{
	p->what = "DROP TABLE";
	p->d.kind = DM_DDL_DROP_TABLE;
	if (if_exists(p, false) < 0)
		return -1;
	do {
		if (table_name(p) < 0)
			return -1;
	} while (accept_punct(p, ','));
	if (lock_wait(p) < 0)
		return -1;
	if (!accept_kw(p, "RESTRICT"))
		accept_kw(p, "CASCADE");
	return expect_end(p);
}

static int drop_index(parser *p)
{
	p->what = "DROP INDEX";
	p->d.kind = DM_DDL_DROP_INDEX;
	if (!accept_kw(p, "ONLINE"))
		accept_kw(p, "OFFLINE");
	char *index = NULL;
	if (if_exists(p, false) < 0 || ident(p, "an index name", false, &index) < 0)
		return -1;
	free(index);
	if (expect_kw(p, "ON") < 0 || table_name(p) < 0)
		return -1;
	return skip_rest(p, 0, false);
}

static int parse_drop(parser *p)
{
	if (accept_kw(p, "TEMPORARY")) {
		if (!accept_kw(p, "TABLE") && !accept_kw(p, "TABLES"))
			return 0;
		p->d.temporary = true;
		return drop_table(p);
	}
	if (accept_kw(p, "TABLE") || accept_kw(p, "TABLES"))
		return drop_table(p);
	if (accept_kw(p, "DATABASE") || accept_kw(p, "SCHEMA"))
		return database(p, DM_DDL_DROP_DATABASE);
	if (accept_kw(p, "INDEX"))
		return drop_index(p);
	return 0;
}

static int parse_rename(parser *p)
{
	if (!accept_kw(p, "TABLE") && !accept_kw(p, "TABLES"))
		return 0;
	p->what = "RENAME TABLE";
	p->d.kind = DM_DDL_RENAME_TABLE;
	if (if_exists(p, false) < 0)
		return -1;
	do {
		if (table_name(p) < 0 || lock_wait(p) < 0 || expect_kw(p, "TO") < 0 ||
		    table_name(p) < 0)
			return -1;
	} while (accept_punct(p, ','));
	return expect_end(p);
}

static int parse_truncate(parser *p)
{
	p->what = "TRUNCATE TABLE";
	p->d.kind = DM_DDL_TRUNCATE_TABLE;
	accept_kw(p, "TABLE");
	if (table_name(p) < 0 || lock_wait(p) < 0)
		return -1;
	return expect_end(p);
}

void dm_ddl_fini(dm_ddl *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->nnames; i++) {
		free(d->names[i].schema);
		free(d->names[i].table);
	}
	free(d->names);
	memset(d, 0, sizeof(*d));
}

int dm_ddl_parse(const char *sql, size_t len, const char *default_db, dm_ddl *out, dm_err *err)
{
	parser p = {.lx = {.s = sql, .len = len}, .default_db = default_db, .err = err};
	p.t = lex_next(&p.lx);
	int rc = 0;
	/* Until the kind is known a statement is DM_DDL_OTHER, so text this
	 * lexer cannot read there is not an error. */
	if (accept_kw(&p, "CREATE"))
		rc = parse_create(&p);
	else if (accept_kw(&p, "ALTER"))
		rc = parse_alter(&p);
	else if (accept_kw(&p, "DROP"))
		rc = parse_drop(&p);
	else if (accept_kw(&p, "RENAME"))
		rc = parse_rename(&p);
	else if (accept_kw(&p, "TRUNCATE"))
		rc = parse_truncate(&p);
	if (rc < 0 || p.d.kind == DM_DDL_OTHER) {
		dm_ddl_fini(&p.d);
		if (rc < 0)
			return -1;
	}
	*out = p.d;
	return 0;
}

char *dm_ddl_rewrite(const char *sql, size_t len, const dm_ddl *d, const char *const *schemas,
                     const char *const *tables)
{
	dm_buf b;
	dm_buf_init(&b);
	size_t pos = 0;
	for (size_t i = 0; i < d->nnames; i++) {
		const dm_ddl_name *n = &d->names[i];
		/* Spans come in statement order and inside the statement; one
		 * that does not belongs to another text and is left alone. */
		if (n->off < pos || n->off > len || n->len > len - n->off)
			continue;
		const char *schema = schemas ? schemas[i] : NULL;
		const char *table = tables ? tables[i] : NULL;
		bool by_table = n->table != NULL && table != NULL;
		bool by_schema = n->table == NULL && schema != NULL;
		if (!by_table && !by_schema)
			continue;
		dm_buf_append(&b, sql + pos, n->off - pos);
		pos = n->off + n->len;
		/* A backquote next to the new name would merge with it. */
		if (n->len == 0 || (n->off > 0 && sql[n->off - 1] == '`'))
			dm_buf_putc(&b, ' ');
		if (by_schema)
			dm_sql_ident(&b, schema);
		else if (schema != NULL)
			dm_sql_table(&b, schema, table);
		else
			dm_sql_ident(&b, table);
		if (pos < len && sql[pos] == '`')
			dm_buf_putc(&b, ' ');
	}
	dm_buf_append(&b, sql + pos, len - pos);
	return dm_buf_detach(&b);
}
