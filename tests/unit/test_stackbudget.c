// SPDX-License-Identifier: GPL-2.0
/* The stack budget's decision against a simulated target: short waits at a steady rate, whose
 * walks cost more than the bound leaves them, must settle under the bound by thinning stacks,
 * come back to every stack when the bound allows, and never thin for walks that fit. */
#include "probes/stackbudget.h"
#include "testing.h"

#define S 1000000000ULL

struct workload {
	double waits_per_s;
	double wait_ns; /* every wait lasts this */
	double trap_ns; /* per hit */
	double rest_ns; /* BPF time per hit apart from walks */
	double walk_ns; /* per walk */
	double hits_per_wait;
	double walks_per_wait; /* waiter's and releaser's walks when every stack is captured */
};

/* One second of the workload under threshold t: the window the controller sees. */
static struct lp_budget_window window(const struct workload *w, uint64_t t)
{
	double share = !t || w->wait_ns >= (double)t ? 1.0 : w->wait_ns / (double)t;
	double waits = w->waits_per_s, hits = waits * w->hits_per_wait;
	double walks = waits * w->walks_per_wait * share;

	return (struct lp_budget_window){
		.elapsed_ns = S,
		.hits = (uint64_t)hits,
		.run_ns = (uint64_t)(hits * w->rest_ns + walks * w->walk_ns),
		.walks = (uint64_t)walks,
		.walk_ns = (uint64_t)(walks * w->walk_ns),
		.waits = (uint64_t)waits,
		.sampled = (uint64_t)(waits * share),
		.wait_ns = (uint64_t)(waits * w->wait_ns),
		.trap_ns = w->trap_ns,
	};
}

static double cost_pct(const struct workload *w, uint64_t t)
{
	struct lp_budget_window win = window(w, t);

	return 100.0 * stackbudget__cost_ns(&win) / (double)win.elapsed_ns;
}

/* The walks' share of one CPU under threshold t, percent. */
static double walk_pct(const struct workload *w, uint64_t t)
{
	struct lp_budget_window win = window(w, t);

	return 100.0 * (double)win.walk_ns / (double)win.elapsed_ns;
}

/* Runs the controller for n windows from threshold t; returns the last threshold. */
static uint64_t settle(const struct workload *w, uint64_t t, double bound, int n)
{
	for (int i = 0; i < n; i++) {
		struct lp_budget_window win = window(w, t);

		t = stackbudget__next(t, &win, bound);
	}
	return t;
}

int main(void)
{
	/* 40,000 waits/s of 15 us, 3 hits and 2 walks each: ping-pong-like. */
	struct workload w = { .waits_per_s = 40000,
			      .wait_ns = 15000,
			      .trap_ns = 900,
			      .rest_ns = 300,
			      .walk_ns = 800,
			      .hits_per_wait = 3,
			      .walks_per_wait = 2 };
	double all = cost_pct(&w, 0), rest = 100.0 * 40000 * 3 * (900 + 300) / S;
	uint64_t t;

	CHECK(all > 20 && rest < 16, "the simulated costs: %.1f%% all, %.1f%% without walks", all,
	      rest);
	/* A bound between the two: stacks thinned until the cost fits. */
	t = settle(&w, 0, 0.18, 8);
	CHECK(t > 15000, "thinned: threshold %llu ns", (unsigned long long)t);
	CHECK(cost_pct(&w, t) <= 18.0 * 1.05, "settled under the bound: %.2f%%", cost_pct(&w, t));
	CHECK(cost_pct(&w, t) >= 18.0 * 0.5, "not thinner than needed: %.2f%%", cost_pct(&w, t));
	/* Under the default bound everything fits, but the walks (6.4% of a CPU) are over their
	 * own share of it (1/25: 2%): thinned to that share, no further. */
	t = settle(&w, 0, 0.5, 8);
	CHECK(t > 15000, "walks over their share thinned: threshold %llu ns",
	      (unsigned long long)t);
	CHECK(walk_pct(&w, t) <= 2.0 * 1.05, "walks within their share: %.2f%%", walk_pct(&w, t));
	CHECK(walk_pct(&w, t) >= 2.0 * 0.5, "not thinner than their share: %.2f%%",
	      walk_pct(&w, t));
	/* A tenth of the waits: walks under their share, back to every stack, then never thinned. */
	w.waits_per_s = 4000;
	CHECK_EQ_INT(settle(&w, t, 0.5, 20), 0, "every stack again when the walks fit");
	CHECK_EQ_INT(settle(&w, 0, 0.5, 5), 0, "no thinning when everything fits");
	w.waits_per_s = 40000;
	/* Unbounded (100%): never thinned. */
	CHECK_EQ_INT(settle(&w, 0, 1.0, 5), 0, "no thinning without a bound");
	/* The rest alone over the bound: stacks thinned as far as they go (the duty cycle's turn). */
	t = settle(&w, 0, 0.05, 30);
	CHECK_EQ_INT(t, LP_STACK_SAMPLE_MAX_NS, "thinned to the limit when walks cannot fit");
	/* A quiet window keeps the threshold. */
	{
		struct lp_budget_window quiet = { .elapsed_ns = S, .trap_ns = 900 };

		CHECK_EQ_INT(stackbudget__next(123456, &quiet, 0.1), 123456, "quiet window");
	}
	/* Long waits are always captured: they cannot be thinned below their own share. */
	w.wait_ns = 20e6;
	w.waits_per_s = 100;
	CHECK_EQ_INT(settle(&w, 0, 0.18, 5), 0, "few long waits: every stack");
	return testing_summary("stackbudget");
}
