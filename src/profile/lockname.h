/* SPDX-License-Identifier: GPL-2.0 */
/* Lock names from Python source lines: what the creating line assigns the lock to, what the
 * waiting line calls it, or which call a native lock was taken in. Pure string work. */
#ifndef LOCKPROF_SRC_LOCKNAME_H
#define LOCKPROF_SRC_LOCKNAME_H

#include <stddef.h>

/* The lock expression in `with EXPR:` or `EXPR.acquire(` ("" when the line uses no lock).
 * Each returns the length written to out (always NUL-terminated). */
size_t lockname__from_source(const char *line, char *out, size_t outlen);

/* The target of `TARGET = ...` ("self._pool_lock = threading.Lock()" gives "self._pool_lock"). */
size_t lockname__from_assignment(const char *line, char *out, size_t outlen);

/* The first called name on the line ("    fh.write(data)" gives "fh.write"). */
size_t lockname__call_on_line(const char *line, char *out, size_t outlen);

/* The object a line works on: the receiver of its first method call or subscript
 * ("        shared.append(i)" gives "shared", "self.cache[key] = v" gives "self.cache"). */
size_t lockname__object_on_line(const char *line, char *out, size_t outlen);

#endif
