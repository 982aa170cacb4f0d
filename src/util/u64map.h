/* SPDX-License-Identifier: GPL-2.0 */
/* A small open-addressing hash map from nonzero u64 keys to pointers: written by hand because
 * libc has none and only this one shape is needed (code objects, stacks, locks by address). */
#ifndef LOCKPROF_SRC_U64MAP_H
#define LOCKPROF_SRC_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map {
	uint64_t *keys; /* 0 = empty slot */
	void **values;
	size_t cap; /* power of two */
	size_t len;
};

void *u64map__get(const struct u64map *m, uint64_t key);
/* Inserts or replaces. Key 0 is not allowed. Returns 0 or -ENOMEM. */
int u64map__put(struct u64map *m, uint64_t key, void *value);
/* Frees the table (not the values). */
void u64map__free(struct u64map *m);

#define u64map__for_each(m, i)                                                                     \
	for (size_t i = 0; i < (m)->cap; i++)                                                      \
		if ((m)->keys[i])

#endif
