/* SPDX-License-Identifier: GPL-2.0 */
/* The two clocks lockprof reads, in nanoseconds: monotonic for durations (the BPF side's
 * bpf_ktime_get_ns() counts the same), real time for the wall-clock start reports carry. */
#ifndef LOCKPROF_SRC_CLOCK_H
#define LOCKPROF_SRC_CLOCK_H

#include <stdint.h>

uint64_t clock__monotonic_ns(void);
uint64_t clock__realtime_ns(void);

#endif
