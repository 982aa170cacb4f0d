// SPDX-License-Identifier: GPL-2.0
/* Building the in-memory profile from BPF's stacks and per-CPU-summed stats. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile.h"
#include "util/names.h"
#include "util/u64map.h"

static uint64_t scaled(uint64_t v, double scale)
{
	return scale > 0 ? (uint64_t)((double)v * scale + 0.5) : v;
}

static const char *const role_names[] = {
	[LP_ROLE_WAITER] = "waiter",
	[LP_ROLE_HOLDER] = "holder",
	[LP_ROLE_HOLD] = "hold",
};

const char *profile__role_name(enum lp_role role)
{
	return names__of(role_names, NAMES_COUNT(role_names), role);
}

int profile__role_from_name(const char *name, enum lp_role *role)
{
	int i = names__find(role_names, NAMES_COUNT(role_names), name);

	if (i < 0)
		return -ENOENT;
	*role = (enum lp_role)i;
	return 0;
}

void profile__init(struct lp_profile *p, const struct lp_stacktab *stacks,
		   const struct lp_threadnames *names)
{
	memset(p, 0, sizeof(*p));
	p->mode = "contention";
	p->stacks = stacks;
	p->thread_names = names;
	p->locks_by_id = calloc(1, sizeof(struct u64map));
	p->gil_handoffs = -1;
	p->gil_enabled = 1;
}

void profile__free(struct lp_profile *p)
{
	if (p->locks_by_id) {
		u64map__free(p->locks_by_id);
		free(p->locks_by_id);
	}
	free(p->gil_threads);
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

/* Widens ls's lifetime to [first, last] (0: unknown). */
static void note_times(struct lp_lock_stack *ls, uint64_t first, uint64_t last)
{
	if (first && (!ls->first_ns || first < ls->first_ns))
		ls->first_ns = first;
	if (last > ls->last_ns)
		ls->last_ns = last;
}

/* Adds from's figures to into's (the same stack, or one that symbolizes the same). */
static void add_stack_figures(struct lp_lock_stack *into, const struct lp_lock_stack *from)
{
	into->count += from->count;
	into->wait_ns += from->wait_ns;
	into->timeouts += from->timeouts;
	if (!into->created_stack_id)
		into->created_stack_id = from->created_stack_id;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
	note_times(into, from->first_ns, from->last_ns);
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		into->hist[i] += from->hist[i];
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

/* Adds the shares of from's threads to into's. 0 or -ENOMEM. */
static int add_shares(struct lp_lock_stack *into, const struct lp_lock_stack *from)
{
	for (size_t t = 0; t < from->ntids; t++) {
		struct lp_thread_share *share = share_for(into, from->tids[t].tid);

		if (!share)
			return -ENOMEM;
		share->count += from->tids[t].count;
		share->wait_ns += from->tids[t].wait_ns;
		if (from->tids[t].first_ns &&
		    (!share->first_ns || from->tids[t].first_ns < share->first_ns))
			share->first_ns = from->tids[t].first_ns;
		if (from->tids[t].last_ns > share->last_ns)
			share->last_ns = from->tids[t].last_ns;
	}
	return 0;
}

static int add_gil_thread(struct lp_profile *p, uint32_t tid, const struct lp_stat_value *val)
{
	struct lp_gil_thread *g = NULL;

	for (size_t i = 0; i < p->ngil_threads && !g; i++)
		if (p->gil_threads[i].tid == tid)
			g = &p->gil_threads[i];
	if (!g) {
		g = realloc(p->gil_threads, (p->ngil_threads + 1) * sizeof(*g));
		if (!g)
			return -ENOMEM;
		p->gil_threads = g;
		g = &p->gil_threads[p->ngil_threads++];
		memset(g, 0, sizeof(*g));
		g->tid = tid;
	}
	g->waits += val->count;
	g->wait_ns += val->total_ns;
	if (val->max_ns > g->max_ns)
		g->max_ns = val->max_ns;
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		g->hist[i] += val->hist[i];
	return 0;
}

/* -m full: holds are upscaled here by the sampling rate and the duty cycle (p->full). */
static int add_hold(struct lp_profile *p, const struct lp_stat_key *key,
		    const struct lp_stat_value *val)
{
	double scale = key->kind == LP_KIND_HOLD_SAMPLED ? p->full.scale_sampled
							 : p->full.scale_contended;
	uint64_t count = scaled(val->count, scale), ns = scaled(val->total_ns, scale);
	struct lp_lock *lock = lock_for(p, key->lock);
	struct lp_lock_stack *ls;

	if (!lock)
		return -ENOMEM;
	struct lp_thread_share *share;

	ls = lock_stack_for(lock, key->stack_id, LP_ROLE_HOLD);
	share = ls ? share_for(ls, key->tid) : NULL;
	if (!share)
		return -ENOMEM;
	share->count += count;
	share->wait_ns += ns;
	ls->count += count;
	ls->wait_ns += ns;
	ls->est_count += (double)count;
	ls->est_ns += (double)ns;
	note_times(ls, val->first_ns, val->last_ns);
	if (val->max_ns > ls->max_ns)
		ls->max_ns = val->max_ns;
	if (!lock->source)
		lock->source = key->source;
	if (val->created_stack && !lock->created_stack_id)
		lock->created_stack_id = val->created_stack;
	lock->hold_count += count;
	lock->hold_ns += ns;
	if (val->max_ns > lock->max_hold_ns)
		lock->max_hold_ns = val->max_ns;
	return 0;
}

/* The timing probes' duty cycle (see budget.c's timing_scale). */
void profile__count_lock(struct lp_profile *p, const struct lp_lock *lock)
{
	switch (lock->category) {
	case LP_CATEGORY_IDLE:
		p->idle_waits += lock->waits;
		p->idle_wait_ns += lock->wait_ns;
		break;
	case LP_CATEGORY_RESOURCE:
		p->resource_waits += lock->waits;
		p->resource_wait_ns += lock->wait_ns;
		break;
	case LP_CATEGORY_GIL:
		p->gil_waits += lock->waits;
		p->gil_wait_ns += lock->wait_ns;
		break;
	case LP_CATEGORY_OBJECT:
		p->object_waits += lock->waits;
		p->object_wait_ns += lock->wait_ns;
		break;
	case LP_CATEGORY_STW:
		p->stw_pauses += lock->waits;
		p->stw_ns += lock->wait_ns;
		if (lock->max_ns > p->stw_max_ns)
			p->stw_max_ns = lock->max_ns;
		break;
	default:
		p->total_waits += lock->waits;
		p->total_wait_ns += lock->wait_ns;
	}
}

double profile__timing_scale(const struct lp_profile *p)
{
	double duty = p->overhead.timing_duty;

	if (!p->overhead.measured || duty <= 0 || duty >= 0.9999)
		return 1.0;
	return p->overhead.timing_scale > 0 ? p->overhead.timing_scale : 1.0 / duty;
}

/* val with its counts and durations multiplied by scale (the duty cycle's upscaling). */
static void scale_value(struct lp_stat_value *v, double scale)
{
	if (scale == 1.0)
		return;
	v->count = scaled(v->count, scale);
	v->total_ns = scaled(v->total_ns, scale);
	v->timeouts = scaled(v->timeouts, scale);
	v->est_count = scaled(v->est_count, scale);
	v->est_ns = scaled(v->est_ns, scale);
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		v->hist[i] = (__u32)scaled(v->hist[i], scale);
}

int profile__add_stat(struct lp_profile *p, const struct lp_stat_key *key,
		      const struct lp_stat_value *raw)
{
	struct lp_stat_value scaled_val = *raw, *val = &scaled_val;

	enum lp_role role = key->kind == LP_KIND_HOLDER ? LP_ROLE_HOLDER : LP_ROLE_WAITER;
	struct lp_lock *lock;
	struct lp_lock_stack *ls;
	struct lp_thread_share *share;

	/* A lock at address 0 is a failed read on the BPF side, not a lock. */
	if (!val->count || !key->lock)
		return 0;
	if (key->kind == LP_KIND_HOLD_SAMPLED || key->kind == LP_KIND_HOLD_FULL)
		return add_hold(p, key, val);
	lock = lock_for(p, key->lock);
	if (!lock)
		return -ENOMEM;
	if (key->kind == LP_KIND_GIL) {
		lock->category = LP_CATEGORY_GIL;
		if (add_gil_thread(p, key->tid, val))
			return -ENOMEM;
	}
	if (key->kind == LP_KIND_STW)
		lock->category = LP_CATEGORY_STW;
	else if (key->source == LP_WAIT_OBJECT)
		lock->category = LP_CATEGORY_OBJECT;
	if (key->kind != LP_KIND_GIL)
		scale_value(val, profile__timing_scale(p));
	ls = lock_stack_for(lock, key->stack_id, role);
	share = ls ? share_for(ls, key->tid) : NULL;
	if (!share)
		return -ENOMEM;
	share->count += val->count;
	share->wait_ns += val->total_ns;
	if (val->first_ns && (!share->first_ns || val->first_ns < share->first_ns))
		share->first_ns = val->first_ns;
	if (val->last_ns > share->last_ns)
		share->last_ns = val->last_ns;
	ls->count += val->count;
	ls->wait_ns += val->total_ns;
	ls->timeouts += val->timeouts;
	if (!ls->created_stack_id)
		ls->created_stack_id = val->created_stack;
	note_times(ls, val->first_ns, val->last_ns);
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		ls->hist[i] += val->hist[i];
	/* Entries from before the stack budget (and tests' fixtures) weigh what they count. */
	if (val->est_count || val->est_ns) {
		ls->est_count += (double)val->est_count / LP_WEIGHT_ONE;
		ls->est_ns += (double)val->est_ns;
	} else {
		ls->est_count += (double)val->count;
		ls->est_ns += (double)val->total_ns;
	}
	if (val->max_ns > ls->max_ns)
		ls->max_ns = val->max_ns;
	/* A holder entry re-counts waits already counted for the waiters. */
	if (role == LP_ROLE_HOLDER)
		return 0;
	if (!lock->source)
		lock->source = key->source;
	if (val->created_stack && !lock->created_stack_id)
		lock->created_stack_id = val->created_stack;
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

	if (x->category != y->category)
		return x->category < y->category ? -1 : 1;
	if (x->wait_ns == y->wait_ns && x->id == y->id)
		return x->generation < y->generation ? -1 : x->generation > y->generation;
	return by_wait_desc(x->wait_ns, y->wait_ns, x->id, y->id);
}

static int cmp_lock_stack(const void *a, const void *b)
{
	const struct lp_lock_stack *x = a, *y = b;

	if (x->role != y->role)
		return x->role < y->role ? -1 : 1;
	return by_wait_desc(x->wait_ns, y->wait_ns, x->stack_id, y->stack_id);
}

static bool same_frames(const struct lp_stack_sym *a, const struct lp_stack_sym *b)
{
	if (!a || !b || a->depth != b->depth)
		return false;
	for (uint32_t i = 0; i < a->depth; i++)
		if (a->frames[i].line != b->frames[i].line ||
		    strcmp(a->frames[i].function, b->frames[i].function) ||
		    strcmp(a->frames[i].file, b->frames[i].file))
			return false;
	return true;
}

/* Folds stacks of one role that symbolize the same (BPF keys them by instruction addresses,
 * which differ when, e.g., the adaptive interpreter rewrote a call site) into the first. */
static void fold_equal_stacks(struct lp_lock *lock)
{
	size_t kept = 0;

	for (size_t j = 0; j < lock->nstacks; j++) {
		struct lp_lock_stack *ls = &lock->stacks[j];
		struct lp_lock_stack *into = NULL;

		for (size_t k = 0; k < kept && !into; k++)
			if (lock->stacks[k].role == ls->role &&
			    same_frames(lock->stacks[k].stack, ls->stack))
				into = &lock->stacks[k];
		if (!into) {
			lock->stacks[kept++] = *ls;
			continue;
		}
		add_stack_figures(into, ls);
		/* Out of memory: that stack's per-thread split is lost, not its totals. */
		add_shares(into, ls);
		free(ls->tids);
	}
	lock->nstacks = kept;
}

/* Multiplies a stack's figures, and its threads' shares, by its share of the exact totals. */
static void rescale_stack(struct lp_lock_stack *ls, double count, double ns)
{
	double fc = ls->count ? count / (double)ls->count : 0,
	       fn = ls->wait_ns ? ns / (double)ls->wait_ns : 0;

	for (size_t t = 0; t < ls->ntids; t++) {
		ls->tids[t].count = scaled(ls->tids[t].count, fc);
		ls->tids[t].wait_ns = scaled(ls->tids[t].wait_ns, fn);
	}
	ls->count = (uint64_t)(count + 0.5);
	ls->wait_ns = (uint64_t)(ns + 0.5);
}

/* The stack budget: waits whose stack was not captured keep the lock's totals exact in an
 * "unsampled" entry; here the captured stacks share those totals out, each in proportion to its
 * weighted estimate (every captured wait stands for 1 / its capture probability), and the
 * unsampled entry goes, unless no stack of that role was captured at all. */
static void share_out_unsampled(struct lp_lock *lock, enum lp_role role)
{
	double count = 0, ns = 0, est_count = 0, est_ns = 0;
	struct lp_lock_stack *unsampled = NULL;
	size_t kept = 0;

	for (size_t j = 0; j < lock->nstacks; j++) {
		struct lp_lock_stack *ls = &lock->stacks[j];

		if (ls->role != role)
			continue;
		count += (double)ls->count;
		ns += (double)ls->wait_ns;
		if (ls->stack_id == LP_STACK_UNSAMPLED) {
			unsampled = ls;
		} else {
			est_count += ls->est_count;
			est_ns += ls->est_ns;
		}
	}
	if (!unsampled || est_count <= 0 || est_ns <= 0)
		return;
	for (size_t j = 0; j < lock->nstacks; j++) {
		struct lp_lock_stack *ls = &lock->stacks[j];

		if (ls == unsampled) {
			free(ls->tids);
			continue;
		}
		if (ls->role == role)
			rescale_stack(ls, count * ls->est_count / est_count,
				      ns * ls->est_ns / est_ns);
		lock->stacks[kept++] = *ls;
	}
	lock->nstacks = kept;
}

void profile__link(struct lp_profile *p)
{
	for (size_t i = 0; i < p->nlocks; i++) {
		struct lp_lock *lock = &p->locks[i];

		share_out_unsampled(lock, LP_ROLE_WAITER);
		share_out_unsampled(lock, LP_ROLE_HOLDER);
		share_out_unsampled(lock, LP_ROLE_HOLD);

		for (size_t j = 0; j < lock->nstacks; j++)
			lock->stacks[j].stack = stacktab__get(p->stacks, lock->stacks[j].stack_id);
		fold_equal_stacks(lock);
		qsort(lock->stacks, lock->nstacks, sizeof(lock->stacks[0]), cmp_lock_stack);
	}
}

static bool same_site(const struct lp_frame_sym *a, const struct lp_frame_sym *b)
{
	return a && b && a->line == b->line && !strcmp(a->file, b->file) &&
	       !strcmp(a->function, b->function);
}

/* Moves src's stacks and totals into dst (idle waits on per-wait locks, same site). */
static int merge_lock(struct lp_lock *dst, struct lp_lock *src)
{
	for (size_t j = 0; j < src->nstacks; j++) {
		struct lp_lock_stack *from = &src->stacks[j];
		struct lp_lock_stack *to = lock_stack_for(dst, from->stack_id, from->role);

		if (!to)
			return -ENOMEM;
		to->stack = from->stack;
		add_stack_figures(to, from);
		if (add_shares(to, from))
			return -ENOMEM;
		free(from->tids);
	}
	free(src->stacks);
	src->stacks = NULL;
	src->nstacks = 0;
	dst->waits += src->waits;
	dst->wait_ns += src->wait_ns;
	dst->timeouts += src->timeouts;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		dst->hist[i] += src->hist[i];
	dst->merged += 1 + src->merged;
	dst->hold_count += src->hold_count;
	dst->hold_ns += src->hold_ns;
	if (src->max_hold_ns > dst->max_hold_ns)
		dst->max_hold_ns = src->max_hold_ns;
	return 0;
}

/* A lock's totals again, from its stacks: its waiters' waits, its holds (-m full). */
static void totals_from_stacks(struct lp_lock *lock)
{
	lock->waits = lock->wait_ns = lock->max_ns = lock->timeouts = 0;
	lock->hold_count = lock->hold_ns = lock->max_hold_ns = 0;
	lock->created_stack_id = 0;
	memset(lock->hist, 0, sizeof(lock->hist));
	for (size_t j = 0; j < lock->nstacks; j++) {
		const struct lp_lock_stack *ls = &lock->stacks[j];

		if (!lock->created_stack_id)
			lock->created_stack_id = ls->created_stack_id;
		if (ls->role == LP_ROLE_HOLD) {
			lock->hold_count += ls->count;
			lock->hold_ns += ls->wait_ns;
			if (ls->max_ns > lock->max_hold_ns)
				lock->max_hold_ns = ls->max_ns;
			continue;
		}
		if (ls->role != LP_ROLE_WAITER)
			continue;
		lock->waits += ls->count;
		lock->wait_ns += ls->wait_ns;
		lock->timeouts += ls->timeouts;
		if (ls->max_ns > lock->max_ns)
			lock->max_ns = ls->max_ns;
		for (int i = 0; i < LP_HIST_SLOTS; i++)
			lock->hist[i] += ls->hist[i];
	}
}

/* How much [a0, a1] and [b0, b1] overlap; negative: how far apart they are. */
static double overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	uint64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi >= lo ? (double)(hi - lo) + 1 : -(double)(lo - hi);
}

static unsigned int group_by_time(uint64_t f, uint64_t l, unsigned int ngroups,
				  const uint64_t *first, const uint64_t *last)
{
	unsigned int best_g = 0;
	double best = 0;

	for (unsigned int g = 0; g < ngroups; g++) {
		double o = overlap(f, l, first[g], last[g]);

		if (!g || o > best) {
			best = o;
			best_g = g;
		}
	}
	return best_g;
}

/* The part of ls whose threads' waits go with group g (ls's shares split by lifetime): its
 * figures are those threads'; the histogram, timeouts and maximum stay with group 0's part. */
static int stack_part(const struct lp_lock_stack *ls, unsigned int g, unsigned int ngroups,
		      const uint64_t *first, const uint64_t *last, struct lp_lock_stack *part)
{
	*part = *ls;
	part->tids = NULL;
	part->ntids = 0;
	part->count = part->wait_ns = 0;
	part->first_ns = part->last_ns = 0;
	if (g) {
		part->timeouts = part->max_ns = 0;
		memset(part->hist, 0, sizeof(part->hist));
	}
	for (size_t t = 0; t < ls->ntids; t++) {
		const struct lp_thread_share *sh = &ls->tids[t];
		struct lp_thread_share *to;

		if (group_by_time(sh->first_ns, sh->last_ns, ngroups, first, last) != g)
			continue;
		to = share_for(part, sh->tid);
		if (!to)
			return -ENOMEM;
		*to = *sh;
		part->count += sh->count;
		part->wait_ns += sh->wait_ns;
		note_times(part, sh->first_ns, sh->last_ns);
	}
	return 0;
}

int profile__split_lock(struct lp_profile *p, size_t i, const unsigned int *group,
			unsigned int ngroups, const uint64_t *first, const uint64_t *last)
{
	struct lp_lock *lock = &p->locks[i];
	struct lp_lock_stack *parts[LP_MAX_GENERATIONS];
	size_t nparts[LP_MAX_GENERATIONS];
	int err = 0;

	if (ngroups < 2 || ngroups > LP_MAX_GENERATIONS)
		return 0;
	/* Every stack's part of each group first; the lock's stacks are replaced after. */
	for (unsigned int g = 0; g < ngroups; g++) {
		parts[g] = calloc(lock->nstacks ? lock->nstacks : 1, sizeof(*parts[g]));
		nparts[g] = 0;
		if (!parts[g])
			err = -ENOMEM;
	}
	for (size_t j = 0; !err && j < lock->nstacks; j++) {
		const struct lp_lock_stack *ls = &lock->stacks[j];

		if (group[j] != LP_GROUP_BY_TIME) {
			parts[group[j]][nparts[group[j]]] = *ls;
			parts[group[j]][nparts[group[j]]++].tids = NULL;
			continue;
		}
		for (unsigned int g = 0; !err && g < ngroups; g++) {
			struct lp_lock_stack part;

			err = stack_part(ls, g, ngroups, first, last, &part);
			if (!err && part.ntids)
				parts[g][nparts[g]++] = part;
			else
				free(part.tids);
		}
	}
	/* The moved stacks keep their own thread shares (copied, not shared). */
	for (unsigned int g = 0; !err && g < ngroups; g++)
		for (size_t k = 0; !err && k < nparts[g]; k++) {
			struct lp_lock_stack *ls = &parts[g][k];
			const struct lp_lock_stack *orig = NULL;

			if (ls->tids)
				continue;
			for (size_t j = 0; j < lock->nstacks && !orig; j++)
				if (lock->stacks[j].stack_id == ls->stack_id &&
				    lock->stacks[j].role == ls->role)
					orig = &lock->stacks[j];
			ls->ntids = 0;
			if (orig && add_shares(ls, orig))
				err = -ENOMEM;
		}
	if (!err && p->nlocks + ngroups - 1 > p->locks_cap) {
		size_t cap = p->locks_cap * 2 + ngroups;
		struct lp_lock *locks = realloc(p->locks, cap * sizeof(*locks));

		if (!locks)
			err = -ENOMEM;
		else {
			p->locks = locks;
			p->locks_cap = cap;
			lock = &p->locks[i];
		}
	}
	if (err) {
		for (unsigned int g = 0; g < ngroups; g++) {
			for (size_t k = 0; parts[g] && k < nparts[g]; k++)
				free(parts[g][k].tids);
			free(parts[g]);
		}
		return err;
	}
	for (size_t j = 0; j < lock->nstacks; j++)
		free(lock->stacks[j].tids);
	free(lock->stacks);
	for (unsigned int g = 1; g < ngroups; g++) {
		struct lp_lock *added = &p->locks[p->nlocks++];

		*added = *lock;
		added->generation = g;
		added->stacks = parts[g];
		added->nstacks = nparts[g];
		totals_from_stacks(added);
	}
	lock->stacks = parts[0];
	lock->nstacks = nparts[0];
	totals_from_stacks(lock);
	return 0;
}

static int cmp_gil_thread(const void *a, const void *b)
{
	const struct lp_gil_thread *x = a, *y = b;

	return by_wait_desc(x->wait_ns, y->wait_ns, x->tid, y->tid);
}

void profile__finish(struct lp_profile *p)
{
	struct u64map threads = {};
	size_t kept = 0;

	/* Condition.wait and friends wait on a fresh lock each time: one entry per site reads
	 * better than thousands of one-wait locks. */
	for (size_t i = 0; i < p->nlocks; i++) {
		struct lp_lock *lock = &p->locks[i];
		bool merged = false;

		if (profile__is_signal_category(lock->category) && lock->site) {
			for (size_t k = 0; k < kept && !merged; k++) {
				struct lp_lock *into = &p->locks[k];

				if (into->category == lock->category &&
				    same_site(into->site, lock->site) && !merge_lock(into, lock))
					merged = true;
			}
		}
		if (merged) {
			free(lock->stacks);
			continue;
		}
		if (kept != i)
			p->locks[kept] = *lock;
		kept++;
	}
	p->nlocks = kept;

	for (size_t i = 0; i < p->nlocks; i++) {
		struct lp_lock *lock = &p->locks[i];

		for (size_t j = 0; j < lock->nstacks; j++) {
			struct lp_lock_stack *ls = &lock->stacks[j];

			if (ls->role != LP_ROLE_WAITER || lock->category == LP_CATEGORY_GIL ||
			    lock->category == LP_CATEGORY_STW)
				continue;
			for (size_t t = 0; t < ls->ntids; t++)
				u64map__put(&threads, (uint64_t)ls->tids[t].tid + 1, p);
		}
		qsort(lock->stacks, lock->nstacks, sizeof(lock->stacks[0]), cmp_lock_stack);
		profile__count_lock(p, lock);
	}
	/* Sorting moves locks: the id index is rebuilt for anyone looking up afterwards. */
	if (p->nlocks)
		qsort(p->locks, p->nlocks, sizeof(p->locks[0]), cmp_lock);
	u64map__free(p->locks_by_id);
	for (size_t i = 0; i < p->nlocks; i++)
		u64map__put(p->locks_by_id, p->locks[i].id, (void *)(uintptr_t)(i + 1));
	p->nthreads = threads.len;
	u64map__free(&threads);
	if (p->ngil_threads) /* qsort's array may not be NULL, even when empty */
		qsort(p->gil_threads, p->ngil_threads, sizeof(p->gil_threads[0]), cmp_gil_thread);
}

const struct lp_lock_stack *profile__top_stack(const struct lp_lock *lock, enum lp_role role)
{
	for (size_t i = 0; i < lock->nstacks; i++)
		if (lock->stacks[i].role == role)
			return &lock->stacks[i];
	return NULL;
}

const struct lp_frame_sym *profile__lock_site(const struct lp_lock *lock)
{
	for (size_t i = 0; i < lock->nstacks; i++)
		if (lock->stacks[i].role == LP_ROLE_WAITER && lock->stacks[i].stack &&
		    lock->stacks[i].stack->depth)
			return &lock->stacks[i].stack->frames[0];
	/* -m full: a lock never waited for is known by where it was taken. */
	for (size_t i = 0; i < lock->nstacks; i++)
		if (lock->stacks[i].role == LP_ROLE_HOLD && lock->stacks[i].stack &&
		    lock->stacks[i].stack->depth)
			return &lock->stacks[i].stack->frames[0];
	return NULL;
}

bool profile__is_signal_category(enum lp_category c)
{
	return c == LP_CATEGORY_IDLE || c == LP_CATEGORY_RESOURCE;
}

const char *profile__category_name(enum lp_category c)
{
	switch (c) {
	case LP_CATEGORY_IDLE:
		return "idle";
	case LP_CATEGORY_GIL:
		return "gil";
	case LP_CATEGORY_RESOURCE:
		return "resource";
	case LP_CATEGORY_OBJECT:
		return "object";
	case LP_CATEGORY_STW:
		return "stop-the-world";
	case LP_CATEGORY_CONTENTION:
		break;
	}
	return "contention";
}
