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
#include "lockstats.bpf.h"
#include "pyframes.bpf.h"

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
	open_sampled_hold(tid, lock);
}

/* PyMutex (the first byte of a Lock's or, 3.14, RLock's lock state): bit 0 is "locked". */
#define PYMUTEX_LOCKED 1
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
	if (!(bits & PYMUTEX_LOCKED))
		open_sampled_hold(tid, mutex);
}

/* A blocking wait for the lock returned with it: always recorded (never sampled). */
static __always_inline void hold_contended_acquire(__u32 tid, __u64 lock, __u64 stack_id)
{
	struct lp_hold h = { .tid = tid, .kind = LP_KIND_HOLD_FULL, .stack_id = stack_id };

	if (!full_cfg.enabled || !full_on)
		return;
	h.epoch = full_epoch;
	h.start_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&holds, &lock, &h, BPF_ANY);
}

/* A release: charge the hold to the acquiring stack and thread. */
static __always_inline void close_hold(__u64 lock, __u16 source)
{
	struct lp_stat_key key = { .lock = lock, .source = source };
	struct lp_hold *h = bpf_map_lookup_elem(&holds, &lock);
	__u64 now = bpf_ktime_get_ns();

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
	if (bpf_map_lookup_elem(&holds, &lock) && called_from_interp(ctx))
		close_hold(lock, LP_WAIT_SEM);
}

/* Entry of a 3.14 RLock's release: only the owner's last release unlocks it
 * (any_level: _release_save, which unlocks it whatever the level). */
static __always_inline void hold_rmutex_release(__u64 mutex, bool any_level)
{
	struct py_recursive_mutex m;

	if (!bpf_map_lookup_elem(&holds, &mutex))
		return;
	if (bpf_probe_read_user(&m, sizeof(m), (void *)mutex) < 0) {
		count_event(&counters.read_errors);
		return;
	}
	if ((any_level || m.level == 0) && m.thread == current_pthread_self())
		close_hold(mutex, LP_WAIT_PARK);
}

#endif
