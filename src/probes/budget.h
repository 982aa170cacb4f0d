/* SPDX-License-Identifier: GPL-2.0 */
/* lockprof's cost to the target, measured and bounded in every mode. The programs time
 * themselves (struct lp_self_cost, per CPU); a hit's trap is priced by calibration
 * (calibrate.h). Under --max-overhead the stack budget (stackbudget.h) first thins stack capture;
 * only when the timing probes alone would exceed the bound does their duty cycle (dutycycle.h)
 * detach them for part of each period, and the profile's totals are upscaled by it. The figures
 * of each report's span (struct lp_overhead) come from here. -m full's own probes keep their own
 * duty cycle (fullmode.h); their cost is in the same self cost. */
#ifndef LOCKPROF_SRC_BUDGET_H
#define LOCKPROF_SRC_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "lockprof/abi.h"
#include "probes/dutycycle.h"
#include "probes/links.h"
#include "probes/probes.h"
#include "probes/sites.h"
#include "profile/profile.h"
#include "target/pyversion.h"
#include "target/target.h"

struct lockprof_bpf;

/* Where the timing probes come from when the duty cycle re-attaches them. */
struct lp_timing_plan {
	const struct lp_target *target;
	const struct lp_pyversion *version;
	unsigned int modes;
	bool creation_sites;
};

struct lp_budget {
	struct lockprof_bpf *skel;
	struct lp_probes *probes; /* the timing probes, attached by the caller first */
	struct lp_timing_plan plan;
	double max_overhead;	    /* fraction of one CPU */
	struct lp_trap_costs costs; /* calibrated */
	double trap_ns;		    /* of those, an emulated entry's */
	struct lp_links calibration;
	/* the stack budget's window */
	uint64_t window_start_ns;
	bool walked; /* a window with stack walks was decided on (the first windows are short) */
	struct lp_self_cost window_start;
	/* the timing probes' duty cycle */
	struct lp_dutycycle dc;
	bool attached;
	/* Time the probes were live, measured around the attach and detach calls (attaching
	 * takes milliseconds, which the controller's own account would count as attached). */
	uint64_t live_since_ns, live_total_ns;
	uint32_t epoch;
	uint64_t attach_failures;
	/* the current report's span */
	uint64_t span_start_ns;
	struct lp_self_cost span_start;
	uint64_t span_live_ns; /* live_total_ns at the span's start */
};

/* Calibrates the trap (after the BPF object is loaded, before the probes are attached), unless
 * known (not NULL): costs calibrated already in this run (by another process's engine). */
void budget__prepare(struct lp_budget *b, struct lockprof_bpf *skel, double max_overhead_pct,
		     const struct lp_trap_costs *known);

/* Starts measuring at now_ns; the timing probes in probes were attached by the caller. */
void budget__start(struct lp_budget *b, struct lp_probes *probes, const struct lp_timing_plan *plan,
		   uint64_t now_ns);

/* Called from the collection loop: a new stack threshold once per window, the timing probes
 * attached or detached by their duty cycle. Returns the milliseconds the caller may sleep, at
 * most max_ms. */
int budget__tick(struct lp_budget *b, uint64_t now_ns, int max_ms);

/* Fills o with the span since the last call (or the start) and starts the next span. */
void budget__span(struct lp_budget *b, uint64_t now_ns, struct lp_overhead *o);

/* The programs' self cost now, summed over the CPUs. 0 or -errno. */
int budget__read_self_cost(struct lockprof_bpf *skel, struct lp_self_cost *sum);

/* Hits of every probe but -m full's so far (the report's probe_hits). */
uint64_t budget__timing_hits(struct lockprof_bpf *skel);

/* The timing probes' links are the caller's; this drops the calibration probe. */
void budget__close(struct lp_budget *b);

#endif
