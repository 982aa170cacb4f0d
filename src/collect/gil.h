/* SPDX-License-Identifier: GPL-2.0 */
/* -m gil in user space: where the target's GIL is, and how often it changed hands (its
 * switch_number, sampled while the target lives since it may exit before the report). The GIL
 * waits themselves are measured in BPF (bpf/gil.bpf.h) and read with the stats. */
#ifndef LOCKPROF_SRC_GIL_H
#define LOCKPROF_SRC_GIL_H

#include <stdint.h>
#include <sys/types.h>

#include "target/interp.h"

/* The (main interpreter's) GIL state in the target, or 0 when unreadable. It is also the GIL's
 * lock id in the stats. */
uint64_t gil__address(pid_t pid, const struct lp_interp *info);

struct lp_gil_switches {
	pid_t pid;
	uint64_t gil;	   /* gil__address(); 0: not sampling */
	int switch_number; /* offset of _gil_runtime_state.switch_number */
	/* switch_number at the span's start and at the last sample; -1: unknown */
	int64_t first;
	int64_t last;
};

/* Starts sampling pid's GIL at gil (0: never samples, every span is unknown); switch_number: the
 * offset of its switch count (struct lp_pyoffsets). */
void gil_switches__init(struct lp_gil_switches *g, pid_t pid, uint64_t gil, int switch_number);

/* Reads the switch count now (cheap: one remote read); a failed read keeps the last one. */
void gil_switches__sample(struct lp_gil_switches *g);

/* The GIL's switches since the last call (since the start the first time), or -1 when unknown. */
int64_t gil_switches__take(struct lp_gil_switches *g);

#endif
