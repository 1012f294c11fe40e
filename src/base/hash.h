/* FNV-1a, 64 bits: cheap, and spreads row keys well enough over the
 * open-addressing tables of the dispatcher and the compaction window. */
#ifndef DM_BASE_HASH_H
#define DM_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define DM_HASH_SEED 14695981039346656037ull

/* h extended by n bytes, then a separator, so that the parts ("a", "b")
 * and ("ab") hash differently. */
uint64_t dm_hash_add(uint64_t h, const void *p, size_t n);
uint64_t dm_hash_str(uint64_t h, const char *s);

#endif
