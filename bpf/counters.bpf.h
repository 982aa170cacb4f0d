/* SPDX-License-Identifier: GPL-2.0 */
/* count_event(): the one way programs bump a counter of .bss `counters` (rare events: loss and
 * errors; probe hits are counted per CPU, lp_self_cost). */
#ifndef LOCKPROF_COUNTERS_BPF_H
#define LOCKPROF_COUNTERS_BPF_H

#include "globals.bpf.h"

/* Atomic: programs on several CPUs count into the same .bss word. */
static __always_inline void count_event(__u64 *counter)
{
	__sync_fetch_and_add(counter, 1);
}

#endif
