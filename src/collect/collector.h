/* SPDX-License-Identifier: GPL-2.0 */
/* The collector: what outlives each profile of a run (symbolized stacks, thread names, source
 * files, the BPF counters at the last read), and the profile of each span (the whole run, or each
 * -i interval) built from the BPF maps, its locks named and classified. It renders nothing: the
 * faces hand its profiles to the renderers (report/). */
#ifndef LOCKPROF_SRC_COLLECTOR_H
#define LOCKPROF_SRC_COLLECTOR_H

#include <stdint.h>

#include "cli/opts.h"
#include "collect/statsacc.h"
#include "lockprof/abi.h"
#include "profile/profile.h"
#include "symbolize/symbolize.h"
#include "target/target.h"

struct lp_collector;

/* A collector for the target t running CPython `python` (X.Y.Z). opts, t and s are borrowed and
 * must outlive it. Returns NULL with errno set. */
struct lp_collector *collector__new(const struct lp_opts *opts, const struct lp_target *t,
				    const char *python, struct lp_symbolizer *s);
void collector__free(struct lp_collector *c);

/* The first span (the whole run without -i) starts at now_ns (CLOCK_MONOTONIC). */
void collector__start(struct lp_collector *c, uint64_t now_ns);

/* A stack BPF announced: symbolized now, while the target is alive, its thread named and its
 * frames' source files read. */
void collector__add_stack(struct lp_collector *c, const struct lp_stack *raw);

/* Names the threads the target has now; reads only threads not seen before. */
void collector__scan_threads(struct lp_collector *c);

/* What building a profile reads from BPF and the target. */
struct lp_collect_input {
	int stats_fd;		 /* the per-CPU stats map: read and, with -i, emptied */
	struct lp_statsacc *acc; /* when not NULL: stats_fd drained into it, the profile built
				  * from it (a long run's cumulative profile) */
	const struct lp_counters *counters; /* BPF's counters now (they only grow) */
	int gil_waits_fd; /* >= 0 for the last report of a GIL run: closes the waits still open */
	uint64_t gil_key; /* the GIL's lock id in the stats */
	int64_t gil_handoffs;		      /* GIL switches during the span, -1 when unknown */
	const struct lp_full_info *full;      /* -m full: how holds were sampled; NULL otherwise */
	const struct lp_prog_stats *programs; /* lockprof's BPF programs' cost, or NULL */
	const struct lp_overhead *overhead;   /* lockprof's cost over the span, or NULL */
	int object_types_fd; /* free-threaded: the objects' types (BPF object_types), else -1 */
	bool free_threaded;
	int gil_enabled; /* 1, 0 (a free-threaded build without its GIL), -1 unknown */
};

/* Builds into *p the profile of the span ending at end_ns from in, names and classifies its
 * locks from the sources read so far, and starts the next span. The caller frees *p with
 * profile__free(). Returns 0, or an LP_EXIT_* code after printing why (nothing to free). */
int collector__build(struct lp_collector *c, uint64_t end_ns, const struct lp_collect_input *in,
		     struct lp_profile *p);

#endif
