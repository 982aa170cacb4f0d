// SPDX-License-Identifier: GPL-2.0
/* From what was read to what it means: each thread's state and the lock it waits for, where its
 * held locks were taken, each lock's name and holders, and the deadlocks (wait-for cycles). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"
#include "dump/resolve.h"
#include "profile/annotate.h"
#include "profile/lockname.h"

#define MAX_CYCLES 64
#define FUTEX_NR 202

const struct dump_lock *dump__lock(const struct dump *d, uint64_t obj)
{
	for (int i = 0; i < d->nlocks; i++)
		if (d->locks[i].obj == obj)
			return &d->locks[i];
	return NULL;
}

static struct dump_lock *lock_of(struct dump *d, uint64_t obj)
{
	return (struct dump_lock *)dump__lock(d, obj);
}

/* The lock a thread in a futex wait is blocked on: the leaf frame's lock whose semaphore is the
 * futex word (sem_t locks), else the topmost one with parked waiters (PyMutex locks: the futex
 * is the waiter's own semaphore, on its stack). */
static uint64_t waited_lock(struct dump *d, const struct dump_thread *t)
{
	if (t->task.syscall != FUTEX_NR)
		return 0;
	for (int i = t->nleaf_locks - 1; i >= 0; i--) {
		const struct dump_lock *l = dump__lock(d, t->leaf_locks[i]);

		if (l && l->wait_addr && l->wait_addr == t->task.arg[0])
			return l->obj;
	}
	for (int i = t->nleaf_locks - 1; i >= 0; i--) {
		const struct dump_lock *l = dump__lock(d, t->leaf_locks[i]);

		if (l && !l->wait_addr && l->parked)
			return l->obj;
	}
	return 0;
}

struct line_ctx {
	struct lp_sources *src;
	const char *file;
};

static void get_line(void *ctx, int n, char *buf, size_t len)
{
	struct line_ctx *c = ctx;

	sources__line(c->src, c->file, n, buf, len);
}

static void drop_held(struct dump_thread *t, int k)
{
	memmove(&t->held[k], &t->held[k + 1], sizeof(t->held[0]) * (size_t)(t->nheld - k - 1));
	t->nheld--;
}

/* Where each with-held lock was taken: the frame's enclosing with lines, innermost first, matched
 * to its held slots from the top of its value stack down. */
static void place_held(struct dump_thread *t, struct lp_sources *src)
{
	for (int fi = 0; fi < t->nframes; fi++) {
		const struct lp_frame_sym *s = &t->frames[fi].sym;
		struct line_ctx ctx = { .src = src, .file = s->file };
		int lines[DUMP_MAX_HELD], nlines, k = 0;
		int first = 1;

		/* The symbolizer knows the function's first line only as the frame's code; any
		 * line above the current one at a lower indentation encloses it. */
		nlines =
			dump__enclosing_withs(get_line, &ctx, s->line, first, lines, DUMP_MAX_HELD);
		for (int h = t->nheld - 1; h >= 0; h--) {
			struct dump_held *held = &t->held[h];
			char text[1024];

			if (held->frame != fi)
				continue;
			held->file = s->file;
			if (k < nlines) {
				held->line = lines[k++];
				sources__line(src, s->file, held->line, text, sizeof(text));
				lockname__from_source(text, held->expr, sizeof(held->expr));
			}
		}
	}
}

/* threading.Condition's __enter__/acquire take the condition's lock for their caller: the
 * caller's line names it (as contention reports do). */
static const struct lp_frame_sym *naming_frame(const struct dump_thread *t)
{
	const struct lp_frame_sym *leaf = &t->frames[0].sym;
	const char *base = strrchr(leaf->file, '/');

	base = base ? base + 1 : leaf->file;
	if (t->nframes > 1 && !strcmp(base, "threading.py") &&
	    (!strcmp(leaf->function, "Condition.__enter__") ||
	     !strcmp(leaf->function, "Condition.acquire") || !strcmp(leaf->function, "__enter__")))
		return &t->frames[1].sym;
	return leaf;
}

static void name_locks(struct dump *d, struct lp_sources *src)
{
	for (int i = 0; i < d->nthreads; i++) {
		struct dump_thread *t = &d->threads[i];
		const struct lp_frame_sym *nf;
		struct dump_lock *l;
		char text[1024];

		if (t->gone || t->state != DUMP_LOCK || !t->waits_for ||
		    !(l = lock_of(d, t->waits_for)) || l->name[0])
			continue;
		nf = naming_frame(t);
		sources__line(src, nf->file, nf->line, text, sizeof(text));
		if (lockname__from_source(text, l->name, sizeof(l->name))) {
			l->site_file = nf->file;
			l->site_line = nf->line;
		}
	}
	for (int i = 0; i < d->nthreads; i++) {
		struct dump_thread *t = &d->threads[i];

		for (int h = 0; h < t->nheld; h++) {
			struct dump_lock *l = lock_of(d, t->held[h].lock);

			if (l && !l->name[0] && t->held[h].expr[0]) {
				snprintf(l->name, sizeof(l->name), "%s", t->held[h].expr);
				l->site_file = t->held[h].file;
				l->site_line = t->held[h].line;
			}
		}
	}
	for (int i = 0; i < d->nlocks; i++)
		if (!d->locks[i].name[0])
			snprintf(d->locks[i].name, sizeof(d->locks[i].name), "%s at 0x%llx",
				 d->locks[i].kind == DUMP_KIND_RLOCK ? "RLock" : "Lock",
				 (unsigned long long)d->locks[i].obj);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* "waiting for a signal in Queue.get (queue.py), called at app.py:12": the outermost frame of the
 * threading machinery says what the thread waits in, the next one who asked. */
static void describe_signal_wait(struct dump_thread *t)
{
	int k = 0;

	if (!t->nframes || !annotate__is_threading_file(t->frames[0].sym.file))
		return;
	while (k + 1 < t->nframes && annotate__is_threading_file(t->frames[k + 1].sym.file))
		k++;
	if (k + 1 < t->nframes)
		snprintf(t->detail, sizeof(t->detail),
			 "waiting for a signal in %s (%s), called at %s:%d",
			 t->frames[k].sym.function, base_name(t->frames[k].sym.file),
			 base_name(t->frames[k + 1].sym.file), t->frames[k + 1].sym.line);
	else
		snprintf(t->detail, sizeof(t->detail), "waiting for a signal in %s (%s)",
			 t->frames[k].sym.function, base_name(t->frames[k].sym.file));
}

bool dump__holds(const struct dump_thread *t, uint64_t lock)
{
	for (int h = 0; h < t->nheld; h++)
		if (t->held[h].lock == lock)
			return true;
	return false;
}

int dump__resolve(struct dump *d, struct lp_sources *src, uint64_t gil_lo, uint64_t gil_hi)
{
	int **edges, *nedges, n = d->nthreads, err;

	for (int i = 0; i < n; i++) {
		struct dump_thread *t = &d->threads[i];
		struct dump_leaf leaf = { .file = "", .function = "", .source = "" };
		char text[1024] = "";
		uint64_t lock;
		int entering;

		if (t->gone)
			continue;
		/* The main thread runs no Thread._bootstrap_inner: threading's default name. */
		if (!t->py_name[0] && t->tid == d->pid)
			snprintf(t->py_name, sizeof(t->py_name), "MainThread");
		lock = waited_lock(d, t);
		if (t->nframes) {
			leaf.file = t->frames[0].sym.file;
			leaf.function = t->frames[0].sym.function;
			sources__line(src, leaf.file, t->frames[0].sym.line, text, sizeof(text));
			leaf.source = text;
		}
		t->state = dump__classify(&t->task, &leaf, gil_lo, gil_hi, lock != 0, t->detail,
					  sizeof(t->detail));
		if (t->state == DUMP_SIGNAL)
			describe_signal_wait(t);
		if (t->state != DUMP_LOCK)
			continue;
		t->waits_for = lock;
		/* The with block being entered is on the stack already: it is not held yet (in the
		 * caller's frame when Condition.__enter__ takes the lock for it). */
		entering = naming_frame(t) == &t->frames[0].sym ? 0 : 1;
		for (int h = t->nheld - 1; lock && h >= 0; h--)
			if (t->held[h].frame == entering && t->held[h].lock == lock) {
				drop_held(t, h);
				break;
			}
	}
	for (int i = 0; i < n; i++)
		place_held(&d->threads[i], src);
	/* An RLock says who owns it, with or without a with block. */
	for (int li = 0; li < d->nlocks; li++) {
		const struct dump_lock *l = &d->locks[li];

		for (int i = 0; l->kind == DUMP_KIND_RLOCK && l->owner && i < n; i++) {
			struct dump_thread *t = &d->threads[i];

			if (t->ident == l->owner && !dump__holds(t, l->obj) &&
			    t->nheld < DUMP_MAX_HELD)
				t->held[t->nheld++] =
					(struct dump_held){ .lock = l->obj, .frame = -1 };
		}
	}
	name_locks(d, src);

	edges = calloc((size_t)n + 1, sizeof(*edges));
	nedges = calloc((size_t)n + 1, sizeof(*nedges));
	if (!edges || !nedges) {
		err = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const struct dump_thread *t = &d->threads[i];

		if (t->gone || !t->waits_for)
			continue;
		edges[i] = calloc((size_t)n, sizeof(int));
		if (!edges[i]) {
			err = -ENOMEM;
			goto out;
		}
		for (int j = 0; j < n; j++)
			if (!d->threads[j].gone && dump__holds(&d->threads[j], t->waits_for))
				edges[i][nedges[i]++] = j;
	}
	err = dump__find_cycles(n, edges, nedges, &d->cycles, MAX_CYCLES);
	if (err >= 0) {
		d->ncycles = err;
		err = 0;
	}
out:
	for (int i = 0; edges && i < n; i++)
		free(edges[i]);
	free(edges);
	free(nedges);
	return err;
}

void dump__free(struct dump *d)
{
	for (int i = 0; i < d->nthreads; i++)
		free(d->threads[i].frames);
	for (int i = 0; i < d->ncycles; i++)
		free(d->cycles[i].threads);
	free(d->threads);
	free(d->locks);
	free(d->cycles);
	memset(d, 0, sizeof(*d));
}
