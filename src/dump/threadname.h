/* SPDX-License-Identifier: GPL-2.0 */
/* Attributes of Python objects read from the target's memory: a thread's name
 * (threading.Thread.name), a Condition's lock. */
#ifndef LOCKPROF_SRC_DUMP_THREADNAME_H
#define LOCKPROF_SRC_DUMP_THREADNAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/pyoffsets.h"

/* The attribute `attr` of a Python object (an instance of a class defined in Python) from its
 * dict or dict-less attribute values. 0, or -errno. */
int dump__instance_attr(pid_t pid, const struct lp_pyoffsets *o, uint64_t obj, const char *attr,
			uint64_t *value);

/* The name of the Thread whose Thread._bootstrap_inner frame is at `frame` (its `self`).
 * 0, or -errno with out set to "" when it cannot be read. */
int dump__thread_name(pid_t pid, const struct lp_pyoffsets *o, uint64_t frame, char *out,
		      size_t len);

#endif
