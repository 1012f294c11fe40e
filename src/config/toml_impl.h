/* Shared by toml.c (document structure, keys, tables) and toml_value.c
 * (strings, numbers, dates): not part of the public API. */
#ifndef DM_CONFIG_TOML_IMPL_H
#define DM_CONFIG_TOML_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "config/tree.h"

typedef struct toml_parser {
	const char *s;
	size_t len;
	size_t pos;
	const char *filename;
	dm_err *err;
	int depth;
	/* Line and column of byte lc_pos. Positions asked for mostly grow, so
	 * scanning forward from the last answer keeps locating nodes linear. */
	size_t lc_pos;
	int lc_line;
	int lc_col;
} toml_parser;

/* Byte at pos + off, or -1 past the end. */
static inline int toml_peek(const toml_parser *p, size_t off)
{
	return p->pos + off < p->len ? (unsigned char)p->s[p->pos + off] : -1;
}

/* Characters TOML refuses unescaped in strings and comments. */
static inline bool toml_is_ctrl(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

void toml_where(toml_parser *p, size_t at, int *line, int *col);
dm_node *toml_node(toml_parser *p, dm_node_type type, size_t at);
/* Sets the error "<file>:<line>:<col>: <message>" for byte offset at. */
int toml_fail_at(toml_parser *p, size_t at, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
#define toml_fail(p, ...) toml_fail_at((p), (p)->pos, __VA_ARGS__)
/* Parses the string starting at the quote under pos into out. Keys may not
 * be multi-line strings. */
int toml_string(toml_parser *p, bool key, dm_buf *out);
/* Parses a string, number, boolean or date/time at pos. */
int toml_scalar(toml_parser *p, dm_node **out);

#endif
