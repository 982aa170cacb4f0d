// SPDX-License-Identifier: GPL-2.0
/* The collector (see collector.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collector.h"
#include "collect/objtypes.h"
#include "collect/statsmap.h"
#include "collect/threadnames.h"
#include "profile/annotate.h"
#include "profile/profile.h"
#include "profile/stacktab.h"
#include "symbolize/source.h"
#include "util/clock.h"
#include "util/log.h"

struct lp_collector {
	const struct lp_opts *opts;
	const struct lp_target *target;
	char python[32];
	struct lp_symbolizer *symbolizer;
	struct lp_stacktab *stacks;
	struct lp_threadnames *threads;
	struct lp_sources *sources; /* the source files of the stacks' frames, for naming locks */
	/* the interval being collected */
	unsigned int interval; /* 1, 2, ... with -i; 0 without */
	uint64_t start_ns, start_unix_ns;
	struct lp_counters counters_before;
	uint64_t unknown_frames_before;
};

struct lp_collector *collector__new(const struct lp_opts *opts, const struct lp_target *t,
				    const char *python, struct lp_symbolizer *s)
{
	struct lp_collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->opts = opts;
	c->target = t;
	snprintf(c->python, sizeof(c->python), "%s", python);
	c->symbolizer = s;
	c->stacks = stacktab__new();
	c->threads = threadnames__new(opts->pid);
	c->sources = sources__new(t);
	if (!c->stacks || !c->threads || !c->sources) {
		collector__free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->interval = opts->interval_s > 0 ? 1 : 0;
	return c;
}

void collector__free(struct lp_collector *c)
{
	if (!c)
		return;
	stacktab__free(c->stacks);
	threadnames__free(c->threads);
	sources__free(c->sources);
	free(c);
}

void collector__start(struct lp_collector *c, uint64_t now_ns)
{
	c->start_ns = now_ns;
	c->start_unix_ns = clock__realtime_ns();
}

void collector__add_stack(struct lp_collector *c, const struct lp_stack *raw)
{
	const struct lp_stack_sym *st;

	if (stacktab__get(c->stacks, raw->stack_id) || stacktab__add(c->stacks, raw, c->symbolizer))
		return;
	/* The thread is blocked right now: alive, and named as it will be in the report. */
	threadnames__note(c->threads, raw->tid);
	/* Read the sources now too (locks are named and classified from them): the target, and
	 * the files in its mount namespace, may be gone by report time. */
	st = stacktab__get(c->stacks, raw->stack_id);
	for (uint32_t i = 0; st && i < st->depth; i++)
		sources__load(c->sources, st->frames[i].file);
}

void collector__scan_threads(struct lp_collector *c)
{
	threadnames__scan(c->threads);
}

/* The BPF counters since the last report (they only grow). */
static void counters_since(struct lp_collector *c, const struct lp_counters *now,
			   struct lp_counters *out)
{
	const __u64 *cur = (const __u64 *)now, *before = (const __u64 *)&c->counters_before;
	__u64 *delta = (__u64 *)out;

	_Static_assert(sizeof(struct lp_counters) % sizeof(__u64) == 0, "counters are all __u64");
	for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
		delta[i] = cur[i] - before[i];
	c->counters_before = *now;
}

/* Threads rename themselves: read again the names of those in the profile still alive. */
static void refresh_thread_names(struct lp_threadnames *names, const struct lp_profile *p)
{
	for (size_t i = 0; i < p->nlocks; i++)
		for (size_t j = 0; j < p->locks[i].nstacks; j++)
			for (size_t t = 0; t < p->locks[i].stacks[j].ntids; t++)
				threadnames__refresh(names, p->locks[i].stacks[j].tids[t].tid);
}

int collector__build(struct lp_collector *c, uint64_t end_ns, const struct lp_collect_input *in,
		     struct lp_profile *profile)
{
	uint64_t unknown = symbolizer__failures(c->symbolizer);
	int err;

	profile__init(profile, c->stacks, c->threads);
	if (in->full)
		profile->full = *in->full;
	if (in->programs)
		profile->programs = *in->programs;
	if (in->overhead)
		profile->overhead = *in->overhead;
	profile->pid = c->opts->pid;
	snprintf(profile->python, sizeof(profile->python), "%s", c->python);
	snprintf(profile->interpreter, sizeof(profile->interpreter), "%s", c->target->interp.path);
	profile->duration_ns = end_ns - c->start_ns;
	profile->start_unix_ns = c->start_unix_ns;
	profile->interval = c->interval;
	profile->min_wait_ns = c->opts->min_wait_ns;
	profile->mode = opts__mode_name(c->opts->modes);
	if (c->opts->modes & LP_MODE_GIL) {
		profile->gil_measured = true;
		profile->gil_handoffs = in->gil_handoffs;
	}
	profile->free_threaded = in->free_threaded;
	profile->gil_enabled = in->gil_enabled;
	counters_since(c, in->counters, &profile->counters);
	profile->unknown_frames = unknown - c->unknown_frames_before;
	c->unknown_frames_before = unknown;
	if (in->acc) {
		struct lp_statsacc_info info;

		err = statsacc__drain(in->acc, in->stats_fd);
		if (!err)
			err = statsacc__to_profile(in->acc, profile);
		statsacc__info(in->acc, &info);
		profile->caps.folded_waits = info.folded_waits;
		profile->caps.dropped_waits = info.dropped_waits;
	} else {
		err = statsmap__read(in->stats_fd, profile, c->interval > 0);
	}
	profile->caps.names_evicted = threadnames__evicted(c->threads);
	if (!err && in->gil_waits_fd >= 0)
		err = statsmap__close_gil_waits(in->gil_waits_fd, in->gil_key, profile);
	if (err) {
		lp_err("failed to read the statistics map: %s", strerror(-err));
		profile__free(profile);
		return LP_EXIT_ERROR;
	}
	objtypes__apply(in->object_types_fd, profile);
	/* The next interval starts now: what BPF adds from here on was not in this read. */
	collector__start(c, end_ns);
	if (c->interval)
		c->interval++;

	refresh_thread_names(c->threads, profile);
	profile__link(profile);
	if (annotate__split_reused_locks(profile, c->sources))
		lp_warn("out of memory telling apart locks that reused an address");
	annotate__locks(profile, c->sources);
	profile__finish(profile);
	lp_info("probe hits: %llu", (unsigned long long)profile->counters.probe_hits);
	return 0;
}
