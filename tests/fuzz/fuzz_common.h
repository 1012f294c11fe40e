/* Checks shared by the fuzz targets: what the config readers promise about
 * the trees they return and the errors they report. A broken promise aborts,
 * which libFuzzer (and the regression driver) report as a crash. */
#ifndef DM_FUZZ_COMMON_H
#define DM_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "config/tree.h"

#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__,  \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Every node has a position; table children have keys, array children do
 * not; strings and date/times have a NUL-terminated str of length len;
 * containers do not nest deeper than max_depth (counting the root as 0). */
static inline void fuzz_check_tree(const dm_node *n, const dm_node *parent, int depth,
                                   int max_depth)
{
	FUZZ_ASSERT(n != NULL);
	FUZZ_ASSERT(depth <= max_depth);
	FUZZ_ASSERT(n->line >= 1 && n->col >= 1);
	if (parent == NULL)
		FUZZ_ASSERT(n->type == DM_NODE_TABLE && n->key == NULL);
	else if (parent->type == DM_NODE_TABLE)
		FUZZ_ASSERT(n->key != NULL);
	else
		FUZZ_ASSERT(n->key == NULL);
	switch (n->type) {
	case DM_NODE_TABLE:
	case DM_NODE_ARRAY:
		FUZZ_ASSERT(n->nkids <= n->cap);
		FUZZ_ASSERT(n->nkids == 0 || n->kids != NULL);
		for (size_t i = 0; i < n->nkids; i++) {
			fuzz_check_tree(n->kids[i], n, depth + 1, max_depth);
			/* Both readers refuse duplicate keys. */
			if (n->type == DM_NODE_TABLE)
				for (size_t j = 0; j < i; j++)
					FUZZ_ASSERT(strcmp(n->kids[i]->key, n->kids[j]->key) != 0);
		}
		break;
	case DM_NODE_STRING:
	case DM_NODE_DATETIME:
	case DM_NODE_DATETIME_LOCAL:
	case DM_NODE_DATE_LOCAL:
	case DM_NODE_TIME_LOCAL:
		FUZZ_ASSERT(n->str != NULL);
		FUZZ_ASSERT(n->str[n->len] == '\0');
		FUZZ_ASSERT(n->nkids == 0);
		break;
	default: FUZZ_ASSERT(n->nkids == 0); break;
	}
}

/* A failed parse or bind names the file first ("source.yaml:4:3: ..."). */
static inline void fuzz_check_err(const dm_err *err, const char *filename)
{
	size_t n = strlen(filename);
	FUZZ_ASSERT(err->code != DM_OK);
	FUZZ_ASSERT(memchr(err->msg, '\0', sizeof(err->msg)) != NULL);
	FUZZ_ASSERT(strncmp(err->msg, filename, n) == 0 && err->msg[n] == ':');
}

#endif
