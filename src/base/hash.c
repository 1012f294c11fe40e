#include "base/hash.h"

#include <string.h>

#define PRIME 1099511628211ull

uint64_t dm_hash_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * PRIME;
	return (h ^ 0xff) * PRIME;
}

uint64_t dm_hash_str(uint64_t h, const char *s)
{
	return dm_hash_add(h, s, strlen(s));
}
