// SPDX-License-Identifier: GPL-2.0
/* The text report: a summary line, one row per lock, then the top waiting stacks. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "units.h"

#define TOP_LOCKS_WITH_STACKS 3
#define MAX_LOCK_COLUMN 60

const char *report__short_path(const char *file)
{
	const char *p = strstr(file, "/site-packages/"), *slash;
	int slashes = 0;

	if (p)
		return p + strlen("/site-packages/");
	p = strstr(file, "/lib/python3.");
	if (p && (slash = strchr(p + strlen("/lib/python3."), '/')))
		return slash + 1;
	for (p = file + strlen(file); p > file; p--)
		if (p[-1] == '/' && ++slashes == 2)
			return p;
	return file;
}

static void lock_label(const struct lp_lock *lock, char *buf, size_t len)
{
	const struct lp_frame_sym *site = profile__lock_site(lock);

	if (site && lock->name[0])
		snprintf(buf, len, "%s:%d %s", report__short_path(site->file), site->line,
			 lock->name);
	else if (site)
		snprintf(buf, len, "%s:%d 0x%" PRIx64, report__short_path(site->file), site->line,
			 lock->id);
	else
		snprintf(buf, len, "lock 0x%" PRIx64, lock->id);
}

static void write_stack(FILE *f, const struct lp_stack_sym *st)
{
	char where[512];
	int width = 0;

	if (!st) {
		fputs("    <stack lost>\n", f);
		return;
	}
	for (uint32_t i = 0; i < st->depth; i++) {
		int n = snprintf(where, sizeof(where), "%s:%d",
				 report__short_path(st->frames[i].file), st->frames[i].line);
		if (n > width)
			width = n;
	}
	for (uint32_t i = 0; i < st->depth; i++) {
		snprintf(where, sizeof(where), "%s:%d", report__short_path(st->frames[i].file),
			 st->frames[i].line);
		fprintf(f, "    %-*s  %s\n", width, where, st->frames[i].function);
	}
	if (!st->depth)
		fputs("    <no Python frames>\n", f);
	if (st->truncated)
		fputs("    ... (deeper frames truncated)\n", f);
}

int report_text__write(FILE *f, const struct lp_profile *p)
{
	const struct lp_counters *c = &p->counters;
	char a[32], b[32], d[32], e[32], label[MAX_LOCK_COLUMN * 4];
	int width = 4;
	uint64_t lost = c->lost_events + c->stats_dropped + c->stacks_dropped + c->inflight_dropped;

	fprintf(f, "%.1f s profiled, %zu thread%s waited. %s contended acquisition%s, %s waited in "
		   "total. %s events lost.\n\n",
		(double)p->duration_ns / 1e9, p->nthreads, p->nthreads == 1 ? "" : "s",
		units__count(p->total_waits, a, sizeof(a)), p->total_waits == 1 ? "" : "s",
		units__duration(p->total_wait_ns, b, sizeof(b)), units__count(lost, d, sizeof(d)));
	/* What was lost and why: lost waits are missing from the totals above, lost stacks print
	 * as "<stack lost>". */
	if (lost)
		fprintf(f, "Lost: %" PRIu64 " waits (statistics map full), %" PRIu64 " stacks "
			   "(ring buffer full), %" PRIu64 " stacks (stack map full), %" PRIu64
			   " waits (in-flight map full).\n\n",
			(uint64_t)c->stats_dropped, (uint64_t)c->lost_events,
			(uint64_t)c->stacks_dropped, (uint64_t)c->inflight_dropped);
	if (!p->nlocks) {
		fputs("No lock contention seen: no thread blocked on a lock.\n", f);
		return ferror(f) ? -EIO : 0;
	}

	for (size_t i = 0; i < p->nlocks; i++) {
		int n;

		lock_label(&p->locks[i], label, sizeof(label));
		n = (int)strlen(label);
		if (n > width)
			width = n > MAX_LOCK_COLUMN ? MAX_LOCK_COLUMN : n;
	}
	fprintf(f, "%-*s %9s %9s %9s %9s %8s\n", width, "LOCK", "WAITS", "TOTAL", "AVG", "MAX",
		"TIMEOUTS");
	for (size_t i = 0; i < p->nlocks; i++) {
		const struct lp_lock *lock = &p->locks[i];

		lock_label(lock, label, sizeof(label));
		fprintf(f, "%-*.*s %9s %9s %9s %9s %8" PRIu64 "\n", width, width, label,
			units__count(lock->waits, a, sizeof(a)),
			units__duration(lock->wait_ns, b, sizeof(b)),
			units__duration(lock->waits ? lock->wait_ns / lock->waits : 0, d, sizeof(d)),
			units__duration(lock->max_ns, e, sizeof(e)), lock->timeouts);
	}

	for (size_t i = 0; i < p->nlocks && i < TOP_LOCKS_WITH_STACKS; i++) {
		const struct lp_lock *lock = &p->locks[i];
		const struct lp_lock_stack *top = lock->nstacks ? &lock->stacks[0] : NULL;

		if (!top)
			continue;
		lock_label(lock, label, sizeof(label));
		fprintf(f, "\nTop waiting stack (%s, %.1f%% of this lock's wait, %s waits): %s\n",
			units__duration(top->wait_ns, a, sizeof(a)),
			lock->wait_ns ? 100.0 * (double)top->wait_ns / (double)lock->wait_ns : 0.0,
			units__count(top->count, b, sizeof(b)), label);
		write_stack(f, top->stack);
	}
	if (c->read_errors || c->thread_not_found || p->unknown_frames || c->stacks_truncated)
		fprintf(f,
			"\nIncomplete data: %" PRIu64 " failed reads, %" PRIu64
			" waits without a Python thread, %" PRIu64 " unknown frames, %" PRIu64
			" truncated stacks.\n",
			(uint64_t)c->read_errors, (uint64_t)c->thread_not_found, p->unknown_frames,
			(uint64_t)c->stacks_truncated);
	return ferror(f) ? -EIO : 0;
}
