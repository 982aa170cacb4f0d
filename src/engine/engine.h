/* SPDX-License-Identifier: GPL-2.0 */
/* The engine every face drives: the pipeline's stages in order, one call each, like perf's
 * lock_contention_prepare/start/read/stop/finish.
 *
 *   engine__discover  target (target/) and its interpreter (target/interp.c): nothing loaded yet
 *   engine__load      the BPF object configured and loaded (probes/bpfobj.c), the symbolizer
 *                     (symbolize/) and the collector (collect/) ready, nothing attached
 *   engine__attach    the probes live (probes/): from here on the target is measured
 *   engine__poll      collection: new stacks symbolized as BPF announces them, -m full's duty
 *                     cycle, thread names and GIL switches sampled while the target lives
 *   engine__profile   the profile of the span so far (collect/collector.c), for the renderers
 *   engine__detach    the probes removed (safe to call again)
 *   engine__close     everything released, in any state
 *
 * Each returns 0 or an LP_EXIT_* code after printing why. */
#ifndef LOCKPROF_SRC_ENGINE_H
#define LOCKPROF_SRC_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/opts.h"
#include "collect/collector.h"
#include "collect/gil.h"
#include "probes/budget.h"
#include "probes/fullmode.h"
#include "probes/probes.h"
#include "profile/profile.h"
#include "symbolize/symbolize.h"
#include "target/interp.h"
#include "target/target.h"

struct lockprof_bpf;
struct ring_buffer;

struct lp_engine {
	const struct lp_opts *opts; /* borrowed */
	struct lp_target target;
	struct lp_interp interp;
	struct lockprof_bpf *skel;
	struct lp_symbolizer *symbolizer;
	struct lp_collector *collector;
	struct ring_buffer *events;
	struct lp_probes probes;
	struct lp_budget budget;       /* the cost measured and bounded; every mode */
	struct lp_fullmode full;       /* -m full */
	struct lp_full_info full_info; /* -m full: the last span's figures once detached */
	struct lp_gil_switches gil;
	int pidfd;	   /* the target, to see it exit; -1 where pidfd_open fails */
	uint64_t start_ns; /* when every probe was live: the first span starts there */
	uint64_t next_thread_scan_ns;
	bool target_exited;
	bool detached; /* engine__detach ran: the budget re-attaches nothing */
	/* Set before engine__attach to skip the calibration: the costs another engine of this run
	 * measured (the fleet calibrates once per run, not per process). */
	const struct lp_trap_costs *calibrated;
	/* Set before engine__load for cumulative profiles of long runs: the stats map is drained
	 * every second into acc (collect/statsacc.h), so that it never fills up. */
	bool accumulate;
	struct lp_statsacc *acc;
	uint64_t next_drain_ns;
	/* The target's children seen so far (a ring): a new one forked from it inherited its
	 * breakpoints, which probes__sweep then clears. */
	pid_t children[64];
	unsigned int nchildren;
	uint64_t sweeps;
};

/* Checks the target and lockprof's rights, finds the interpreter and checks that its build
 * supports opts->modes. Loads nothing. */
int engine__discover(struct lp_engine *e, const struct lp_opts *opts);

int engine__load(struct lp_engine *e);

/* Once every probe is live, e->start_ns (CLOCK_MONOTONIC) starts the first span. */
int engine__attach(struct lp_engine *e);

/* Waits up to timeout_ms for BPF's events (less when -m full's duty cycle is due sooner) and
 * handles them; then samples what must be read while the target lives. *now_ns: the time after
 * the wait. Sets e->target_exited when the target is gone. */
int engine__poll(struct lp_engine *e, int timeout_ms, uint64_t *now_ns);

/* The profile of the span ending at now_ns; the next span starts there. last: profiling has
 * stopped (call after engine__detach: open GIL waits are closed, -m full's last span used). The
 * caller frees *p with profile__free(). */
int engine__profile(struct lp_engine *e, uint64_t now_ns, bool last, struct lp_profile *p);

/* Removes every probe at now_ns and handles the events still queued. */
void engine__detach(struct lp_engine *e, uint64_t now_ns);

/* After engine__detach and the last engine__profile of an exited target: releases the BPF object,
 * its probes and the target's files, keeping what the profiles built so far borrow (symbolized
 * stacks, thread names). engine__close still frees the rest. */
void engine__release(struct lp_engine *e);

/* The bytes of the BPF object's maps (their max_entries times key and value sizes: what the
 * kernel reserves or may grow to). */
uint64_t engine__map_bytes(const struct lp_engine *e);

void engine__close(struct lp_engine *e);

#endif
