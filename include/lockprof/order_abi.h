/* SPDX-License-Identifier: GPL-2.0 */
/* -m full's lock-order graph, shared by BPF (bpf/hold.bpf.h) and user space
 * (src/collect/lockorder.c): an edge (first, second) means a thread acquired `second` while it
 * held `first`. */
#ifndef LOCKPROF_ORDER_ABI_H
#define LOCKPROF_ORDER_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LP_HELD_MAX 8 /* locks a thread is tracked holding at once (the oldest make room) */

/* A lock: its address and its generation there (bumped when a sem_t lock is destroyed, so that
 * a lock created later at the same address is another node of the graph). */
struct lp_order_lock {
	__u64 addr; /* sem_t* or PyMutex* */
	__u32 gen;
	__u32 pad;
};

struct lp_order_key {
	struct lp_order_lock first;  /* lock held */
	struct lp_order_lock second; /* lock acquired while holding it */
};

struct lp_order_value {
	__u64 stack_id; /* the stack that acquired `second` the first time (0: not captured) */
	__u32 tid;	/* the thread that did */
	__u32 count;	/* acquisitions in that order seen (not atomic: a lower bound) */
};

#endif
