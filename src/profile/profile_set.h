/* SPDX-License-Identifier: GPL-2.0 */
/* The profiles of several processes taken at one moment (-p PID,PID... and --all): one profile per
 * process, each with the process's identity, and the fleet's own health. The renderers write a
 * set (report/report_set.c); the serve face subtracts two sets for a delta. */
#ifndef LOCKPROF_SRC_PROFILE_SET_H
#define LOCKPROF_SRC_PROFILE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile/profile.h"

#define LP_COMM_LEN 16 /* TASK_COMM_LEN: /proc/PID/comm, NUL included */

/* Who a profiled process is. */
struct lp_proc_info {
	pid_t pid;
	char comm[LP_COMM_LEN]; /* /proc/PID/comm when it was attached */
	char python[32];	/* CPython X.Y.Z */
	uint64_t attached_ns; /* its probes went live (CLOCK_MONOTONIC); tells a reused pid apart */
	uint64_t exited_ns;   /* 0 while it runs */
	bool exited;
};

/* lockprof's own health over every process (counters only grow). */
struct lp_fleet_health {
	size_t live;		  /* processes profiled now */
	uint64_t attached;	  /* processes whose probes went live, ever */
	uint64_t exited;	  /* of those, the ones that exited (probes released) */
	uint64_t attach_failures; /* attach attempts that failed (--all retries them later) */
	uint64_t skipped;	  /* processes not profiled: --max-processes reached */
	uint64_t evicted;	  /* exited processes dropped from the profile (their cap) */
	uint64_t scans;		  /* --all: /proc rescans */
	uint64_t bpf_map_bytes;	  /* memory of the BPF maps of the live processes */
	struct lp_caps caps;	  /* the memory caps' doing, every process's summed */
};

struct lp_proc_profile {
	struct lp_proc_info proc;
	struct lp_profile profile; /* owned by the set; its stacks and thread names are borrowed */
};

struct lp_profile_set {
	struct lp_proc_profile *procs; /* by pid */
	size_t n;
	uint64_t start_unix_ns; /* when the set's span started (the run, or the -i interval) */
	uint64_t duration_ns;
	unsigned int interval; /* with -i: 1 for the first interval's set; else 0 */
	struct lp_fleet_health health;
};

/* Frees the set's profiles; safe on a zeroed set. */
void profile_set__free(struct lp_profile_set *set);

/* Appends a process and its profile: with copy, a copy of *profile; else the set takes *profile
 * over (zeroed in the caller). 0 or -ENOMEM. */
int profile_set__add(struct lp_profile_set *set, const struct lp_proc_info *proc,
		     struct lp_profile *profile, bool copy);

/* Sorts the processes by pid (then attach time). */
void profile_set__sort(struct lp_profile_set *set);

/* later minus earlier, per process (the same pid attached at the same time), lock (address and
 * generation) and stack (id and role): counts, wait and hold times and histograms. What earlier
 * lacks stays whole; locks and stacks left with no waits are dropped; maxima stay later's (a
 * maximum cannot be subtracted). Reads only earlier's numbers, never its stacks, so earlier may
 * be kept across fleet polls (a ?seconds=N window). later is changed in place. 0 or -ENOMEM. */
int profile_set__subtract(struct lp_profile_set *later, const struct lp_profile_set *earlier);

/* The profile of the process pid in the set, or NULL. */
const struct lp_proc_profile *profile_set__find(const struct lp_profile_set *set, pid_t pid);

#endif
