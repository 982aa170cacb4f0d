/* SPDX-License-Identifier: GPL-2.0 */
/* -m full's lock-order inversions: the "acquired B while holding A" graph BPF kept
 * (bpf/hold.bpf.h), read at the end of the run, its cycles found and their locks named. */
#ifndef LOCKPROF_SRC_LOCKORDER_H
#define LOCKPROF_SRC_LOCKORDER_H

#include <stddef.h>
#include <stdint.h>

#include "profile/stacktab.h"
#include "symbolize/source.h"

#define LP_LOCKORDER_NAME_MAX 128

/* One edge of a cycle: a thread took `second` while it held `first`. */
struct lp_order_step {
	uint64_t first, second;
	uint64_t stack_id; /* the stack that took `second` (first time seen); 0 when not captured */
	uint32_t tid;
	uint32_t count;
	char first_name[LP_LOCKORDER_NAME_MAX]; /* "" when no line names it */
	char second_name[LP_LOCKORDER_NAME_MAX];
};

struct lp_inversion {
	struct lp_order_step *steps;
	size_t len;
};

struct lp_lockorder {
	struct lp_inversion *cycles;
	size_t ncycles;
	size_t nedges; /* orders seen between distinct mutexes */
};

/* Reads the graph (order_fd: the lock_order map; signal_fd: locks released by another thread
 * than their taker, left out), finds its cycles and names their locks from the stacks' leaf
 * lines. 0 or -errno. */
int lockorder__collect(int order_fd, int signal_fd, const struct lp_stacktab *stacks,
		       struct lp_sources *src, struct lp_lockorder *out);
void lockorder__free(struct lp_lockorder *o);

#endif
