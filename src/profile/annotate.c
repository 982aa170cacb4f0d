// SPDX-License-Identifier: GPL-2.0
/* Lock categories, creation sites and names, from stacks and source lines (see annotate.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/annotate.h"
#include "profile/lockname.h"
#include "symbolize/source.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

bool annotate__is_threading_file(const char *file)
{
	const char *name = base_name(file);

	return !strcmp(name, "threading.py") || !strcmp(name, "queue.py") ||
	       strstr(file, "/concurrent/futures/");
}

/* Thread.join (and before 3.13 its _wait_for_tstate_lock): waiting for a thread to end. */
static bool is_join(const struct lp_frame_sym *leaf)
{
	return !strcmp(leaf->function, "Thread._wait_for_tstate_lock") ||
	       !strcmp(leaf->function, "_wait_for_tstate_lock") ||
	       !strcmp(leaf->function, "Thread.join") || !strcmp(leaf->function, "join");
}

/* threading.Thread.run, which calls the thread's target. */
static bool is_thread_run(const struct lp_frame_sym *f)
{
	return !strcmp(base_name(f->file), "threading.py") &&
	       (!strcmp(f->function, "Thread.run") || !strcmp(f->function, "run"));
}

bool annotate__in_run_loop(const struct lp_stack_sym *st)
{
	uint32_t u = 0;

	while (u < st->depth && annotate__is_threading_file(st->frames[u].file))
		u++;
	/* Nothing but the machinery (a pool's worker), or the bottom of the stack; a truncated
	 * stack's bottom is not known. */
	if (u + 1 >= st->depth)
		return !st->truncated;
	/* The function a Thread runs, or one the main thread's module code calls (main()). */
	return is_thread_run(&st->frames[u + 1]) ||
	       (u + 2 == st->depth && !strcmp(st->frames[u + 1].function, "<module>"));
}

enum lp_category annotate__signal_category(const struct lp_stack_sym *st)
{
	if (is_join(&st->frames[0]) || annotate__in_run_loop(st))
		return LP_CATEGORY_IDLE;
	return LP_CATEGORY_RESOURCE;
}

/* A native wait on the line that is a queue's get: SimpleQueue.get (concurrent.futures' work
 * queue) blocks in C on a lock of its own until an item is put. */
static bool is_queue_get(const char *call)
{
	size_t n = strlen(call);

	return n >= 4 && !strcmp(call + n - 4, ".get");
}

bool annotate__is_idle_wait(const struct lp_frame_sym *leaf, const char *leaf_source)
{
	static const char *const signal_waits[] = {
		"Condition.wait",		/* Event, Semaphore, Barrier and Queue wait here */
		"Thread._wait_for_tstate_lock", /* Thread.join up to 3.12 */
		"_wait_for_tstate_lock",
		"Thread.join", /* 3.13+: joins park on the thread handle's event */
		"join",
	};
	const char *fn = leaf->function;

	if (strcmp(base_name(leaf->file), "threading.py"))
		return false;
	for (size_t i = 0; i < sizeof(signal_waits) / sizeof(signal_waits[0]); i++)
		if (!strcmp(fn, signal_waits[i]))
			return true;
	/* Before 3.11 there is no qualified name: Condition.wait is the "wait" that blocks on
	 * its per-wait waiter lock, then retakes the condition's lock after the notify (Event.wait's
	 * own "with self._cond" is real contention). */
	return !strcmp(fn, "wait") &&
	       (strstr(leaf_source, "waiter.acquire(") || strstr(leaf_source, "_acquire_restore("));
}

/* threading.Condition's __enter__ or acquire, which take the condition's own lock for the
 * caller (before 3.11 the qualified name is not known: the line says it). */
static bool is_condition_entry(const struct lp_frame_sym *leaf)
{
	return !strcmp(base_name(leaf->file), "threading.py") &&
	       (!strcmp(leaf->function, "Condition.__enter__") ||
		!strcmp(leaf->function, "Condition.acquire") ||
		!strcmp(leaf->function, "__enter__"));
}

/* The first frame of st outside threading.py/queue.py, else its leaf. */
static const struct lp_frame_sym *first_user_frame(const struct lp_stack_sym *st)
{
	if (!st || !st->depth)
		return NULL;
	for (uint32_t i = 0; i < st->depth; i++)
		if (!annotate__is_threading_file(st->frames[i].file))
			return &st->frames[i];
	return &st->frames[0];
}

/* An object whose critical section was waited for: named by the expression the waiting line
 * uses it through ("shared.append(i)": shared), found where the waiting frame is in the
 * program's code rather than the interpreter's. */
static void annotate_object(struct lp_lock *lock, const struct lp_lock_stack *top,
			    struct lp_sources *c)
{
	char line[1024];

	if (!top->stack || !top->stack->depth)
		return;
	lock->site = &top->stack->frames[0];
	sources__line(c, lock->site->file, lock->site->line, line, sizeof(line));
	lockname__object_on_line(line, lock->name, sizeof(lock->name));
}

static void annotate_lock(struct lp_lock *lock, const struct lp_profile *p, struct lp_sources *c)
{
	const struct lp_lock_stack *top = profile__top_stack(lock, LP_ROLE_WAITER);
	const struct lp_frame_sym *leaf;
	char line[1024], call[96] = "";

	/* -m full: a lock only seen held is named from where it was taken. */
	if (!top)
		top = profile__top_stack(lock, LP_ROLE_HOLD);
	if (lock->category == LP_CATEGORY_GIL) {
		snprintf(lock->name, sizeof(lock->name), "GIL");
		return;
	}
	if (lock->category == LP_CATEGORY_STW) {
		snprintf(lock->name, sizeof(lock->name), "stop-the-world");
		lock->site = top && top->stack ? first_user_frame(top->stack) : NULL;
		return;
	}
	if (!top)
		return;
	if (lock->category == LP_CATEGORY_OBJECT) {
		annotate_object(lock, top, c);
		return;
	}
	/* A thread with no Python frame yet (or any more) waits inside the interpreter's own
	 * thread start-up or shutdown: not contention in the program's code. */
	if (!top->stack_id || (top->stack && !top->stack->depth)) {
		lock->category = LP_CATEGORY_IDLE;
		snprintf(lock->name, sizeof(lock->name), "interpreter-internal wait");
		return;
	}
	if (!top->stack)
		return;
	leaf = &top->stack->frames[0];
	lock->site = first_user_frame(top->stack);
	lock->created_at = first_user_frame(stacktab__get(p->stacks, lock->created_stack_id));

	sources__line(c, leaf->file, leaf->line, line, sizeof(line));
	if (annotate__is_idle_wait(leaf, line)) {
		lock->category = annotate__signal_category(top->stack);
		/* "QueuePool._do_get: Condition.wait": who waited, and in what. */
		if (lock->site && lock->site != leaf)
			snprintf(lock->name, sizeof(lock->name), "%s: %s", lock->site->function,
				 leaf->function);
		else
			snprintf(lock->name, sizeof(lock->name), "%s", leaf->function);
		return;
	}
	/* Condition.__enter__/acquire take the condition's lock as "self._lock": the caller's line
	 * says which condition ("with self.not_empty:" names self.not_empty). */
	if (is_condition_entry(leaf) && top->stack->depth > 1) {
		const struct lp_frame_sym *caller = &top->stack->frames[1];
		char caller_line[1024];

		sources__line(c, caller->file, caller->line, caller_line, sizeof(caller_line));
		if (lockname__from_source(caller_line, lock->name, sizeof(lock->name)))
			return;
	}
	/* A line that takes a lock names it; any other line blocked inside a C call. */
	if (lockname__from_source(line, lock->name, sizeof(lock->name))) {
		if (lock->created_at) {
			char created[1024], assigned[sizeof(lock->name)];

			sources__line(c, lock->created_at->file, lock->created_at->line, created,
				      sizeof(created));
			if (lockname__from_assignment(created, assigned, sizeof(assigned)))
				memcpy(lock->name, assigned, sizeof(lock->name));
		}
		return;
	}
	if (lockname__call_on_line(line, call, sizeof(call)) && is_queue_get(call)) {
		lock->category = annotate__signal_category(top->stack);
		snprintf(lock->name, sizeof(lock->name), "%s", call);
		return;
	}
	lock->native = true;
	if (call[0])
		snprintf(lock->name, sizeof(lock->name), "native lock in %s", call);
	else
		snprintf(lock->name, sizeof(lock->name), "native lock in %s", leaf->function);
}

void annotate__locks(struct lp_profile *p, struct lp_sources *sources)
{
	for (size_t i = 0; i < p->nlocks; i++)
		annotate_lock(&p->locks[i], p, sources);
}

#define SIGNAL_KEY "(signal)" /* waited_name() of every signal wait: no lock expression */

/* What a waiting stack calls the lock it waits on, for telling locks at one address apart: the
 * name the naming rule gives (annotate_lock), "native CALL" for a C-internal lock, one key for
 * every signal wait (they wait on a fresh lock each, merged by site). */
static void waited_name(const struct lp_stack_sym *st, struct lp_sources *c, char *out, size_t len)
{
	const struct lp_frame_sym *leaf = &st->frames[0];
	char line[1024], call[96];

	sources__line(c, leaf->file, leaf->line, line, sizeof(line));
	if (annotate__is_idle_wait(leaf, line))
		snprintf(out, len, SIGNAL_KEY);
	else if (lockname__from_source(line, out, len))
		return;
	else if (lockname__call_on_line(line, call, sizeof(call)))
		snprintf(out, len, "native %s", call);
	else
		snprintf(out, len, "native %s", leaf->function);
}

#define MAX_NAMES_PER_ADDRESS LP_MAX_GENERATIONS

struct named_span {
	char name[128];
	uint64_t first_ns, last_ns;
	unsigned int cluster;
};

static int by_first(const void *a, const void *b)
{
	const struct named_span *x = *(const struct named_span *const *)a;
	const struct named_span *y = *(const struct named_span *const *)b;

	return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns;
}

static int split_lock_if_reused(struct lp_profile *p, size_t i, struct lp_sources *c)
{
	struct named_span spans[MAX_NAMES_PER_ADDRESS], *order[MAX_NAMES_PER_ADDRESS];
	uint64_t cfirst[MAX_NAMES_PER_ADDRESS], clast[MAX_NAMES_PER_ADDRESS];
	struct lp_lock *lock = &p->locks[i];
	unsigned int nspans = 0, nclusters = 0, *group;
	int *span_of;
	int err;

	if (lock->category == LP_CATEGORY_GIL || lock->category == LP_CATEGORY_STW ||
	    lock->nstacks < 2)
		return 0;
	span_of = calloc(lock->nstacks, sizeof(*span_of));
	group = calloc(lock->nstacks, sizeof(*group));
	if (!span_of || !group) {
		free(span_of);
		free(group);
		return -ENOMEM;
	}
	for (size_t j = 0; j < lock->nstacks; j++) {
		const struct lp_lock_stack *ls = &lock->stacks[j];
		char name[128];
		unsigned int k;

		span_of[j] = -1;
		if (ls->role != LP_ROLE_WAITER || !ls->stack || !ls->stack->depth || !ls->first_ns)
			continue;
		waited_name(ls->stack, c, name, sizeof(name));
		for (k = 0; k < nspans && strcmp(spans[k].name, name); k++)
			;
		if (k == nspans) {
			if (nspans == MAX_NAMES_PER_ADDRESS)
				goto keep; /* too many to tell apart: left as one */
			snprintf(spans[k].name, sizeof(spans[k].name), "%s", name);
			spans[k].first_ns = ls->first_ns;
			spans[k].last_ns = ls->last_ns;
			nspans++;
		}
		if (ls->first_ns < spans[k].first_ns)
			spans[k].first_ns = ls->first_ns;
		if (ls->last_ns > spans[k].last_ns)
			spans[k].last_ns = ls->last_ns;
		span_of[j] = (int)k;
	}
	if (nspans < 2)
		goto keep;
	/* Names whose lifetimes overlap are one lock's; a gap between them, a new lock. Signal
	 * waits are never the same object as a named lock, whenever they were: each waits on a lock
	 * of its own (a Condition's per-wait lock, a thread's end-of-life lock), which only reuses
	 * an address some named lock had or will have. */
	for (unsigned int k = 0; k < nspans; k++)
		order[k] = &spans[k];
	qsort(order, nspans, sizeof(order[0]), by_first);
	for (unsigned int k = 0; k < nspans; k++) {
		if (!strcmp(order[k]->name, SIGNAL_KEY))
			continue;
		if (nclusters && order[k]->first_ns <= clast[nclusters - 1]) {
			if (order[k]->last_ns > clast[nclusters - 1])
				clast[nclusters - 1] = order[k]->last_ns;
		} else {
			cfirst[nclusters] = order[k]->first_ns;
			clast[nclusters] = order[k]->last_ns;
			nclusters++;
		}
		order[k]->cluster = nclusters - 1;
	}
	for (unsigned int k = 0; k < nspans; k++) {
		if (strcmp(order[k]->name, SIGNAL_KEY))
			continue;
		cfirst[nclusters] = order[k]->first_ns;
		clast[nclusters] = order[k]->last_ns;
		order[k]->cluster = nclusters++;
	}
	if (nclusters < 2)
		goto keep;
	/* Holders, unnamed waiters: by their threads' lifetimes (profile__split_lock). */
	for (size_t j = 0; j < lock->nstacks; j++)
		group[j] = span_of[j] >= 0 ? spans[span_of[j]].cluster : LP_GROUP_BY_TIME;
	err = profile__split_lock(p, i, group, nclusters, cfirst, clast);
	free(span_of);
	free(group);
	return err;
keep:
	free(span_of);
	free(group);
	return 0;
}

int annotate__split_reused_locks(struct lp_profile *p, struct lp_sources *sources)
{
	size_t n = p->nlocks; /* the locks split off need no second look */

	for (size_t i = 0; i < n; i++) {
		int err = split_lock_if_reused(p, i, sources);

		if (err)
			return err;
	}
	return 0;
}
