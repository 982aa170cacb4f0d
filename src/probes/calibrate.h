/* SPDX-License-Identifier: GPL-2.0 */
/* The cost of probe hits on this machine, measured on lockprof's own process: the overhead
 * estimate and bound price every hit with it. */
#ifndef LOCKPROF_SRC_CALIBRATE_H
#define LOCKPROF_SRC_CALIBRATE_H

#include "probes/links.h"
#include "probes/sites.h"

struct lockprof_bpf;

/* What a probe hit costs on this machine apart from its BPF run, per kind of instruction its
 * breakpoint sits on and for a return probe (sites.h): uprobes on lockprof's own functions,
 * timed against the same calls unprobed. The probes stay in *links: removing them waits for a
 * kernel grace period, which need not delay the start. Never fails: assumed costs, with a
 * warning, where it cannot measure. */
void calibrate__trap_costs(struct lockprof_bpf *skel, struct lp_links *links,
			   struct lp_trap_costs *costs);

/* The calibration's probe target inside lockprof itself; exported so .symtab names it. */
int lp_calibration_target(int x);

#endif
