/* SPDX-License-Identifier: GPL-2.0 */
/* A run's statistics since its start kept in lockprof's memory instead of BPF's stats map, for
 * cumulative profiles of long runs (the fleet without -i, which the serve face scrapes for
 * days): the map is drained every second, so it never fills up and drops waits however many
 * threads come and go. Bounded: past its cap, a new thread's entry is folded into the entry of
 * the same lock and stack for "other threads" (tid 0), a new lock's into the entry of "other
 * locks" waited on at the same stack (LP_STATSACC_OTHER_LOCKS); when even that has no room, the
 * waits are dropped. Both are counted. */
#ifndef LOCKPROF_SRC_STATSACC_H
#define LOCKPROF_SRC_STATSACC_H

#include <stddef.h>
#include <stdint.h>

#include "lockprof/abi.h"
#include "profile/profile.h"

/* Entries kept per process, at most (about 230 bytes each). */
#define LP_STATSACC_MAX 8192
/* The lock address under which waits of locks past the cap are kept, by stack: never a real
 * lock's (those are aligned). */
#define LP_STATSACC_OTHER_LOCKS 1

struct lp_statsacc;

struct lp_statsacc_info {
	size_t entries;
	uint64_t folded_waits;	/* waits of threads past the cap, kept under tid 0 */
	uint64_t dropped_waits; /* waits with no room at all */
};

/* An empty accumulator of at most max entries (plus about an eighth for the folded ones), or NULL. */
struct lp_statsacc *statsacc__new(size_t max);
void statsacc__free(struct lp_statsacc *a);

/* Adds one CPU-summed entry: counts, times and histograms summed, maxima and lifetimes merged.
 * 0 or -ENOMEM. */
int statsacc__add(struct lp_statsacc *a, const struct lp_stat_key *key,
		  const struct lp_stat_value *val);

/* Moves every entry of the BPF stats map stats_fd into a (the map is emptied). 0 or -errno. */
int statsacc__drain(struct lp_statsacc *a, int stats_fd);

/* Adds every entry to p (profile__add_stat). 0 or -ENOMEM. */
int statsacc__to_profile(const struct lp_statsacc *a, struct lp_profile *p);

void statsacc__info(const struct lp_statsacc *a, struct lp_statsacc_info *info);

#endif
