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

/* What a wait and the release that ends it share, per lock: one entry, so that each side finds
 * all of it in one lookup (three maps cost a contended wait five lookups more). */
struct lock_state {
	/* Threads blocked on it now, and since when one has been: lets a release ignore the
	 * wakes of semaphores no measured thread waits on, and decide, before it walks its stack,
	 * how long the wait it ends has lasted. */
	__s64 waiters;
	__u64 since_ns;
	/* Its last release that woke a waiter (time_ns 0: none yet). */
	struct lp_release rel;
	/* A wait that ended before the release that woke it was seen (end 0: none): glibc's
	 * sem_post is probed after its wake (the emulated instruction there is far cheaper than
	 * the block's first ones), and the woken thread may run first. The release claims it. */
	__u64 pending_end_ns;
	__u64 pending_ns;
	__u32 pending_source;
	__u32 pad;
	__u64 fence; /* only ever added 0 to: an atomic add is x86's full barrier */
};

/* key: lock.  value: its state. An entry lives as long as the LRU keeps it: a lock waited on
 * once is likely waited on again. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct lock_state);
} lock_states SEC(".maps");

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

/* Runs timed: the first LP_TIMED_RUNS_ALL on each CPU, then one in LP_TIMED_RUN_EVERY, which
 * stands for that many. A clock read costs about 40 ns here, as much as a map lookup: timing
 * every run and walk read it four times more per contended wait. */
#define LP_TIMED_RUNS_ALL 1024
#define LP_TIMED_RUN_EVERY 8

/* A probe hit for the target begins: its time (the event's time too), and whether this run is
 * timed, chosen by the clock's middle bits (a fixed one-in-N would alias with the programs'
 * order on a CPU, which repeats). Per CPU: a shared counter's cache line would bounce between
 * the CPUs of a handoff at every hit. */
static __always_inline __u64 hit_begin(void)
{
	struct lp_self_cost *c = self_cost_here();
	__u64 t0 = bpf_ktime_get_ns();

	if (c) {
		if (c->runs < LP_TIMED_RUNS_ALL)
			c->timed_weight = 1;
		else if (!((t0 ^ (t0 >> 9)) & (LP_TIMED_RUN_EVERY - 1)))
			c->timed_weight = LP_TIMED_RUN_EVERY;
		else
			c->timed_weight = 0;
	}
	return t0;
}

/* hit_begin()'s choice for the run in progress: 0 (not timed) or how many runs it stands for. */
static __always_inline __u64 run_timed_weight(void)
{
	struct lp_self_cost *c = self_cost_here();

	return c ? c->timed_weight : 0;
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
	if (c->timed_weight)
		c->run_ns += c->timed_weight * (bpf_ktime_get_ns() - t0);
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

/* key: lock.  value: id of the stack that created it (forgotten when the lock is freed) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} lock_created SEC(".maps");

/* A release this soon after the same thread's uncharged one reuses its stack (note_release). */
#define REWALK_NS 1000000ULL

/* A pending wait older than this is not charged to a release: it was woken otherwise. */
#define PENDING_BLAME_NS 20000000ULL

/* New stacks, so user space symbolizes them while the target is alive. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Captures the current thread's Python stack and returns its id (0 when none). A global
 * function: the verifier checks it once, not once per path of each caller (the wait-return
 * programs, the largest, took twice as long to load inlining it beside this file's other
 * per-wait work). */
__noinline __u64 capture_stack(__u32 tid)
{
	__u64 weight = run_timed_weight(), t0 = weight ? bpf_ktime_get_ns() : 0;
	__u32 zero = 0;
	struct stack_scratch *sc = bpf_map_lookup_elem(&stack_scratch, &zero);
	/* Looked up after the walk: a pointer that may be NULL, held across it, doubles what the
	 * verifier explores. */
	struct lp_self_cost *cost;
	struct lp_stack_event *ev;
	__u64 tstate;
	__u8 one = 1;
	long err;

	if (!sc)
		return 0;
	ev = &sc->ev;
	tstate = find_tstate(thread_state_here());
	if (!tstate) {
		count_event(&counters.thread_not_found);
		return 0;
	}
	walk_frames(tstate, sc);
	/* Timed with the run that walks (hit_begin's choice). */
	cost = self_cost_here();
	if (cost) {
		cost->walks++;
		if (weight)
			cost->walk_ns += weight * (bpf_ktime_get_ns() - t0);
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
 * stack_sample_ns its stack was sampled under (0: captured unconditionally); sample_ns: the
 * duration that decided it (captured with probability sample_ns / threshold when under it),
 * which gives the wait's weight: the wait's own for a waiter's stack, the release's estimate
 * for a holder's (note_release). */
static __always_inline void record_stat_sampled(const struct lp_stat_key *key, __u64 ns,
						bool acquired, __u64 threshold, __u64 sample_ns,
						__u64 end_ns)
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
		if (threshold && sample_ns < threshold) {
			if (!sample_ns)
				sample_ns = 1;
			v->est_count += threshold * LP_WEIGHT_ONE / sample_ns;
			/* ns x threshold fits in 64 bits below 2^40 ns (18 minutes). */
			v->est_ns += ns < (1ULL << 40) ? ns * threshold / sample_ns
						       : ns / sample_ns * threshold;
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

/* record_stat_sampled() of a stack sampled by its own wait's duration. */
static __always_inline void record_stat(const struct lp_stat_key *key, __u64 ns, bool acquired,
					__u64 threshold, __u64 end_ns)
{
	record_stat_sampled(key, ns, acquired, threshold, ns, end_ns);
}

/* A wait on lock begins at now: its state, created when missing with the count itself in the
 * one update (every Condition.wait waits on a new lock: a lookup more each is what that saves). */
static __always_inline void waiter_begins(__u64 lock, __u64 now)
{
	struct lock_state first = { .waiters = 1, .since_ns = now },
			  *st = bpf_map_lookup_elem(&lock_states, &lock);

	if (!st) {
		if (!bpf_map_update_elem(&lock_states, &lock, &first, BPF_NOEXIST))
			return;
		st = bpf_map_lookup_elem(&lock_states, &lock);
		if (!st)
			return;
	}
	/* Racy by design: since_ns is a sampling hint, not a measurement. */
	if (st->waiters <= 0)
		st->since_ns = now;
	__sync_fetch_and_add(&st->waiters, 1);
}

/* A wait on lock ends (counted or not): its state, NULL when it has none. Looked up only when the
 * wait ends, not held from its start: a map value pointer that may be NULL, held across the
 * walk, doubles what the verifier explores (and the load time). */
static __always_inline struct lock_state *waiter_ends(__u64 lock)
{
	struct lock_state *st = bpf_map_lookup_elem(&lock_states, &lock);

	if (st)
		__sync_fetch_and_add(&st->waiters, -1);
	return st;
}

/* Charges the pending wait of st to the release rel, unless it is stale or the other side
 * charged it first: the side whose compare-and-swap clears pending_end_ns charges it. */
static __always_inline bool claim_pending(__u64 lock, struct lock_state *st,
					  const struct lp_release *rel)
{
	struct lp_stat_key key = {
		.lock = lock,
		.stack_id = rel->stack_id,
		.tid = rel->tid,
		.kind = LP_KIND_HOLDER,
	};
	__u64 end_ns = *(volatile __u64 *)&st->pending_end_ns, ns;

	if (!end_ns || (__s64)(rel->time_ns - end_ns) >= (__s64)PENDING_BLAME_NS)
		return false;
	ns = st->pending_ns;
	key.source = (__u16)st->pending_source;
	if (__sync_val_compare_and_swap(&st->pending_end_ns, end_ns, 0) != end_ns)
		return false;
	record_stat_sampled(&key, ns, true, rel->threshold, rel->sample_ns, end_ns);
	return true;
}

/* A thread's release of a lock woke (or is about to wake) a waiter, at now: it is charged with
 * the wait it ends, when that wait ends (st->rel) or now if it ended already (pending). The
 * release is published first and the pending wait looked at after, the waiting side does the
 * reverse (end_wait), so that when both run at once one of them sees the other. */
static __always_inline void note_release(__u32 tid, __u64 lock, struct lock_state *st, __u64 now)
{
	struct lp_release *slot = &st->rel;
	__u64 threshold = stack_sample_ns, stack_id, from, sample_ns;

	/* A thread that releases again, a moment later, a lock whose last release (its own) woke a
	 * waiter that has not ended its wait yet (it lost the race for the lock and sleeps again
	 * inside the same sem_wait): the same release site, most likely, and no walk. Where one
	 * thread takes and releases a hot lock in a loop, glibc wakes a waiter at nearly every
	 * release and not every wake ends a wait (two wakes per wait ended in the bench's "4
	 * threads 1 lock"), each of them walking the releaser's stack. */
	if (slot->time_ns && slot->tid == tid && !slot->charged &&
	    now - slot->time_ns < REWALK_NS) {
		*(volatile __u64 *)&slot->time_ns = now;
		if (claim_pending(lock, st, slot))
			slot->charged = 1;
		return;
	}
	/* The stack budget, by how long the wait this release ends has at least lasted, about: since
	 * the lock's last release that woke a waiter or since it got one, whichever came later
	 * (under sustained contention the lock always has a waiter, and its oldest wait would say
	 * "walk" at every release). The holder's weight uses the same figure (sample_ns), so that
	 * the estimates stay unbiased however long the wait it is charged with lasted. */
	from = slot->time_ns > st->since_ns ? slot->time_ns : st->since_ns;
	sample_ns = (__s64)(now - from) > 0 ? now - from : 0;
	if (stack_sampled(sample_ns, threshold))
		stack_id = capture_stack(tid);
	else
		stack_id = LP_STACK_UNSAMPLED;
	/* Written in place. The time goes last (volatile: in this order): a waiter that reads the
	 * new time after it (x86 keeps stores and loads in order) sees the new fields. The time is
	 * the probe's entry: after the wake, before any wait this release could not have ended. */
	slot->charged = 0;
	slot->stack_id = stack_id;
	slot->threshold = threshold;
	slot->sample_ns = sample_ns;
	slot->tid = tid;
	*(volatile __u64 *)&slot->time_ns = now;
	/* A full barrier between publishing the release and looking for a pending wait: the
	 * waiter stores its pending wait and then loads the release, and x86 may let a load pass
	 * an earlier store. */
	__sync_fetch_and_add(&st->fence, 0);
	if (claim_pending(lock, st, slot))
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

/* Begins the current thread's wait on lock at now, in slot (its thread state's wait; NULL: the
 * state could not be had, the wait is lost). section: LP_WAIT_OBJECT's PyCriticalSection, else 0. */
static __always_inline void begin_wait(struct lp_inflight *slot, __u64 lock, __u32 source,
				       bool may_not_block, __u64 section, __u64 now)
{
	if (!lock)
		return;
	if (!slot) {
		count_event(&counters.inflight_dropped);
		return;
	}
	slot->lock = lock;
	slot->source = source;
	slot->may_not_block = may_not_block;
	slot->epoch = timing_epoch;
	slot->section = section;
	if (may_not_block)
		slot->nvcsw = current_nvcsw();
	slot->start_ns = now;
	waiter_begins(lock, now);
}

/* Ends the wait in slot (the current thread's, NULL: none) of this source at now; true when it
 * was recorded as one (its stack id then in *stack_id when not NULL). */
static __always_inline bool end_wait(struct lp_inflight *w, __u32 tid, __u32 source, bool acquired,
				     __u64 *stack_id, __u64 now)
{
	struct lp_stat_key key = { .tid = tid, .kind = LP_KIND_WAIT };
	__u64 ns, start_ns, threshold = stack_sample_ns, rel_ns;
	struct lp_self_cost *cost;
	struct lock_state *st;

	/* A return without our entry: entered before attach, or a nested call of another kind. */
	if (!w || w->source != source)
		return false;
	key.lock = w->lock;
	key.source = (__u16)w->source;
	start_ns = w->start_ns;
	ns = now - start_ns;
	w->source = 0; /* the wait is over: the slot waits for the thread's next one */
	/* Found free at entry and never slept: it did not block. Or begun before the probes were
	 * last detached (the duty cycle): its start is not this call's. */
	if ((w->may_not_block && current_nvcsw() == w->nvcsw) || w->epoch != timing_epoch ||
	    (w->section && section_was_held(w->section))) {
		waiter_ends(key.lock);
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
	st = waiter_ends(key.lock);
	if (!st)
		return true;
	/* Blame: the release during this wait that ended it (Go's mutex profile semantics); not
	 * seen yet, it is left for that release to claim. */
	if (!acquired)
		return true;
	rel_ns = *(volatile __u64 *)&st->rel.time_ns;
	if (rel_ns >= start_ns) {
		st->rel.charged = 1;
		key.stack_id = st->rel.stack_id;
		key.tid = st->rel.tid;
		key.kind = LP_KIND_HOLDER;
		record_stat_sampled(&key, ns, true, st->rel.threshold, st->rel.sample_ns, now);
		return true;
	}
	st->pending_ns = ns;
	st->pending_source = key.source;
	*(volatile __u64 *)&st->pending_end_ns = now;
	/* The release may have been published meanwhile, and looked for this wait too early (the
	 * barrier: see note_release). */
	__sync_fetch_and_add(&st->fence, 0);
	if (*(volatile __u64 *)&st->rel.time_ns >= start_ns &&
	    claim_pending(key.lock, st, &st->rel))
		st->rel.charged = 1;
	return true;
}

#endif
