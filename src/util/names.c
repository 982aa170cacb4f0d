// SPDX-License-Identifier: GPL-2.0
/* Enum name tables (see names.h). */
#include <string.h>

#include "util/names.h"

const char *names__of(const char *const *names, size_t n, size_t value)
{
	return value < n && names[value] ? names[value] : "unknown";
}

int names__find(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], name))
			return (int)i;
	return -1;
}
