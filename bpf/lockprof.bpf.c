// SPDX-License-Identifier: GPL-2.0
/* The BPF object's programs (its one translation unit): thin uprobe and uretprobe handlers that
 * keep the target's threads and call the *.bpf.h helpers, where the logic lives. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "lockprof/abi.h"

#include "globals.bpf.h"
#include "maps.bpf.h"
#include "target.bpf.h"
#include "counters.bpf.h"
#include "pyframes.bpf.h"
#include "lockstats.bpf.h"
#include "gil.bpf.h"
#include "hold.bpf.h"
#include "freethreaded.bpf.h"

#define STACK_SEM_WINDOW (1 << 20)

/* Entry of glibc sem_wait/sem_clockwait/sem_timedwait. 3.8-3.13 Lock and RLock block here only
 * after the non-blocking try failed, so an uncontended acquire never gets here. */
SEC("uprobe")
int BPF_KPROBE(sem_wait_enter, void *sem)
{
	struct lp_inflight *outer;
	__u32 tid, value;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	outer = wait_slot_here();
	/* Inside _PySemaphore_Wait or a critical section's slow path: that outer wait already
	 * measures it, against the lock or object. During a stop-the-world pause, the parking of
	 * a paused thread (or of the initiator, waiting for them) is the pause. */
	if ((outer && (outer->source == LP_WAIT_PARK || outer->source == LP_WAIT_OBJECT)) ||
	    stw_active > 0)
		goto out;
	/* glibc's sem_t starts with the 32-bit count: a positive count means the call will most
	 * likely take the semaphore without blocking (C-internal callers skip the try-first step);
	 * whether it did is decided at the return by whether the thread slept (end_wait). */
	if (bpf_probe_read_user(&value, sizeof(value), sem) < 0) {
		count_event(&counters.read_errors);
		goto out;
	}
	begin_wait(outer, (__u64)sem, LP_WAIT_SEM, value > 0, 0, t0);
out:
	hit_end(t0);
	return 0;
}

/* Return of a blocking call of `source` (sem_wait_exit, park_wait_exit): ends the thread's wait,
 * and with -m full a wait that ended with the lock opens its hold. */
static __always_inline void wait_exit(void *ctx, __u32 source, bool acquired)
{
	__u64 lock = 0, stack_id = 0, t0;
	struct lp_inflight *w;
	__u32 tid;

	if (!current_is_target(&tid))
		return;
	t0 = hit_begin();
	w = wait_slot_here();
	/* -m full: the thread now holds the lock it waited for; end_wait forgets which one. */
	if (full_cfg.enabled && w && w->source == source)
		lock = w->lock;
	if (end_wait(w, tid, source, acquired, &stack_id, t0) && lock && acquired)
		hold_contended_acquire(tid, lock, stack_id);
	hit_end(t0);
}

/* sem_wait/sem_clockwait/sem_timedwait return 0 with the semaphore, -1 (errno ETIMEDOUT or
 * EINTR) without. */
SEC("uretprobe")
int BPF_KRETPROBE(sem_wait_exit, long ret)
{
	wait_exit(ctx, LP_WAIT_SEM, (int)ret == 0);
	return 0;
}

/* -m full, glibc sem_trywait(sem): every 3.8-3.13 Lock/RLock acquisition tries it first. Attached
 * only for part of each period (the overhead bound), so it counts apart (full_runs). */
SEC("uprobe")
int BPF_KPROBE(sem_trywait_enter, void *sem)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	hold_try_acquire(ctx, tid, (__u64)sem);
	hit_end_full(t0);
	return 0;
}

/* -m full, glibc sem_post(sem): every release of such a lock. */
SEC("uprobe")
int BPF_KPROBE(sem_post_enter, void *sem)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	hold_release(ctx, (__u64)sem);
	hit_end_full(t0);
	return 0;
}

/* The PyMutex of a 3.13.1+ Lock or 3.14 RLock object: right after the object header. */
#define LOCK_OBJECT_MUTEX targ_lock_mutex_off

/* -m full, entry of a PyMutex Lock's acquire (also acquire_lock and __enter__), self first. */
SEC("uprobe")
int BPF_KPROBE(mutex_acquire_enter, void *self)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	hold_mutex_try_acquire(tid, (__u64)self + LOCK_OBJECT_MUTEX);
	hit_end_full(t0);
	return 0;
}

/* -m full, entry of a PyMutex Lock's release (also release_lock and __exit__). */
SEC("uprobe")
int BPF_KPROBE(mutex_release_enter, void *self)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	close_hold((__u64)self + LOCK_OBJECT_MUTEX, LP_WAIT_PARK);
	hit_end_full(t0);
	return 0;
}

/* -m full, 3.14 RLock's release; its acquire is mutex_acquire_enter's (a held mutex is a
 * re-entry or a wait, neither of which opens a hold). */
SEC("uprobe")
int BPF_KPROBE(rmutex_release_enter, void *self)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	hold_rmutex_release((__u64)self + LOCK_OBJECT_MUTEX, false);
	hit_end_full(t0);
	return 0;
}

/* -m full, 3.14 RLock's _release_save (Condition.wait): unlocks it whatever its level; the
 * _acquire_restore that follows is an acquire (mutex_acquire_enter). */
SEC("uprobe")
int BPF_KPROBE(rmutex_release_save_enter, void *self)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	hold_rmutex_release((__u64)self + LOCK_OBJECT_MUTEX, true);
	hit_end_full(t0);
	return 0;
}

/* Entry of CPython 3.13+ _PySemaphore_Wait(sema, timeout, detach): a thread parks on a PyMutex (or
 * an event) it failed to take. sema is in the parker's stack-allocated wait_entry, right after
 * the parked-on address: lock = *(sema - 8). */
SEC("uprobe")
int BPF_KPROBE(park_wait_enter, void *sema)
{
	struct lp_inflight *outer;
	__u32 tid;
	__u64 lock;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	outer = wait_slot_here();
	/* Parked inside a critical section's slow path (measured there), or paused by a
	 * stop-the-world (measured as the pause). */
	if ((outer && outer->source == LP_WAIT_OBJECT) || stw_active > 0)
		goto out;
	if (read_user_u64((__u64)sema - 8, &lock))
		goto out;
	begin_wait(outer, lock, LP_WAIT_PARK, false, 0, t0);
out:
	hit_end(t0);
	return 0;
}

/* Py_PARK_OK is 0; TIMEOUT and INTR are negative. Woken, the thread takes the lock (or, rarely,
 * finds it taken again and parks anew, which replaces this hold). */
SEC("uretprobe")
int BPF_KRETPROBE(park_wait_exit, long ret)
{
	wait_exit(ctx, LP_WAIT_PARK, (int)ret == 0);
	return 0;
}

/* Free-threaded: _PyCriticalSection_BeginSlow(c, m), the slow path of a critical section on an
 * object whose ob_mutex m another thread holds. */
SEC("uprobe")
int BPF_KPROBE(section_wait_enter, void *section, void *mutex)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	begin_wait(wait_slot_here(), (__u64)mutex, LP_WAIT_OBJECT, false, (__u64)section, t0);
	hit_end(t0);
	return 0;
}

/* _PyCriticalSection2_BeginSlow(c, m1, m2, is_m1_locked): a two-object section (list.extend of
 * another list); the fast path took m1 before it failed on m2, or failed on m1. */
SEC("uprobe")
int BPF_KPROBE(section2_wait_enter, void *section, void *m1, void *m2, int is_m1_locked)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	begin_wait(wait_slot_here(), (__u64)(is_m1_locked ? m2 : m1), LP_WAIT_OBJECT, false,
		   (__u64)section, t0);
	hit_end(t0);
	return 0;
}

/* Return of either slow path: the thread owns the section. */
SEC("uretprobe")
int BPF_KRETPROBE(section_wait_exit)
{
	struct lp_inflight *w;
	__u64 mutex = 0, t0;
	__u32 tid;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	w = wait_slot_here();
	if (w && w->source == LP_WAIT_OBJECT)
		mutex = w->lock;
	if (end_wait(w, tid, LP_WAIT_OBJECT, true, NULL, t0) && mutex)
		note_object_type(mutex);
	hit_end(t0);
	return 0;
}

/* Free-threaded: stop_the_world(stw), behind _PyEval_StopTheWorld(All): the calling thread
 * pauses every other one (the garbage collector, for example) until start_the_world(stw). */
SEC("uprobe")
int BPF_KPROBE(stw_stop_enter, void *stw)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	stw_begin(tid, (__u64)stw);
	hit_end(t0);
	return 0;
}

/* Return of start_the_world(stw): every paused thread may run again (a thread that tried to
 * attach meanwhile parked until then, which is still the pause). */
SEC("uretprobe")
int BPF_KRETPROBE(stw_start_exit)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	stw_end(tid);
	hit_end(t0);
	return 0;
}

/* Inside glibc's sem_post(sem), at the check of its FUTEX_WAKE syscall's result: glibc makes that
 * syscall only when the semaphore has waiters, so only the contended releases of 3.8-3.13 locks
 * trap here, and only the target's (the probe is the target's alone). The check is a conditional
 * branch, which the kernel emulates; the woken thread may have ended its wait already
 * (note_release handles both orders). %rdi still holds sem (src/probes/probe_site.c recognizes
 * the code before the probe is placed). */
SEC("uprobe")
int BPF_KPROBE(sem_post_wake, void *sem)
{
	__u64 lock = (__u64)sem;
	struct lock_state *st;
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	/* A semaphore no thread was seen waiting on (a waiter that blocked before attach, or a
	 * C-internal lock) has no wait to charge. Its count may be 0 already: the woken thread
	 * may have ended its wait before this probe ran. */
	st = bpf_map_lookup_elem(&lock_states, &lock);
	if (!st)
		goto out;
	note_release(tid, lock, st, t0);
out:
	hit_end(t0);
	return 0;
}

/* CPython 3.13+ _PySemaphore_Wakeup(sema): runs only when a parked thread is woken; as for the
 * wait, the parked-on lock is *(sema - 8). */
SEC("uprobe")
int BPF_KPROBE(park_wakeup_enter, void *sema)
{
	struct lock_state *st;
	__u64 lock;
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	if (read_user_u64((__u64)sema - 8, &lock))
		goto out;
	/* As for sem_post_wake: no measured waiter, no wait to charge. */
	st = bpf_map_lookup_elem(&lock_states, &lock);
	if (!st)
		goto out;
	note_release(tid, lock, st, t0);
out:
	hit_end(t0);
	return 0;
}

/* sem_init(sem, ...): on 3.8-3.13 every PyThread lock (threading.Lock and RLock included) is a
 * sem_t initialised here, with the creating thread's Python stack current. Probing libc rather
 * than PyThread_allocate_lock also works where LTO inlined that function. Runs on every lock
 * creation, never on an acquire or a release. */
SEC("uprobe")
int BPF_KPROBE(lock_init_enter, void *sem)
{
	__u64 key = (__u64)sem, stack_id;
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	/* A semaphore on the caller's stack is a 3.13+ parking-lot waiter's, not a lock. */
	if (key >= PT_REGS_SP(ctx) && key - PT_REGS_SP(ctx) < STACK_SEM_WINDOW)
		goto out;
	stack_id = capture_stack(tid);
	if (stack_id)
		bpf_map_update_elem(&lock_created, &key, &stack_id, BPF_ANY);
out:
	hit_end(t0);
	return 0;
}

/* sem_destroy(sem): the lock is freed and its address may be reused by the next one. */
SEC("uprobe")
int BPF_KPROBE(lock_free_enter, void *lock)
{
	__u64 key = (__u64)lock;
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	bpf_map_delete_elem(&lock_created, &key);
	order_forget(key); /* -m full's lock order: a later lock here is another lock */
	hit_end(t0);
	return 0;
}

/* pthread_cond_timedwait(cond, ...) from take_gil(), pthread_cond_wait(cond, ...) from drop_gil()
 * (a forced switch): the blocking parts of handing over the GIL, so a process whose GIL is never
 * contended never gets here. Only the interpreter's GIL code calls them from its text. */
SEC("uprobe")
int BPF_KPROBE(gil_cond_wait_enter, void *cond)
{
	__u64 ret_addr;
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	/* At entry the return address is on top of the stack. */
	if (bpf_probe_read_user(&ret_addr, sizeof(ret_addr), (void *)PT_REGS_SP(ctx)) < 0 ||
	    ret_addr < gil_cfg.text_start || ret_addr >= gil_cfg.text_end)
		goto out;
	gil_wait_enter(tid);
out:
	hit_end(t0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(gil_cond_wait_exit, long ret)
{
	__u32 tid;
	__u64 t0;

	if (!current_is_target(&tid))
		return 0;
	t0 = hit_begin();
	gil_wait_exit(tid);
	hit_end(t0);
	return 0;
}

/* Calibration (src/probes/calibrate.c): probes on functions in lockprof's own process, which
 * is never the target, so each hit costs what a target's hit costs before its work. Programs
 * of their own, so that the run counts of the others are the target's alone. */
SEC("uprobe")
int BPF_KPROBE(calibration_enter)
{
	__u32 tid;

	if (!current_is_target(&tid))
		return 0;
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(calibration_exit)
{
	__u32 tid;

	if (!current_is_target(&tid))
		return 0;
	return 0;
}
