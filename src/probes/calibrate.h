/* SPDX-License-Identifier: GPL-2.0 */
/* The cost of one probe hit on this machine, measured on lockprof's own process: -m full's
 * duty cycle divides its overhead bound by it. */
#ifndef LOCKPROF_SRC_CALIBRATE_H
#define LOCKPROF_SRC_CALIBRATE_H

#include "probes/links.h"

struct lockprof_bpf;

/* Nanoseconds one hit of an entry uprobe running one of skel's programs costs: trap, uprobe
 * dispatch, BPF run, return. The probe (on lockprof itself) is left in *links: removing it waits
 * for a kernel grace period, which need not delay the start. Never fails: an assumed cost, with
 * a warning, when it cannot measure. */
double calibrate__probe_cost_ns(struct lockprof_bpf *skel, struct lp_links *links);

/* The calibration's probe target inside lockprof itself; exported so .symtab names it. */
int lp_calibration_target(int x);

#endif
