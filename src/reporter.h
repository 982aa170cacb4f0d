/* SPDX-License-Identifier: GPL-2.0 */
/* A run's reports: what outlives each report's profile (symbolized stacks, thread and lock names,
 * the BPF counters at the last report), and writing every requested format, once at the end or
 * at the end of every -i interval, each interval's profile starting from zero. */
#ifndef LOCKPROF_SRC_REPORTER_H
#define LOCKPROF_SRC_REPORTER_H

#include <stdint.h>
#include <stdio.h>

#include "lockprof/abi.h"
#include "opts.h"
#include "symbolize.h"
#include "target.h"

struct lp_reporter;

/* A reporter for the target t running CPython `python` (X.Y.Z), writing opts->outputs[i] to
 * out[i]. opts, t, s and the files are borrowed and must outlive it. Returns NULL with errno
 * set. */
struct lp_reporter *reporter__new(const struct lp_opts *opts, const struct lp_target *t,
				  const char *python, struct lp_symbolizer *s,
				  FILE *const out[LP_MAX_OUTPUTS]);
void reporter__free(struct lp_reporter *r);

/* The first interval (the whole run without -i) starts at now_ns (CLOCK_MONOTONIC). */
void reporter__start(struct lp_reporter *r, uint64_t now_ns);

/* A stack BPF announced: symbolized now, while the target is alive, and its thread named. */
void reporter__add_stack(struct lp_reporter *r, const struct lp_stack *raw);

/* Names the threads the target has now; reads only threads not seen before. */
void reporter__scan_threads(struct lp_reporter *r);

/* Builds the profile of the interval ending at end_ns from the per-CPU stats map stats_fd (read
 * and, with -i, emptied) and the BPF counters, writes it in every format and starts the next
 * interval. Returns 0, or an LP_EXIT_* code after printing why. */
int reporter__write(struct lp_reporter *r, uint64_t end_ns, int stats_fd,
		    const struct lp_counters *counters);

#endif
