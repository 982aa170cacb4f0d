/* SPDX-License-Identifier: GPL-2.0 */
/* The fleet: many processes profiled at once (-p PID,PID... and --all), one engine (engine.h),
 * hence one BPF object, per process: each process's offsets and version stay in its own
 * object's configuration and maps, and its probes are attached for its pid only, so that a
 * probe on a shared libpython or libc never traps a process that is not profiled.
 *
 *   fleet__new       the processes of -p attached (--all: those /proc shows now)
 *   fleet__fd        one fd to wait on (epoll over every ring buffer and process's pidfd)
 *   fleet__poll      events handled; exited processes detached (their profile kept); --all
 *                    rescans /proc every second and attaches the new CPython processes
 *   fleet__snapshot  every process's profile at one moment (profile_set.h)
 *   fleet__stop      every probe removed
 *   fleet__free      everything released
 *
 * The faces drive it like one engine: profile writes a set at the end (and every -i), serve
 * answers scrapers from snapshots. */
#ifndef LOCKPROF_SRC_FLEET_H
#define LOCKPROF_SRC_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/opts.h"
#include "profile/profile_set.h"

/* Exited processes whose profile is kept for the cumulative report, at most; the oldest go first,
 * counted as evicted. */
#define LP_FLEET_MAX_EXITED 256

struct lp_fleet;

/* Discovers and attaches opts' processes (opts->pids, or with opts->all every CPython process
 * visible now, lockprof itself excepted). opts is borrowed. With -p, any process that cannot be
 * profiled fails the whole start (its error printed, its LP_EXIT_* code returned); with --all,
 * processes that fail are named with -v and retried at later scans, and no process at all is
 * fine (they are picked up as they start). 0 or an LP_EXIT_* code; *out is NULL on failure. */
int fleet__new(const struct lp_opts *opts, struct lp_fleet **out);

/* When every probe of the first processes was live (CLOCK_MONOTONIC): the run starts there. */
uint64_t fleet__start_ns(const struct lp_fleet *f);

/* An fd readable when fleet__poll has work (events, an exit); for a caller's own poll loop. The
 * fleet's timers (--all's rescan, the budget's windows) still need fleet__poll to be called at
 * least every 100 ms. */
int fleet__fd(const struct lp_fleet *f);

/* Waits up to timeout_ms for events of any process and handles them, detaches the processes
 * that exited and (--all) attaches the new ones. *now_ns: the time after the wait. 0, or an
 * LP_EXIT_* code after printing why (collection cannot go on). */
int fleet__poll(struct lp_fleet *f, int timeout_ms, uint64_t *now_ns);

/* -p: every process exited (--all never is done: processes may still start). */
bool fleet__done(const struct lp_fleet *f);

/* The processes profiled, live and exited (kept), in attach order; valid until the next poll. */
size_t fleet__nprocs(const struct lp_fleet *f);
const struct lp_proc_info *fleet__proc(const struct lp_fleet *f, size_t i);

void fleet__health(const struct lp_fleet *f, struct lp_fleet_health *h);

/* Every process's profile at now_ns into *set (the caller frees it with profile_set__free).
 * Without -i (opts->interval_s == 0): cumulative, each process since it was attached (the serve
 * face takes deltas with profile_set__subtract); with -i: the span since the previous snapshot,
 * an exited process in the first snapshot after its exit and then dropped. The set's profiles
 * borrow the fleet's symbolized stacks and thread names: render it before the next poll.
 * last: after fleet__stop (open GIL waits closed). 0 or an LP_EXIT_* code after printing why. */
int fleet__snapshot(struct lp_fleet *f, uint64_t now_ns, bool last, struct lp_profile_set *set);

/* Removes every process's probes at now_ns and handles the events still queued. */
void fleet__stop(struct lp_fleet *f, uint64_t now_ns);

/* Releases everything, in any state; NULL is fine. */
void fleet__free(struct lp_fleet *f);

#endif
