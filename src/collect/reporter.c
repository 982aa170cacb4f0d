// SPDX-License-Identifier: GPL-2.0
/* The run's report writer: one profile per report, built from the BPF maps and the state kept
 * across reports, rendered in every format asked for. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profile/annotate.h"
#include "util/log.h"
#include "profile/profile.h"
#include "report/report.h"
#include "collect/reporter.h"
#include "symbolize/source.h"
#include "profile/stacktab.h"
#include "collect/statsmap.h"
#include "collect/threadnames.h"

struct lp_reporter {
	const struct lp_opts *opts;
	const struct lp_target *target;
	char python[32];
	struct lp_symbolizer *symbolizer;
	FILE *out[LP_MAX_OUTPUTS];
	struct lp_stacktab *stacks;
	struct lp_threadnames *threads;
	struct lp_sources *sources; /* the source files of the stacks' frames, for naming locks */
	/* the interval being collected */
	unsigned int interval; /* 1, 2, ... with -i; 0 without */
	uint64_t start_ns, start_unix_ns;
	struct lp_counters counters_before;
	uint64_t unknown_frames_before;
};

static uint64_t unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct lp_reporter *reporter__new(const struct lp_opts *opts, const struct lp_target *t,
				  const char *python, struct lp_symbolizer *s,
				  FILE *const out[LP_MAX_OUTPUTS])
{
	struct lp_reporter *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->opts = opts;
	r->target = t;
	snprintf(r->python, sizeof(r->python), "%s", python);
	r->symbolizer = s;
	memcpy(r->out, out, sizeof(r->out));
	r->stacks = stacktab__new();
	r->threads = threadnames__new(opts->pid);
	r->sources = sources__new(t);
	if (!r->stacks || !r->threads || !r->sources) {
		reporter__free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->interval = opts->interval_s > 0 ? 1 : 0;
	return r;
}

void reporter__free(struct lp_reporter *r)
{
	if (!r)
		return;
	stacktab__free(r->stacks);
	threadnames__free(r->threads);
	sources__free(r->sources);
	free(r);
}

void reporter__start(struct lp_reporter *r, uint64_t now_ns)
{
	r->start_ns = now_ns;
	r->start_unix_ns = unix_now_ns();
}

void reporter__add_stack(struct lp_reporter *r, const struct lp_stack *raw)
{
	const struct lp_stack_sym *st;

	if (stacktab__get(r->stacks, raw->stack_id) || stacktab__add(r->stacks, raw, r->symbolizer))
		return;
	/* The thread is blocked right now: alive, and named as it will be in the report. */
	threadnames__note(r->threads, raw->tid);
	/* Read the sources now too (locks are named and classified from them): the target, and
	 * the files in its mount namespace, may be gone by report time. */
	st = stacktab__get(r->stacks, raw->stack_id);
	for (uint32_t i = 0; st && i < st->depth; i++)
		sources__load(r->sources, st->frames[i].file);
}

void reporter__scan_threads(struct lp_reporter *r)
{
	threadnames__scan(r->threads);
}

/* The BPF counters since the last report (they only grow). */
static void counters_since(struct lp_reporter *r, const struct lp_counters *now,
			   struct lp_counters *out)
{
	const __u64 *cur = (const __u64 *)now, *before = (const __u64 *)&r->counters_before;
	__u64 *delta = (__u64 *)out;

	_Static_assert(sizeof(struct lp_counters) % sizeof(__u64) == 0, "counters are all __u64");
	for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
		delta[i] = cur[i] - before[i];
	r->counters_before = *now;
}

/* Threads rename themselves: read again the names of those in the profile still alive. */
static void refresh_thread_names(struct lp_threadnames *names, const struct lp_profile *p)
{
	for (size_t i = 0; i < p->nlocks; i++)
		for (size_t j = 0; j < p->locks[i].nstacks; j++)
			for (size_t t = 0; t < p->locks[i].stacks[j].ntids; t++)
				threadnames__refresh(names, p->locks[i].stacks[j].tids[t].tid);
}

static int write_all(struct lp_reporter *r, const struct lp_profile *p)
{
	const struct lp_opts *opts = r->opts;
	int err = 0;

	for (int i = 0; i < opts->noutputs && !err; i++) {
		err = report__write(r->out[i], opts->outputs[i].format, p, &opts->report);
		/* Successive intervals' text or collapsed reports: a blank line between them. */
		if (!err && p->interval && opts->outputs[i].format != LP_FORMAT_JSON)
			fputc('\n', r->out[i]);
		if (!err && fflush(r->out[i]))
			err = -errno;
		if (err)
			lp_err("failed to write the %s report to %s: %s",
			       report__format_name(opts->outputs[i].format),
			       opts->outputs[i].path ? opts->outputs[i].path : "stdout",
			       strerror(-err));
	}
	return err ? LP_EXIT_OUTPUT : 0;
}

int reporter__write(struct lp_reporter *r, uint64_t end_ns, const struct lp_report_input *in)
{
	uint64_t unknown = symbolizer__failures(r->symbolizer);
	struct lp_profile profile;
	int err;

	profile__init(&profile, r->stacks, r->threads);
	if (in->full)
		profile.full = *in->full;
	profile.pid = r->opts->pid;
	snprintf(profile.python, sizeof(profile.python), "%s", r->python);
	snprintf(profile.interpreter, sizeof(profile.interpreter), "%s", r->target->interp.path);
	profile.duration_ns = end_ns - r->start_ns;
	profile.start_unix_ns = r->start_unix_ns;
	profile.interval = r->interval;
	profile.min_wait_ns = r->opts->min_wait_ns;
	profile.mode = opts__mode_name(r->opts->modes);
	if (r->opts->modes & LP_MODE_GIL) {
		profile.gil_measured = true;
		profile.gil_handoffs = in->gil_handoffs;
	}
	counters_since(r, in->counters, &profile.counters);
	profile.unknown_frames = unknown - r->unknown_frames_before;
	r->unknown_frames_before = unknown;
	err = statsmap__read(in->stats_fd, &profile, r->interval > 0);
	if (!err && in->gil_waits_fd >= 0)
		err = statsmap__close_gil_waits(in->gil_waits_fd, in->gil_key, &profile);
	if (err) {
		lp_err("failed to read the statistics map: %s", strerror(-err));
		profile__free(&profile);
		return LP_EXIT_ERROR;
	}
	/* The next interval starts now: what BPF adds from here on was not in this read. */
	reporter__start(r, end_ns);
	if (r->interval)
		r->interval++;

	refresh_thread_names(r->threads, &profile);
	profile__link(&profile);
	annotate__locks(&profile, r->sources);
	profile__finish(&profile);
	lp_info("probe hits: %llu", (unsigned long long)profile.counters.probe_hits);
	err = write_all(r, &profile);
	profile__free(&profile);
	return err;
}
