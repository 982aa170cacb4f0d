// SPDX-License-Identifier: GPL-2.0
/* What only free-threaded builds have, in the text and JSON reports: whether the GIL is on, and
 * the stop-the-world pauses (count, total, max, threads paused, the initiating stacks). Object
 * contention is a lock table of its own (report_text.c, LP_CATEGORY_OBJECT). */
#include <inttypes.h>
#include <stdio.h>

#include "report/render.h"
#include "util/units.h"

#define TOP_PAUSE_STACKS 2

static const struct lp_lock *stw_lock(const struct lp_profile *p)
{
	for (size_t i = 0; i < p->nlocks; i++)
		if (p->locks[i].category == LP_CATEGORY_STW)
			return &p->locks[i];
	return NULL;
}

static const char *gil_state(const struct lp_profile *p)
{
	return p->gil_enabled > 0 ? "enabled (PYTHON_GIL=1, or an extension not marked "
				    "free-threading-safe turned it on): -m gil measures it"
	       : !p->gil_enabled  ? "disabled: threads run in parallel, no GIL to wait for"
				  : "unknown (could not read it)";
}

void report_freethreaded__text_header(FILE *f, const struct lp_profile *p)
{
	if (p->free_threaded)
		fprintf(f, "Free-threaded build. GIL %s.\n", gil_state(p));
}

void report_freethreaded__text_pauses(FILE *f, const struct lp_profile *p)
{
	const struct lp_lock *stw = stw_lock(p);
	char a[32], b[32], d[32], e[32];

	if (!p->free_threaded)
		return;
	if (!p->stw_pauses) {
		fputs("\nStop-the-world pauses: none.\n", f);
		return;
	}
	fprintf(f,
		"\nStop-the-world pauses: %s, %s total, max %s; %.1f threads paused per pause on "
		"average (%s thread-pauses).\n",
		units__count(p->stw_pauses, a, sizeof(a)), units__duration(p->stw_ns, b, sizeof(b)),
		units__duration(p->stw_max_ns, d, sizeof(d)),
		(double)p->counters.stw_threads / (double)p->stw_pauses,
		units__count(p->counters.stw_threads, e, sizeof(e)));
	for (size_t i = 0; stw && i < stw->nstacks && i < TOP_PAUSE_STACKS; i++) {
		const struct lp_lock_stack *ls = &stw->stacks[i];

		if (ls->role != LP_ROLE_WAITER)
			continue;
		fprintf(f, "  initiated by (%s pauses, %s):\n",
			units__count(ls->count, a, sizeof(a)),
			units__duration(ls->wait_ns, b, sizeof(b)));
		report__write_stack(f, ls->stack, "    ",
				    "<no Python stack: the interpreter's own>");
	}
}

void report_freethreaded__json(FILE *f, const struct lp_profile *p)
{
	if (!p->free_threaded) {
		fputs(" \"free_threaded\": null,\n", f);
		return;
	}
	fprintf(f,
		" \"free_threaded\": {\"gil_enabled\": %s, \"object_waits\": %" PRIu64
		", \"object_wait_ns\": %" PRIu64 ", \"stop_the_world\": {\"pauses\": %" PRIu64
		", \"total_ns\": %" PRIu64 ", \"max_ns\": %" PRIu64 ", \"threads_paused\": %" PRIu64
		"}},\n",
		p->gil_enabled > 0 ? "true"
		: !p->gil_enabled  ? "false"
				   : "null",
		p->object_waits, p->object_wait_ns, p->stw_pauses, p->stw_ns, p->stw_max_ns,
		(uint64_t)p->counters.stw_threads);
}
