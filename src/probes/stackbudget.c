// SPDX-License-Identifier: GPL-2.0
/* The stack budget's decision (see stackbudget.h). */
#include "probes/stackbudget.h"

double stackbudget__cost_ns(const struct lp_budget_window *w)
{
	return (double)w->hits * w->trap_ns + (double)w->run_ns;
}

static uint64_t clamp_threshold(double t)
{
	if (t < (double)LP_STACK_SAMPLE_MIN_NS)
		return 0;
	if (t > (double)LP_STACK_SAMPLE_MAX_NS)
		return LP_STACK_SAMPLE_MAX_NS;
	return (uint64_t)t;
}

uint64_t stackbudget__next(uint64_t threshold_ns, const struct lp_budget_window *w,
			   double max_overhead)
{
	double budget = max_overhead * (double)w->elapsed_ns;
	double walk_ns = (double)w->walk_ns;
	double rest_ns = stackbudget__cost_ns(w) - walk_ns;
	double allowed = budget - rest_ns; /* what the bound leaves the walks */
	double captured, wanted;

	/* And never more than their own share of it. */
	if (allowed > budget / LP_STACK_SHARE_DIVISOR)
		allowed = budget / LP_STACK_SHARE_DIVISOR;

	if (!w->elapsed_ns || max_overhead >= 1.0)
		return 0;
	/* Nothing walked: nothing to decide from; a quiet window keeps the threshold. */
	if (!w->walks || !w->waits)
		return threshold_ns;
	captured = (double)w->sampled / (double)w->waits;
	if (captured <= 0)
		captured = 1.0 / (double)w->waits;
	if (walk_ns > allowed) {
		/* Walks (waiters' and releasers') scale with the share of waits captured; for waits
		 * shorter than T that share goes as 1 / T. At least halve it: the rest of the cost
		 * may leave the walks nothing. */
		wanted = allowed > 0 ? captured * allowed / walk_ns : captured / 2;
		if (wanted > captured / 2 && allowed <= 0)
			wanted = captured / 2;
		if (!threshold_ns) {
			/* From "every stack": start at the mean wait, which captures about one in
			 * captured / wanted of the short ones. */
			double mean = (double)w->wait_ns / (double)w->waits;

			return clamp_threshold((mean > 0 ? mean : 1000.0) * captured / wanted);
		}
		return clamp_threshold((double)threshold_ns * captured / wanted);
	}
	if (threshold_ns && walk_ns < allowed / 2) {
		/* Room again: capture up to twice as many, back to every stack eventually. */
		wanted = captured * allowed / (walk_ns > 0 ? walk_ns : 1);
		if (wanted > 2 * captured)
			wanted = 2 * captured;
		return clamp_threshold((double)threshold_ns * captured / wanted);
	}
	return threshold_ns;
}
