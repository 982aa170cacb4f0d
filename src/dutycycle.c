// SPDX-License-Identifier: GPL-2.0
/* Duty-cycle controller for -m full (see dutycycle.h). Each period starts attached for
 * duty x period, then detached for the rest. At a period's end the hit rate seen while attached
 * gives the overhead a fully attached period would cost (rate x cost per hit, as a share of one
 * CPU: conservative, the target's threads mostly run one at a time under the GIL); the next duty
 * brings that under the bound. It falls at once but at most doubles per period, so a burst after
 * a quiet period is not met fully attached. */
#include "dutycycle.h"

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

static void next_duty(struct lp_dutycycle *dc)
{
	double full_overhead, want;

	if (dc->max_overhead >= 1.0) {
		dc->duty = 1.0;
		return;
	}
	/* Nothing learned while detached the whole period: keep the duty. */
	if (!dc->period_attached_ns)
		return;
	full_overhead = (double)dc->period_hits * dc->probe_cost_ns / (double)dc->period_attached_ns;
	want = full_overhead > 0 ? dc->max_overhead / full_overhead : 1.0;
	if (want > dc->duty * 2)
		want = dc->duty * 2;
	dc->duty = clamp(want, LP_DUTY_MIN, 1.0);
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
		next_duty(dc);
		dc->period_start_ns = now_ns;
		dc->period_len_ns = dc->period_ns;
		dc->period_hits = 0;
		dc->period_attached_ns = 0;
	}
	/* The first period is attached throughout: it measures the rate. */
	dc->attached = now_ns - dc->period_start_ns <
		       (uint64_t)(dc->duty * (double)dc->period_len_ns) || dc->duty >= 1.0;
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

double dutycycle__average(const struct lp_dutycycle *dc, uint64_t now_ns)
{
	uint64_t elapsed = now_ns > dc->start_ns ? now_ns - dc->start_ns : 0;

	if (!elapsed)
		return 1.0;
	return clamp((double)dc->total_attached_ns / (double)elapsed, 0.0, 1.0);
}

double dutycycle__overhead_pct(const struct lp_dutycycle *dc, uint64_t now_ns)
{
	uint64_t elapsed = now_ns > dc->start_ns ? now_ns - dc->start_ns : 0;

	if (!elapsed)
		return 0.0;
	return 100.0 * (double)dc->total_hits * dc->probe_cost_ns / (double)elapsed;
}
