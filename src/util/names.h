/* SPDX-License-Identifier: GPL-2.0 */
/* Names of an enum's values, kept in an array indexed by value (NULL for a value without one):
 * the value -> name and name -> value lookups every such table needs. */
#ifndef LOCKPROF_SRC_NAMES_H
#define LOCKPROF_SRC_NAMES_H

#include <stddef.h>

#define NAMES_COUNT(names) (sizeof(names) / sizeof((names)[0]))

/* names[value], or "unknown" when value has no name. */
const char *names__of(const char *const *names, size_t n, size_t value);

/* The value named name, or -1 when none is. */
int names__find(const char *const *names, size_t n, const char *name);

#endif
