/* SPDX-License-Identifier: GPL-2.0 */
/* What lockprof keeps per thread of the target, in task storage: every probe hit finds it from
 * the current task without hashing a thread id (an LRU hash lookup cost several times more, and
 * a contended wait looked one up four times), and it is freed with the thread, so exited
 * threads leave nothing to age out. */
#ifndef LOCKPROF_THREADSTATE_BPF_H
#define LOCKPROF_THREADSTATE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "lockprof/abi.h"

struct thread_state {
	/* The wait this thread is blocked in (wait.source 0: none), written in place at each
	 * wait: no insert or delete. */
	struct lp_inflight wait;
	__u64 tstate; /* its PyThreadState found last time, checked again on use */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} thread_states SEC(".maps");

/* The current thread's state, created at its first probe hit; NULL when the kernel could not
 * allocate it (counted by the callers). */
static __always_inline struct thread_state *thread_state_here(void)
{
	return bpf_task_storage_get(&thread_states, bpf_get_current_task_btf(), NULL,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
}

/* The current thread's wait slot (its state's), NULL when it has no state. */
static __always_inline struct lp_inflight *wait_slot_here(void)
{
	struct thread_state *th = thread_state_here();

	return th ? &th->wait : NULL;
}

#endif
