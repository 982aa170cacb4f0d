/* SPDX-License-Identifier: GPL-2.0 */
/* The stack budget of contention mode: how often the programs walk the Python stack (BPF's
 * stack_sample_ns), decided once per window from what the last window cost, so that lockprof's
 * estimated cost stays under --max-overhead while the wait totals stay exact. Pure: no BPF, no
 * clock; the caller reads the programs' self cost (struct lp_self_cost) and applies the result.
 *
 * A wait shorter than the threshold T gets its stack captured with probability wait / T, a longer
 * one always. Walks are the programs' main cost per wait; what remains per hit (the trap and the
 * rest of the program) is not the budget's to cut: when it alone exceeds the bound, the timing
 * probes' duty cycle (probes/dutycycle.h) takes over.
 *
 * Walks get at most 1 / LP_STACK_SHARE_DIVISOR of the bound whatever the rest leaves them: 2% of
 * a CPU under the default 50%. Where contended waits are frequent (a lock handed back and forth
 * between threads at tens of thousands of waits a second) every stack would cost more than
 * everything else lockprof does per wait; a sample of them, weighted, draws the same profile,
 * while quieter processes (walks under 2% of a CPU: about 10,000 waits a second) keep every
 * stack. */
#ifndef LOCKPROF_SRC_STACKBUDGET_H
#define LOCKPROF_SRC_STACKBUDGET_H

#include <stdint.h>

/* Five decisions per second: a burst of contention is thinned within 200 ms. */
#define LP_STACK_BUDGET_WINDOW_NS 200000000ULL
#define LP_STACK_BUDGET_FIRST_WINDOW_NS 50000000ULL /* until a window has walks */
#define LP_STACK_SHARE_DIVISOR 25		    /* walks' share of the bound, at most */
#define LP_STACK_SAMPLE_MIN_NS 1000ULL		    /* thinner than 1 us: capture every stack */
#define LP_STACK_SAMPLE_MAX_NS 10000000ULL	    /* waits of 10 ms and more keep every stack */

/* What one window cost, from the programs' self cost and the calibrated trap. */
struct lp_budget_window {
	uint64_t elapsed_ns;
	uint64_t hits;	  /* probe hits */
	uint64_t run_ns;  /* BPF time of those hits, walks included */
	uint64_t walks;	  /* stack walks */
	uint64_t walk_ns; /* their BPF time */
	uint64_t waits;	  /* contended waits */
	uint64_t sampled; /* of those, waits whose stack was captured */
	uint64_t wait_ns; /* their total duration (sets the first threshold) */
	double trap_ns;	  /* calibrated cost of one hit besides its BPF time */
};

/* Estimated cost of the window's probes, nanoseconds: hits x trap + BPF time. */
double stackbudget__cost_ns(const struct lp_budget_window *w);

/* The threshold for the next window, given the current one (0: every stack) and the bound
 * (fraction of one CPU). Raises it while the walks are over what the bound leaves them, lowers it
 * while they use less than half of that. */
uint64_t stackbudget__next(uint64_t threshold_ns, const struct lp_budget_window *w,
			   double max_overhead);

#endif
