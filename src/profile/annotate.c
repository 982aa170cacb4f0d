// SPDX-License-Identifier: GPL-2.0
/* Lock categories, creation sites and names, from stacks and source lines. */
#include <stdio.h>
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

	return !strcmp(name, "threading.py") || !strcmp(name, "queue.py");
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

static void annotate_lock(struct lp_lock *lock, const struct lp_profile *p, struct lp_sources *c)
{
	const struct lp_lock_stack *top = profile__top_stack(lock, LP_ROLE_WAITER);
	const struct lp_frame_sym *leaf;
	char line[1024], call[96];

	/* -m full: a lock only seen held is named from where it was taken. */
	if (!top)
		top = profile__top_stack(lock, LP_ROLE_HOLD);
	if (lock->category == LP_CATEGORY_GIL) {
		snprintf(lock->name, sizeof(lock->name), "GIL");
		return;
	}
	if (!top)
		return;
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
		lock->category = LP_CATEGORY_IDLE;
		snprintf(lock->name, sizeof(lock->name), "%s", leaf->function);
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
	lock->native = true;
	if (lockname__call_on_line(line, call, sizeof(call)))
		snprintf(lock->name, sizeof(lock->name), "native lock in %s", call);
	else
		snprintf(lock->name, sizeof(lock->name), "native lock in %s", leaf->function);
}

void annotate__locks(struct lp_profile *p, struct lp_sources *sources)
{
	for (size_t i = 0; i < p->nlocks; i++)
		annotate_lock(&p->locks[i], p, sources);
}
