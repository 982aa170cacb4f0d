// SPDX-License-Identifier: GPL-2.0
/* lockprof serve's cumulative totals (store.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/render.h"
#include "serve/store.h"

static uint64_t hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL; /* FNV-1a */
	return h;
}

static uint64_t nonzero(uint64_t h)
{
	return h ? h : 1;
}

/* The next probe after a collision (keys are hashes; 0 is not a key). */
static uint64_t next_key(uint64_t h)
{
	return h + 1 ? h + 1 : 1;
}

/* The pool's copy of str, or NULL (out of memory). */
static const char *intern(struct lp_store *s, const char *str)
{
	uint64_t h = nonzero(hash_bytes(0xcbf29ce484222325ULL, str, strlen(str)));
	char *found, *copy;

	while ((found = u64map__get(&s->strings, h))) {
		if (!strcmp(found, str))
			return found;
		h = next_key(h);
	}
	copy = strdup(str);
	if (!copy || u64map__put(&s->strings, h, copy)) {
		free(copy);
		return NULL;
	}
	return copy;
}

static struct lp_stack_sym *new_stack(uint64_t id, uint32_t depth)
{
	struct lp_stack_sym *st = calloc(1, sizeof(*st) + depth * sizeof(st->frames[0]));

	if (st) {
		st->id = id;
		st->depth = depth;
	}
	return st;
}

int store__init(struct lp_store *s, unsigned int max_series, double retain_s, uint64_t start_ns,
		uint64_t start_unix_ns)
{
	memset(s, 0, sizeof(*s));
	s->max_series = max_series ? max_series : 1;
	s->retain_s = retain_s;
	s->start_ns = start_ns;
	s->start_unix_ns = start_unix_ns;
	s->next_serial = 1;
	s->other_stacks = new_stack(0, 1);
	if (!s->other_stacks)
		return -ENOMEM;
	s->other_stacks->frames[0].function = "<other stacks>";
	s->other_stacks->frames[0].file = "";
	return 0;
}

static void free_proc(struct lp_store_proc *p)
{
	u64map__for_each(&p->stacks, i)
		free(p->stacks.values[i]);
	u64map__free(&p->stacks);
	u64map__free(&p->series_index);
	u64map__free(&p->sample_index);
	free(p->series);
	free(p->samples);
	free(p);
}

void store__free(struct lp_store *s)
{
	for (size_t i = 0; i < s->nprocs; i++)
		free_proc(s->procs[i]);
	free(s->procs);
	u64map__for_each(&s->strings, i)
		free(s->strings.values[i]);
	u64map__free(&s->strings);
	free(s->other_stacks);
	memset(s, 0, sizeof(*s));
}

struct lp_store_proc *store__proc(const struct lp_store *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i]->pid == pid && !s->procs[i]->exited)
			return s->procs[i];
	return NULL;
}

size_t store__live_procs(const struct lp_store *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nprocs; i++)
		n += !s->procs[i]->exited;
	return n;
}

static void drop_proc(struct lp_store *s, size_t i)
{
	free_proc(s->procs[i]);
	memmove(&s->procs[i], &s->procs[i + 1], (s->nprocs - i - 1) * sizeof(*s->procs));
	s->nprocs--;
	s->procs_dropped++;
}

/* The process's entry, made on its first profile. NULL: out of memory, or the cap reached
 * with no exited process to make room. */
static struct lp_store_proc *get_proc(struct lp_store *s, pid_t pid, const char *comm,
				      const struct lp_profile *prof)
{
	struct lp_store_proc *p = store__proc(s, pid), **procs;

	if (p)
		return p;
	if (s->nprocs == LP_STORE_MAX_PROCS) {
		size_t i = 0;

		while (i < s->nprocs && !s->procs[i]->exited)
			i++;
		if (i == s->nprocs) {
			s->procs_dropped++;
			return NULL;
		}
		drop_proc(s, i);
	}
	procs = realloc(s->procs, (s->nprocs + 1) * sizeof(*procs));
	if (!procs)
		return NULL;
	s->procs = procs;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->serial = s->next_serial++;
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "%s", comm ? comm : "");
	snprintf(p->python, sizeof(p->python), "%s", prof->python);
	snprintf(p->interpreter, sizeof(p->interpreter), "%s", prof->interpreter);
	s->procs[s->nprocs++] = p;
	return p;
}

void store__process_exited(struct lp_store *s, pid_t pid, uint64_t now_ns)
{
	struct lp_store_proc *p = store__proc(s, pid);

	if (p) {
		p->exited = true;
		p->exited_ns = now_ns;
	}
}

void store__expire(struct lp_store *s, uint64_t now_ns)
{
	uint64_t keep_ns = (uint64_t)(s->retain_s * 1e9);

	for (size_t i = 0; i < s->nprocs;) {
		const struct lp_store_proc *p = s->procs[i];

		if (p->exited && now_ns - p->exited_ns >= keep_ns)
			drop_proc(s, i);
		else
			i++;
	}
}

/* A named lock is one series wherever it is waited for (its site label is the first seen); an
 * unnamed one is known by its site. */
static uint64_t series_hash(const char *lock, const char *key_site, const char *kind)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = hash_bytes(h, lock, strlen(lock) + 1);
	h = hash_bytes(h, key_site, strlen(key_site) + 1);
	return nonzero(hash_bytes(h, kind, strlen(kind)));
}

static struct lp_store_series *find_series(struct lp_store_proc *p, const char *lock,
					   const char *key_site, const char *kind, uint64_t *key)
{
	uintptr_t slot;

	*key = series_hash(lock, key_site, kind);
	while ((slot = (uintptr_t)u64map__get(&p->series_index, *key))) {
		struct lp_store_series *se = &p->series[slot - 1];

		if (!strcmp(se->lock, lock) && !strcmp(se->kind, kind) &&
		    (!key_site[0] || !strcmp(se->site, key_site)))
			return se;
		*key = next_key(*key);
	}
	return NULL;
}

static struct lp_store_series *add_series(struct lp_store_proc *p, const char *lock,
					  const char *site, const char *kind, uint64_t key)
{
	struct lp_store_series *se;

	if (p->nseries == p->series_cap) {
		size_t cap = p->series_cap ? p->series_cap * 2 : 8;

		se = realloc(p->series, cap * sizeof(*se));
		if (!se)
			return NULL;
		p->series = se;
		p->series_cap = cap;
	}
	if (u64map__put(&p->series_index, key, (void *)(uintptr_t)(p->nseries + 1)))
		return NULL;
	se = &p->series[p->nseries++];
	memset(se, 0, sizeof(*se));
	snprintf(se->lock, sizeof(se->lock), "%s", lock);
	snprintf(se->site, sizeof(se->site), "%s", site);
	se->kind = kind;
	return se;
}

/* The lock's series: its own while fewer than max_series exist, else the "other" series of its
 * kind (which does not count toward the cap). */
static struct lp_store_series *series_for(struct lp_store *s, struct lp_store_proc *p,
					  const char *lock, const char *site, bool named,
					  const char *kind, bool *other)
{
	const char *key_site = named ? "" : site;
	struct lp_store_series *se;
	uint64_t key;

	*other = false;
	se = find_series(p, lock, key_site, kind, &key);
	if (se)
		return se;
	if (p->nseries < s->max_series)
		return add_series(p, lock, site, kind, key);
	*other = true;
	se = find_series(p, LP_STORE_OTHER, "", kind, &key);
	return se ? se : add_series(p, LP_STORE_OTHER, "", kind, key);
}

/* The store's copy of a profile's stack, made once per process. */
static int keep_stack(struct lp_store *s, struct lp_store_proc *p, const struct lp_stack_sym *st)
{
	struct lp_stack_sym *copy;

	if (!st || !st->id || u64map__get(&p->stacks, st->id))
		return 0;
	copy = new_stack(st->id, st->depth);
	if (!copy)
		return -ENOMEM;
	copy->truncated = st->truncated;
	for (uint32_t i = 0; i < st->depth; i++) {
		copy->frames[i].function = intern(s, st->frames[i].function);
		copy->frames[i].file = intern(s, st->frames[i].file);
		copy->frames[i].line = st->frames[i].line;
		if (!copy->frames[i].function || !copy->frames[i].file) {
			free(copy);
			return -ENOMEM;
		}
	}
	if (u64map__put(&p->stacks, st->id, copy)) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

static uint64_t sample_hash(uint32_t series, uint32_t profile, uint64_t stack_id)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = hash_bytes(h, &series, sizeof(series));
	h = hash_bytes(h, &profile, sizeof(profile));
	return nonzero(hash_bytes(h, &stack_id, sizeof(stack_id)));
}

static struct lp_store_sample *find_sample(struct lp_store_proc *p, uint32_t series,
					   uint32_t profile, uint64_t stack_id, uint64_t *key)
{
	uintptr_t slot;

	*key = sample_hash(series, profile, stack_id);
	while ((slot = (uintptr_t)u64map__get(&p->sample_index, *key))) {
		struct lp_store_sample *sa = &p->samples[slot - 1];

		if (sa->series == series && sa->profile == profile && sa->stack_id == stack_id)
			return sa;
		*key = next_key(*key);
	}
	return NULL;
}

static struct lp_store_sample *add_sample(struct lp_store_proc *p, uint32_t series,
					  uint32_t profile, uint64_t stack_id, uint64_t key)
{
	struct lp_store_sample *sa;

	if (p->nsamples == p->samples_cap) {
		size_t cap = p->samples_cap ? p->samples_cap * 2 : 16;

		sa = realloc(p->samples, cap * sizeof(*sa));
		if (!sa)
			return NULL;
		p->samples = sa;
		p->samples_cap = cap;
	}
	if (u64map__put(&p->sample_index, key, (void *)(uintptr_t)(p->nsamples + 1)))
		return NULL;
	sa = &p->samples[p->nsamples++];
	*sa = (struct lp_store_sample){ .series = series,
					.profile = profile,
					.stack_id = stack_id };
	return sa;
}

/* Adds count and ns to the sample of (series, profile, stack): past LP_STORE_MAX_SAMPLES new
 * stacks go to the series' "<other stacks>" sample. */
static int add_to_sample(struct lp_store *s, struct lp_store_proc *p, uint32_t series,
			 uint32_t profile, const struct lp_lock_stack *ls)
{
	/* Waits whose stack the budget left out, or never announced: "<stack lost>". */
	uint64_t stack_id = ls->stack ? ls->stack->id : 1, key;
	struct lp_store_sample *sa = find_sample(p, series, profile, stack_id, &key);

	if (!sa && p->nsamples >= LP_STORE_MAX_SAMPLES) {
		s->samples_evicted++;
		stack_id = 0;
		sa = find_sample(p, series, profile, stack_id, &key);
	}
	if (!sa) {
		/* Even the "<other stacks>" sample may be new: the cap leaves it room. */
		if (stack_id && keep_stack(s, p, ls->stack))
			return -ENOMEM;
		sa = add_sample(p, series, profile, stack_id, key);
		if (!sa)
			return -ENOMEM;
	}
	sa->count += ls->count;
	sa->ns += ls->wait_ns;
	return 0;
}

/* The lock's place in the code: where it is waited for, "file:line". */
static void lock_site(const struct lp_lock *lock, char *buf, size_t len)
{
	const struct lp_frame_sym *f = lock->site ? lock->site : profile__lock_site(lock);

	if (f)
		snprintf(buf, len, "%s:%d", report__short_path(f->file), f->line);
	else
		buf[0] = '\0';
}

static int add_lock(struct lp_store *s, struct lp_store_proc *p, const struct lp_lock *lock)
{
	char site[192], addr[32];
	const char *name = lock->name;
	struct lp_store_series *se;
	bool other;
	uint32_t idx;
	int err = 0;

	lock_site(lock, site, sizeof(site));
	if (!name[0]) {
		snprintf(addr, sizeof(addr), "0x%" PRIx64, lock->id);
		name = site[0] ? "<unnamed>" : addr;
	}
	se = series_for(s, p, name, site, lock->name[0] != '\0',
			profile__category_name(lock->category), &other);
	if (!se)
		return -ENOMEM;
	if (other)
		s->series_overflow_waits += lock->waits;
	se->waits += lock->waits;
	se->wait_ns += lock->wait_ns;
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		se->hist[i] += lock->hist[i];
	se->hold_count += lock->hold_count;
	se->hold_ns += lock->hold_ns;
	idx = (uint32_t)(se - p->series);
	for (size_t i = 0; i < lock->nstacks && !err; i++) {
		const struct lp_lock_stack *ls = &lock->stacks[i];

		if (ls->role == LP_ROLE_WAITER)
			err = add_to_sample(s, p, idx, LP_STORE_MUTEX, ls);
		else if (ls->role == LP_ROLE_HOLD)
			err = add_to_sample(s, p, idx, LP_STORE_LOCKHOLD, ls);
	}
	return err;
}

/* GIL samples belong to no lock series. */
#define GIL_SERIES UINT32_MAX

int store__add_profile(struct lp_store *s, pid_t pid, const char *comm,
		       const struct lp_profile *prof, bool show_idle)
{
	struct lp_store_proc *p = get_proc(s, pid, comm, prof);
	const struct lp_counters *c = &prof->counters;
	int err = 0;

	if (!p) {
		s->errors++;
		return -ENOMEM;
	}
	p->health.probe_hits += c->probe_hits;
	p->health.lost_events +=
		c->lost_events + c->stats_dropped + c->stacks_dropped + c->inflight_dropped;
	p->health.read_errors += c->read_errors;
	if (prof->overhead.measured) {
		p->health.overhead_pct = prof->overhead.estimated_pct;
		p->health.overhead_ns += prof->overhead.estimated_ns;
	}
	if (prof->gil_measured) {
		p->health.gil_waits += prof->gil_waits;
		p->health.gil_wait_ns += prof->gil_wait_ns;
	}
	for (size_t i = 0; i < prof->nlocks && !err; i++) {
		const struct lp_lock *lock = &prof->locks[i];

		if (lock->category == LP_CATEGORY_GIL) {
			for (size_t j = 0; j < lock->nstacks && !err; j++)
				if (lock->stacks[j].role == LP_ROLE_WAITER)
					err = add_to_sample(s, p, GIL_SERIES, LP_STORE_GIL,
							    &lock->stacks[j]);
		} else if (lock->category != LP_CATEGORY_IDLE || show_idle) {
			err = add_lock(s, p, lock);
		}
	}
	if (err)
		s->errors++;
	return err;
}

const struct lp_stack_sym *store__stack(const struct lp_store *s, const struct lp_store_proc *proc,
					uint64_t stack_id)
{
	if (!stack_id)
		return s->other_stacks;
	return u64map__get(&proc->stacks, stack_id);
}

int store__snapshot(const struct lp_store *s, uint64_t now_ns, uint64_t now_unix_ns,
		    struct lp_store_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->taken_ns = now_ns;
	snap->taken_unix_ns = now_unix_ns;
	snap->procs = calloc(s->nprocs ? s->nprocs : 1, sizeof(*snap->procs));
	if (!snap->procs)
		return -ENOMEM;
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct lp_store_proc *p = s->procs[i];
		struct lp_store_snapshot_proc *sp = &snap->procs[snap->nprocs++];

		sp->serial = p->serial;
		sp->n = p->nsamples;
		sp->values = calloc(p->nsamples ? p->nsamples : 1, sizeof(*sp->values));
		if (!sp->values) {
			store__snapshot_free(snap);
			return -ENOMEM;
		}
		for (size_t j = 0; j < p->nsamples; j++) {
			sp->values[j][0] = p->samples[j].count;
			sp->values[j][1] = p->samples[j].ns;
		}
	}
	return 0;
}

void store__snapshot_free(struct lp_store_snapshot *snap)
{
	for (size_t i = 0; i < snap->nprocs; i++)
		free(snap->procs[i].values);
	free(snap->procs);
	memset(snap, 0, sizeof(*snap));
}

void store__snapshot_values(const struct lp_store_snapshot *snap, const struct lp_store_proc *proc,
			    size_t i, uint64_t out[2])
{
	out[0] = out[1] = 0;
	for (size_t k = 0; k < snap->nprocs; k++) {
		const struct lp_store_snapshot_proc *sp = &snap->procs[k];

		if (sp->serial != proc->serial)
			continue;
		if (i < sp->n) {
			out[0] = sp->values[i][0];
			out[1] = sp->values[i][1];
		}
		return;
	}
}
