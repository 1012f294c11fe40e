/* YAML reader (libyaml) into the generic config tree.
 *
 * Mappings become tables, sequences arrays. A quoted scalar is a string; a
 * plain scalar is typed the way DM's Go reader types it (null/~/empty, true/
 * false, integers, floats, else string), and every scalar keeps its source
 * text in str so a string key can accept `password: 123456`. Aliases,
 * duplicate keys, non-scalar keys and more than one document are errors. */
#ifndef DM_CONFIG_YAML_H
#define DM_CONFIG_YAML_H

#include <stddef.h>

#include "base/err.h"
#include "config/tree.h"

/* Parses text; filename is only used in messages. On success *ret_root is a
 * table (an empty document gives an empty table) the caller frees with
 * dm_tree_free(). Errors read "source.yaml:4:3: ...". */
int dm_yaml_parse(const char *text, size_t len, const char *filename, dm_node **ret_root,
                  dm_err *err);

#endif
