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
struct bpf_program;

#define LP_PROBE_MODULES 2	/* libc, the interpreter */
#define LP_PROBE_OFFSETS_MAX 16 /* probed offsets per module, at most */

struct lp_probes {
	struct lp_links links;
	int nfunctions; /* functions probed */
	/* Every probed file offset of each module, and a program attached: for probes__sweep. */
	uint64_t offsets[LP_PROBE_MODULES][LP_PROBE_OFFSETS_MAX];
	int noffsets[LP_PROBE_MODULES];
	struct bpf_program *any_prog;
};

/* Attaches the probes of the modes (enum lp_mode bits) to t, filtered to its pid; with
 * creation_sites also lock creation and destruction (a trap per lock created). Returns 0 or an
 * LP_EXIT_* code after printing why (everything attached so far is detached then). */
int probes__attach(struct lp_probes *pr, struct lockprof_bpf *skel, const struct lp_target *t,
		   const struct lp_pyversion *v, unsigned int modes, bool creation_sites);

/* Clears the breakpoints that processes forked from t inherited: the kernel copies them with the
 * pages, and with uprobe_multi links leaves them in the child, which would then trap at every
 * probe site though nothing measures it. The same sites are probed for lockprof's own pid and
 * unprobed at once: removing a probe takes its breakpoints out of every process that no probe
 * left is for. t's own probes stay. 0 or an LP_EXIT_* code after printing why. */
int probes__sweep(const struct lp_probes *pr, const struct lp_target *t);

/* Detaches every probe; safe to call twice. */
void probes__detach(struct lp_probes *pr);

#endif
