/* SPDX-License-Identifier: GPL-2.0 */
/* Wait accounting: turns a blocking call's entry and return into per-CPU lock statistics (the
 * per-thread in-flight wait, holder blame, creation stacks) and announces each new stack once on
 * the ring buffer. */
#ifndef LOCKPROF_LOCKSTATS_BPF_H
#define LOCKPROF_LOCKSTATS_BPF_H

#include "globals.bpf.h"
#include "counters.bpf.h"
#include "maps.bpf.h"
#include "pyframes.bpf.h"
#include "lockprof/hist.h"

/* key: kernel tid.  value: the wait this thread is blocked in (source 0: none). An entry stays
 * for its thread's next wait, written in place, so that a wait costs no insert or delete (both
 * take the bucket's lock); the entries of threads that exited age out of the LRU. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
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

/* key: lock.  value: threads currently blocked on it, and since when (lets the release probes
 * ignore the wakes of semaphores no measured thread waits on, and sample their stacks) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct lp_waiters);
} lock_waiters SEC(".maps");

/* lockprof's own cost, per CPU: no shared cache line between the CPUs the probes run on. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lp_self_cost);
} self_cost SEC(".maps");

static __always_inline struct lp_self_cost *self_cost_here(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&self_cost, &zero);
}

/* A probe hit for the target begins: timed until hit_end(), which counts it. Per CPU: a shared
 * counter's cache line would bounce between the CPUs of a handoff at every hit. */
static __always_inline __u64 hit_begin(void)
{
	return bpf_ktime_get_ns();
}

/* Counted per probe site too (its attach cookie, src/probes/sites.h): what a hit's trap costs
 * depends on the instruction its breakpoint sits on. */
static __always_inline void count_hit(void *ctx, __u64 t0, bool full)
{
	struct lp_self_cost *c = self_cost_here();
	__u64 site = bpf_get_attach_cookie(ctx);

	if (!c)
		return;
	c->runs++;
	if (full)
		c->full_runs++;
	if (site < LP_MAX_SITES)
		c->site_hits[site]++;
	c->run_ns += bpf_ktime_get_ns() - t0;
}

#define hit_end(t0) count_hit(ctx, t0, false)
/* -m full's probes: counted apart too, for their duty cycle. */
#define hit_end_full(t0) count_hit(ctx, t0, true)

/* The stack budget: whether to capture the stack of a wait that has lasted ns. Weighted, as a
 * heap profiler samples allocations: a wait of stack_sample_ns or more always, a shorter one
 * with probability ns / stack_sample_ns, so that long waits are never missed and each captured
 * stack stands for 1 / that probability waits (record_stat's est_*). */
static __always_inline bool stack_sampled(__u64 ns, __u64 threshold)
{
	if (!threshold || ns >= threshold)
		return true;
	return (((__u64)bpf_get_prandom_u32() * threshold) >> 32) < ns;
}

/* key: lock.  value: its last release that had waiters */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct lp_release);
} last_release SEC(".maps");

/* key: lock.  value: id of the stack that created it (forgotten when the lock is freed) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} lock_created SEC(".maps");

/* A wait that ended before the release that woke it was seen: glibc's sem_post is probed after
 * its wake (the emulated instruction there is far cheaper than the block's first ones), and the
 * woken thread may run first. The release claims it (note_release). */
struct pending_blame {
	__u64 end_ns;
	__u64 ns;
	__u32 source;
	__u32 pad;
};

/* A release this soon after the same thread's uncharged one reuses its stack (note_release). */
#define REWALK_NS 1000000ULL

/* A pending wait older than this is not charged to a release: it was woken otherwise. */
#define PENDING_BLAME_NS 20000000ULL

/* key: lock.  value: its last wait that ended before its release was seen */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pending_blame);
} pending_blame SEC(".maps");

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

	struct lp_self_cost *cost;
	__u64 t0 = bpf_ktime_get_ns();

	if (!sc)
		return 0;
	ev = &sc->ev;
	tstate = find_tstate(tid);
	if (!tstate) {
		count_event(&counters.thread_not_found);
		return 0;
	}
	walk_frames(tstate, sc);
	cost = self_cost_here();
	if (cost) {
		cost->walks++;
		cost->walk_ns += bpf_ktime_get_ns() - t0;
	}
	if (!ev->stack.stack_id)
		return 0;

	/* Known already (the common case): a lockless lookup, not an update that takes the
	 * bucket's lock to fail with -EEXIST. */
	if (bpf_map_lookup_elem(&stacks_seen, &ev->stack.stack_id))
		return ev->stack.stack_id;
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

/* Adds a wait of ns that ended at end_ns to key's entry. threshold: the stack budget's
 * stack_sample_ns its stack was sampled under (0: captured unconditionally), which gives the
 * wait's weight. */
static __always_inline void record_stat(const struct lp_stat_key *key, __u64 ns, bool acquired,
					__u64 threshold, __u64 end_ns)
{
	static const struct lp_stat_value zero_value;
	struct lp_stat_value *v;
	__u64 *created;

	/* --min-wait: the wait and the release charged with it are both left out; counted once. */
	if (ns < targ_min_wait_ns) {
		if (key->kind != LP_KIND_HOLDER)
			count_event(&counters.short_waits);
		return;
	}
	v = bpf_map_lookup_or_try_init(&stats, key, &zero_value);
	if (!v) {
		count_event(&counters.stats_dropped);
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
	if (!v->first_ns)
		v->first_ns = end_ns;
	v->last_ns = end_ns;
	if (key->stack_id != LP_STACK_UNSAMPLED) {
		if (threshold && ns < threshold) {
			v->est_count += threshold * LP_WEIGHT_ONE / (ns ? ns : 1);
			v->est_ns += threshold;
		} else {
			v->est_count += LP_WEIGHT_ONE;
			v->est_ns += ns;
		}
	}
	/* Copied now: the lock may be freed, and its address reused, before the report. */
	if (targ_creation_sites && !v->created_stack &&
	    (key->kind == LP_KIND_WAIT || key->kind == LP_KIND_HOLD_SAMPLED ||
	     key->kind == LP_KIND_HOLD_FULL)) {
		created = bpf_map_lookup_elem(&lock_created, &key->lock);
		if (created)
			v->created_stack = *created;
	}
}

/* Not bpf_map_lookup_or_try_init(): a missing entry is created with the count itself, in the one
 * update, and a lookup more on the first wait on each lock (every Condition.wait waits on a new
 * lock) is what that saves. */
static __always_inline void add_waiter(__u64 lock, __s64 delta, __u64 now)
{
	struct lp_waiters first = { .count = 1, .since_ns = now },
			  *n = bpf_map_lookup_elem(&lock_waiters, &lock);

	if (n) {
		/* Racy by design: since_ns is a sampling hint, not a measurement. */
		if (delta > 0 && n->count <= 0)
			n->since_ns = now;
		__sync_fetch_and_add(&n->count, delta);
		return;
	}
	if (delta > 0 && bpf_map_update_elem(&lock_waiters, &lock, &first, BPF_NOEXIST)) {
		n = bpf_map_lookup_elem(&lock_waiters, &lock);
		if (n)
			__sync_fetch_and_add(&n->count, delta);
	}
}

/* Charges a pending wait of lock to the release rel, unless it is stale or the other side
 * charged it first: the side whose delete of the entry succeeds charges it. */
static __always_inline bool claim_pending(__u64 lock, const struct lp_release *rel)
{
	struct pending_blame *pending = bpf_map_lookup_elem(&pending_blame, &lock);
	struct lp_stat_key key = {
		.lock = lock,
		.stack_id = rel->stack_id,
		.tid = rel->tid,
		.kind = LP_KIND_HOLDER,
	};
	__u64 ns, end_ns;

	if (!pending || (__s64)(rel->time_ns - pending->end_ns) >= (__s64)PENDING_BLAME_NS)
		return false;
	ns = pending->ns;
	end_ns = pending->end_ns;
	key.source = (__u16)pending->source;
	if (bpf_map_delete_elem(&pending_blame, &lock))
		return false;
	record_stat(&key, ns, true, rel->threshold, end_ns);
	return true;
}

/* A thread's release of a lock woke (or is about to wake) a waiter: it is charged with the wait
 * it ends, when that wait ends (last_release) or now if it ended already (pending_blame). The
 * release is published first and the pending wait looked up after, the waiting side does the
 * reverse (end_wait), so that when both run at once one of them sees the other. */
static __always_inline void note_release(__u32 tid, __u64 lock, const struct lp_waiters *waiters)
{
	struct lp_release rel = { .tid = tid, .threshold = stack_sample_ns }, *slot;
	__u64 now = bpf_ktime_get_ns();

	slot = bpf_map_lookup_elem(&last_release, &lock);
	/* A thread that releases again, a moment later, a lock whose last release (its own) woke a
	 * waiter that has not ended its wait yet (it lost the race for the lock and sleeps again
	 * inside the same sem_wait): the same release site, most likely, and no walk. Where one
	 * thread takes and releases a hot lock in a loop, glibc wakes a waiter at nearly every
	 * release and few of those wakes end a wait (55 per wait in the bench's "4 threads 1
	 * lock"), each of them walking the releaser's stack. */
	if (slot && slot->tid == tid && !slot->charged && now - slot->time_ns < REWALK_NS) {
		*(volatile __u64 *)&slot->time_ns = now;
		rel = *slot;
		if (claim_pending(lock, &rel))
			slot->charged = 1;
		return;
	}
	/* The stack budget, by how long the lock has had a waiter (about the wait this ends). */
	if (stack_sampled(now - waiters->since_ns, rel.threshold))
		rel.stack_id = capture_stack(tid);
	else
		rel.stack_id = LP_STACK_UNSAMPLED;
	rel.time_ns = bpf_ktime_get_ns();
	/* Written in place when the lock has an entry: an LRU update takes a free node and the
	 * LRU's lock at every release. The time goes last (volatile: in this order): a waiter that
	 * reads the new time after it (x86 keeps stores and loads in order) sees the new fields. */
	if (slot) {
		slot->charged = 0;
		slot->stack_id = rel.stack_id;
		slot->threshold = rel.threshold;
		slot->tid = rel.tid;
		*(volatile __u64 *)&slot->time_ns = rel.time_ns;
	} else {
		bpf_map_update_elem(&last_release, &lock, &rel, BPF_ANY);
	}
	if (claim_pending(lock, &rel) && slot)
		slot->charged = 1;
}

/* The stack is walked when the wait ends, not when it begins: the thread's frames cannot change
 * while it blocks, and calls that turn out not to have blocked then cost no walk at all. */
/* Voluntary context switches of the current thread so far: a thread that sleeps in a blocking
 * call (a futex wait) switches out voluntarily, one that takes a free semaphore does not. Read
 * from the task itself, so no hook on the syscall path (which every process would pay) is
 * needed to tell the two apart. */
static __always_inline __u64 current_nvcsw(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, nvcsw);
}

/* 3.14's critical sections: a section on a mutex the thread's innermost section holds already
 * is entered without waiting, its _cs_mutex (after _cs_prev) left NULL. */
static __always_inline bool section_was_held(__u64 section)
{
	__u64 mutex = 0;

	return !bpf_probe_read_user(&mutex, sizeof(mutex), (const void *)(section + 8)) && !mutex;
}

/* Begins the thread's wait on lock; slot is its inflight entry when the caller looked it up
 * already (NULL: looked up here); section: LP_WAIT_OBJECT's PyCriticalSection, else 0. */
static __always_inline void begin_wait(__u32 tid, struct lp_inflight *slot, __u64 lock,
				       __u32 source, bool may_not_block, __u64 section)
{
	struct lp_inflight w = {
		.lock = lock,
		.source = source,
		.may_not_block = may_not_block,
		.epoch = timing_epoch,
		.section = section,
	};

	if (!lock)
		return;
	if (may_not_block)
		w.nvcsw = current_nvcsw();
	w.start_ns = bpf_ktime_get_ns();
	add_waiter(lock, 1, w.start_ns);
	if (!slot)
		slot = bpf_map_lookup_elem(&inflight, &tid);
	if (slot)
		*slot = w;
	else if (bpf_map_update_elem(&inflight, &tid, &w, BPF_ANY))
		count_event(&counters.inflight_dropped);
}

/* Ends the thread's wait of this source; true when it was recorded as one (its stack id then in
 * *stack_id when not NULL). */
static __always_inline bool end_wait(__u32 tid, __u32 source, bool acquired, __u64 *stack_id)
{
	__u64 now = bpf_ktime_get_ns();
	struct lp_inflight *w = bpf_map_lookup_elem(&inflight, &tid);
	struct lp_stat_key key = { .tid = tid, .kind = LP_KIND_WAIT };
	__u64 ns, start_ns, threshold = stack_sample_ns;
	struct lp_self_cost *cost;
	struct lp_release *rel;

	/* A return without our entry: entered before attach, or a nested call of another kind. */
	if (!w || w->source != source)
		return false;
	key.lock = w->lock;
	key.source = (__u16)w->source;
	start_ns = w->start_ns;
	ns = now - start_ns;
	w->source = 0; /* the wait is over: the entry waits for the thread's next one */
	/* Found free at entry and never slept: it did not block. Or begun before the probes were
	 * last detached (the duty cycle): its start is not this call's. */
	if ((w->may_not_block && current_nvcsw() == w->nvcsw) || w->epoch != timing_epoch ||
	    (w->section && section_was_held(w->section))) {
		add_waiter(key.lock, -1, now);
		return false;
	}
	cost = self_cost_here();
	if (cost) {
		cost->waits++;
		cost->wait_ns += ns;
	}
	if (stack_sampled(ns, threshold)) {
		key.stack_id = capture_stack(tid);
	} else {
		key.stack_id = LP_STACK_UNSAMPLED;
		if (cost)
			cost->waits_unsampled++;
	}
	if (stack_id)
		*stack_id = key.stack_id;

	record_stat(&key, ns, acquired, threshold, now);
	add_waiter(key.lock, -1, now);
	/* Blame: the release during this wait that ended it (Go's mutex profile semantics); not
	 * seen yet, it is left for that release to claim. */
	if (!acquired)
		return true;
	rel = bpf_map_lookup_elem(&last_release, &key.lock);
	if (rel && rel->time_ns >= start_ns) {
		rel->charged = 1;
		key.stack_id = rel->stack_id;
		key.tid = rel->tid;
		key.kind = LP_KIND_HOLDER;
		record_stat(&key, ns, true, rel->threshold, now);
		return true;
	}
	struct pending_blame pending = { .end_ns = now, .ns = ns, .source = key.source };

	bpf_map_update_elem(&pending_blame, &key.lock, &pending, BPF_ANY);
	/* The release may have been published meanwhile, and looked for this entry too early. */
	rel = bpf_map_lookup_elem(&last_release, &key.lock);
	if (rel && rel->time_ns >= start_ns && claim_pending(key.lock, rel))
		rel->charged = 1;
	return true;
}

#endif
