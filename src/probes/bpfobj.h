/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF object: opened from the skeleton, every load-time setting (its `const volatile`
 * globals, defined in bpf/globals.bpf.h) written from the target, its interpreter and the
 * options, then loaded into the kernel. Nothing is attached here. */
#ifndef LOCKPROF_SRC_BPFOBJ_H
#define LOCKPROF_SRC_BPFOBJ_H

#include "cli/opts.h"
#include "target/interp.h"
#include "target/target.h"

struct lockprof_bpf;

/* Opens, configures and loads the object for t (running info's CPython), measuring opts->modes.
 * gil: the GIL's address (gil__address()), required with -m gil. Programs the modes, the version
 * or (calibrated: the trap costs are known already) the calibration do not use are not loaded.
 * Returns 0 with *skel set, or an LP_EXIT_* code after printing why (*skel NULL). */
int bpfobj__load(struct lockprof_bpf **skel, const struct lp_target *t,
		 const struct lp_interp *info, const struct lp_opts *opts, uint64_t gil,
		 bool calibrated);

/* Unloads it; NULL is fine. */
void bpfobj__destroy(struct lockprof_bpf *skel);

#endif
