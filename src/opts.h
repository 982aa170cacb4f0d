/* SPDX-License-Identifier: GPL-2.0 */
/* Command-line options: the argp table and the parsed settings; no BPF, no I/O beyond argp's. */
#ifndef LOCKPROF_SRC_OPTS_H
#define LOCKPROF_SRC_OPTS_H

#include <stdbool.h>
#include <sys/types.h>

enum lp_format {
	LP_FORMAT_TEXT,
	LP_FORMAT_JSON,
};

/* What is measured (-m): any combination. */
enum lp_mode {
	LP_MODE_CONTENTION = 1 << 0, /* threads blocked on locks */
	LP_MODE_GIL = 1 << 1,	     /* threads waiting to take the GIL */
	LP_MODE_FULL = 1 << 2,	     /* hold times of sampled acquisitions (implies contention) */
};

struct lp_opts {
	pid_t pid;
	unsigned int modes; /* enum lp_mode bits */
	double duration_s; /* 0: until Ctrl-C or target exit */
	enum lp_format format;
	const char *output; /* NULL: stdout */
	int verbose;
	bool show_idle; /* list idle waits in the text report */
	unsigned int capture_pct; /* -m full: share of uncontended acquisitions recorded, 1..100 */
	double max_overhead_pct;  /* -m full: bound on the probes' estimated cost (100: none) */
};

/* Parses argv into opts. Returns 0, or LP_EXIT_USAGE after printing why. --help exits. */
int opts__parse(int argc, char **argv, struct lp_opts *opts);

#endif
