/* SPDX-License-Identifier: GPL-2.0 */
/* Free-threaded CPython (3.13t, 3.14t): waits for another thread's critical section on an object
 * (a dict, a list...), and stop-the-world pauses. A critical section's slow path is entered only
 * when the fast compare-and-swap on the object's ob_mutex failed: its entry to its return is the
 * wait, the spin before parking included, and an uncontended section never gets there. */
#ifndef LOCKPROF_FREETHREADED_BPF_H
#define LOCKPROF_FREETHREADED_BPF_H

#include "globals.bpf.h"
#include "counters.bpf.h"
#include "lockstats.bpf.h"

/* key: an object's ob_mutex.  value: its type, read when a wait for it ended */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct lp_object_type);
} object_types SEC(".maps");

/* A stop-the-world pause in progress, by the thread that asked for it. */
struct stw_pause {
	__u64 start_ns;
	__u64 stw;   /* the _stoptheworld_state */
	__u32 epoch; /* timing_epoch at the start: user space resets stw_active at each re-attach */
	__u32 pad;
};

/* key: kernel tid.  value: its stop-the-world pause in progress */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct stw_pause);
} stw_pauses SEC(".maps");

/* Remembers the type of the object whose ob_mutex is `mutex`, once (and again if another object
 * of another type took its address). */
static __always_inline void note_object_type(__u64 mutex)
{
	struct lp_object_type t = {}, *known;
	__u64 obj = mutex - (__u64)targ_object_mutex, type;

	if (read_user_u64(obj + targ_object_type, &type) || !type)
		return;
	known = bpf_map_lookup_elem(&object_types, &mutex);
	if (known && known->type == type)
		return;
	t.type = type;
	if (read_user_u64(type + targ_type_name, &obj) ||
	    bpf_probe_read_user_str(t.name, sizeof(t.name), (const void *)obj) < 0)
		t.name[0] = '\0';
	bpf_map_update_elem(&object_types, &mutex, &t, BPF_ANY);
}

/* One step along the interpreter's thread list: stops after the last thread state. */
static long thread_count_step(__u64 index, __u64 *ts)
{
	if (!*ts || read_user_u64(*ts + py.tstate_next, ts))
		return 1;
	return 0;
}

/* Thread states of the main interpreter, at most LP_MAX_THREADS: bpf_loop's count of steps (a
 * counter in the context would make the verifier walk every iteration apart). */
static __always_inline __u64 count_threads(void)
{
	__u64 interp, ts;
	long steps;

	if (read_user_u64(py.runtime_addr + py.runtime_interp_head, &interp) || !interp ||
	    read_user_u64(interp + py.interp_threads_head, &ts) || !ts)
		return 0;
	/* The step that finds the end counts too. */
	steps = bpf_loop(LP_MAX_THREADS + 1, thread_count_step, &ts, 0);
	return steps > 1 ? (__u64)steps - 1 : 0;
}

static __always_inline void stw_begin(__u32 tid, __u64 stw)
{
	struct stw_pause pause = { .start_ns = bpf_ktime_get_ns(),
				   .stw = stw,
				   .epoch = timing_epoch };

	if (!bpf_map_update_elem(&stw_pauses, &tid, &pause, BPF_ANY))
		__sync_fetch_and_add(&stw_active, 1);
}

/* The pause ends: its time and the initiator's stack go into the stats, the threads it paused
 * (every other thread of the interpreter) into counters.stw_threads. */
static __always_inline void stw_end(__u32 tid)
{
	struct stw_pause *pause = bpf_map_lookup_elem(&stw_pauses, &tid);
	struct lp_stat_key key = { .tid = tid, .kind = LP_KIND_STW };
	__u64 now = bpf_ktime_get_ns(), threads;

	if (!pause)
		return;
	key.lock = pause->stw;
	/* Begun before the probes were last detached: its start is not this pause's. */
	if (pause->epoch != timing_epoch) {
		bpf_map_delete_elem(&stw_pauses, &tid);
		return;
	}
	__sync_fetch_and_add(&stw_active, -1);
	bpf_map_delete_elem(&stw_pauses, &tid);
	key.stack_id = capture_stack(tid);
	record_stat(&key, now - pause->start_ns, true, 0, now);
	threads = count_threads();
	if (threads > 1)
		__sync_fetch_and_add(&counters.stw_threads, threads - 1);
}

#endif
