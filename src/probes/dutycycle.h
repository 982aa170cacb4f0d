/* SPDX-License-Identifier: GPL-2.0 */
/* The overhead bound of -m full: a duty-cycle controller that decides, period after period, for
 * which share of each period the full-mode probes (sem_trywait/sem_post) stay attached, so that
 * their estimated cost (hits x calibrated cost per hit) stays under --max-overhead. Pure: no BPF,
 * no clock of its own; the caller passes the time and the hit counter and applies the decision
 * to the full-mode probes only (the contention probes are not its business). */
#ifndef LOCKPROF_SRC_DUTYCYCLE_H
#define LOCKPROF_SRC_DUTYCYCLE_H

#include <stdbool.h>
#include <stdint.h>

#define LP_DUTY_PERIOD_NS 1000000000ULL /* one decision per second */
#define LP_DUTY_FIRST_NS 100000000ULL	/* first period: attached, to measure the hit rate */
#define LP_DUTY_MIN 0.01		/* a smaller share is not worth attaching for */
#define LP_DUTY_MAX_PERIOD_NS 5e9  /* stretched periods stay this short, for a steady estimate */
#define LP_DUTY_MIN_WINDOW_NS 50e6 /* attach for 50 ms at least: attaching takes ms */

struct lp_dutycycle {
	double max_overhead;  /* fraction of one CPU; >= 1 means no bound */
	double probe_cost_ns; /* one probe hit, calibrated */
	uint64_t period_ns;
	double duty;	      /* share of the current period attached at its start */
	double full_overhead; /* last measured cost of being attached throughout */
	/* the current period */
	uint64_t period_start_ns, period_len_ns;
	uint64_t period_hits, period_attached_ns;
	bool cut; /* detached early: the period's hits already cost its share */
	/* the last step */
	bool attached;
	uint64_t last_ns, last_hits;
	/* whole run, for the report */
	uint64_t start_ns, total_hits, total_attached_ns;
};

/* max_overhead_pct: --max-overhead (100: unbounded). probe_cost_ns > 0. */
void dutycycle__init(struct lp_dutycycle *dc, double max_overhead_pct, double probe_cost_ns,
		     uint64_t now_ns, uint64_t hits);

/* Called at least every few milliseconds with the clock and the cumulative hit counter of the
 * full-mode probes; returns whether they should be attached from now on. */
bool dutycycle__step(struct lp_dutycycle *dc, uint64_t now_ns, uint64_t hits);

/* Nanoseconds until the decision may change (to bound the caller's sleep). */
uint64_t dutycycle__next_change_ns(const struct lp_dutycycle *dc, uint64_t now_ns);

/* The controller's totals at one moment: the start of a report's span (-i: of an interval). */
struct lp_duty_mark {
	uint64_t ns, attached_ns, hits;
};

/* The totals as of the last step (its time is now_ns). */
struct lp_duty_mark dutycycle__mark(const struct lp_dutycycle *dc, uint64_t now_ns);

/* Share of the time since `since` (NULL: the start of the run) the probes were attached, 0..1
 * (1 before any time passed). */
double dutycycle__average(const struct lp_dutycycle *dc, const struct lp_duty_mark *since,
			  uint64_t now_ns);

/* Estimated overhead since `since` (NULL: the run): hit cost as a share of one CPU, percent. */
double dutycycle__overhead_pct(const struct lp_dutycycle *dc, const struct lp_duty_mark *since,
			       uint64_t now_ns);

#endif
