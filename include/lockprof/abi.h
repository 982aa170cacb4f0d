/* SPDX-License-Identifier: GPL-2.0 */
/* The ABI between lockprof's BPF programs and its user space: configuration handed to the BPF
 * object before load, map keys and values, ring buffer events and the .bss counters. Plain C only;
 * 8-byte fields first, explicit padding, no pointers. */
#ifndef LOCKPROF_ABI_H
#define LOCKPROF_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define LP_MAX_FRAMES 64      /* Python frames kept per stack (leaf first) */
#define LP_FRAME_ITERS 96     /* frames visited per walk, shims included */
#define LP_MAX_THREADS 256    /* thread states visited to find the current one */
#define LP_FRAME_READ_MAX 128 /* bytes of one frame struct read in a single copy */
#define LP_MAX_SITES 64	      /* probe sites counted apart (attach cookies 0..63) */
#define LP_HIST_SLOTS 40      /* log2(ns) buckets: the last holds everything >= 2^39 ns (9 min) */

/* What a stats entry measures. */
enum lp_kind {
	LP_KIND_WAIT = 0,   /* a thread blocked acquiring the lock (waiter's stack) */
	LP_KIND_HOLDER = 1, /* the release ending such a wait, charged with it (releaser's stack) */
	LP_KIND_GIL = 2,    /* a thread waited to take the GIL (its stack when it began) */
	LP_KIND_HOLD_SAMPLED = 3, /* -m full: a sampled uncontended hold (acquiring stack) */
	LP_KIND_HOLD_FULL = 4,	  /* -m full: the hold that followed a contended acquisition */
	LP_KIND_STW = 5, /* free-threaded: a stop-the-world pause (initiator's stack; lock: its
			  * _stoptheworld_state) */
};

/* -m full: a lock held since an acquisition we recorded (key: the lock). */
struct lp_hold {
	__u64 start_ns;
	__u64 stack_id; /* the acquiring stack: a Lock may be released by another thread */
	__u32 tid;	/* the acquiring thread */
	__u32 epoch;	/* full_epoch when acquired: holds spanning a detached period are dropped */
	__u32 kind;	/* LP_KIND_HOLD_SAMPLED or LP_KIND_HOLD_FULL */
	__u32 pad;
};

/* -m full: the interpreter's text (only CPython's lock code calls sem_trywait/sem_post from
 * there) and the in-kernel capture sampling rate. */
struct lp_full_config {
	__u64 text_start, text_end;
	__u32 capture_pct; /* 1..100: share of uncontended acquisitions recorded */
	__u32 enabled;	   /* -m full asked: contended acquisitions open holds too */
};

/* A thread's current GIL wait: consecutive condition waits inside take_gil() form one wait. */
struct lp_gil_wait {
	__u64 start_ns;
	__u64 last_exit_ns; /* return of the last condition wait (timeouts make take_gil loop) */
	__u64 stack_id;
	__u32 open;    /* a wait is in progress */
	__u32 in_call; /* inside a pthread_cond_timedwait we kept */
};

/* Text of the interpreter's code: only take_gil() calls pthread_cond_timedwait from there. */
struct lp_gil_config {
	__u64 text_start, text_end;
	__u64 gap_ns;  /* a longer pause between condition waits ends a GIL wait */
	__u64 gil_key; /* the "lock" of GIL waits in stats: the GIL state's address */
};

/* Where CPython keeps what the frame walk needs, for one minor version. Filled by user space from
 * its offset tables (src/pyoffsets.c); CPython types are not CO-RE-relocatable. */
struct lp_py_offsets {
	__u64 runtime_addr;	   /* &_PyRuntime in the target's address space */
	__u64 code_mask;	   /* applied to the frame's code pointer (3.14 tags _PyStackRef) */
	__s32 runtime_interp_head; /* _PyRuntime.interpreters.head */
	__s32 interp_threads_head; /* PyInterpreterState.tstate_head / threads.head */
	__s32 tstate_next;
	__s32 tstate_thread_id; /* pthread_self() of the thread owning the tstate */
	__s32 tstate_frame;	/* tstate -> frame, or -> cframe when cframe_frame >= 0 */
	__s32 cframe_frame;	/* offset of current_frame in _PyCFrame, -1 when direct */
	__s32 frame_previous;
	__s32 frame_code;
	__s32 frame_instr;	/* f_lasti (int) or prev_instr/instr_ptr (pointer) */
	__s32 frame_instr_size; /* 4 or 8 */
	__s32 frame_owner;	/* -1 when frames have no owner byte */
	__s32 frame_owner_skip; /* frames whose owner is >= this are C-stack shims */
	/* The function the frame runs, mixed into the stack id: a code object freed and another
	 * made at its address then gives other stacks (user space names each new stack afresh). */
	__s32 frame_func;      /* function object (3.11+), -1 when frames have none */
	__s32 frame_globals;   /* globals dict */
	__s32 frame_read_size; /* bytes that cover all frame fields above, <= LP_FRAME_READ_MAX */
	__s32 pad;
};

/* Which blocking primitive a wait was seen in. */
enum lp_wait_source {
	LP_WAIT_SEM = 1,  /* glibc sem_wait/sem_clockwait/sem_timedwait; lock = the sem_t */
	LP_WAIT_PARK = 2, /* CPython 3.13+ _PySemaphore_Wait (parking lot); lock = the PyMutex */
	/* Free-threaded: _PyCriticalSection(2)_BeginSlow, a thread waiting for another's critical
	 * section on an object, spin included; lock = the object's ob_mutex */
	LP_WAIT_OBJECT = 3,
};

#define LP_TYPE_NAME_MAX 32

/* Free-threaded: the type of the object whose critical section was waited for (key: its
 * ob_mutex), read when the wait ended. */
struct lp_object_type {
	__u64 type; /* PyTypeObject* */
	char name[LP_TYPE_NAME_MAX];
};

struct lp_frame {
	__u64 code;  /* PyCodeObject* (masked) */
	__u64 instr; /* raw instruction field: byte/unit index or pointer, see frame_instr */
};

/* A stack, leaf first. Announced once on the ring buffer (`events`); `stacks_seen` keeps its id. */
struct lp_stack {
	__u64 stack_id; /* hash of the frames */
	__u32 tid;	/* first thread seen with it */
	__u16 depth;
	__u16 truncated;
	struct lp_frame frames[LP_MAX_FRAMES];
};

enum lp_event_type {
	LP_EVENT_STACK = 1, /* payload: struct lp_stack */
};

struct lp_event_header {
	__u32 type;
	__u32 pad;
};

struct lp_stack_event {
	struct lp_event_header hdr;
	struct lp_stack stack;
};

/* key of the per-CPU `stats` map */
struct lp_stat_key {
	__u64 lock;	/* sem_t* (3.8-3.13) or PyMutex* (3.14) */
	__u64 stack_id; /* 0: no Python stack found */
	__u32 tid;	/* thread id: init namespace, or the target's when lockprof runs in one */
	__u16 kind;	/* enum lp_kind */
	__u16 source;	/* enum lp_wait_source of the wait; 0 for GIL waits */
};

/* value of the per-CPU `stats` map; user space sums the CPUs */
struct lp_stat_value {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u64 timeouts;	     /* waits that returned without the lock (timeout or signal) */
	__u64 created_stack; /* stack that created the lock, when creation was seen; else 0 */
	/* Sampled stacks (stack budget): each wait counts 1 in count and total_ns, and its weight
	 * (1 / its capture probability) in these, by which user space upscales the entry. Equal
	 * to count * LP_WEIGHT_ONE and total_ns when every stack is captured. */
	__u64 est_count; /* in units of 1 / LP_WEIGHT_ONE */
	__u64 est_ns;
	/* When the entry's first and last waits ended (bpf_ktime_get_ns): a lock freed and another
	 * created at its address are told apart by their waits' disjoint lifetimes. */
	__u64 first_ns, last_ns;
	__u32 hist[LP_HIST_SLOTS];
};

/* The stack_id of stats entries whose stack the budget did not capture (sampled stacks): they
 * keep the exact totals; the captured stacks' entries share them out. Never a walk's hash
 * (walk_frames avoids it). */
#define LP_STACK_UNSAMPLED 1ULL
#define LP_WEIGHT_ONE 1024ULL

/* Per-thread state between a wait's entry and its return. */
struct lp_inflight {
	__u64 start_ns;
	__u64 lock;
	__u64 nvcsw;	     /* with may_not_block: the thread's voluntary switches at entry */
	__u32 source;	     /* enum lp_wait_source */
	__u32 may_not_block; /* the semaphore was free at entry: a wait only if it then slept */
	__u32 epoch;	     /* timing_epoch at entry: a wait begun before a detach is dropped */
	__u32 pad;
	/* LP_WAIT_OBJECT: the PyCriticalSection; 3.14 takes a section the thread holds already
	 * without waiting, and says so by leaving its _cs_mutex NULL */
	__u64 section;
};

/* What lockprof's programs cost, per CPU (user space sums): every run of every program, and of
 * that the stack walks. Measured in the programs (bpf_ktime_get_ns), so it needs no
 * kernel.bpf_stats_enabled; the trap around each run is priced by calibration. */
struct lp_self_cost {
	__u64 runs;	       /* program runs for the target (every probe hit) */
	__u64 run_ns;	       /* their time in BPF, from after the target check to the return */
	__u64 walks;	       /* Python stack walks */
	__u64 walk_ns;	       /* their time (included in run_ns) */
	__u64 waits;	       /* contended waits recorded (stack captured or not) */
	__u64 waits_unsampled; /* of those, waits whose stack the budget left out */
	__u64 wait_ns;	       /* the waits' total duration */
	__u64 full_runs;       /* of runs, -m full's probes' (their duty cycle's hit count) */
	__u64 timed_weight;    /* BPF's own: the run in progress is timed, standing for this many */
	__u64 site_hits[LP_MAX_SITES]; /* runs per probe site (its attach cookie), for pricing */
};

/* The last release of a lock that had waiters: the wait it ends is charged to this stack. */
struct lp_release {
	__u64 time_ns;
	__u64 stack_id;	 /* LP_STACK_UNSAMPLED: the stack budget left it out */
	__u64 threshold; /* stack_sample_ns the stack was sampled under */
	__u64 sample_ns; /* ...with probability sample_ns / threshold (when under it) */
	__u32 tid;
	__u32 charged; /* a wait was charged to it: the next release walks its own stack */
};

/* Counters in the BPF object's .bss, printed by the report. */
struct lp_counters {
	__u64 probe_hits;  /* every probe run for the target, contended or not (user space fills it
			   * from lp_self_cost: BPF counts hits per CPU, not here) */
	__u64 lost_events; /* ring buffer full */
	__u64 read_errors; /* failed reads of target memory */
	__u64 stacks_truncated; /* deeper than LP_MAX_FRAMES */
	__u64 thread_not_found; /* no PyThreadState matched the thread */
	__u64 stats_dropped;	/* stats map full */
	__u64 stacks_dropped;	/* stacks_seen map full: a new stack not announced */
	__u64 inflight_dropped; /* a wait in progress had no room: no thread state, GIL map full */
	__u64 short_waits;	/* waits shorter than --min-wait, not in the stats */
	__u64 stw_threads; /* free-threaded: threads paused, summed over stop-the-world pauses */
};

#ifdef __cplusplus
#define LP_STATIC_ASSERT static_assert
#else
#define LP_STATIC_ASSERT _Static_assert
#endif
LP_STATIC_ASSERT(sizeof(struct lp_py_offsets) == 80, "lp_py_offsets layout");
LP_STATIC_ASSERT(sizeof(struct lp_stack) == 16 + 16 * LP_MAX_FRAMES, "lp_stack layout");
LP_STATIC_ASSERT(sizeof(struct lp_hold) == 32, "lp_hold layout");
LP_STATIC_ASSERT(sizeof(struct lp_stat_key) == 24, "lp_stat_key layout");
LP_STATIC_ASSERT(sizeof(struct lp_stat_value) == 72 + 4 * LP_HIST_SLOTS, "lp_stat_value layout");
LP_STATIC_ASSERT(sizeof(struct lp_inflight) == 48, "lp_inflight layout");
LP_STATIC_ASSERT(sizeof(struct lp_self_cost) == 72 + 8 * LP_MAX_SITES, "lp_self_cost layout");

#endif
