// SPDX-License-Identifier: GPL-2.0
/* Duty-cycle controller for -m full (see dutycycle.h). Each period starts attached for
 * duty x period, then detached for the rest. At a period's end the hit rate seen while attached
 * gives the overhead a fully attached period would cost (rate x cost per hit, as a share of one
 * CPU: conservative, the target's threads mostly run one at a time under the GIL); the next duty
 * spends what is left of the run's budget (bound x time, minus the cost of the hits so far) over
 * the next period. It falls at once but at most doubles per period. */
#include "probes/dutycycle.h"

void dutycycle__init(struct lp_dutycycle *dc, double max_overhead_pct, double probe_cost_ns,
		     uint64_t now_ns, uint64_t hits)
{
	*dc = (struct lp_dutycycle){
		.max_overhead = max_overhead_pct / 100.0,
		.probe_cost_ns = probe_cost_ns > 0 ? probe_cost_ns : 1,
		.period_ns = LP_DUTY_PERIOD_NS,
		.duty = 1.0,
		.period_start_ns = now_ns,
		.period_len_ns = LP_DUTY_FIRST_NS,
		.last_ns = now_ns,
		.last_hits = hits,
		.start_ns = now_ns,
	};
}

static double clamp(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void next_duty(struct lp_dutycycle *dc, uint64_t now_ns)
{
	double full_overhead, spent_ns, allowed_ns, want;

	if (dc->max_overhead >= 1.0) {
		dc->duty = 1.0;
		return;
	}
	/* The overhead of a fully attached period, from the rate seen while attached; kept from
	 * an earlier period when this one was detached throughout. */
	if (dc->period_attached_ns)
		dc->full_overhead = (double)dc->period_hits * dc->probe_cost_ns /
				    (double)dc->period_attached_ns;
	full_overhead = dc->full_overhead;
	/* Up by at most a doubling (from the smallest share, after a skipped period). */
	if (full_overhead <= 0) {
		want = 1.0;
	} else {
		/* A budget over the whole run, so that what the plan did not foresee (the first,
		 * measuring period; windows overrun by attach and detach latency) is paid back.
		 * Credit from quiet periods is capped at one period, so a burst after them is not
		 * met fully attached. */
		spent_ns = (double)dc->total_hits * dc->probe_cost_ns;
		allowed_ns = dc->max_overhead * (double)(now_ns - dc->start_ns + dc->period_ns) -
			     spent_ns;
		if (allowed_ns > dc->max_overhead * (double)dc->period_ns)
			allowed_ns = dc->max_overhead * (double)dc->period_ns;
		want = allowed_ns / (full_overhead * (double)dc->period_ns);
	}
	if (want > 2 * (dc->duty > LP_DUTY_MIN ? dc->duty : LP_DUTY_MIN))
		want = 2 * (dc->duty > LP_DUTY_MIN ? dc->duty : LP_DUTY_MIN);
	dc->duty = clamp(want, 0.0, 1.0);
	if (dc->duty > 0 && dc->duty < LP_DUTY_MIN)
		dc->duty = LP_DUTY_MIN;
}

bool dutycycle__step(struct lp_dutycycle *dc, uint64_t now_ns, uint64_t hits)
{
	uint64_t dt = now_ns > dc->last_ns ? now_ns - dc->last_ns : 0;
	uint64_t dh = hits > dc->last_hits ? hits - dc->last_hits : 0;

	/* What happened since the last step happened in the state decided then. */
	if (dc->attached) {
		dc->period_attached_ns += dt;
		dc->total_attached_ns += dt;
	}
	dc->period_hits += dh;
	dc->total_hits += dh;
	dc->last_ns = now_ns;
	dc->last_hits = hits;

	if (now_ns - dc->period_start_ns >= dc->period_len_ns) {
		next_duty(dc, now_ns);
		dc->period_start_ns = now_ns;
		/* Windows shorter than attaching and detaching take are not kept: the period is
		 * stretched instead, the share stays. */
		dc->period_len_ns = dc->period_ns;
		if (dc->duty > 0 && dc->duty * (double)dc->period_ns < LP_DUTY_MIN_WINDOW_NS)
			dc->period_len_ns = (uint64_t)(LP_DUTY_MIN_WINDOW_NS / dc->duty);
		if (dc->period_len_ns > LP_DUTY_MAX_PERIOD_NS)
			dc->period_len_ns = (uint64_t)LP_DUTY_MAX_PERIOD_NS;
		dc->period_hits = 0;
		dc->period_attached_ns = 0;
		dc->cut = false;
	}
	/* A load that grew within the period: once its hits cost the period's share of the
	 * bound, detach until the next period rather than wait for its end. */
	if (dc->max_overhead < 1.0 && !dc->cut &&
	    (double)dc->period_hits * dc->probe_cost_ns >
		    dc->max_overhead * (double)dc->period_len_ns)
		dc->cut = true;
	dc->attached = !dc->cut && (dc->duty >= 1.0 ||
				    now_ns - dc->period_start_ns <
					    (uint64_t)(dc->duty * (double)dc->period_len_ns));
	return dc->attached;
}

uint64_t dutycycle__next_change_ns(const struct lp_dutycycle *dc, uint64_t now_ns)
{
	uint64_t on_end = dc->period_start_ns + (uint64_t)(dc->duty * (double)dc->period_len_ns);
	uint64_t period_end = dc->period_start_ns + dc->period_len_ns;

	if (dc->attached && dc->duty < 1.0 && on_end > now_ns)
		return on_end - now_ns;
	return period_end > now_ns ? period_end - now_ns : 0;
}

struct lp_duty_mark dutycycle__mark(const struct lp_dutycycle *dc, uint64_t now_ns)
{
	return (struct lp_duty_mark){ .ns = now_ns,
				      .attached_ns = dc->total_attached_ns,
				      .hits = dc->total_hits };
}

double dutycycle__average(const struct lp_dutycycle *dc, const struct lp_duty_mark *since,
			  uint64_t now_ns)
{
	struct lp_duty_mark from = since ? *since : (struct lp_duty_mark){ .ns = dc->start_ns };
	uint64_t elapsed = now_ns > from.ns ? now_ns - from.ns : 0;

	if (!elapsed)
		return 1.0;
	return clamp((double)(dc->total_attached_ns - from.attached_ns) / (double)elapsed, 0.0,
		     1.0);
}

double dutycycle__overhead_pct(const struct lp_dutycycle *dc, const struct lp_duty_mark *since,
			       uint64_t now_ns)
{
	struct lp_duty_mark from = since ? *since : (struct lp_duty_mark){ .ns = dc->start_ns };
	uint64_t elapsed = now_ns > from.ns ? now_ns - from.ns : 0;

	if (!elapsed)
		return 0.0;
	return 100.0 * (double)(dc->total_hits - from.hits) * dc->probe_cost_ns / (double)elapsed;
}
