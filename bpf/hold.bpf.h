/* SPDX-License-Identifier: GPL-2.0 */
/* -m full: measures how long locks are held, from acquisition to release. Of 3.8-3.13 sem_t locks
 * (threading.Lock, RLock, C-internal PyThread locks): every acquire tries glibc sem_trywait first
 * and every release calls sem_post, so two entry-only uprobes see both ends. Of 3.13.1+ PyMutex
 * Locks (and 3.14 RLocks, a recursive PyMutex): entry-only uprobes on the C functions of their
 * acquire and release methods. A lock held since a recorded acquisition has an entry in `holds`,
 * closed by its release whichever thread makes it. Uncontended acquisitions are sampled per CPU
 * (full_cfg.capture_pct); acquisitions that blocked are always recorded (when the wait ends). */
#ifndef LOCKPROF_HOLD_BPF_H
#define LOCKPROF_HOLD_BPF_H

#include "globals.bpf.h"
#include "lockprof/order_abi.h"
#include "lockstats.bpf.h"
#include "pyframes.bpf.h"
#include "target.bpf.h"

/* key: lock (sem_t* or PyMutex*).  value: the recorded acquisition it is held since. LRU: a lock
 * freed while held, or a release we missed, must not fill the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct lp_hold);
} holds SEC(".maps");

/* The capture sampler's per-CPU counter: += capture_pct per acquisition, one in every
 * 100 / capture_pct is recorded, with no shared cache line between CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} capture_counter SEC(".maps");

static __always_inline bool should_capture(void)
{
	__u32 zero = 0, *c = bpf_map_lookup_elem(&capture_counter, &zero);

	if (!c)
		return false;
	*c += full_cfg.capture_pct;
	if (*c < 100)
		return false;
	*c -= 100;
	return true;
}

/* True when the probed libc function was called from the interpreter's own code: other
 * libraries' semaphores are not Python locks. At entry the return address is on top of the
 * stack. */
static __always_inline bool called_from_interp(struct pt_regs *ctx)
{
	__u64 ret_addr;

	if (bpf_probe_read_user(&ret_addr, sizeof(ret_addr), (void *)PT_REGS_SP(ctx)) < 0)
		return false;
	return ret_addr >= full_cfg.text_start && ret_addr < full_cfg.text_end;
}

/* PyMutex (the first byte of a Lock's or, 3.14, RLock's lock state): bit 0 is "locked". */
#define PYMUTEX_LOCKED 1

/* Lock order (lock-order inversions, README "Full"): which locks each thread holds, exactly
 * while the probes are attached (every acquisition and release, not only sampled ones), and the
 * graph of "acquired B while holding A" edges with the stack of the first such acquisition. A
 * lock released by a thread other than the one that took it is a signal (Condition's waiter
 * locks, a Lock used as a semaphore), not a mutex: it leaves the held sets and the graph. */
struct held_set {
	__u64 locks[LP_HELD_MAX]; /* 0: free slot */
	__u32 epoch;		  /* full_epoch when filled: older sets are from before a detach */
	__u32 next;		  /* round-robin victim when full */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct held_set);
} held_sets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);   /* lock */
	__type(value, __u32); /* the tid holding it */
} lock_owner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct lp_order_lock); /* released by a thread that did not take it */
	__type(value, __u8);
} signal_locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);   /* lock address */
	__type(value, __u32); /* locks destroyed there so far */
} lock_gen SEC(".maps");

static __always_inline struct lp_order_lock order_lock(__u64 addr)
{
	struct lp_order_lock l = { .addr = addr };
	__u32 *gen = bpf_map_lookup_elem(&lock_gen, &addr);

	if (gen)
		l.gen = *gen;
	return l;
}

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct lp_order_key);
	__type(value, struct lp_order_value);
} lock_order SEC(".maps");

/* How a held-set entry's lock tells it is still locked: the kind sits in the address's low bits
 * (locks are 8-byte aligned). An acquisition or release lockprof did not see (a caller with the
 * method inlined, a detached period) must not leave a lock "held" for ever. */
#define ORDER_KIND_MASK 3ULL
#define ORDER_KIND_ANY 0ULL   /* not checked */
#define ORDER_KIND_SEM 1ULL   /* glibc sem_t: count 0 while held */
#define ORDER_KIND_MUTEX 2ULL /* PyMutex: bit 0 while held */

static __always_inline bool order_still_held(__u32 tid, __u64 entry)
{
	__u64 lock = entry & ~ORDER_KIND_MASK;
	__u32 *owner = bpf_map_lookup_elem(&lock_owner, &lock), word = 0;

	if (!owner || *owner != tid)
		return false;
	if ((entry & ORDER_KIND_MASK) == ORDER_KIND_ANY)
		return true;
	if (bpf_probe_read_user(&word, sizeof(word), (void *)lock) < 0)
		return false;
	if ((entry & ORDER_KIND_MASK) == ORDER_KIND_SEM)
		return word == 0;
	return word & PYMUTEX_LOCKED;
}

/* tid acquires lock: an edge from every lock it holds, then lock joins its held set. */
static __always_inline void order_acquire(__u32 tid, __u64 lock, __u64 kind)
{
	struct held_set *hs, fresh = {};
	struct lp_order_key key = { .second = order_lock(lock) };
	struct lp_order_value v = { .tid = tid, .count = 1 };
	bool need_stack = false;
	int free_slot = -1;
	__u32 i;

	if (!full_cfg.enabled || !full_on || (lock & 7) ||
	    bpf_map_lookup_elem(&signal_locks, &key.second))
		return;
	hs = bpf_map_lookup_elem(&held_sets, &tid);
	if (!hs) {
		fresh.epoch = full_epoch;
		bpf_map_update_elem(&held_sets, &tid, &fresh, BPF_NOEXIST);
		hs = bpf_map_lookup_elem(&held_sets, &tid);
		if (!hs)
			return;
	}
	if (hs->epoch != full_epoch) {
		__builtin_memset(hs->locks, 0, sizeof(hs->locks));
		hs->epoch = full_epoch;
	}
	for (i = 0; i < LP_HELD_MAX; i++) {
		__u64 held = hs->locks[i];

		if ((held & ~ORDER_KIND_MASK) == lock)
			return; /* a re-entry (or a release we missed): nothing new */
		if (!held)
			continue;
		if (!order_still_held(tid, held)) {
			hs->locks[i] = 0;
			continue;
		}
		key.first = order_lock(held & ~ORDER_KIND_MASK);
		if (!bpf_map_lookup_elem(&lock_order, &key))
			need_stack = true;
	}
	if (need_stack)
		v.stack_id = capture_stack(tid);
	for (i = 0; i < LP_HELD_MAX; i++) {
		__u64 held = hs->locks[i];
		struct lp_order_value *old;

		if (!held) {
			if (free_slot < 0)
				free_slot = (int)i;
			continue;
		}
		key.first = order_lock(held & ~ORDER_KIND_MASK);
		old = bpf_map_lookup_elem(&lock_order, &key);
		if (old)
			old->count++;
		else
			bpf_map_update_elem(&lock_order, &key, &v, BPF_NOEXIST);
	}
	if (free_slot < 0)
		free_slot = (int)(hs->next++ % LP_HELD_MAX);
	hs->locks[free_slot & (LP_HELD_MAX - 1)] = lock | kind;
	bpf_map_update_elem(&lock_owner, &lock, &tid, BPF_ANY);
}

/* lock is released (or destroyed): it leaves its owner's held set; released by another thread
 * than its taker, it is a signal. */
static __always_inline void order_drop(__u64 lock, bool destroyed)
{
	__u32 *owner = bpf_map_lookup_elem(&lock_owner, &lock), o, tid = 0;
	struct lp_order_lock l;
	struct held_set *hs;
	__u8 one = 1;
	__u32 i;

	if (!owner)
		return;
	o = *owner;
	bpf_map_delete_elem(&lock_owner, &lock);
	if (!destroyed && current_is_target(&tid) && tid != o) {
		l = order_lock(lock);
		bpf_map_update_elem(&signal_locks, &l, &one, BPF_ANY);
	}
	hs = bpf_map_lookup_elem(&held_sets, &o);
	if (!hs)
		return;
	for (i = 0; i < LP_HELD_MAX; i++)
		if ((hs->locks[i] & ~ORDER_KIND_MASK) == lock)
			hs->locks[i] = 0;
}

static __always_inline void order_release(__u64 lock)
{
	order_drop(lock, false);
}

/* sem_destroy(lock): the lock is gone; a lock created at its address later is another one. */
static __always_inline void order_forget(__u64 lock)
{
	__u32 *gen = bpf_map_lookup_elem(&lock_gen, &lock), one = 1;

	if (!full_cfg.enabled)
		return;
	order_drop(lock, true);
	if (gen)
		__sync_fetch_and_add(gen, 1);
	else
		bpf_map_update_elem(&lock_gen, &lock, &one, BPF_NOEXIST);
}

/* The lock is free and the current thread is about to take it: an entry left for it is from a
 * release we did not see; a sampled acquisition opens a new one. */
static __always_inline void open_sampled_hold(__u32 tid, __u64 lock)
{
	struct lp_hold h = { .tid = tid, .kind = LP_KIND_HOLD_SAMPLED };

	bpf_map_delete_elem(&holds, &lock);
	if (!should_capture())
		return;
	h.epoch = full_epoch;
	h.stack_id = capture_stack(tid);
	h.start_ns = bpf_ktime_get_ns();
	/* NOEXIST: should two threads race for the lock, the first entry stays. */
	bpf_map_update_elem(&holds, &lock, &h, BPF_NOEXIST);
}

/* sem_trywait(sem) entry: an acquisition attempt. */
static __always_inline void hold_try_acquire(struct pt_regs *ctx, __u32 tid, __u64 lock)
{
	__u32 value;

	if (!called_from_interp(ctx))
		return;
	/* glibc's sem_t starts with the count: 0 means the lock is held and this try fails (the
	 * caller then blocks in sem_wait, recorded at its return). Not recording failed tries
	 * keeps a holder we did not sample from being charged from this moment on. */
	if (bpf_probe_read_user(&value, sizeof(value), (void *)lock) < 0) {
		count_event(&counters.read_errors);
		return;
	}
	if (!value)
		return;
	order_acquire(tid, lock, ORDER_KIND_SEM);
	open_sampled_hold(tid, lock);
}

/* _PyRecursiveMutex (3.14 RLock): the PyMutex, the owner's thread id, the re-entry level. */
struct py_recursive_mutex {
	__u8 bits;
	__u8 pad[7];
	__u64 thread;
	__u64 level; /* acquisitions beyond the first */
};

/* Entry of a PyMutex Lock's (or 3.14 RLock's) acquire: a locked mutex means this call blocks
 * (recorded when its park wait ends) or, for an RLock, re-enters (counted once, at the first
 * acquisition). */
static __always_inline void hold_mutex_try_acquire(__u32 tid, __u64 mutex)
{
	__u8 bits;

	if (bpf_probe_read_user(&bits, sizeof(bits), (void *)mutex) < 0) {
		count_event(&counters.read_errors);
		return;
	}
	if (!(bits & PYMUTEX_LOCKED)) {
		order_acquire(tid, mutex, ORDER_KIND_MUTEX);
		open_sampled_hold(tid, mutex);
	}
}

/* A blocking wait for the lock returned with it: always recorded (never sampled). */
static __always_inline void hold_contended_acquire(__u32 tid, __u64 lock, __u64 stack_id)
{
	struct lp_hold h = { .tid = tid, .kind = LP_KIND_HOLD_FULL, .stack_id = stack_id };

	if (!full_cfg.enabled || !full_on)
		return;
	order_acquire(tid, lock, ORDER_KIND_ANY);
	h.epoch = full_epoch;
	h.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&holds, &lock, &h, BPF_ANY);
}

/* A release: charge the hold to the acquiring stack and thread. */
static __always_inline void close_hold(__u64 lock, __u16 source)
{
	struct lp_stat_key key = { .lock = lock, .source = source };
	struct lp_hold *h;
	__u64 now = bpf_ktime_get_ns();

	order_release(lock);
	h = bpf_map_lookup_elem(&holds, &lock);
	if (!h)
		return;
	/* Acquired before the probes were last detached: the release that ended it may have gone
	 * unseen, so this release may belong to a later, unrecorded acquisition. */
	if (h->epoch == full_epoch && now >= h->start_ns) {
		key.stack_id = h->stack_id;
		key.tid = h->tid;
		key.kind = (__u16)h->kind;
		record_stat(&key, now - h->start_ns, true, 0, now);
	}
	bpf_map_delete_elem(&holds, &lock);
}

/* sem_post(sem) entry. */
static __always_inline void hold_release(struct pt_regs *ctx, __u64 lock)
{
	if (!called_from_interp(ctx))
		return;
	order_release(lock);
	if (bpf_map_lookup_elem(&holds, &lock))
		close_hold(lock, LP_WAIT_SEM);
}

/* Entry of a 3.14 RLock's release: only the owner's last release unlocks it
 * (any_level: _release_save, which unlocks it whatever the level). */
static __always_inline void hold_rmutex_release(__u64 mutex, bool any_level)
{
	struct py_recursive_mutex m;

	if (!bpf_map_lookup_elem(&holds, &mutex) && !bpf_map_lookup_elem(&lock_owner, &mutex))
		return;
	if (bpf_probe_read_user(&m, sizeof(m), (void *)mutex) < 0) {
		count_event(&counters.read_errors);
		return;
	}
	if ((any_level || m.level == 0) && m.thread == current_pthread_self())
		close_hold(mutex, LP_WAIT_PARK); /* also leaves the lock order's held set */
}

#endif
