// SPDX-License-Identifier: GPL-2.0
/* The accumulated statistics (see statsacc.h): an open-addressing table keyed by the whole stats
 * key, which only grows up to its cap (entries are never removed during a run). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "collect/statsacc.h"
#include "collect/statsmap.h"

struct slot {
	bool used;
	struct lp_stat_key key;
	struct lp_stat_value val;
};

struct lp_statsacc {
	struct slot *slots;
	size_t cap; /* power of two, at least twice len */
	size_t len;
	size_t max;	/* entries of distinct threads, at most */
	size_t reserve; /* and this many more for the folded (tid 0) ones */
	uint64_t folded_waits, dropped_waits;
};

static uint64_t key_hash(const struct lp_stat_key *k)
{
	uint64_t h = k->lock * 0x9e3779b97f4a7c15ULL;

	h ^= k->stack_id + 0x632be59bd9b4e019ULL + (h << 6) + (h >> 2);
	h ^= ((uint64_t)k->tid << 32 | (uint64_t)k->kind << 16 | k->source) * 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

static bool same_key(const struct lp_stat_key *a, const struct lp_stat_key *b)
{
	return a->lock == b->lock && a->stack_id == b->stack_id && a->tid == b->tid &&
	       a->kind == b->kind && a->source == b->source;
}

/* The slot of key, or the empty slot where it would go. */
static struct slot *find(const struct lp_statsacc *a, const struct lp_stat_key *key)
{
	size_t i = key_hash(key) & (a->cap - 1);

	while (a->slots[i].used && !same_key(&a->slots[i].key, key))
		i = (i + 1) & (a->cap - 1);
	return &a->slots[i];
}

static int grow(struct lp_statsacc *a)
{
	struct lp_statsacc bigger = *a;

	bigger.cap = a->cap ? a->cap * 2 : 256;
	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < a->cap; i++)
		if (a->slots[i].used)
			*find(&bigger, &a->slots[i].key) = a->slots[i];
	free(a->slots);
	*a = bigger;
	return 0;
}

struct lp_statsacc *statsacc__new(size_t max)
{
	struct lp_statsacc *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->max = max ? max : 1;
	a->reserve = a->max / 8 + 2;
	if (grow(a)) {
		free(a);
		return NULL;
	}
	return a;
}

void statsacc__free(struct lp_statsacc *a)
{
	if (!a)
		return;
	free(a->slots);
	free(a);
}

static void merge(struct lp_stat_value *to, const struct lp_stat_value *v)
{
	to->count += v->count;
	to->total_ns += v->total_ns;
	to->timeouts += v->timeouts;
	to->est_count += v->est_count;
	to->est_ns += v->est_ns;
	if (v->max_ns > to->max_ns)
		to->max_ns = v->max_ns;
	if (v->first_ns && (!to->first_ns || v->first_ns < to->first_ns))
		to->first_ns = v->first_ns;
	if (v->last_ns > to->last_ns)
		to->last_ns = v->last_ns;
	if (!to->created_stack)
		to->created_stack = v->created_stack;
	for (int s = 0; s < LP_HIST_SLOTS; s++)
		to->hist[s] += v->hist[s];
}

/* Inserts key (absent) with a zero value. NULL when out of memory. */
static struct slot *insert(struct lp_statsacc *a, const struct lp_stat_key *key)
{
	struct slot *s;

	if ((a->len + 1) * 2 > a->cap && grow(a))
		return NULL;
	s = find(a, key);
	s->used = true;
	s->key = *key;
	memset(&s->val, 0, sizeof(s->val));
	a->len++;
	return s;
}

int statsacc__add(struct lp_statsacc *a, const struct lp_stat_key *key,
		  const struct lp_stat_value *val)
{
	/* Waits are counted once, by their waiters' entries (a holder's re-counts them). */
	uint64_t waits = key->kind == LP_KIND_WAIT || key->kind == LP_KIND_GIL ? val->count : 0;
	struct lp_stat_key thread_folded = *key, lock_folded = *key;
	struct slot *s = find(a, key);

	thread_folded.tid = lock_folded.tid = 0;
	lock_folded.lock = LP_STATSACC_OTHER_LOCKS;
	if (s->used)
		goto merge;
	if (a->len < a->max) {
		s = insert(a, key);
		goto merge;
	}
	/* Past the cap: a new thread's waits join its lock's and stack's other threads (half the
	 * reserve); a new lock's, once that half is full, the other locks waited on at the same
	 * stack; with no room for that either, the waits are dropped. */
	s = find(a, &thread_folded);
	if (!s->used && a->len < a->max + a->reserve / 2)
		s = insert(a, &thread_folded);
	if (s && !s->used) {
		s = find(a, &lock_folded);
		if (!s->used && a->len < a->max + a->reserve)
			s = insert(a, &lock_folded);
	}
	if (s && !s->used) {
		a->dropped_waits += waits;
		return 0;
	}
	a->folded_waits += waits;
merge:
	if (!s)
		return -ENOMEM;
	merge(&s->val, val);
	return 0;
}

static int add_entry(void *ctx, const struct lp_stat_key *key, const struct lp_stat_value *val)
{
	return statsacc__add(ctx, key, val);
}

int statsacc__drain(struct lp_statsacc *a, int stats_fd)
{
	return statsmap__walk(stats_fd, true, add_entry, a);
}

int statsacc__to_profile(const struct lp_statsacc *a, struct lp_profile *p)
{
	int err = 0;

	for (size_t i = 0; i < a->cap && !err; i++)
		if (a->slots[i].used)
			err = profile__add_stat(p, &a->slots[i].key, &a->slots[i].val);
	return err;
}

void statsacc__info(const struct lp_statsacc *a, struct lp_statsacc_info *info)
{
	info->entries = a->len;
	info->folded_waits = a->folded_waits;
	info->dropped_waits = a->dropped_waits;
}
