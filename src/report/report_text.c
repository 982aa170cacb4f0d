// SPDX-License-Identifier: GPL-2.0
/* The text report: a summary line, one row per lock (sorted and cut as asked), the top waiting
 * stacks, and with -H a wait histogram per lock. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "profile/annotate.h"
#include "report/render.h"
#include "report/report_inversions.h"
#include "util/units.h"

#define TOP_LOCKS_WITH_STACKS 3
#define MAX_LOCK_COLUMN 60

/* "app/db.py:42 self._pool_lock": where the lock was created (else where it was waited for) and
 * what the code calls it. */
static void lock_label(const struct lp_lock *lock, char *buf, size_t len)
{
	const struct lp_frame_sym *at = lock->created_at ? lock->created_at
							 : profile__lock_site(lock);

	if ((profile__is_signal_category(lock->category) || lock->category == LP_CATEGORY_OBJECT) &&
	    lock->site)
		at = lock->site;
	if (lock->category == LP_CATEGORY_OBJECT && at)
		snprintf(buf, len, "%s:%d %s%s(%s)", report__short_path(at->file), at->line,
			 lock->name, lock->name[0] ? " " : "",
			 lock->type_name[0] ? lock->type_name : "object");
	else if (at && lock->name[0])
		snprintf(buf, len, "%s:%d %s", report__short_path(at->file), at->line, lock->name);
	else if (at)
		snprintf(buf, len, "%s:%d 0x%" PRIx64, report__short_path(at->file), at->line,
			 lock->id);
	else
		snprintf(buf, len, "lock 0x%" PRIx64, lock->id);
}

/* "app/db.py:97 in Pool.checkout": where the top holder stack released the lock. */
static void holder_label(const struct lp_lock *lock, char *buf, size_t len)
{
	const struct lp_lock_stack *h = profile__top_stack(lock, LP_ROLE_HOLDER);
	const struct lp_frame_sym *fr;

	if (!h || !h->stack || !h->stack->depth) {
		snprintf(buf, len, "-");
		return;
	}
	/* The first frame outside the threading machinery: Condition.notify in threading.py says
	 * less than the pool method that called it. */
	fr = &h->stack->frames[0];
	for (uint32_t i = 0; i < h->stack->depth; i++)
		if (!annotate__is_threading_file(h->stack->frames[i].file)) {
			fr = &h->stack->frames[i];
			break;
		}
	snprintf(buf, len, "%s:%d in %s", report__short_path(fr->file), fr->line, fr->function);
}

static void write_stack(FILE *f, const struct lp_stack_sym *st)
{
	report__write_stack(f, st, "    ", "<stack lost>");
}

/* -m full: a lock seen only held (never waited for) is listed in the hold section only. */
static bool in_table(const struct lp_lock *lock, enum lp_category c)
{
	return lock->category == c && (lock->waits || !lock->hold_count);
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

/* The locks of category c, in the order asked for; *total is how many there are, *n how many to
 * list (--top). The caller frees the array. */
static const struct lp_lock **select_locks(const struct lp_profile *p, enum lp_category c,
					   const struct lp_report_opts *o, size_t *total, size_t *n)
{
	const struct lp_lock **locks = calloc(p->nlocks ? p->nlocks : 1, sizeof(*locks));
	size_t k = 0;

	if (!locks)
		return NULL;
	for (size_t i = 0; i < p->nlocks; i++)
		if (in_table(&p->locks[i], c))
			locks[k++] = &p->locks[i];
	qsort_r(locks, k, sizeof(*locks), cmp_lock, (void *)&o->sort);
	*total = k;
	*n = o->top && o->top < k ? o->top : k;
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

/* A table of locks of category c: every column as wide as its widest cell; contention tables end
 * with who held the lock. */
static void write_table(FILE *f, const struct lp_lock **locks, size_t n, enum lp_category c)
{
	static const char *const heads[NCOLS] = { "WAITS", "TOTAL", "AVG", "MAX", "TIMEOUTS" };
	const char *first = c == LP_CATEGORY_IDLE	? "WAITED FOR A SIGNAL AT"
			    : c == LP_CATEGORY_RESOURCE ? "WAITED MID-WORK AT"
			    : c == LP_CATEGORY_OBJECT	? "OBJECT (type)"
							: "LOCK";
	char label[MAX_LOCK_COLUMN * 4], held[MAX_LOCK_COLUMN * 4], cells[NCOLS][32];
	int width = (int)strlen(first), w[NCOLS];

	for (int k = 0; k < NCOLS; k++)
		w[k] = (int)strlen(heads[k]);
	for (size_t i = 0; i < n; i++) {
		int len;

		lock_label(locks[i], label, sizeof(label));
		len = (int)strlen(label);
		if (len > width)
			width = len > MAX_LOCK_COLUMN ? MAX_LOCK_COLUMN : len;
		lock_cells(locks[i], cells);
		for (int k = 0; k < NCOLS; k++)
			if ((int)strlen(cells[k]) > w[k])
				w[k] = (int)strlen(cells[k]);
	}
	fprintf(f, "%-*s", width, first);
	for (int k = 0; k < NCOLS; k++)
		fprintf(f, "  %*s", w[k], heads[k]);
	fputs(c == LP_CATEGORY_CONTENTION || c == LP_CATEGORY_OBJECT ? "  HELD BY (top releaser)\n"
	      : c == LP_CATEGORY_RESOURCE			     ? "  SIGNALLED BY (top)\n"
								     : "\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		lock_label(locks[i], label, sizeof(label));
		fit_label(label, (size_t)width);
		lock_cells(locks[i], cells);
		fprintf(f, "%-*s", width, label);
		for (int k = 0; k < NCOLS; k++)
			fprintf(f, "  %*s", w[k], cells[k]);
		if (c == LP_CATEGORY_CONTENTION || c == LP_CATEGORY_RESOURCE ||
		    c == LP_CATEGORY_OBJECT) {
			holder_label(locks[i], held, sizeof(held));
			fprintf(f, "  %s", held);
		}
		fputc('\n', f);
	}
}

/* The top waiting stack of each of the first locks, and the top releasing stack it was held by. */
static void write_top_stacks(FILE *f, const struct lp_lock **locks, size_t n)
{
	char a[32], b[32], label[MAX_LOCK_COLUMN * 4];

	for (size_t i = 0; i < n && i < TOP_LOCKS_WITH_STACKS; i++) {
		const struct lp_lock *lock = locks[i];
		const struct lp_lock_stack *top = profile__top_stack(lock, LP_ROLE_WAITER);
		const struct lp_lock_stack *holder = profile__top_stack(lock, LP_ROLE_HOLDER);

		if (!top)
			continue;
		lock_label(lock, label, sizeof(label));
		fprintf(f, "\nTop waiting stack (%s, %.1f%% of this %s's wait, %s waits): %s\n",
			units__duration(top->wait_ns, a, sizeof(a)),
			lock->wait_ns ? 100.0 * (double)top->wait_ns / (double)lock->wait_ns : 0.0,
			lock->category == LP_CATEGORY_OBJECT ? "object" : "lock",
			units__count(top->count, b, sizeof(b)), label);
		write_stack(f, top->stack);
		if (holder) {
			fprintf(f, "  held by (charged %s of the waits it ended):\n",
				units__duration(holder->wait_ns, a, sizeof(a)));
			write_stack(f, holder->stack);
		}
	}
}

/* Free-threaded builds: waits for other threads' critical sections on objects, spin included. */
static int write_objects(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o)
{
	const struct lp_lock **locks;
	size_t total = 0, n = 0;
	char a[32], b[32];

	if (!p->free_threaded)
		return 0;
	if (!p->object_waits) {
		fputs("\nNo object contention seen: no thread waited for another's critical section "
		      "on an object.\n",
		      f);
		return 0;
	}
	fprintf(f,
		"\nObject contention (threads waited for another thread's critical section on an "
		"object, spinning included), %s in %s waits:\n",
		units__duration(p->object_wait_ns, a, sizeof(a)),
		units__count(p->object_waits, b, sizeof(b)));
	locks = select_locks(p, LP_CATEGORY_OBJECT, o, &total, &n);
	if (!locks)
		return -ENOMEM;
	write_table(f, locks, n, LP_CATEGORY_OBJECT);
	if (n < total)
		fprintf(f, "(%zu more not listed: --top %zu)\n", total - n, o->top);
	write_top_stacks(f, locks, n);
	free(locks);
	return 0;
}

/* Per thread: how often and how long it waited to take the GIL, and where. */
static void write_gil(FILE *f, const struct lp_profile *p)
{
	char a[32], b[32], d[32], handoffs[32];
	const struct lp_lock *gil = NULL;

	for (size_t i = 0; i < p->nlocks && !gil; i++)
		if (p->locks[i].category == LP_CATEGORY_GIL)
			gil = &p->locks[i];
	if (p->gil_handoffs >= 0)
		units__count((uint64_t)p->gil_handoffs, handoffs, sizeof(handoffs));
	else
		snprintf(handoffs, sizeof(handoffs), "unknown");
	fprintf(f, "GIL: %s waits, %s waited in total, %s handoffs.\n",
		units__count(p->gil_waits, a, sizeof(a)),
		units__duration(p->gil_wait_ns, b, sizeof(b)), handoffs);
	if (!p->ngil_threads) {
		fputs("No thread waited for the GIL.\n", f);
		return;
	}
	fprintf(f, "%-8s %-16s %9s %9s %9s %9s %7s\n", "TID", "THREAD", "WAITS", "TOTAL", "AVG",
		"MAX", "SHARE");
	for (size_t i = 0; i < p->ngil_threads; i++) {
		const struct lp_gil_thread *g = &p->gil_threads[i];
		const char *name = threadnames__get(p->thread_names, g->tid);
		char e[32];

		fprintf(f, "%-8u %-16.16s %9s %9s %9s %9s %6.1f%%\n", g->tid, name ? name : "",
			units__count(g->waits, a, sizeof(a)),
			units__duration(g->wait_ns, b, sizeof(b)),
			units__duration(g->waits ? g->wait_ns / g->waits : 0, d, sizeof(d)),
			units__duration(g->max_ns, e, sizeof(e)),
			p->duration_ns ? 100.0 * (double)g->wait_ns / (double)p->duration_ns : 0.0);
	}
	for (size_t i = 0; gil && i < gil->nstacks && i < TOP_LOCKS_WITH_STACKS; i++) {
		const struct lp_lock_stack *ls = &gil->stacks[i];

		fprintf(f, "\nGIL-waiting stack #%zu (%s, %s waits, thread%s", i + 1,
			units__duration(ls->wait_ns, a, sizeof(a)),
			units__count(ls->count, b, sizeof(b)), ls->ntids == 1 ? "" : "s");
		for (size_t t = 0; t < ls->ntids && t < 8; t++)
			fprintf(f, " %u", ls->tids[t].tid);
		fputs("):\n", f);
		write_stack(f, ls->stack);
	}
}

#define TOP_HELD_LOCKS 10

/* -m full: the locks held longest in total, where they were taken, and how the figures were
 * sampled (estimates unless every acquisition was recorded the whole time). */
static void write_holds(FILE *f, const struct lp_profile *p)
{
	const struct lp_full_info *fi = &p->full;
	const struct lp_lock *top[TOP_HELD_LOCKS];
	char a[32], b[32], d[32], e[32], label[MAX_LOCK_COLUMN * 4];
	size_t n = 0;

	fprintf(f,
		"\nHold times (-m full): %u%% of uncontended acquisitions captured, probes "
		"attached %.1f%% of the time, estimated overhead %.2f%% of a CPU (%.0f ns per "
		"probe hit).%s\n",
		fi->capture_pct, 100.0 * fi->duty_cycle, fi->overhead_pct, fi->probe_cost_ns,
		fi->capture_pct < 100 || fi->duty_cycle < 0.9999
			? " Counts and totals are estimates, upscaled accordingly."
			: "");
	if (fi->inlined_sites)
		fprintf(f,
			"Hold figures are lower bounds: this build inlined Lock/RLock methods "
			"into %" PRIu64 " call site%s (profile-guided optimization), where no "
			"probe sees the uncontended acquisitions and releases made through them.\n",
			fi->inlined_sites, fi->inlined_sites == 1 ? "" : "s");
	/* Insertion into the top list, longest total first. */
	for (size_t i = 0; i < p->nlocks; i++) {
		const struct lp_lock *lock = &p->locks[i];
		size_t k;

		if (!lock->hold_count || lock->category == LP_CATEGORY_GIL)
			continue;
		if (n == TOP_HELD_LOCKS && lock->hold_ns <= top[n - 1]->hold_ns)
			continue;
		k = n < TOP_HELD_LOCKS ? n++ : n - 1;
		for (; k > 0 && top[k - 1]->hold_ns < lock->hold_ns; k--)
			top[k] = top[k - 1];
		top[k] = lock;
	}
	if (!n) {
		fputs("No hold was recorded.\n", f);
		return;
	}
	fprintf(f, "%-*s %9s %9s %9s %9s   %s\n", MAX_LOCK_COLUMN, "LOCK", "HOLDS", "HELD", "AVG",
		"MAX", "TAKEN AT (top acquiring stack)");
	for (size_t i = 0; i < n; i++) {
		const struct lp_lock *lock = top[i];
		const struct lp_lock_stack *h = profile__top_stack(lock, LP_ROLE_HOLD);
		char taken[MAX_LOCK_COLUMN * 4] = "-";

		if (h && h->stack && h->stack->depth)
			snprintf(taken, sizeof(taken), "%s:%d in %s",
				 report__short_path(h->stack->frames[0].file),
				 h->stack->frames[0].line, h->stack->frames[0].function);
		lock_label(lock, label, sizeof(label));
		fprintf(f, "%-*.*s %9s %9s %9s %9s   %s\n", MAX_LOCK_COLUMN, MAX_LOCK_COLUMN, label,
			units__count(lock->hold_count, a, sizeof(a)),
			units__duration(lock->hold_ns, b, sizeof(b)),
			units__duration(lock->hold_ns / lock->hold_count, d, sizeof(d)),
			units__duration(lock->max_hold_ns, e, sizeof(e)), taken);
	}
}

static void write_header(FILE *f, const struct lp_profile *p)
{
	const struct lp_counters *c = &p->counters;
	uint64_t lost = c->lost_events + c->stats_dropped + c->stacks_dropped + c->inflight_dropped;
	char a[32], b[32], d[32];

	fprintf(f,
		"%.1f s profiled, %zu thread%s waited. %s contended acquisition%s, %s waited in "
		"total. %s events lost.\n",
		(double)p->duration_ns / 1e9, p->nthreads, p->nthreads == 1 ? "" : "s",
		units__count(p->total_waits, a, sizeof(a)), p->total_waits == 1 ? "" : "s",
		units__duration(p->total_wait_ns, b, sizeof(b)), units__count(lost, d, sizeof(d)));
	if (p->min_wait_ns)
		fprintf(f, "%s wait%s shorter than %s not counted (--min-wait).\n",
			units__count(c->short_waits, b, sizeof(b)), c->short_waits == 1 ? "" : "s",
			units__duration(p->min_wait_ns, a, sizeof(a)));
	/* What was lost and why: lost waits are missing from the totals above, lost stacks print
	 * as "<stack lost>". */
	if (lost)
		fprintf(f,
			"Lost: %" PRIu64 " waits (statistics map full), %" PRIu64 " stacks "
			"(ring buffer full), %" PRIu64 " stacks (stack map full), %" PRIu64
			" waits (no room for a wait in progress).\n",
			(uint64_t)c->stats_dropped, (uint64_t)c->lost_events,
			(uint64_t)c->stacks_dropped, (uint64_t)c->inflight_dropped);
	if (p->overhead.measured) {
		char note[1024];

		fprintf(f, "%s\n", report__overhead_note(p, note, sizeof(note)));
	}
	report_freethreaded__text_header(f, p);
	fputc('\n', f);
}

static void write_interval(FILE *f, const struct lp_profile *p)
{
	time_t secs = (time_t)(p->start_unix_ns / 1000000000ULL);
	struct tm tm;
	char when[64] = "?";

	if (localtime_r(&secs, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "[%s] interval %u\n", when, p->interval);
}

/* Resource waits worth a table: at least this share of one thread's time over the run. */
#define RESOURCE_TABLE_SHARE 0.01

/* Signal waits of category c (waits, wait_ns: their totals): a line headed by what, then their
 * table when table is set, else hint ends the line. */
static int write_signal_waits(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o,
			      enum lp_category c, uint64_t waits, uint64_t wait_ns,
			      const char *what, bool table, const char *hint)
{
	const struct lp_lock **locks;
	char a[32], b[32];
	size_t total = 0, n = 0;

	if (!waits)
		return 0;
	fprintf(f, "\n%s, %s in %s waits%s\n", what, units__duration(wait_ns, a, sizeof(a)),
		units__count(waits, b, sizeof(b)), table ? ":" : hint);
	if (!table)
		return 0;
	locks = select_locks(p, c, o, &total, &n);
	if (!locks)
		return -ENOMEM;
	write_table(f, locks, n, c);
	if (n < total)
		fprintf(f, "(%zu more not listed: --top %zu)\n", total - n, o->top);
	free(locks);
	return 0;
}

/* Resource waits (a signal waited for mid-work): a table when they add up to at least
 * RESOURCE_TABLE_SHARE of the run's duration or with --show-idle, else one line. Idle waits: a
 * table with --show-idle, else one line. */
static int write_signals(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o)
{
	bool resource_table = o->show_idle || (double)p->resource_wait_ns >=
						      RESOURCE_TABLE_SHARE * (double)p->duration_ns;

	if (write_signal_waits(f, p, o, LP_CATEGORY_RESOURCE, p->resource_waits,
			       p->resource_wait_ns,
			       "Waits for a signal or a resource mid-work (a pooled connection, a "
			       "full queue, a Semaphore)",
			       resource_table, ", under 1% of the run: --show-idle to list."))
		return -ENOMEM;
	return write_signal_waits(
		f, p, o, LP_CATEGORY_IDLE, p->idle_waits, p->idle_wait_ns,
		"Idle waits, not contention (threads waiting for work in their run "
		"loop, joins)",
		o->show_idle, ", hidden: --show-idle to list.");
}

int report_text__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o)
{
	const struct lp_counters *c = &p->counters;
	const struct lp_lock **locks;
	char a[32], label[MAX_LOCK_COLUMN * 4];
	size_t total = 0, n = 0;

	if (p->interval)
		write_interval(f, p);
	if (p->gil_measured) {
		write_gil(f, p);
		if (!strstr(p->mode, "contention"))
			return ferror(f) ? -EIO : 0;
		fputc('\n', f);
	}
	write_header(f, p);
	locks = select_locks(p, LP_CATEGORY_CONTENTION, o, &total, &n);
	if (!locks)
		return -ENOMEM;
	if (total)
		write_table(f, locks, n, LP_CATEGORY_CONTENTION);
	else
		fputs("No lock contention seen: no thread blocked on a lock held by another.\n", f);
	if (n < total)
		fprintf(f, "(%zu more lock%s not listed: --top %zu)\n", total - n,
			total - n == 1 ? "" : "s", o->top);

	write_top_stacks(f, locks, n);
	for (size_t i = 0; o->histogram && i < n; i++) {
		lock_label(locks[i], label, sizeof(label));
		fprintf(f, "\nWait time histogram: %s (%s waits)\n", label,
			units__count(locks[i]->waits, a, sizeof(a)));
		report_hist__write(f, locks[i]->hist, "    ");
	}
	free(locks);
	if (write_objects(f, p, o))
		return -ENOMEM;
	report_freethreaded__text_pauses(f, p);
	if (p->full.measured)
		write_holds(f, p);
	report_inversions__text(f, p);
	if (write_signals(f, p, o))
		return -ENOMEM;
	if (c->read_errors || c->thread_not_found || p->unknown_frames || c->stacks_truncated)
		fprintf(f,
			"\nIncomplete data: %" PRIu64 " failed reads, %" PRIu64
			" waits without a Python thread, %" PRIu64 " unknown frames, %" PRIu64
			" truncated stacks.\n",
			(uint64_t)c->read_errors, (uint64_t)c->thread_not_found, p->unknown_frames,
			(uint64_t)c->stacks_truncated);
	return ferror(f) ? -EIO : 0;
}
