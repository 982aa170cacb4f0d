/* SPDX-License-Identifier: GPL-2.0 */
/* -m full: which builds it covers, the calibration of one probe hit's cost, and the full-mode
 * probes (libc sem_trywait and sem_post entries) attached and detached by the duty-cycle
 * controller so their estimated cost stays under --max-overhead. The contention probes are
 * attached by probes.c and are never touched here. */
#ifndef LOCKPROF_SRC_FULLMODE_H
#define LOCKPROF_SRC_FULLMODE_H

#include <stdbool.h>
#include <stdint.h>

#include "probes/dutycycle.h"
#include "cli/opts.h"
#include "profile/profile.h"
#include "probes/links.h"
#include "target/pyoffsets.h"
#include "target/pyversion.h"
#include "target/target.h"

struct lockprof_bpf;

struct lp_fullmode {
	struct lockprof_bpf *skel;
	const struct lp_target *target;
	uint64_t trywait_offset, post_offset; /* in the target's libc */
	/* Where Lock is a PyMutex (3.13.1+): its acquire and release functions, and 3.14 RLock's
	 * (0: none), as offsets in the interpreter's file. */
	bool pymutex;
	uint64_t lock_acquire_offset, lock_release_offset;
	uint64_t rlock_acquire_offset, rlock_release_offset;
	uint64_t rlock_release_save_offset, rlock_acquire_restore_offset;
	uint64_t inlined_sites; /* lockmethods__count_code_refs over those functions */
	struct lp_duty_mark span; /* where the current report's span began (-i: each interval) */
	struct lp_links links;
	struct lp_links calibration; /* the calibration probe, until the first detach */
	bool attached;
	uint32_t epoch;
	unsigned int capture_pct;
	double probe_cost_ns;
	struct lp_dutycycle dc;
	uint64_t attach_failures;
};

/* Whether -m full covers this build's threading.Lock: a glibc sem_t from 3.8 to 3.13.0, a PyMutex
 * from 3.13.1 (found through the type's method table: 3.13 and 3.14 layouts). Prints one line
 * and returns LP_EXIT_UNSUPPORTED when not covered, else 0. */
int fullmode__check_version(pid_t pid, const struct lp_pyversion *v, const char *version_str);

/* Before the BPF object is loaded: the text range and the capture rate. */
void fullmode__configure(struct lockprof_bpf *skel, const struct lp_target *t,
			 const struct lp_opts *opts);

/* After loading: finds sem_trywait and sem_post in the target's libc and, where Lock is a
 * PyMutex, Lock's and RLock's methods in the interpreter (o and runtime_addr: its layout and
 * _PyRuntime), then calibrates the cost of a probe hit on this kernel. 0 or an LP_EXIT_* code
 * after printing why. */
int fullmode__prepare(struct lp_fullmode *fm, struct lockprof_bpf *skel,
		      const struct lp_target *t, const struct lp_opts *opts,
		      const struct lp_pyversion *v, const struct lp_pyoffsets *o,
		      uint64_t runtime_addr);

/* Starts the duty cycle (attaches the probes for the first period). */
int fullmode__start(struct lp_fullmode *fm, uint64_t now_ns);

/* Called from the collection loop: applies the controller's decision. Returns the milliseconds
 * the caller may sleep before the next call, at most max_ms. */
int fullmode__tick(struct lp_fullmode *fm, uint64_t now_ns, int max_ms);

/* -m full with -i: fills info for the interval ending now (since the start or the previous
 * call): the duty cycle and overhead of that interval, by which its holds are upscaled. */
void fullmode__interval(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info);

/* Detaches the full-mode probes and fills info for the last report's span (the whole run, or
 * the last interval). */
void fullmode__stop(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info);

/* Idempotent cleanup. */
void fullmode__detach(struct lp_fullmode *fm);

/* The calibration's probe target inside lockprof itself; exported so .symtab names it. */
int lp_calibration_target(int x);

#endif
