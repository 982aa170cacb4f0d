/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line options: the argp table and the parsed settings; no BPF, no I/O beyond argp's. */
#ifndef LOCKPROF_SRC_OPTS_H
#define LOCKPROF_SRC_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "report/report_opts.h"

#define LP_MAX_OUTPUTS 5 /* one per format */
#define LP_MAX_PIDS 256	 /* -p PID,PID...: processes named at most */
/* --max-processes: processes profiled at once, by default and at most. Each costs a BPF object
 * (about 4.5 MB of map memory) and its probes. */
#define LP_DEFAULT_MAX_PROCESSES 64
#define LP_MAX_PROCESSES_LIMIT 4096
/* --max-overhead's defaults, percent of one CPU. The estimate counts the CPU time of every probe
 * hit, which for a handoff overlaps the woken thread's wake-up: `make bench`'s worst row (lock
 * ping-pong, every operation a contended handoff) is estimated at about 30% of a CPU while it
 * runs a few percent slower. The default sits above that, so that the bench's contended rows
 * keep exact totals and every stack, and only extreme wait rates are thinned or duty-cycled;
 * -m full's probes, which fire on every acquisition, keep their tighter bound. */
#define LP_DEFAULT_MAX_OVERHEAD_PCT 50.0
#define LP_DEFAULT_FULL_OVERHEAD_PCT 5.0

/* One report to write: -f FORMAT with the -o FILE that follows it. */
struct lp_output {
	enum lp_format format;
	const char *path; /* NULL: stdout */
};

/* What is measured (-m): any combination. */
enum lp_mode {
	LP_MODE_CONTENTION = 1 << 0, /* threads blocked on locks */
	LP_MODE_GIL = 1 << 1,	     /* threads waiting to take the GIL */
	LP_MODE_FULL = 1 << 2,	     /* hold times of sampled acquisitions (implies contention) */
};

/* The command: which face of lockprof runs (src/faces/). */
enum lp_face {
	LP_FACE_PROFILE, /* `lockprof [profile] -p PID`: a report at the end (default) */
	LP_FACE_SERVE,	 /* `lockprof serve`: always on, scraped over HTTP */
	LP_FACE_TOP,	 /* `lockprof top -p PID`: a live view (planned) */
	LP_FACE_DUMP, /* `lockprof dump -p PID`: who waits on what in a stuck process (planned) */
};

/* lockprof serve's settings (src/faces/serve.c). */
#define LP_DEFAULT_LISTEN "127.0.0.1:9464"
#define LP_DEFAULT_MAX_SERIES 100
#define LP_DEFAULT_RETAIN_EXITED_S 300.0

struct lp_serve_opts {
	const char *listen;	 /* HOST:PORT; loopback by default */
	unsigned int max_series; /* lock series per process before the "other" series */
	double retain_exited_s;	 /* how long an exited process's series stay exposed */
};

struct lp_opts {
	enum lp_face face;
	pid_t pid;		 /* the first of pids: what a single-process engine profiles */
	pid_t pids[LP_MAX_PIDS]; /* -p, in the order given, without duplicates */
	size_t npids;
	bool all;		    /* --all: every CPython process visible, as they come and go */
	unsigned int max_processes; /* --max-processes */
	unsigned int modes;	    /* enum lp_mode bits */
	double duration_s;	    /* 0: until Ctrl-C or target exit */
	double interval_s;    /* 0: one report at the end; else one per interval, then reset */
	uint64_t min_wait_ns; /* waits shorter than this are not counted */
	struct lp_output outputs[LP_MAX_OUTPUTS];
	int noutputs; /* at least 1 */
	struct lp_report_opts report;
	int verbose;
	unsigned int capture_pct; /* -m full: share of uncontended acquisitions recorded, 1..100 */
	double max_overhead_pct;  /* bound on the probes' estimated cost, % of a CPU (100: none) */
	double full_overhead_pct; /* -m full's probes' own bound (their duty cycle) */
	bool creation_sites;	  /* probe lock creation (--lock-names creation, -m full) */
	struct lp_serve_opts serve;
};

/* More than one process (-p PID,PID... or --all): the fleet (engine/fleet.h) runs them. */
bool opts__many(const struct lp_opts *opts);

/* Parses "PID[,PID...]" into pids (duplicates dropped, order kept). 0; -EINVAL for a malformed
 * list or pid; -E2BIG for more than max pids. */
int opts__parse_pid_list(const char *s, pid_t *pids, size_t max, size_t *npids);

/* "profile", "serve", "top", "dump". */
const char *opts__face_name(enum lp_face face);

/* "contention", "gil" or "contention,gil". */
const char *opts__mode_name(unsigned int modes);

/* Parses argv into opts: an optional command word first (profile when there is none), then the
 * options. Returns 0, or LP_EXIT_USAGE after printing why. --help exits. */
int opts__parse(int argc, char **argv, struct lp_opts *opts);

#endif
