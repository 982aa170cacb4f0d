/* SPDX-License-Identifier: GPL-2.0 */
/* Human-readable numbers for reports (durations with units, counts with thousands separators) and
 * the parser of durations given on the command line. */
#ifndef LOCKPROF_SRC_UNITS_H
#define LOCKPROF_SRC_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* "0 ns", "812 ns", "3.5 us", "41 ms", "3.90 s": three significant digits at most. */
char *units__duration(uint64_t ns, char *buf, size_t len);

/* "1,284" */
char *units__count(uint64_t n, char *buf, size_t len);

/* Parses a duration with a unit: "10us", "5ms", "1.5s", "250ns" ("µs" too); "0" alone is allowed.
 * Returns 0 with *ns set, -EINVAL when s is not such a duration, -ERANGE when it overflows. */
int units__parse_duration(const char *s, uint64_t *ns);

#endif
