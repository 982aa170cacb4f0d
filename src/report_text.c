// SPDX-License-Identifier: GPL-2.0
/* The text report: a summary line, one row per lock (sorted and cut as asked), the top waiting
 * stacks, and with -H a wait histogram per lock. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static uint64_t sort_value(const struct lp_lock *lock, enum lp_sort key)
{
	switch (key) {
	case LP_SORT_MAX:
		return lock->max_ns;
	case LP_SORT_COUNT:
		return lock->waits;
	case LP_SORT_AVG:
		return lock->waits ? lock->wait_ns / lock->waits : 0;
	case LP_SORT_TOTAL:
		break;
	}
	return lock->wait_ns;
}

static int cmp_lock(const void *a, const void *b, void *key)
{
	const struct lp_lock *x = *(const struct lp_lock *const *)a;
	const struct lp_lock *y = *(const struct lp_lock *const *)b;
	enum lp_sort sort = *(const enum lp_sort *)key;
	uint64_t vx = sort_value(x, sort), vy = sort_value(y, sort);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	if (x->wait_ns != y->wait_ns)
		return x->wait_ns > y->wait_ns ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The locks to list, in the order asked for; the caller frees the array. */
static const struct lp_lock **select_locks(const struct lp_profile *p,
					   const struct lp_report_opts *o, size_t *n)
{
	const struct lp_lock **locks = calloc(p->nlocks ? p->nlocks : 1, sizeof(*locks));

	if (!locks)
		return NULL;
	for (size_t i = 0; i < p->nlocks; i++)
		locks[i] = &p->locks[i];
	qsort_r(locks, p->nlocks, sizeof(*locks), cmp_lock, (void *)&o->sort);
	*n = o->top && o->top < p->nlocks ? o->top : p->nlocks;
	return locks;
}

/* A label that fits the column: long ones lose the start of the path, never the lock's name. */
static void fit_label(char *label, size_t width)
{
	size_t n = strlen(label);

	if (n <= width || width < 4)
		return;
	memmove(label + 3, label + n - (width - 3), width - 3 + 1);
	memcpy(label, "...", 3);
}

enum { COL_WAITS, COL_TOTAL, COL_AVG, COL_MAX, COL_TIMEOUTS, NCOLS };

static void lock_cells(const struct lp_lock *lock, char cells[NCOLS][32])
{
	units__count(lock->waits, cells[COL_WAITS], sizeof(cells[0]));
	units__duration(lock->wait_ns, cells[COL_TOTAL], sizeof(cells[0]));
	units__duration(lock->waits ? lock->wait_ns / lock->waits : 0, cells[COL_AVG],
			sizeof(cells[0]));
	units__duration(lock->max_ns, cells[COL_MAX], sizeof(cells[0]));
	units__count(lock->timeouts, cells[COL_TIMEOUTS], sizeof(cells[0]));
}

/* The lock table: every column as wide as its widest cell. */
static void write_table(FILE *f, const struct lp_lock **locks, size_t n)
{
	static const char *const heads[NCOLS] = { "WAITS", "TOTAL", "AVG", "MAX", "TIMEOUTS" };
	char label[MAX_LOCK_COLUMN * 4], cells[NCOLS][32];
	int width = 4, w[NCOLS];

	for (int c = 0; c < NCOLS; c++)
		w[c] = (int)strlen(heads[c]);
	for (size_t i = 0; i < n; i++) {
		int len;

		lock_label(locks[i], label, sizeof(label));
		len = (int)strlen(label);
		if (len > width)
			width = len > MAX_LOCK_COLUMN ? MAX_LOCK_COLUMN : len;
		lock_cells(locks[i], cells);
		for (int c = 0; c < NCOLS; c++)
			if ((int)strlen(cells[c]) > w[c])
				w[c] = (int)strlen(cells[c]);
	}
	fprintf(f, "%-*s", width, "LOCK");
	for (int c = 0; c < NCOLS; c++)
		fprintf(f, "  %*s", w[c], heads[c]);
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		lock_label(locks[i], label, sizeof(label));
		fit_label(label, (size_t)width);
		lock_cells(locks[i], cells);
		fprintf(f, "%-*s", width, label);
		for (int c = 0; c < NCOLS; c++)
			fprintf(f, "  %*s", w[c], cells[c]);
		fputc('\n', f);
	}
}

static void write_header(FILE *f, const struct lp_profile *p)
{
	const struct lp_counters *c = &p->counters;
	uint64_t lost = c->lost_events + c->stats_dropped + c->stacks_dropped + c->inflight_dropped;
	char a[32], b[32], d[32];

	if (p->interval) {
		time_t secs = (time_t)(p->start_unix_ns / 1000000000ULL);
		struct tm tm;
		char when[64] = "?";

		if (localtime_r(&secs, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(f, "[%s] interval %u\n", when, p->interval);
	}
	fprintf(f, "%.1f s profiled, %zu thread%s waited. %s contended acquisition%s, %s waited in "
		   "total. %s events lost.\n",
		(double)p->duration_ns / 1e9, p->nthreads, p->nthreads == 1 ? "" : "s",
		units__count(p->total_waits, a, sizeof(a)), p->total_waits == 1 ? "" : "s",
		units__duration(p->total_wait_ns, b, sizeof(b)), units__count(lost, d, sizeof(d)));
	if (p->min_wait_ns)
		fprintf(f, "%s wait%s shorter than %s not counted (--min-wait).\n",
			units__count(c->short_waits, b, sizeof(b)), c->short_waits == 1 ? "" : "s",
			units__duration(p->min_wait_ns, a, sizeof(a)));
	fputc('\n', f);
}

int report_text__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o)
{
	const struct lp_counters *c = &p->counters;
	const struct lp_lock **locks;
	char a[32], b[32], label[MAX_LOCK_COLUMN * 4];
	size_t n = 0;

	write_header(f, p);
	if (!p->nlocks) {
		fputs("No lock contention seen: no thread blocked on a lock.\n", f);
		return ferror(f) ? -EIO : 0;
	}
	locks = select_locks(p, o, &n);
	if (!locks)
		return -ENOMEM;
	write_table(f, locks, n);
	if (n < p->nlocks)
		fprintf(f, "(%zu more lock%s not listed: --top %zu)\n", p->nlocks - n,
			p->nlocks - n == 1 ? "" : "s", o->top);

	for (size_t i = 0; i < n && i < TOP_LOCKS_WITH_STACKS; i++) {
		const struct lp_lock *lock = locks[i];
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
	for (size_t i = 0; o->histogram && i < n; i++) {
		lock_label(locks[i], label, sizeof(label));
		fprintf(f, "\nWait time histogram: %s (%s waits)\n", label,
			units__count(locks[i]->waits, a, sizeof(a)));
		report_hist__write(f, locks[i]->hist, "    ");
	}
	free(locks);
	if (c->read_errors || c->thread_not_found || p->unknown_frames || c->stacks_truncated)
		fprintf(f,
			"\nIncomplete data: %" PRIu64 " failed reads, %" PRIu64
			" waits without a Python thread, %" PRIu64 " unknown frames, %" PRIu64
			" truncated stacks.\n",
			(uint64_t)c->read_errors, (uint64_t)c->thread_not_found, p->unknown_frames,
			(uint64_t)c->stacks_truncated);
	return ferror(f) ? -EIO : 0;
}
