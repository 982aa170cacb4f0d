/* SPDX-License-Identifier: GPL-2.0 */
/* The report files a run writes: every -f FORMAT [-o FILE] of the command line opened once
 * (stdout when no file), each profile written to all of them. */
#ifndef LOCKPROF_SRC_OUTPUTS_H
#define LOCKPROF_SRC_OUTPUTS_H

#include <stdio.h>

#include "cli/opts.h"
#include "profile/profile.h"
#include "profile/profile_set.h"

struct lp_outputs {
	const struct lp_opts *opts;
	FILE *files[LP_MAX_OUTPUTS]; /* opts->outputs[i] goes to files[i] */
};

/* Opens opts' outputs (opts is borrowed). 0, or LP_EXIT_OUTPUT after printing why (whatever
 * was opened is closed). */
int outputs__open(struct lp_outputs *o, const struct lp_opts *opts);

/* Writes p in every format asked for, flushed. 0, or LP_EXIT_OUTPUT after printing why. */
int outputs__write(struct lp_outputs *o, const struct lp_profile *p);

/* Writes the profiles of several processes in every format asked for (report__write_set). 0, or
 * LP_EXIT_OUTPUT after printing why. */
int outputs__write_set(struct lp_outputs *o, const struct lp_profile_set *set);

/* Closes the files (not stdout); safe on a zeroed or closed struct. */
void outputs__close(struct lp_outputs *o);

#endif
