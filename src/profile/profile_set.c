// SPDX-License-Identifier: GPL-2.0
/* Sets of per-process profiles (see profile_set.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_set.h"

/* A copy of p that owns its arrays (the lock index is left out: nothing reads it after
 * profile__finish). 0 or -ENOMEM (nothing to free). */
static int profile_copy(const struct lp_profile *p, struct lp_profile *out)
{
	*out = *p;
	out->locks_by_id = NULL;
	out->locks = NULL;
	out->nlocks = out->locks_cap = 0;
	out->gil_threads = NULL;
	out->ngil_threads = 0;
	if (p->ngil_threads) {
		out->gil_threads = malloc(p->ngil_threads * sizeof(*p->gil_threads));
		if (!out->gil_threads)
			goto fail;
		memcpy(out->gil_threads, p->gil_threads, p->ngil_threads * sizeof(*p->gil_threads));
		out->ngil_threads = p->ngil_threads;
	}
	if (p->nlocks && !(out->locks = calloc(p->nlocks, sizeof(*p->locks))))
		goto fail;
	out->locks_cap = p->nlocks;
	for (size_t i = 0; i < p->nlocks; i++) {
		struct lp_lock *lock = &out->locks[out->nlocks];

		*lock = p->locks[i];
		lock->stacks = calloc(lock->nstacks ? lock->nstacks : 1, sizeof(*lock->stacks));
		if (!lock->stacks)
			goto fail;
		out->nlocks++;
		for (size_t j = 0; j < lock->nstacks; j++) {
			struct lp_lock_stack *ls = &lock->stacks[j];

			*ls = p->locks[i].stacks[j];
			ls->tids = NULL;
			if (!ls->ntids)
				continue;
			ls->tids = malloc(ls->ntids * sizeof(*ls->tids));
			if (!ls->tids) {
				ls->ntids = 0;
				goto fail;
			}
			memcpy(ls->tids, p->locks[i].stacks[j].tids, ls->ntids * sizeof(*ls->tids));
		}
	}
	return 0;
fail:
	profile__free(out);
	return -ENOMEM;
}

void profile_set__free(struct lp_profile_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		profile__free(&set->procs[i].profile);
	free(set->procs);
	memset(set, 0, sizeof(*set));
}

int profile_set__add(struct lp_profile_set *set, const struct lp_proc_info *proc,
		     struct lp_profile *profile, bool copy)
{
	struct lp_proc_profile *procs = realloc(set->procs, (set->n + 1) * sizeof(*procs));

	if (!procs)
		return -ENOMEM;
	set->procs = procs;
	procs[set->n].proc = *proc;
	if (copy) {
		if (profile_copy(profile, &procs[set->n].profile))
			return -ENOMEM;
	} else {
		procs[set->n].profile = *profile;
		memset(profile, 0, sizeof(*profile));
	}
	set->n++;
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct lp_proc_info *x = &((const struct lp_proc_profile *)a)->proc;
	const struct lp_proc_info *y = &((const struct lp_proc_profile *)b)->proc;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->attached_ns < y->attached_ns ? -1 : x->attached_ns > y->attached_ns;
}

void profile_set__sort(struct lp_profile_set *set)
{
	if (set->n > 1)
		qsort(set->procs, set->n, sizeof(*set->procs), by_pid);
}

const struct lp_proc_profile *profile_set__find(const struct lp_profile_set *set, pid_t pid)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->procs[i].proc.pid == pid)
			return &set->procs[i];
	return NULL;
}

static uint64_t minus(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void hist_minus(uint64_t *a, const uint64_t *b)
{
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		a[i] = minus(a[i], b[i]);
}

static const struct lp_lock *find_lock(const struct lp_profile *p, const struct lp_lock *like)
{
	for (size_t i = 0; i < p->nlocks; i++)
		if (p->locks[i].id == like->id && p->locks[i].generation == like->generation)
			return &p->locks[i];
	return NULL;
}

static void stack_minus(struct lp_lock_stack *ls, const struct lp_lock_stack *before)
{
	size_t kept = 0;

	ls->count = minus(ls->count, before->count);
	ls->wait_ns = minus(ls->wait_ns, before->wait_ns);
	ls->timeouts = minus(ls->timeouts, before->timeouts);
	ls->est_count = ls->est_count > before->est_count ? ls->est_count - before->est_count : 0;
	ls->est_ns = ls->est_ns > before->est_ns ? ls->est_ns - before->est_ns : 0;
	hist_minus(ls->hist, before->hist);
	for (size_t t = 0; t < ls->ntids; t++) {
		struct lp_thread_share share = ls->tids[t];

		for (size_t u = 0; u < before->ntids; u++) {
			if (before->tids[u].tid != share.tid)
				continue;
			share.count = minus(share.count, before->tids[u].count);
			share.wait_ns = minus(share.wait_ns, before->tids[u].wait_ns);
		}
		if (share.count)
			ls->tids[kept++] = share;
	}
	ls->ntids = kept;
}

/* lock minus before; false when nothing is left of it. */
static bool lock_minus(struct lp_lock *lock, const struct lp_lock *before)
{
	size_t kept = 0;

	lock->waits = minus(lock->waits, before->waits);
	lock->wait_ns = minus(lock->wait_ns, before->wait_ns);
	lock->timeouts = minus(lock->timeouts, before->timeouts);
	lock->hold_count = minus(lock->hold_count, before->hold_count);
	lock->hold_ns = minus(lock->hold_ns, before->hold_ns);
	hist_minus(lock->hist, before->hist);
	for (size_t j = 0; j < lock->nstacks; j++) {
		struct lp_lock_stack *ls = &lock->stacks[j];

		for (size_t k = 0; k < before->nstacks; k++)
			if (before->stacks[k].stack_id == ls->stack_id &&
			    before->stacks[k].role == ls->role)
				stack_minus(ls, &before->stacks[k]);
		if (ls->count)
			lock->stacks[kept++] = *ls;
		else
			free(ls->tids);
	}
	lock->nstacks = kept;
	return lock->waits || lock->hold_count;
}

static void profile_minus(struct lp_profile *p, const struct lp_profile *before)
{
	const uint64_t *b = (const uint64_t *)&before->counters;
	uint64_t *a = (uint64_t *)&p->counters;
	size_t kept = 0;

	for (size_t i = 0; i < sizeof(p->counters) / sizeof(uint64_t); i++)
		a[i] = minus(a[i], b[i]);
	p->start_unix_ns = before->start_unix_ns + before->duration_ns;
	p->duration_ns = minus(p->duration_ns, before->duration_ns);
	p->total_waits = p->total_wait_ns = p->idle_waits = p->idle_wait_ns = 0;
	p->resource_waits = p->resource_wait_ns = p->gil_waits = p->gil_wait_ns = 0;
	p->object_waits = p->object_wait_ns = p->stw_pauses = p->stw_ns = p->stw_max_ns = 0;
	for (size_t i = 0; i < p->nlocks; i++) {
		struct lp_lock *lock = &p->locks[i];
		const struct lp_lock *old = find_lock(before, lock);

		if (old && !lock_minus(lock, old)) {
			free(lock->stacks);
			continue;
		}
		/* The longest pause of the span is not known apart: the run's, as a bound. */
		profile__count_lock(p, lock);
		p->locks[kept++] = *lock;
	}
	p->nlocks = kept;
	for (size_t i = 0; i < p->ngil_threads; i++)
		for (size_t j = 0; j < before->ngil_threads; j++) {
			struct lp_gil_thread *t = &p->gil_threads[i];
			const struct lp_gil_thread *o = &before->gil_threads[j];

			if (t->tid != o->tid)
				continue;
			t->waits = minus(t->waits, o->waits);
			t->wait_ns = minus(t->wait_ns, o->wait_ns);
			hist_minus(t->hist, o->hist);
		}
}

int profile_set__subtract(struct lp_profile_set *later, const struct lp_profile_set *earlier)
{
	for (size_t i = 0; i < later->n; i++) {
		struct lp_proc_profile *pp = &later->procs[i];
		const struct lp_proc_profile *old = NULL;

		for (size_t j = 0; j < earlier->n && !old; j++)
			if (earlier->procs[j].proc.pid == pp->proc.pid &&
			    earlier->procs[j].proc.attached_ns == pp->proc.attached_ns)
				old = &earlier->procs[j];
		if (old)
			profile_minus(&pp->profile, &old->profile);
	}
	later->start_unix_ns = earlier->start_unix_ns + earlier->duration_ns;
	later->duration_ns = minus(later->duration_ns, earlier->duration_ns);
	return 0;
}
