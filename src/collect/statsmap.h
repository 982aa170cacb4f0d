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

/* What statsmap__walk calls for each entry (its CPUs summed); nonzero stops the walk. */
typedef int (*statsmap_fn)(void *ctx, const struct lp_stat_key *key,
			   const struct lp_stat_value *val);

/* Calls fn for every entry of the stats map map_fd; with reset, removes each entry as it is read
 * (as statsmap__read does). Returns fn's first nonzero return, else 0, -ENOMEM or -errno. */
int statsmap__walk(int map_fd, bool reset, statsmap_fn fn, void *ctx);

/* Adds the GIL waits still open in BPF's gil_waits map (when profiling stops) to p, each ending
 * at its last condition wait's return, as waits on the lock gil_key. 0 or -ENOMEM. */
int statsmap__close_gil_waits(int gil_waits_fd, uint64_t gil_key, struct lp_profile *p);

#endif
