/* SPDX-License-Identifier: GPL-2.0 */
/* What lockprof serve serves from: the engine(s) profiling the processes, behind one small
 * interface so that the server does not care whether one process (-p PID, one engine) or many
 * are profiled. Every call returns 0 or an LP_EXIT_* code after printing why. */
#ifndef LOCKPROF_SRC_SOURCE_H
#define LOCKPROF_SRC_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "cli/opts.h"
#include "profile/profile_set.h"
#include "serve/store.h"

struct lp_source;

/* Finds the processes opts names, loads and attaches: every probe is live on return. */
int source__open(struct lp_source **out, const struct lp_opts *opts);

/* A file descriptor that polls readable when BPF has queued events, or -1 (then the server
 * wakes on its own at least every 100 ms). */
int source__event_fd(const struct lp_source *src);

/* Handles what BPF queued, without waiting, and samples what must be read while the processes
 * live (thread names, -m full's duty cycle). *now_ns: the time after. */
int source__poll(struct lp_source *src, uint64_t *now_ns);

/* Folds the span ending at now_ns into store, and marks the processes that exited. */
int source__collect(struct lp_source *src, uint64_t now_ns, struct lp_store *store);

/* For the banner: "pid 4242: CPython 3.12.1 (gunicorn)". */
void source__describe(const struct lp_source *src, char *buf, size_t len);

/* The processes attached, exited, failed, skipped (--max-processes), the BPF maps' memory. */
void source__health(const struct lp_source *src, struct lp_fleet_health *h);

/* Removes every probe at now_ns and folds the last span into store. Safe to call twice. */
void source__stop(struct lp_source *src, uint64_t now_ns, struct lp_store *store);

/* Releases everything (after source__stop, or in any state). */
void source__close(struct lp_source *src);

#endif
