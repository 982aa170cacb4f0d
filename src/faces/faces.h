/* SPDX-License-Identifier: GPL-2.0 */
/* The faces: drivers over the one engine (engine/engine.h), one per command. Each takes the
 * parsed command line and returns lockprof's exit code. */
#ifndef LOCKPROF_SRC_FACES_H
#define LOCKPROF_SRC_FACES_H

#include "cli/opts.h"

/* `lockprof [profile] -p PID`: profile until -d, a signal or the target's exit, then write the
 * reports (with -i, also at the end of every interval). */
int face_profile__run(const struct lp_opts *opts);

/* `lockprof dump -p PID`: one snapshot of the threads, the locks they wait for and hold, and
 * the deadlocks, read from the target's memory and /proc with nothing attached. */
int face_dump__run(const struct lp_opts *opts);

/* `lockprof top -p PID`: a live view refreshed every span (1 s, or -i): full-screen on a
 * terminal, plain tables otherwise; until q, a signal, -d or the target's exit. */
int face_top__run(const struct lp_opts *opts);

/* `lockprof serve -p PID`: always on, the profile served over HTTP to Prometheus (/metrics) and
 * pprof scrapers (/debug/pprof/mutex) until SIGTERM. */
int face_serve__run(const struct lp_opts *opts);

#endif
