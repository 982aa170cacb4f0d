/* SPDX-License-Identifier: GPL-2.0 */
/* The model of `lockprof dump`: a snapshot of a CPython process's threads (state, stack, the
 * lock each waits for, the locks each holds) and its locks, built once by the dump face from
 * the target's memory and /proc, then rendered. No BPF: nothing is attached to the target.
 *
 * How a thread is known to be blocked acquiring lock L (README, "A process is stuck"): the
 * kernel says the thread sleeps in a futex wait (/proc/PID/task/TID/syscall), the address is not
 * the GIL's, the leaf Python frame's line takes a lock (`with x:`, `x.acquire()`), and L is the
 * lock object found on that frame's value stack: for a sem_t lock (3.8-3.13.0), the one whose
 * semaphore is the futex address; for a PyMutex lock (3.13.1+), the topmost one with parked
 * waiters. Who holds L: an RLock's owner field; for any lock, the threads with a frame inside a
 * `with` block on L (the frame's value stack keeps the bound __exit__ of L, or on 3.14 the
 * __exit__ descriptor with L beside it; `with cond:` a Condition's bound __exit__, L being its
 * _lock); every candidate slot's type and reference count are
 * checked, since below 3.14 a running frame's stack depth is not recorded). */
#ifndef LOCKPROF_SRC_DUMP_H
#define LOCKPROF_SRC_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symbolize/symbolize.h"

#define DUMP_MAX_FRAMES 256
#define DUMP_MAX_HELD 16
#define DUMP_NAME_MAX 128

/* What a thread is doing, from the kernel's view of it and its leaf Python frame. */
enum dump_state {
	DUMP_RUNNING,	  /* on a CPU or runnable */
	DUMP_LOCK,	  /* blocked acquiring a lock */
	DUMP_GIL,	  /* waiting to take the GIL */
	DUMP_SIGNAL,	  /* waiting in Condition/Event/queue/join: for a signal, not a holder */
	DUMP_SLEEP,	  /* time.sleep */
	DUMP_IO,	  /* another blocking system call (I/O, select, poll, wait) */
	DUMP_NATIVE_WAIT, /* a futex wait in C code that names no lock */
	DUMP_UNKNOWN,	  /* the kernel would not say */
};

/* A thread as the kernel sees it, from /proc/PID/task/TID. */
struct dump_task {
	char state;	 /* R, S, D, ... from stat */
	bool running;	 /* syscall says "running" (in user space or on a CPU) */
	long syscall;	 /* -1 when not in a system call or unknown */
	uint64_t arg[6]; /* the system call's arguments */
};

/* What the leaf Python frame says about a blocked thread (pure input of the classification). */
struct dump_leaf {
	const char *file;     /* "" without a Python frame */
	const char *function; /* co_qualname or co_name */
	const char *source;   /* the line's text, "" when unreadable */
};

/* A `with` block (or RLock ownership) through which a thread holds a lock. */
struct dump_held {
	uint64_t lock;	  /* the lock object's address */
	int frame;	  /* index in the thread's frames; -1 when not known (RLock owner) */
	int slot;	  /* value-stack slot of its __exit__ (ordering within a frame) */
	const char *file; /* where it entered the with block; NULL when unknown */
	int line;	  /* 0 when unknown */
	char expr[DUMP_NAME_MAX]; /* the lock as that with line spells it */
};

struct dump_frame {
	uint64_t addr; /* the frame (PyFrameObject or _PyInterpreterFrame) */
	uint64_t code;
	uint64_t instr;
	struct lp_frame_sym sym;
};

struct dump_thread {
	uint64_t tstate;
	uint64_t ident; /* pthread_self(): threading.get_ident() */
	pid_t tid;	/* as lockprof's /proc numbers it; 0 when not found */
	pid_t ns_tid;	/* as the target numbers it */
	char os_name[32];
	char py_name[DUMP_NAME_MAX]; /* threading.Thread.name; "" when not known */
	struct dump_task task;
	struct dump_frame *frames; /* leaf first */
	int nframes;
	bool truncated;
	enum dump_state state;
	char detail[192];   /* the state in words: the system call, the signal wait's function */
	uint64_t waits_for; /* the lock object it is blocked on, 0 when not a lock or not found */
	/* Lock objects on the leaf frame's value stack (raw, or the self of a bound __exit__),
	 * bottom to top: the candidates for the lock it waits for. */
	uint64_t leaf_locks[DUMP_MAX_HELD];
	int nleaf_locks;
	struct dump_held held[DUMP_MAX_HELD];
	int nheld;
	bool gone; /* exited during the dump */
};

enum dump_lock_kind {
	DUMP_KIND_LOCK,	 /* _thread.lock */
	DUMP_KIND_RLOCK, /* _thread.RLock */
};

struct dump_lock {
	uint64_t obj;
	enum dump_lock_kind kind;
	uint64_t wait_addr; /* what a waiter's futex waits on for a sem_t lock; 0 for PyMutex */
	bool locked;
	bool parked;		  /* PyMutex: has parked waiters */
	uint64_t owner;		  /* RLock: the owner's ident, 0 when free */
	uint64_t count;		  /* RLock: its recursion level (acquisitions) */
	char name[DUMP_NAME_MAX]; /* as contention reports name it */
	const char *site_file;	  /* the line that names it: a waiter's, else a holder's */
	int site_line;
};

/* A deadlock: threads each waiting for a lock the next one holds. */
struct dump_cycle {
	int *threads; /* indexes into dump.threads, in wait order: t[i] waits for t[i+1]'s lock */
	int len;
};

struct dump {
	pid_t pid;
	char python[64]; /* "3.12.1 (/path/libpython3.12.so.1.0)" */
	struct dump_thread *threads;
	int nthreads;
	struct dump_lock *locks;
	int nlocks;
	struct dump_cycle *cycles;
	int ncycles;
	int gone; /* threads that exited during the dump */
	double elapsed_ms;
};

/* --- classify.c: pure rules --- */

/* The state of a thread from its task and leaf frame. gil_lo/gil_hi bound the GIL's state in
 * the target (a futex address inside is a GIL wait); found_lock: a lock object the thread waits
 * for was found on its leaf frame. detail gets the state in words. */
enum dump_state dump__classify(const struct dump_task *task, const struct dump_leaf *leaf,
			       uint64_t gil_lo, uint64_t gil_hi, bool found_lock, char *detail,
			       size_t detail_len);

/* "running", "lock", "gil", "signal", "sleep", "io", "native", "unknown". */
const char *dump__state_name(enum dump_state s);

/* The name of a common system call on x86-64 ("futex"), or NULL. */
const char *dump__syscall_name(long nr);

/* Enclosing `with` statements of line `line` in a function starting at `first_line`: fills
 * lines[] (innermost first; a `with a, b:` line appears once per item, last item first) and
 * returns how many. get_line(ctx, n, buf, len) copies source line n ("" when unknown). */
int dump__enclosing_withs(void (*get_line)(void *ctx, int n, char *buf, size_t len), void *ctx,
			  int line, int first_line, int *lines, int max);

/* --- waitgraph.c: pure --- */

/* Elementary cycles of a wait-for graph of n threads: edges[i] lists the threads thread i
 * waits for (nedges[i] of them). Each cycle is reported once, starting at its lowest index.
 * Returns the number of cycles (at most max) with *out malloc'ed (caller frees each
 * threads and the array), or -ENOMEM. */
int dump__find_cycles(int n, int *const *edges, const int *nedges, struct dump_cycle **out,
		      int max);

/* --- pywalk.c: the target's memory --- */

struct lp_interp;
struct lp_symbolizer;

/* Reads every thread state of the main interpreter, their frames (symbolized with sym) and the
 * lock objects on their value stacks: d->threads and d->locks. Returns 0 or -errno: -EAGAIN
 * when the list of threads changed under every one of its reads (threads starting and exiting
 * faster than it is read), -ESRCH when the process went away. A thread that exits after the
 * list was read is kept, marked gone. */
int dump__read_threads(struct dump *d, const struct lp_interp *info, struct lp_symbolizer *sym);

/* The main interpreter's thread states in pid, head first, read until the list is consistent:
 * up to max in states. Returns their count, -EAGAIN when every read found the list changing,
 * -ENOENT without an interpreter, or -errno. */
int dump__read_thread_list(pid_t pid, const struct lp_interp *info, uint64_t *states, int max);

/* --- tasks.c: /proc --- */

/* Fills each thread's tid (from its target-side id), OS name and kernel state. Threads no
 * longer in /proc are marked gone. 0 or -errno. */
int dump__read_tasks(struct dump *d);

/* --- render.c --- */
#include <stdio.h>
void dump__render_text(const struct dump *d, FILE *f);
void dump__render_json(const struct dump *d, FILE *f);

/* The lock with that object address, or NULL. */
const struct dump_lock *dump__lock(const struct dump *d, uint64_t obj);

void dump__free(struct dump *d);

#endif
