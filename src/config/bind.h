/* Typed binding: a table of {key, kind, offset, limits} drives reading a
 * config tree into a struct, so adding a key is one line and every error
 * names file, line and key ("dm-master.toml:7: unknown key \"x\"").
 *
 * Strings are malloc'd into the struct (char *) and string lists into a
 * dm_strlist; free them with dm_bind_free(fields, out). */
#ifndef DM_CONFIG_BIND_H
#define DM_CONFIG_BIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "config/tree.h"

typedef struct dm_strlist {
	char **items;
	size_t n;
} dm_strlist;

void dm_strlist_add(dm_strlist *l, const char *s);
void dm_strlist_fini(dm_strlist *l);
/* Splits "a,b, c" on commas, trimming spaces, skipping empty parts. */
void dm_strlist_split(dm_strlist *l, const char *csv);
bool dm_strlist_has(const dm_strlist *l, const char *s);

typedef enum dm_bind_kind {
	DM_BIND_STRING,  /* char *; any scalar from YAML, strings from TOML */
	DM_BIND_INT,     /* int64_t within [min, max] */
	DM_BIND_BOOL,    /* bool */
	DM_BIND_STRLIST, /* dm_strlist; an array of strings, or one comma-separated string */
	DM_BIND_TABLE,   /* nested struct at offset, described by sub */
	DM_BIND_IGNORE,  /* accepted and ignored (documented compatibility keys) */
	/* A DM key dm does not implement (yet): an error that names the key
	 * and gives `help` as the reason, rather than a bare "unknown key". */
	DM_BIND_UNSUPPORTED,
} dm_bind_kind;

typedef struct dm_bind_field dm_bind_field;

struct dm_bind_field {
	const char *key;
	dm_bind_kind kind;
	size_t offset;
	int64_t min, max;         /* DM_BIND_INT */
	const char *def;          /* default, as it would be written on the command line */
	const dm_bind_field *sub; /* DM_BIND_TABLE: fields of the nested struct, NULL-key ended */
	/* Optional extra check of the bound value, at the field's address.
	 * Returns -1 with a message (no position: the caller adds it). */
	int (*check)(const void *value, dm_err *err);
	const char *help; /* one line for --help and docs */
};

/* Sets defaults for every field (recursively). Call once before binding. */
int dm_bind_defaults(const dm_bind_field *fields, void *out, dm_err *err);

/* Binds table's keys into out. Unknown keys, wrong types and values outside
 * limits fail with "<filename>:<line>: ..." naming the key. On failure out
 * may hold part of the values: free it with dm_bind_free() and do not use it. */
int dm_bind_tree(const dm_bind_field *fields, const dm_node *table, const char *filename, void *out,
                 dm_err *err);

/* Sets one key from text (a --key=value flag or a default). Nested keys are
 * written "table.key". Strings lists take comma-separated values. */
int dm_bind_set(const dm_bind_field *fields, void *out, const char *key, const char *value,
                dm_err *err);

/* Applies "--key=value" / "--key value" arguments (argv[0] is not read);
 * one dash works too, as with DM's Go flags ("-config=dm-master.toml").
 * Flags whose names are in skip (a NULL-ended list, e.g. "config") are left
 * for the caller. Unknown flags are errors naming the flag. */
int dm_bind_flags(const dm_bind_field *fields, void *out, int argc, char **argv,
                  const char *const *skip, dm_err *err);

/* Frees strings and lists the fields point at (recursively). */
void dm_bind_free(const dm_bind_field *fields, void *out);

#endif
