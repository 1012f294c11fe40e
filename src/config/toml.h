/* TOML 1.0.0 reader producing a dm_node tree.
 *
 * Tables become DM_NODE_TABLE (keys in source order), arrays and arrays of
 * tables DM_NODE_ARRAY. Scalars: strings in str/len (they may hold NUL via
 * \u0000), integers in i, floats in f (inf and nan included), booleans in b.
 * The four date/time kinds keep their text in str, normalised to an upper
 * case 'T' separator and 'Z' for UTC ("1979-05-27T07:32:00Z"); fractional
 * seconds are kept as written.
 *
 * Keys are C strings, so a key holding U+0000 is stored in "modified UTF-8":
 * the NUL becomes the byte pair C0 80, which valid UTF-8 never contains.
 *
 * Every node carries the 1-based line and column (in characters) where it
 * was written; containers nested deeper than 128 levels are refused. */
#ifndef DM_CONFIG_TOML_H
#define DM_CONFIG_TOML_H

#include <stddef.h>

#include "base/err.h"
#include "config/tree.h"

#define DM_TOML_MAX_DEPTH 128

/* Parses len bytes of text. On success returns 0 and stores a table the
 * caller frees with dm_tree_free(). On failure returns -1 with err set to
 * "<filename>:<line>:<col>: <what is wrong>" (DM_EINVAL) and leaves *ret_root
 * alone. filename is only used in messages. */
int dm_toml_parse(const char *text, size_t len, const char *filename, dm_node **ret_root,
                  dm_err *err);

#endif
