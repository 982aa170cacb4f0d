/* SPDX-License-Identifier: GPL-2.0 */
/* lockprof's exit codes, and the one rule that turns an errno into one. The error idiom: helpers
 * return 0 or -errno and print nothing; a stage's entry point prints one line saying what failed
 * and why, and returns an LP_EXIT_* code, from lp_exit_for_errno() when an errno decides it. */
#ifndef LOCKPROF_SRC_EXITCODE_H
#define LOCKPROF_SRC_EXITCODE_H

#include <stdbool.h>

/* Exit codes: one per kind of failure, listed in --help and the README. */
enum lp_exit {
	LP_EXIT_OK = 0,
	LP_EXIT_ERROR = 1,	 /* anything not listed below */
	LP_EXIT_USAGE = 2,	 /* invalid command line */
	LP_EXIT_NO_PROCESS = 3,	 /* no such process */
	LP_EXIT_NOT_PYTHON = 4,	 /* the process runs no CPython we can find */
	LP_EXIT_UNSUPPORTED = 5, /* a CPython version lockprof does not support */
	LP_EXIT_PRIVILEGE = 6,	 /* missing capability or permission */
	LP_EXIT_KERNEL = 7,	 /* the kernel lacks BTF/BPF/uprobes, or loading/attaching failed */
	LP_EXIT_OUTPUT = 8,	 /* the output file cannot be written */
	LP_EXIT_LISTEN = 9,	 /* serve: the --listen address cannot be bound (e.g. in use) */
	/* Not an exit code: a stage found nothing to measure and said why (e.g. -m gil on a build
	 * without a GIL). The face stops without a report; the process exits 0. */
	LP_EXIT_NOTHING_TO_DO = 256,
};

/* True for the errnos of a refused permission: EPERM, EACCES (or their negatives). */
bool lp_errno_is_denied(int err);

/* The exit code for a failure with errno -err (or err): EPERM and EACCES are LP_EXIT_PRIVILEGE,
 * ESRCH (the process is gone) LP_EXIT_NO_PROCESS, anything else `otherwise`. */
enum lp_exit lp_exit_for_errno(int err, enum lp_exit otherwise);

#endif
