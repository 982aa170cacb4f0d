/* SPDX-License-Identifier: GPL-2.0 */
/* Wait tracking: the per-thread in-flight state between a blocking call's entry and return, the
 * per-CPU aggregation of finished waits, and the one-time announcement of new stacks. */
#ifndef LOCKPROF_LOCKSTATS_BPF_H
#define LOCKPROF_LOCKSTATS_BPF_H

#include "counters.bpf.h"
#include "pyframes.bpf.h"
#include "lockprof/hist.h"

/* key: kernel tid.  value: the wait this thread is blocked in */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, struct lp_inflight);
} inflight SEC(".maps");

/* key: {lock, stack, tid, kind}.  value: count, total, max, histogram (per CPU, summed by user) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct lp_stat_key);
	__type(value, struct lp_stat_value);
} stats SEC(".maps");

/* key: stack id.  value: 1. Remembers which stacks were already announced on the ring buffer. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} stacks_seen SEC(".maps");

/* New stacks, so user space symbolizes them while the target is alive. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Captures the current thread's Python stack and returns its id (0 when none). */
static __always_inline __u64 capture_stack(__u32 tid)
{
	__u32 zero = 0;
	struct stack_scratch *sc = bpf_map_lookup_elem(&stack_scratch, &zero);
	struct lp_stack_event *ev;
	__u64 tstate;
	__u8 one = 1;
	long err;

	if (!sc)
		return 0;
	ev = &sc->ev;
	tstate = find_tstate(tid);
	if (!tstate) {
		count_event(&counters.thread_not_found);
		return 0;
	}
	walk_frames(tstate, sc);
	if (!ev->stack.stack_id)
		return 0;

	err = bpf_map_update_elem(&stacks_seen, &ev->stack.stack_id, &one, BPF_NOEXIST);
	if (err == -EEXIST)
		return ev->stack.stack_id;
	if (err) {
		count_event(&counters.stacks_dropped);
		return ev->stack.stack_id;
	}
	ev->hdr.type = LP_EVENT_STACK;
	ev->stack.tid = tid;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev), 0)) {
		count_event(&counters.lost_events);
		/* Forget it so that a later wait on the same stack announces it again. */
		bpf_map_delete_elem(&stacks_seen, &ev->stack.stack_id);
	}
	return ev->stack.stack_id;
}

static __always_inline void record_wait(const struct lp_inflight *w, __u32 tid, __u64 now,
					bool acquired)
{
	struct lp_stat_key key = {
		.lock = w->lock, .stack_id = w->stack_id, .tid = tid, .kind = LP_KIND_WAIT,
	};
	static const struct lp_stat_value zero_value;
	struct lp_stat_value *v;
	__u64 ns = now - w->start_ns;

	if (ns < targ_min_wait_ns) {
		count_event(&counters.short_waits);
		return;
	}
	v = bpf_map_lookup_elem(&stats, &key);
	if (!v) {
		if (bpf_map_update_elem(&stats, &key, &zero_value, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&stats, &key)) {
			count_event(&counters.stats_dropped);
			return;
		}
		v = bpf_map_lookup_elem(&stats, &key);
		if (!v)
			return;
	}
	/* Per-CPU value and uprobe handlers do not nest on one CPU: plain adds are safe. */
	v->count++;
	v->total_ns += ns;
	if (ns > v->max_ns)
		v->max_ns = ns;
	if (!acquired)
		v->timeouts++;
	v->hist[lp_hist_slot(ns)]++;
}

static __always_inline void begin_wait(__u32 tid, __u64 lock, __u32 source)
{
	struct lp_inflight w = { .lock = lock, .source = source };

	w.stack_id = capture_stack(tid);
	w.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&inflight, &tid, &w, BPF_ANY))
		count_event(&counters.inflight_dropped);
}

static __always_inline void end_wait(__u32 tid, __u32 source, bool acquired)
{
	__u64 now = bpf_ktime_get_ns();
	struct lp_inflight *w = bpf_map_lookup_elem(&inflight, &tid);

	/* A return without our entry: entered before attach, or a nested call of another kind. */
	if (!w || w->source != source)
		return;
	record_wait(w, tid, now, acquired);
	bpf_map_delete_elem(&inflight, &tid);
}

#endif
