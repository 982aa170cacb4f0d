/* SPDX-License-Identifier: GPL-2.0 */
/* -m full: its probes (full_sites.h) attached and detached by the duty-cycle controller so that
 * their estimated cost (a hit's calibrated cost) stays under --max-overhead, and the figures by which each
 * report upscales its sampled holds. The contention probes are attached by probes.c and are never
 * touched here. */
#ifndef LOCKPROF_SRC_FULLMODE_H
#define LOCKPROF_SRC_FULLMODE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/opts.h"
#include "probes/dutycycle.h"
#include "probes/full_sites.h"
#include "probes/sites.h"
#include "probes/links.h"
#include "profile/profile.h"
#include "target/interp.h"
#include "target/target.h"

struct lockprof_bpf;

struct lp_fullmode {
	struct lockprof_bpf *skel;
	const struct lp_target *target;
	struct lp_full_sites sites;
	struct lp_duty_mark span; /* where the current report's span began (-i: each interval) */
	struct lp_links links;
	bool attached;
	uint32_t epoch;
	unsigned int capture_pct;
	double probe_cost_ns;		   /* per hit, trap and BPF, priced again as hits come */
	const struct lp_trap_costs *costs; /* calibrated (budget.h) */
	uint64_t priced_hits;		   /* hits when probe_cost_ns was last priced */
	struct lp_dutycycle dc;
	uint64_t attach_failures;
};

/* After the BPF object is loaded: finds the probe sites (full_sites.h) for the build info
 * describes; costs are the calibrated trap costs (budget.h), which must outlive fm. 0 or an LP_EXIT_* code after printing why. */
int fullmode__prepare(struct lp_fullmode *fm, struct lockprof_bpf *skel, const struct lp_target *t,
		      const struct lp_interp *info, const struct lp_opts *opts,
		      const struct lp_trap_costs *costs);

/* Starts the duty cycle (attaches the probes for the first period). */
int fullmode__start(struct lp_fullmode *fm, uint64_t now_ns);

/* Called from the collection loop: applies the controller's decision. Returns the milliseconds
 * the caller may sleep before the next call, at most max_ms. */
int fullmode__tick(struct lp_fullmode *fm, uint64_t now_ns, int max_ms);

/* -m full with -i: fills info for the interval ending now (since the start or the previous
 * call): the duty cycle and overhead of that interval, by which its holds are upscaled. */
void fullmode__interval(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info);

/* Detaches the full-mode probes and fills info for the last report's span (the whole run, or
 * the last interval). */
void fullmode__stop(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info);

/* Idempotent cleanup. */
void fullmode__detach(struct lp_fullmode *fm);

#endif
