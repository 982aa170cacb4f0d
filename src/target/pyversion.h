/* SPDX-License-Identifier: GPL-2.0 */
/* Which CPython the target runs: from Py_Version (3.11+), else from the libpython or executable
 * name. */
#ifndef LOCKPROF_SRC_PYVERSION_H
#define LOCKPROF_SRC_PYVERSION_H

#include <stdbool.h>

#include "target/elf_syms.h"

struct lp_pyversion {
	int major, minor, micro; /* micro -1 when unknown */
	bool free_threaded;
};

/* name: basename of libpython or the executable. Returns 0, or -ENOENT when nothing tells. */
int pyversion__detect(const struct elf_file *ef, const char *name, struct lp_pyversion *v);

/* Parses "libpython3.11.so.1.0", "libpython3.13t.so", "python3.9", "python3.7m": 0 or -EINVAL. */
int pyversion__from_name(const char *name, struct lp_pyversion *v);

/* Takes the patch level from a Py_GetVersion() string ("3.9.18 (main, ...") when its major and
 * minor agree with v. 0 or -EINVAL. */
int pyversion__micro_from_string(const char *s, struct lp_pyversion *v);

/* True when threading.Lock is a glibc sem_t (3.8-3.12 and 3.13.0); from 3.13.1 (gh-117721's
 * backport) it is a PyMutex. */
bool pyversion__lock_is_semaphore(const struct lp_pyversion *v);

/* "3.11.7" or "3.9" into buf. */
void pyversion__format(const struct lp_pyversion *v, char *buf, unsigned long len);

#endif
