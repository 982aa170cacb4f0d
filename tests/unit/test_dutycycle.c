// SPDX-License-Identifier: GPL-2.0
/* The -m full duty-cycle controller against a fake clock and a fake target whose probe hits
 * arrive at a set rate while the full-mode probes are attached. */
#include <math.h>

#include "probes/dutycycle.h"
#include "testing.h"

#define MS 1000000ULL
#define COST_NS 1500.0

/* What main.c drives: both probe sets. The controller's decision may only reach `full`. */
struct fake_probes {
	bool contention, full;
	int contention_changes, full_changes;
};

static void apply(struct fake_probes *p, bool want_full)
{
	if (p->full != want_full) {
		p->full = want_full;
		p->full_changes++;
	}
}

struct sim {
	struct lp_dutycycle dc;
	struct fake_probes probes;
	uint64_t now, hits;
	double carry;
};

static void sim_init(struct sim *s, double max_pct)
{
	*s = (struct sim){ .probes = { .contention = true }, .now = 5000 * MS };
	dutycycle__init(&s->dc, max_pct, COST_NS, s->now, 0);
	apply(&s->probes, dutycycle__step(&s->dc, s->now, 0));
}

/* Runs for `ms` milliseconds at `rate` hits per microsecond while attached; returns the hits. */
static uint64_t sim_run(struct sim *s, uint64_t ms, double rate)
{
	uint64_t before = s->hits;

	for (uint64_t i = 0; i < ms; i++) {
		if (s->probes.full) {
			s->carry += rate * 1000.0;
			s->hits += (uint64_t)s->carry;
			s->carry -= floor(s->carry);
		}
		s->now += MS;
		apply(&s->probes, dutycycle__step(&s->dc, s->now, s->hits));
	}
	return s->hits - before;
}

static double overhead_pct(uint64_t hits, uint64_t ms)
{
	return 100.0 * (double)hits * COST_NS / ((double)ms * (double)MS);
}

int main(void)
{
	struct sim s;
	double pct;
	uint64_t hits;

	/* A hot loop: 1 hit/us costs 150% of a CPU fully attached; the bound is 5%. */
	sim_init(&s, 5.0);
	CHECK(s.probes.full, "attached at first, to measure the rate");
	sim_run(&s, 10000, 1.0);
	hits = sim_run(&s, 30000, 1.0);
	pct = overhead_pct(hits, 30000);
	CHECK(pct <= 5.0 * 1.05, "steady overhead %.2f%% over the 5%% bound", pct);
	CHECK(pct >= 5.0 * 0.8, "steady overhead %.2f%% needlessly far under the bound", pct);
	CHECK(fabs(s.dc.duty - 0.05 / 1.5) < 0.01, "duty %.4f, expected %.4f", s.dc.duty,
	      0.05 / 1.5);
	CHECK(s.probes.full_changes > 20, "detached and attached each period (%d changes)",
	      s.probes.full_changes);
	CHECK(fabs(dutycycle__average(&s.dc, NULL, s.now) - 0.05 / 1.5) < 0.01, "average duty %.4f",
	      dutycycle__average(&s.dc, NULL, s.now));
	/* The whole run pays back the first, fully attached, 100 ms. */
	CHECK(dutycycle__overhead_pct(&s.dc, NULL, s.now) <= 5.0 * 1.05, "run overhead %.2f%%",
	      dutycycle__overhead_pct(&s.dc, NULL, s.now));
	CHECK(s.probes.contention && !s.probes.contention_changes, "contention probes untouched");
	/* -i: the figures of an interval alone, from a mark at its start. */
	{
		struct lp_duty_mark mark = dutycycle__mark(&s.dc, s.now);

		sim_run(&s, 10000, 1.0);
		CHECK(fabs(dutycycle__average(&s.dc, &mark, s.now) - 0.05 / 1.5) < 0.01,
		      "interval duty %.4f", dutycycle__average(&s.dc, &mark, s.now));
		pct = dutycycle__overhead_pct(&s.dc, &mark, s.now);
		CHECK(pct <= 5.0 * 1.05 && pct >= 5.0 * 0.8, "interval overhead %.2f%%", pct);
		mark = dutycycle__mark(&s.dc, s.now);
		CHECK(dutycycle__average(&s.dc, &mark, s.now) == 1.0 &&
			      dutycycle__overhead_pct(&s.dc, &mark, s.now) == 0.0,
		      "an empty interval: duty 1, no overhead");
	}

	/* A light workload stays fully attached: every hold is measured. */
	sim_init(&s, 5.0);
	sim_run(&s, 10000, 0.001);
	CHECK(s.probes.full && s.probes.full_changes == 1, "light load: attached throughout (%d)",
	      s.probes.full_changes);
	CHECK(dutycycle__average(&s.dc, NULL, s.now) == 1.0, "light load: duty %.3f",
	      dutycycle__average(&s.dc, NULL, s.now));

	/* Quiet, then a burst: the next period cuts the duty, and the run pays back the period
	 * the burst began in; then the load stops and the duty climbs back, doubling per
	 * period. */
	sim_init(&s, 5.0);
	sim_run(&s, 3000, 0.0);
	CHECK(s.dc.duty == 1.0, "quiet: duty %.3f", s.dc.duty);
	/* 2 hits/us cost 300%: 5% of a 1 s period is spent in 17 ms; detached by 20 ms. */
	sim_run(&s, 20, 2.0);
	CHECK(!s.probes.full, "burst: detached within the period it began in");
	sim_run(&s, 1980, 2.0);
	CHECK(s.dc.duty < 0.05, "burst: duty %.3f", s.dc.duty);
	sim_run(&s, 60000, 2.0);
	pct = dutycycle__overhead_pct(&s.dc, NULL, s.now);
	CHECK(pct <= 5.0 * 1.05, "burst: run overhead %.2f%%", pct);
	sim_run(&s, 30000, 0.0);
	CHECK(s.dc.duty == 1.0, "after the burst: duty back to %.3f", s.dc.duty);
	CHECK(s.probes.contention && !s.probes.contention_changes, "contention probes untouched");

	/* A tighter bound gives a proportionally smaller duty. */
	sim_init(&s, 1.0);
	sim_run(&s, 10000, 1.0);
	hits = sim_run(&s, 30000, 1.0);
	pct = overhead_pct(hits, 30000);
	CHECK(pct <= 1.0 * 1.05 && pct >= 0.8, "1%% bound: overhead %.2f%%", pct);

	/* 100%: no bound. */
	sim_init(&s, 100.0);
	sim_run(&s, 5000, 5.0);
	CHECK(s.probes.full && s.dc.duty == 1.0, "unbounded: attached throughout");

	/* The caller may sleep until the next change, never past it. */
	sim_init(&s, 5.0);
	sim_run(&s, 2000, 1.0);
	CHECK(dutycycle__next_change_ns(&s.dc, s.now) <= s.dc.period_len_ns, "next change %llu",
	      (unsigned long long)dutycycle__next_change_ns(&s.dc, s.now));
	return testing_summary("dutycycle");
}
