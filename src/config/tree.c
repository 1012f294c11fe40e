#include "config/tree.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

dm_node *dm_tree_new(dm_node_type type, int line, int col)
{
	dm_node *n = dm_xcalloc(1, sizeof(*n));
	n->type = type;
	n->line = line;
	n->col = col;
	return n;
}

void dm_tree_free(dm_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		dm_tree_free(n->kids[i]);
	free(n->kids);
	free(n->key);
	free(n->str);
	free(n);
}

void dm_tree_add(dm_node *parent, const char *key, dm_node *child)
{
	if (parent->nkids == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->kids = dm_xrealloc(parent->kids, parent->cap * sizeof(*parent->kids));
	}
	free(child->key);
	child->key = key ? dm_xstrdup(key) : NULL;
	parent->kids[parent->nkids++] = child;
}

dm_node *dm_tree_get(const dm_node *table, const char *key)
{
	if (table == NULL || table->type != DM_NODE_TABLE)
		return NULL;
	for (size_t i = 0; i < table->nkids; i++)
		if (table->kids[i]->key && strcmp(table->kids[i]->key, key) == 0)
			return table->kids[i];
	return NULL;
}

const char *dm_tree_type_name(dm_node_type type)
{
	switch (type) {
	case DM_NODE_TABLE: return "table";
	case DM_NODE_ARRAY: return "array";
	case DM_NODE_STRING: return "string";
	case DM_NODE_INTEGER: return "integer";
	case DM_NODE_FLOAT: return "float";
	case DM_NODE_BOOL: return "boolean";
	case DM_NODE_DATETIME: return "datetime";
	case DM_NODE_DATETIME_LOCAL: return "local datetime";
	case DM_NODE_DATE_LOCAL: return "local date";
	case DM_NODE_TIME_LOCAL: return "local time";
	case DM_NODE_NULL: return "null";
	}
	return "unknown";
}
