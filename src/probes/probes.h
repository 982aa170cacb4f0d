/* SPDX-License-Identifier: GPL-2.0 */
/* The attach plan: which functions of which module get lockprof's programs for a CPython
 * version, the BPF configuration that goes with it, and ownership of the links. */
#ifndef LOCKPROF_SRC_PROBES_H
#define LOCKPROF_SRC_PROBES_H

#include <stdbool.h>

#include "probes/links.h"
#include "target/pyversion.h"
#include "target/target.h"

struct lockprof_bpf;

struct lp_probes {
	struct lp_links links;
	int nfunctions; /* functions probed */
};

/* Attaches the probes of the modes (enum lp_mode bits) to t, filtered to its pid; with
 * creation_sites also lock creation and destruction (a trap per lock created). Returns 0 or an
 * LP_EXIT_* code after printing why (everything attached so far is detached then). */
int probes__attach(struct lp_probes *pr, struct lockprof_bpf *skel, const struct lp_target *t,
		   const struct lp_pyversion *v, unsigned int modes, bool creation_sites);

/* Detaches every probe; safe to call twice. */
void probes__detach(struct lp_probes *pr);

#endif
