// SPDX-License-Identifier: GPL-2.0
/* The target's Python threads read out of its memory for a dump: every thread state of the main
 * interpreter, its frames, and the lock objects on each frame's value stack (see dump.h for what
 * they tell). Every object is type-checked through its ob_type->tp_name before it is believed. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"
#include "dump/layout.h"
#include "dump/threadname.h"
#include "target/interp.h"
#include "target/pyobj.h"
#include "target/pyversion.h"
#include "util/u64map.h"

#define MAX_THREADS 4096
#define MAX_SLOTS 512
#define LIST_READ_ATTEMPTS 40
#define GLIBC_PTHREAD_TID 0x2d0 /* x86-64 glibc: struct pthread.tid (pthread_self() + 720) */

enum obj_kind {
	KIND_OTHER = 1,
	KIND_LOCK,
	KIND_RLOCK,
	KIND_CFUNC,	/* builtin_function_or_method: a bound C method */
	KIND_METHDESCR, /* method_descriptor: an unbound C method */
	KIND_CODE,
	KIND_METHOD,	/* a bound Python method */
	KIND_FUNCTION,	/* a Python function */
	KIND_CONDITION, /* threading.Condition (checked by its __exit__'s file too) */
};

struct walker {
	pid_t pid;
	const struct lp_interp *info;
	const struct dump_layout *lay;
	struct lp_symbolizer *sym;
	uint64_t head;		  /* sizeof(PyObject): an object's own fields follow it */
	bool sem_locks;		  /* threading.Lock is a sem_t (3.8-3.13.0) */
	struct u64map types;	  /* type object -> enum obj_kind */
	struct u64map exit_names; /* PyMethodDef* or descriptor -> 1 + is "__exit__" */
	struct dump *d;
};

static int read_u64(pid_t pid, uint64_t addr, uint64_t *v)
{
	return remote_read(pid, addr, v, sizeof(*v));
}

static enum obj_kind kind_of(struct walker *w, uint64_t obj)
{
	static const struct {
		const char *name;
		enum obj_kind kind;
	} names[] = {
		{ "_thread.lock", KIND_LOCK },
		{ "_thread.RLock", KIND_RLOCK },
		{ "builtin_function_or_method", KIND_CFUNC },
		{ "method_descriptor", KIND_METHDESCR },
		{ "code", KIND_CODE },
		{ "method", KIND_METHOD },
		{ "function", KIND_FUNCTION },
		{ "Condition", KIND_CONDITION },
	};
	uint64_t type, tp_name;
	char name[64] = "";
	void *known;
	enum obj_kind k = KIND_OTHER;

	if (!obj || (obj & 7) ||
	    read_u64(w->pid, obj + (uint64_t)w->info->offsets.code.object_type, &type) || !type ||
	    (type & 7))
		return 0;
	known = u64map__get(&w->types, type);
	if (known)
		return (enum obj_kind)(uintptr_t)known;
	if (read_u64(w->pid, type + (uint64_t)w->info->offsets.type_name, &tp_name) ||
	    remote_read(w->pid, tp_name, name, 63))
		return 0;
	name[63] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].name))
			k = names[i].kind;
	u64map__put(&w->types, type, (void *)(uintptr_t)k);
	return k;
}

/* Whether the C string at addr (a PyMethodDef's ml_name) or str object (a descriptor's d_name)
 * is "__exit__", cached by key. */
static bool is_exit_name(struct walker *w, uint64_t key, uint64_t name_addr, bool str_object)
{
	char name[16] = "";
	void *known = u64map__get(&w->exit_names, key);
	bool yes;

	if (known)
		return (uintptr_t)known == 2;
	if (str_object)
		yes = !pyobj__read_str(w->pid, name_addr, &w->info->offsets, name, sizeof(name)) &&
		      !strcmp(name, "__exit__");
	else
		yes = !remote_read(w->pid, name_addr, name, 9) && !memcmp(name, "__exit__", 9);
	u64map__put(&w->exit_names, key, (void *)(uintptr_t)(yes ? 2 : 1));
	return yes;
}

/* Whether the object at obj has references: a slot above the stack's top may keep a freed one.
 * Free-threaded: the owner's ob_ref_local or ob_ref_shared (above its 2 flag bits); default: the
 * low half of ob_refcnt. */
static bool is_live(struct walker *w, uint64_t obj)
{
	uint32_t ref_local;
	uint64_t ref;

	if (!w->lay->free_threaded)
		return !remote_read(w->pid, obj, &ref_local, sizeof(ref_local)) && ref_local != 0;
	if (remote_read(w->pid, obj + DUMP_FT_REF_LOCAL, &ref_local, sizeof(ref_local)) ||
	    read_u64(w->pid, obj + DUMP_FT_REF_SHARED, &ref))
		return false;
	return ref_local != 0 || (ref >> 2) != 0;
}

/* Two pointer fields right after an object's header: a bound C method's m_ml and m_self, a
 * bound Python method's im_func and im_self. */
static int read_pair(struct walker *w, uint64_t obj, uint64_t pair[2])
{
	return remote_read(w->pid, obj + w->head + DUMP_BOUND_FUNC_AFTER_HEAD, pair,
			   2 * sizeof(uint64_t));
}

/* The lock a bound C method `__exit__` (<=3.13's with blocks) is bound to, or 0. */
static uint64_t exit_method_self(struct walker *w, uint64_t meth)
{
	uint64_t pair[2], ml_name; /* m_ml, m_self */
	enum obj_kind k;

	if (!is_live(w, meth) || read_pair(w, meth, pair))
		return 0;
	k = kind_of(w, pair[1]);
	if (k != KIND_LOCK && k != KIND_RLOCK)
		return 0;
	if (!pair[0] || read_u64(w->pid, pair[0], &ml_name) ||
	    !is_exit_name(w, pair[0], ml_name, false))
		return 0;
	return pair[1];
}

/* 3.14: `with` keeps the __exit__ descriptor of the lock's type below the lock itself. */
static bool is_exit_descr(struct walker *w, uint64_t descr)
{
	uint64_t d_name;

	return kind_of(w, descr) == KIND_METHDESCR &&
	       !read_u64(w->pid, descr + w->head + DUMP_DESCR_NAME_AFTER_HEAD, &d_name) &&
	       is_exit_name(w, descr, d_name, true);
}

/* Whether a Python function is threading.py's Condition.__exit__ (cached by function). */
static bool is_condition_exit(struct walker *w, uint64_t func)
{
	const struct lp_code_offsets *co = &w->info->offsets.code;
	uint64_t code, name, file;
	char buf[256];
	void *known = u64map__get(&w->exit_names, func);
	bool yes = false;
	size_t n;

	if (known)
		return (uintptr_t)known == 2;
	if (kind_of(w, func) == KIND_FUNCTION &&
	    !read_u64(w->pid, func + w->head + (uint64_t)w->lay->func_code, &code) &&
	    kind_of(w, code) == KIND_CODE && !read_u64(w->pid, code + co->name, &name) &&
	    !read_u64(w->pid, code + co->filename, &file) &&
	    !pyobj__read_str(w->pid, name, &w->info->offsets, buf, sizeof(buf)) &&
	    !strcmp(buf, "__exit__") &&
	    !pyobj__read_str(w->pid, file, &w->info->offsets, buf, sizeof(buf))) {
		n = strlen(buf);
		yes = n >= 12 && !strcmp(buf + n - 12, "threading.py");
	}
	u64map__put(&w->exit_names, func, (void *)(uintptr_t)(yes ? 2 : 1));
	return yes;
}

/* The lock of a Condition whose `with` block a frame is in, or 0: <=3.13 keep the bound
 * Condition.__exit__, 3.14 the function beside the Condition. */
static uint64_t condition_lock(struct walker *w, uint64_t cond)
{
	uint64_t lock;
	enum obj_kind k;

	if (dump__instance_attr(w->pid, &w->info->offsets, cond, "_lock", &lock))
		return 0;
	k = kind_of(w, lock);
	return k == KIND_LOCK || k == KIND_RLOCK ? lock : 0;
}

static uint64_t exit_pymethod_lock(struct walker *w, uint64_t meth)
{
	uint64_t pair[2]; /* im_func, im_self */

	if (!is_live(w, meth) || read_pair(w, meth, pair) ||
	    kind_of(w, pair[1]) != KIND_CONDITION || !is_condition_exit(w, pair[0]))
		return 0;
	return condition_lock(w, pair[1]);
}

static struct dump_lock *note_lock(struct walker *w, uint64_t obj, enum obj_kind k)
{
	struct dump *d = w->d;
	struct dump_lock *l, *grown;
	uint8_t raw[24]; /* the lock object's fields, after its header */

	for (int i = 0; i < d->nlocks; i++)
		if (d->locks[i].obj == obj)
			return &d->locks[i];
	if (remote_read(w->pid, obj + w->head, raw, sizeof(raw)))
		return NULL;
	grown = realloc(d->locks, sizeof(*d->locks) * (size_t)(d->nlocks + 1));
	if (!grown)
		return NULL;
	d->locks = grown;
	l = &d->locks[d->nlocks++];
	memset(l, 0, sizeof(*l));
	l->obj = obj;
	l->kind = k == KIND_RLOCK ? DUMP_KIND_RLOCK : DUMP_KIND_LOCK;
	if (l->kind == DUMP_KIND_LOCK && w->sem_locks) {
		memcpy(&l->wait_addr, raw, 8); /* lock_lock: the sem_t, a waiter's futex */
		l->locked = raw[16] != 0;      /* lockobject.locked */
	} else if (l->kind == DUMP_KIND_LOCK) {
		l->locked = raw[0] & 1; /* PyMutex: locked, has parked waiters */
		l->parked = raw[0] & 2;
	} else if (w->lay->minor <= 13) {
		memcpy(&l->wait_addr, raw, 8); /* rlock_lock, rlock_owner, rlock_count */
		memcpy(&l->owner, raw + 8, 8);
		memcpy(&l->count, raw + 16, 8);
		l->locked = l->count > 0;
	} else {
		l->locked = raw[0] & 1; /* _PyRecursiveMutex: mutex, thread, level */
		l->parked = raw[0] & 2;
		memcpy(&l->owner, raw + 8, 8);
		memcpy(&l->count, raw + 16, 8);
		l->count = l->locked ? l->count + 1 : 0;
	}
	if (!l->locked)
		l->owner = 0;
	return l;
}

static void add_held(struct dump_thread *t, int frame, int slot, uint64_t lock)
{
	if (t->nheld < DUMP_MAX_HELD)
		t->held[t->nheld++] =
			(struct dump_held){ .lock = lock, .frame = frame, .slot = slot };
}

static void add_leaf_lock(struct dump_thread *t, uint64_t lock)
{
	if (t->nleaf_locks < DUMP_MAX_HELD)
		t->leaf_locks[t->nleaf_locks++] = lock;
}

/* The value stack of one frame: which locks it holds through with blocks, and (leaf frame)
 * which lock objects it is working on. */
static void scan_stack(struct walker *w, struct dump_thread *t, int fi, uint64_t frame,
		       uint64_t code)
{
	const struct dump_layout *lay = w->lay;
	uint64_t base, slots[MAX_SLOTS];
	int32_t stacksize = 0, nlocalsplus = 0;
	int n;

	if (remote_read(w->pid, code + lay->code_stacksize, &stacksize, 4) || stacksize <= 0)
		return;
	if (lay->frame_valuestack >= 0) {
		if (read_u64(w->pid, frame + lay->frame_valuestack, &base) || !base)
			return;
	} else {
		if (remote_read(w->pid, code + lay->code_nlocalsplus, &nlocalsplus, 4) ||
		    nlocalsplus < 0 || nlocalsplus > 65535)
			return;
		base = frame + lay->frame_localsplus + 8 * (uint64_t)nlocalsplus;
	}
	n = stacksize < MAX_SLOTS ? stacksize : MAX_SLOTS;
	if (lay->frame_stackpointer >= 0) {
		uint64_t sp;

		/* Spilled before every call that can block; NULL while the frame runs. */
		if (!read_u64(w->pid, frame + lay->frame_stackpointer, &sp) && sp >= base &&
		    sp <= base + 8 * (uint64_t)n && !((sp - base) & 7))
			n = (int)((sp - base) / 8);
	}
	if (n <= 0 || remote_read(w->pid, base, slots, 8 * (size_t)n))
		return;
	for (int i = 0; i < n; i++) {
		uint64_t v = slots[i] & lay->ref_mask, lock = 0;
		enum obj_kind k;

		if (!v || v == 1)
			continue;
		k = kind_of(w, v);
		if (k == KIND_LOCK || k == KIND_RLOCK) {
			lock = v;
			if (lay->minor >= 14 && i > 0 &&
			    is_exit_descr(w, slots[i - 1] & lay->ref_mask))
				add_held(t, fi, i, lock);
		} else if (k == KIND_CFUNC) {
			lock = exit_method_self(w, v);
			if (lock)
				add_held(t, fi, i, lock);
		} else if (k == KIND_METHOD && lay->minor <= 13) {
			lock = exit_pymethod_lock(w, v);
			if (lock)
				add_held(t, fi, i, lock);
		} else if (k == KIND_CONDITION && lay->minor >= 14 && i > 0 &&
			   is_condition_exit(w, slots[i - 1] & lay->ref_mask)) {
			lock = condition_lock(w, v);
			if (lock)
				add_held(t, fi, i, lock);
		}
		if (!lock)
			continue;
		note_lock(w, lock, kind_of(w, lock));
		if (fi == 0)
			add_leaf_lock(t, lock);
	}
}

/* Thread._bootstrap_inner(self): self is the thread's Thread object. */
static bool is_bootstrap_inner(const struct lp_frame_sym *s)
{
	const char *base = strrchr(s->file, '/');

	return !strcmp(base ? base + 1 : s->file, "threading.py") &&
	       (!strcmp(s->function, "Thread._bootstrap_inner") ||
		!strcmp(s->function, "_bootstrap_inner"));
}

static int walk_frames(struct walker *w, struct dump_thread *t, uint64_t frame)
{
	const struct lp_py_offsets *o = &w->info->offsets.walk;
	uint8_t buf[LP_FRAME_READ_MAX];

	t->frames = calloc(DUMP_MAX_FRAMES, sizeof(*t->frames));
	if (!t->frames)
		return -ENOMEM;
	for (int guard = 0; frame && guard < 4 * DUMP_MAX_FRAMES; guard++) {
		uint64_t code = 0, instr = 0, prev = 0;
		struct dump_frame *f;

		if (t->nframes == DUMP_MAX_FRAMES) {
			t->truncated = true;
			break;
		}
		if (remote_read(w->pid, frame, buf, (size_t)o->frame_read_size))
			return t->nframes ? 0 : -EFAULT;
		memcpy(&code, buf + o->frame_code, 8);
		memcpy(&prev, buf + o->frame_previous, 8);
		memcpy(&instr, buf + o->frame_instr, (size_t)o->frame_instr_size);
		code &= o->code_mask;
		if ((o->frame_owner >= 0 && buf[o->frame_owner] >= o->frame_owner_skip) ||
		    kind_of(w, code) != KIND_CODE) {
			frame = prev; /* a C-stack shim or an entry frame without code */
			continue;
		}
		f = &t->frames[t->nframes];
		f->addr = frame;
		f->code = code;
		f->instr = instr;
		symbolizer__frame(w->sym, code, instr, &f->sym);
		scan_stack(w, t, t->nframes, frame, code);
		if (!t->py_name[0] && is_bootstrap_inner(&f->sym))
			dump__thread_name(w->pid, &w->info->offsets, frame, t->py_name,
					  sizeof(t->py_name));
		t->nframes++;
		frame = prev;
	}
	return 0;
}

/* Reads one thread state and walks its frames. A read that fails means the thread exited after
 * the list was read (its state freed, the memory returned): it is kept, marked gone. */
static int read_thread(struct walker *w, uint64_t ts)
{
	const struct lp_py_offsets *o = &w->info->offsets.walk;
	struct dump *d = w->d;
	struct dump_thread *t, *grown;
	uint64_t frame = 0;
	int32_t ns_tid = 0;
	int err;

	grown = realloc(d->threads, sizeof(*d->threads) * (size_t)(d->nthreads + 1));
	if (!grown)
		return -ENOMEM;
	d->threads = grown;
	t = &d->threads[d->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tstate = ts;
	if (read_u64(w->pid, ts + o->tstate_thread_id, &t->ident) ||
	    read_u64(w->pid, ts + o->tstate_frame, &frame)) {
		t->gone = true;
		return 0;
	}
	if (w->lay->native_tid >= 0)
		err = remote_read(w->pid, ts + w->lay->native_tid, &ns_tid, 4);
	else
		err = remote_read(w->pid, t->ident + GLIBC_PTHREAD_TID, &ns_tid, 4);
	t->ns_tid = err ? 0 : ns_tid;
	if (frame && o->cframe_frame >= 0 && read_u64(w->pid, frame + o->cframe_frame, &frame))
		frame = 0;
	if (frame && (err = walk_frames(w, t, frame)) == -ENOMEM)
		return err;
	return 0;
}

/* A consistent list is one where each state's prev is the state before it and its interp is
 * this interpreter. The target runs on while it is read, so a thread that starts or exits
 * meanwhile breaks that (the old head gets a prev; a freed state's links are overwritten by
 * malloc, or left stale and no longer its neighbours'), and the list is read again. Only the
 * links are read, a few microseconds, so the window is short. */
int dump__read_thread_list(pid_t pid, const struct lp_interp *info, uint64_t *states, int max)
{
	const struct lp_py_offsets *o = &info->offsets.walk;
	uint64_t interp, ts;
	int err;

	if ((err = read_u64(pid, info->runtime_addr + o->runtime_interp_head, &interp)))
		return err;
	if (!interp)
		return -ENOENT;
	if (o->tstate_next != DUMP_TSTATE_PREV + 8)
		return -ENOTSUP; /* links[] below: prev, next, interp follow each other */
	for (int attempt = 0; attempt < LIST_READ_ATTEMPTS; attempt++) {
		uint64_t prev = 0;
		int n = 0;
		bool consistent = true;

		if ((err = read_u64(pid, interp + o->interp_threads_head, &ts)))
			return err;
		while (ts && n < max) {
			uint64_t links[3]; /* prev, next, interp */

			if (remote_read(pid, ts + DUMP_TSTATE_PREV, links, sizeof(links)) ||
			    links[0] != prev || links[DUMP_TSTATE_INTERP / 8] != interp) {
				consistent = false;
				break;
			}
			states[n++] = ts;
			prev = ts;
			ts = links[1];
		}
		if (consistent)
			return n;
		if (attempt >= LIST_READ_ATTEMPTS / 2)
			usleep(1000); /* a burst of thread starts: let it pass */
	}
	return -EAGAIN;
}

int dump__read_threads(struct dump *d, const struct lp_interp *info, struct lp_symbolizer *sym)
{
	struct walker w = { .info = info, .sym = sym, .d = d, .pid = d->pid };
	uint64_t states[MAX_THREADS];
	int err = 0, nstates;

	w.lay = dump_layout__for(info->version.minor, info->offsets.free_threaded);
	if (!w.lay || info->offsets.object_head <= 0)
		return -ENOTSUP;
	w.head = (uint64_t)info->offsets.object_head;
	w.sem_locks = pyversion__lock_is_semaphore(&info->version);
	/* The list first, links only, then each thread: reading a thread (its stack walked) takes
	 * far longer, and one that exits meanwhile is then left out, not a reason to start over. */
	nstates = dump__read_thread_list(d->pid, info, states, MAX_THREADS);
	if (nstates < 0)
		return nstates;
	for (int i = 0; !err && i < nstates; i++)
		err = read_thread(&w, states[i]);
	u64map__free(&w.types);
	u64map__free(&w.exit_names);
	return err;
}
