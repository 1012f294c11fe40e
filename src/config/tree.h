/* One generic tree for everything the config readers parse (TOML, YAML).
 *
 * A node is a table (ordered key -> node), an array, or a scalar. Every node
 * remembers the line and column where it was written, so typed binding can
 * say "dm-master.toml:7: ...". The tree owns all of its nodes: free the root
 * with dm_tree_free(). */
#ifndef DM_CONFIG_TREE_H
#define DM_CONFIG_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum dm_node_type {
	DM_NODE_TABLE,
	DM_NODE_ARRAY,
	DM_NODE_STRING,
	DM_NODE_INTEGER,
	DM_NODE_FLOAT,
	DM_NODE_BOOL,
	DM_NODE_DATETIME,       /* offset date-time; text in str */
	DM_NODE_DATETIME_LOCAL, /* text in str */
	DM_NODE_DATE_LOCAL,     /* text in str */
	DM_NODE_TIME_LOCAL,     /* text in str */
	DM_NODE_NULL,           /* YAML's null / empty value */
} dm_node_type;

typedef struct dm_node dm_node;

struct dm_node {
	dm_node_type type;
	int line;  /* 1-based; 0 when unknown */
	int col;   /* 1-based; 0 when unknown */
	char *key; /* name within the parent table; NULL in arrays and the root */
	/* Scalars. str holds the string value, the datetime text, or for
	 * YAML every scalar's source text (so a string key can accept a plain
	 * `password: 123456`). len is str's length (strings may hold NUL). */
	char *str;
	size_t len;
	int64_t i;
	double f;
	bool b;
	/* Tables and arrays: children in source order. */
	dm_node **kids;
	size_t nkids;
	size_t cap;
	/* Reader-private flags (e.g. TOML's "defined by a [header]"). */
	unsigned flags;
};

/* New node of a type at a position; never NULL. Caller owns it until it is
 * added to a parent. */
dm_node *dm_tree_new(dm_node_type type, int line, int col);
/* Frees a node and all of its children. NULL is a no-op. */
void dm_tree_free(dm_node *n);
/* Appends child to a table (key is copied) or an array (key NULL). The parent
 * takes ownership of child. Does not check duplicates: readers do. */
void dm_tree_add(dm_node *parent, const char *key, dm_node *child);
/* Child of a table by key, or NULL. Borrowed. */
dm_node *dm_tree_get(const dm_node *table, const char *key);
/* Name of a type for messages: "table", "integer", ... */
const char *dm_tree_type_name(dm_node_type type);

#endif
