/* SPDX-License-Identifier: GPL-2.0 */
/* Loss and error counters shared by all programs; user space reads them from .bss. */
#ifndef LOCKPROF_COUNTERS_BPF_H
#define LOCKPROF_COUNTERS_BPF_H

struct lp_counters counters = {};

static __always_inline void count_event(__u64 *counter)
{
	__sync_fetch_and_add(counter, 1);
}

#endif
