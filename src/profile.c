// SPDX-License-Identifier: GPL-2.0
/* Building the in-memory profile from BPF's stacks and per-CPU-summed stats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "u64map.h"

static const char *const role_names[] = {
	[LP_ROLE_WAITER] = "waiter",
};

const char *profile__role_name(enum lp_role role)
{
	if ((size_t)role < sizeof(role_names) / sizeof(role_names[0]) && role_names[role])
		return role_names[role];
	return "unknown";
}

int profile__role_from_name(const char *name, enum lp_role *role)
{
	for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (role_names[i] && !strcmp(role_names[i], name)) {
			*role = (enum lp_role)i;
			return 0;
		}
	return -ENOENT;
}

void profile__init(struct lp_profile *p, const struct lp_stacktab *stacks,
		   const struct lp_threadnames *names)
{
	memset(p, 0, sizeof(*p));
	p->mode = "contention";
	p->stacks = stacks;
	p->thread_names = names;
	p->locks_by_id = calloc(1, sizeof(struct u64map));
}

void profile__free(struct lp_profile *p)
{
	if (p->locks_by_id) {
		u64map__free(p->locks_by_id);
		free(p->locks_by_id);
	}
	for (size_t i = 0; i < p->nlocks; i++) {
		for (size_t j = 0; j < p->locks[i].nstacks; j++)
			free(p->locks[i].stacks[j].tids);
		free(p->locks[i].stacks);
	}
	free(p->locks);
	memset(p, 0, sizeof(*p));
}

static struct lp_lock *lock_for(struct lp_profile *p, uint64_t id)
{
	struct u64map *index = p->locks_by_id;
	uintptr_t slot = (uintptr_t)u64map__get(index, id);
	struct lp_lock *lock;

	if (slot)
		return &p->locks[slot - 1];
	if (p->nlocks == p->locks_cap) {
		size_t cap = p->locks_cap ? p->locks_cap * 2 : 16;
		struct lp_lock *locks = realloc(p->locks, cap * sizeof(*locks));

		if (!locks)
			return NULL;
		p->locks = locks;
		p->locks_cap = cap;
	}
	if (u64map__put(index, id, (void *)(uintptr_t)(p->nlocks + 1)))
		return NULL;
	lock = &p->locks[p->nlocks++];
	memset(lock, 0, sizeof(*lock));
	lock->id = id;
	lock->category = "contention";
	return lock;
}

static struct lp_lock_stack *lock_stack_for(struct lp_lock *lock, uint64_t stack_id,
					    enum lp_role role)
{
	struct lp_lock_stack *ls;

	for (size_t i = 0; i < lock->nstacks; i++)
		if (lock->stacks[i].stack_id == stack_id && lock->stacks[i].role == role)
			return &lock->stacks[i];
	ls = realloc(lock->stacks, (lock->nstacks + 1) * sizeof(*ls));
	if (!ls)
		return NULL;
	lock->stacks = ls;
	ls = &lock->stacks[lock->nstacks++];
	memset(ls, 0, sizeof(*ls));
	ls->stack_id = stack_id;
	ls->role = role;
	return ls;
}

static struct lp_thread_share *share_for(struct lp_lock_stack *ls, uint32_t tid)
{
	struct lp_thread_share *tids;

	for (size_t i = 0; i < ls->ntids; i++)
		if (ls->tids[i].tid == tid)
			return &ls->tids[i];
	tids = realloc(ls->tids, (ls->ntids + 1) * sizeof(*tids));
	if (!tids)
		return NULL;
	ls->tids = tids;
	tids = &ls->tids[ls->ntids++];
	memset(tids, 0, sizeof(*tids));
	tids->tid = tid;
	return tids;
}

int profile__add_stat(struct lp_profile *p, const struct lp_stat_key *key,
		      const struct lp_stat_value *val)
{
	struct lp_lock *lock;
	struct lp_lock_stack *ls;
	struct lp_thread_share *share;

	if (!val->count)
		return 0;
	lock = lock_for(p, key->lock);
	if (!lock)
		return -ENOMEM;
	ls = lock_stack_for(lock, key->stack_id, LP_ROLE_WAITER);
	share = ls ? share_for(ls, key->tid) : NULL;
	if (!share)
		return -ENOMEM;
	share->count += val->count;
	share->wait_ns += val->total_ns;
	ls->count += val->count;
	ls->wait_ns += val->total_ns;
	if (val->max_ns > ls->max_ns)
		ls->max_ns = val->max_ns;
	lock->waits += val->count;
	lock->wait_ns += val->total_ns;
	lock->timeouts += val->timeouts;
	if (val->max_ns > lock->max_ns)
		lock->max_ns = val->max_ns;
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		lock->hist[i] += val->hist[i];
	return 0;
}

static int by_wait_desc(uint64_t a_ns, uint64_t b_ns, uint64_t a_id, uint64_t b_id)
{
	if (a_ns != b_ns)
		return a_ns > b_ns ? -1 : 1;
	return a_id < b_id ? -1 : a_id > b_id;
}

static int cmp_lock(const void *a, const void *b)
{
	const struct lp_lock *x = a, *y = b;

	return by_wait_desc(x->wait_ns, y->wait_ns, x->id, y->id);
}

static int cmp_lock_stack(const void *a, const void *b)
{
	const struct lp_lock_stack *x = a, *y = b;

	return by_wait_desc(x->wait_ns, y->wait_ns, x->stack_id, y->stack_id);
}

void profile__finish(struct lp_profile *p)
{
	struct u64map threads = {};

	for (size_t i = 0; i < p->nlocks; i++) {
		struct lp_lock *lock = &p->locks[i];

		for (size_t j = 0; j < lock->nstacks; j++) {
			struct lp_lock_stack *ls = &lock->stacks[j];

			ls->stack = stacktab__get(p->stacks, ls->stack_id);
			for (size_t t = 0; t < ls->ntids; t++)
				u64map__put(&threads, (uint64_t)ls->tids[t].tid + 1, p);
		}
		qsort(lock->stacks, lock->nstacks, sizeof(lock->stacks[0]), cmp_lock_stack);
		p->total_waits += lock->waits;
		p->total_wait_ns += lock->wait_ns;
	}
	/* Sorting moves locks: the id index is rebuilt for anyone looking up afterwards. */
	qsort(p->locks, p->nlocks, sizeof(p->locks[0]), cmp_lock);
	u64map__free(p->locks_by_id);
	for (size_t i = 0; i < p->nlocks; i++)
		u64map__put(p->locks_by_id, p->locks[i].id, (void *)(uintptr_t)(i + 1));
	p->nthreads = threads.len;
	u64map__free(&threads);
}

const struct lp_frame_sym *profile__lock_site(const struct lp_lock *lock)
{
	for (size_t i = 0; i < lock->nstacks; i++)
		if (lock->stacks[i].stack && lock->stacks[i].stack->depth)
			return &lock->stacks[i].stack->frames[0];
	return NULL;
}
