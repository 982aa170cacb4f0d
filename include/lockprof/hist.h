/* SPDX-License-Identifier: GPL-2.0 */
/* log2 latency buckets, shared by the BPF programs (which fill them) and the reports (which print
 * them), so both sides agree on what bucket i means: [2^i, 2^(i+1)) ns, 0 ns in bucket 0. */
#ifndef LOCKPROF_HIST_H
#define LOCKPROF_HIST_H

#include "abi.h"

static inline __u32 lp_hist_slot(__u64 ns)
{
	__u32 slot = 0;

	/* Branchy binary search: the BPF verifier accepts it and it needs no builtins. */
	if (ns >= (1ULL << 32)) {
		ns >>= 32;
		slot += 32;
	}
	if (ns >= (1ULL << 16)) {
		ns >>= 16;
		slot += 16;
	}
	if (ns >= (1ULL << 8)) {
		ns >>= 8;
		slot += 8;
	}
	if (ns >= (1ULL << 4)) {
		ns >>= 4;
		slot += 4;
	}
	if (ns >= (1ULL << 2)) {
		ns >>= 2;
		slot += 2;
	}
	if (ns >= (1ULL << 1))
		slot += 1;
	return slot < LP_HIST_SLOTS ? slot : LP_HIST_SLOTS - 1;
}

#endif
