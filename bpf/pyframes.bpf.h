/* SPDX-License-Identifier: GPL-2.0 */
/* CPython reads from BPF: find the PyThreadState of the current thread and walk its Python frames.
 * Offsets come from user space (struct lp_py_offsets); nothing here is version-specific. */
#ifndef LOCKPROF_PYFRAMES_BPF_H
#define LOCKPROF_PYFRAMES_BPF_H

#include "globals.bpf.h"
#include "counters.bpf.h"
#include "threadstate.bpf.h"

/* Per-CPU scratch for building a stack and reading frames: too big for the 512-byte BPF stack. */
struct stack_scratch {
	struct lp_stack_event ev;
	__u8 frame_buf[LP_FRAME_READ_MAX] __attribute__((aligned(8)));
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_scratch);
} stack_scratch SEC(".maps");

static __always_inline int read_user_u64(__u64 addr, __u64 *out)
{
	if (bpf_probe_read_user(out, sizeof(*out), (const void *)addr) < 0) {
		count_event(&counters.read_errors);
		return -1;
	}
	return 0;
}

/* pthread_self() of the current thread. On x86-64 glibc and musl it is the TCB pointer, which is
 * fsbase: tstate->thread_id holds the same value, whatever PID namespace the target is in. */
static __always_inline __u64 current_pthread_self(void)
{
#if defined(__TARGET_ARCH_x86)
	struct task_struct *task = bpf_get_current_task_btf();

	return BPF_CORE_READ(task, thread.fsbase);
#else
#error "lockprof: pthread_self() from BPF is only implemented for x86-64"
#endif
}

struct tstate_walk {
	__u64 self; /* pthread_self() of the current thread */
	__u64 ts;   /* next PyThreadState to look at, then the match */
	bool found;
};

static long tstate_walk_step(__u64 index, struct tstate_walk *w)
{
	__u64 thread_id;

	if (!w->ts || read_user_u64(w->ts + py.tstate_thread_id, &thread_id))
		return 1;
	if (thread_id == w->self) {
		w->found = true;
		return 1;
	}
	return read_user_u64(w->ts + py.tstate_next, &w->ts) ? 1 : 0;
}

/* The waiting thread's PyThreadState is not "current" (it released the GIL), so match
 * tstate->thread_id against pthread_self() while walking the interpreter's thread list. The
 * match is kept in the thread's state and checked again on use (thread states are freed and
 * reused). */
static __always_inline __u64 find_tstate(struct thread_state *th)
{
	struct tstate_walk w = { .self = current_pthread_self() };
	__u64 interp, thread_id;

	if (th && th->tstate) {
		if (!read_user_u64(th->tstate + py.tstate_thread_id, &thread_id) &&
		    thread_id == w.self)
			return th->tstate;
		th->tstate = 0;
	}
	if (read_user_u64(py.runtime_addr + py.runtime_interp_head, &interp) || !interp)
		return 0;
	if (read_user_u64(interp + py.interp_threads_head, &w.ts))
		return 0;
	bpf_loop(LP_MAX_THREADS, tstate_walk_step, &w, 0);
	if (!w.found)
		return 0;
	if (th)
		th->tstate = w.ts;
	return w.ts;
}

/* One load per field, run for every field of every frame: pointer fields sit at 8-byte offsets
 * of the aligned buffer (and x86-64 loads any other offset too), where a memcpy would be eight
 * byte loads. */
static __always_inline __u64 load_field(const __u8 *buf, __s32 off, __s32 size)
{
	if (off < 0 || off > LP_FRAME_READ_MAX - 8)
		return 0;
	if (size == 4)
		return *(const __u32 *)(buf + off);
	if (size == 1)
		return buf[off];
	return *(const __u64 *)(buf + off);
}

/* A cheap 64-bit mix: stacks are keyed by it, so equal stacks must hash equal. */
static __always_inline __u64 mix64(__u64 h, __u64 v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

struct frame_walk {
	struct stack_scratch *scratch;
	__u64 frame;
	__u64 hash;
	__u32 depth;
};

static long frame_walk_step(__u64 index, struct frame_walk *w)
{
	struct stack_scratch *sc = w->scratch;
	__u32 size = py.frame_read_size;
	__u64 code, instr, func, globals;
	__u32 depth;

	if (!w->frame)
		return 1;
	if (size > LP_FRAME_READ_MAX)
		size = LP_FRAME_READ_MAX;
	/* One copy of the frame header instead of a read per field. */
	if (bpf_probe_read_user(sc->frame_buf, size, (const void *)w->frame) < 0) {
		count_event(&counters.read_errors);
		return 1;
	}
	code = load_field(sc->frame_buf, py.frame_code, 8) & py.code_mask;
	instr = load_field(sc->frame_buf, py.frame_instr, py.frame_instr_size);
	w->frame = load_field(sc->frame_buf, py.frame_previous, 8);
	if (py.frame_owner >= 0 &&
	    load_field(sc->frame_buf, py.frame_owner, 1) >= (__u64)py.frame_owner_skip)
		return 0;
	if (!code)
		return 0;
	depth = w->depth;
	if (depth >= LP_MAX_FRAMES) {
		sc->ev.stack.truncated = 1;
		count_event(&counters.stacks_truncated);
		return 1;
	}
	sc->ev.stack.frames[depth].code = code;
	sc->ev.stack.frames[depth].instr = instr;
	/*
	 * A code object's address is reused once it is freed: keyed by code and instruction alone,
	 * the waits of a later function at that address would count under the stack announced
	 * (and named) for the earlier one. The function object and globals the frame runs with,
	 * in the copy already made, tell most of those apart: a new stack is announced and user
	 * space names it afresh. Not when the function object and globals dict were reused too
	 * (same module, or a namespace dict from the freelist), nor before 3.11 in the same
	 * module (the frame has no function pointer): then the stack id is the same.
	 * f_funcobj is a tagged reference in 3.14, hence the mask; an absent field loads as 0.
	 */
	func = load_field(sc->frame_buf, py.frame_func, 8) & py.code_mask;
	globals = load_field(sc->frame_buf, py.frame_globals, 8);
	w->hash = mix64(mix64(mix64(mix64(w->hash, code), instr), func), globals);
	w->depth = depth + 1;
	return 0;
}

/* Walks the Python frames of `tstate` into sc->ev.stack (leaf first) and sets its stack_id. */
static __always_inline void walk_frames(__u64 tstate, struct stack_scratch *sc)
{
	struct lp_stack *st = &sc->ev.stack;
	struct frame_walk w = { .scratch = sc, .hash = 0x84222325cbf29ce4ULL };

	st->depth = 0;
	st->truncated = 0;
	st->stack_id = 0;
	if (read_user_u64(tstate + py.tstate_frame, &w.frame))
		return;
	if (py.cframe_frame >= 0 && w.frame && read_user_u64(w.frame + py.cframe_frame, &w.frame))
		return;
	bpf_loop(LP_FRAME_ITERS, frame_walk_step, &w, 0);
	st->depth = w.depth;
	st->stack_id = w.depth ? w.hash : 0;
}

#endif
