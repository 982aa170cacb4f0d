/* SPDX-License-Identifier: GPL-2.0 */
/* A run's reports: what outlives each report's profile (symbolized stacks, thread names, source
 * files, the BPF counters at the last report), and writing every requested format, once at the
 * end or at the end of every -i interval, each interval's profile starting from zero. */
#ifndef LOCKPROF_SRC_REPORTER_H
#define LOCKPROF_SRC_REPORTER_H

#include <stdint.h>
#include <stdio.h>

#include "lockprof/abi.h"
#include "cli/opts.h"
#include "symbolize/symbolize.h"
#include "target/target.h"

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

/* A stack BPF announced: symbolized now, while the target is alive, its thread named and its
 * frames' source files read. */
void reporter__add_stack(struct lp_reporter *r, const struct lp_stack *raw);

/* Names the threads the target has now; reads only threads not seen before. */
void reporter__scan_threads(struct lp_reporter *r);

/* What a report reads from BPF and the target. */
struct lp_report_input {
	int stats_fd;			    /* the per-CPU stats map: read and, with -i, emptied */
	const struct lp_counters *counters; /* BPF's counters now (they only grow) */
	int gil_waits_fd; /* >= 0 for the last report of a GIL run: closes the waits still open */
	uint64_t gil_key; /* the GIL's lock id in the stats */
	int64_t gil_handoffs; /* GIL switches during the interval, -1 when unknown */
	const struct lp_full_info *full; /* -m full: how holds were sampled; NULL otherwise */
};

/* Builds the profile of the interval ending at end_ns from in, names and classifies its locks
 * from the sources read so far, writes it in every format and starts the next interval. Returns
 * 0, or an LP_EXIT_* code after printing why. */
int reporter__write(struct lp_reporter *r, uint64_t end_ns, const struct lp_report_input *in);

#endif
