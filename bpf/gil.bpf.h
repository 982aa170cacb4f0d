/* SPDX-License-Identifier: GPL-2.0 */
/* -m gil: turns the condition waits of the GIL's handover into per-thread GIL waits. take_gil()
 * waits on the GIL's condition variable in a loop of timed waits (5 ms each by default), after
 * drop_gil() may have waited for the other thread to take it; consecutive waits of one thread are
 * one GIL wait, ended when the thread stops waiting for longer than gil_cfg.gap_ns (it got the GIL
 * and ran). */
#ifndef LOCKPROF_GIL_BPF_H
#define LOCKPROF_GIL_BPF_H

#include "globals.bpf.h"
#include "lockstats.bpf.h"

/* key: kernel tid.  value: that thread's GIL wait in progress (user space closes the last one) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct lp_gil_wait);
} gil_waits SEC(".maps");

static __always_inline void gil_wait_close(__u32 tid, struct lp_gil_wait *g)
{
	struct lp_stat_key key = {
		.lock = gil_cfg.gil_key,
		.stack_id = g->stack_id,
		.tid = tid,
		.kind = LP_KIND_GIL,
	};

	record_stat(&key, g->last_exit_ns - g->start_ns, true, 0, g->last_exit_ns);
	g->open = 0;
}

static __always_inline void gil_wait_enter(__u32 tid)
{
	struct lp_gil_wait *g = bpf_map_lookup_elem(&gil_waits, &tid);
	struct lp_gil_wait fresh = {};
	__u64 now = bpf_ktime_get_ns();

	if (g && g->open && now - g->last_exit_ns <= gil_cfg.gap_ns) {
		g->in_call = 1; /* take_gil looping after a timeout: the same wait goes on */
		return;
	}
	if (g && g->open)
		gil_wait_close(tid, g);
	fresh.start_ns = now;
	fresh.last_exit_ns = now;
	fresh.open = 1;
	fresh.in_call = 1;
	fresh.stack_id = capture_stack(tid);
	if (bpf_map_update_elem(&gil_waits, &tid, &fresh, BPF_ANY))
		count_event(&counters.inflight_dropped);
}

static __always_inline void gil_wait_exit(__u32 tid)
{
	struct lp_gil_wait *g = bpf_map_lookup_elem(&gil_waits, &tid);

	if (!g || !g->in_call)
		return;
	g->in_call = 0;
	g->last_exit_ns = bpf_ktime_get_ns();
}

#endif
