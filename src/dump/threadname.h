/* SPDX-License-Identifier: GPL-2.0 */
/* A Python thread's name (threading.Thread.name), read from the target's memory. */
#ifndef LOCKPROF_SRC_DUMP_THREADNAME_H
#define LOCKPROF_SRC_DUMP_THREADNAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/pyoffsets.h"

/* The name of the Thread whose Thread._bootstrap_inner frame is at `frame` (its `self`).
 * 0, or -errno with out set to "" when it cannot be read. */
int dump__thread_name(pid_t pid, const struct lp_pyoffsets *o, uint64_t frame, char *out,
		      size_t len);

#endif
