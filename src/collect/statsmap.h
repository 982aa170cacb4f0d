/* SPDX-License-Identifier: GPL-2.0 */
/* Reading BPF's per-CPU `stats` map into a profile: each entry's CPUs summed, and with intervals
 * the entries deleted as they are read, so the next interval starts from zero. */
#ifndef LOCKPROF_SRC_STATSMAP_H
#define LOCKPROF_SRC_STATSMAP_H

#include <stdbool.h>

#include "profile/profile.h"

/* Adds every entry of the stats map map_fd to p; with reset, removes each entry as it is read
 * (atomically where the kernel has lookup-and-delete for per-CPU hashes, 5.14+). Returns 0,
 * -ENOMEM, or the -errno of a failed map operation. */
int statsmap__read(int map_fd, struct lp_profile *p, bool reset);

/* Adds the GIL waits still open in BPF's gil_waits map (when profiling stops) to p, each ending
 * at its last condition wait's return, as waits on the lock gil_key. 0 or -ENOMEM. */
int statsmap__close_gil_waits(int gil_waits_fd, uint64_t gil_key, struct lp_profile *p);

#endif
