// SPDX-License-Identifier: GPL-2.0
/* lockprof dump's layouts per minor version and build (see layout.h). The default builds' rows
 * were read off pyenv builds and Debian's with ctypes, the free-threaded ones with offsetof
 * against their installed headers (Py_GIL_DISABLED); `make check-unit` compares all of them
 * with each installed CPython's headers. */
#include <stddef.h>

#include "dump/layout.h"

#define GLIBC -1
#define NONE -1

// clang-format off
static const struct dump_layout layouts[] = {
	/* minor, ft, native_tid, stacksize, nlocalsplus, valuestack, localsplus, stackpointer,
	 * ref_mask, ht_cached_keys, values_prefix, managed_dict, func_code */
	{ 8, false, GLIBC, 32, NONE, 64, 360, NONE, ~0ULL, NONE, 0, 0, 0 },
	{ 9, false, GLIBC, 32, NONE, 64, 360, NONE, ~0ULL, NONE, 0, 0, 0 },
	{ 10, false, GLIBC, 32, NONE, 64, 352, NONE, ~0ULL, NONE, 0, 0, 32 },
	{ 11, false, 160, 68, 76, NONE, 72, NONE, ~0ULL, 872, 0, -24, 32 },
	{ 12, false, 144, 64, 72, NONE, 72, NONE, ~0ULL, 880, 0, -24, 32 },
	{ 13, false, 160, 64, 72, NONE, 72, NONE, ~0ULL, 880, 8, -24, 32 },
	{ 14, false, 160, 64, 72, NONE, 80, 64, ~3ULL, 880, 8, -24, 32 },
	/* free-threaded: the code object's and heap type's fields 16 bytes further (the longer
	 * header), no GC header before an object so its managed dict is right before it */
	{ 13, true, 160, 80, 88, NONE, 72, NONE, ~0ULL, 896, 8, -8, 32 },
	{ 14, true, 160, 80, 88, NONE, 80, 64, ~3ULL, 896, 8, -8, 32 },
};
// clang-format on

const struct dump_layout *dump_layout__for(int minor, bool free_threaded)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].minor == minor && layouts[i].free_threaded == free_threaded)
			return &layouts[i];
	return NULL;
}

const struct dump_layout *dump_layout__at(int i)
{
	return i >= 0 && (size_t)i < sizeof(layouts) / sizeof(layouts[0]) ? &layouts[i] : NULL;
}
