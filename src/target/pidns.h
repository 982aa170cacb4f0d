/* SPDX-License-Identifier: GPL-2.0 */
/* PID namespaces: by which ids the BPF programs recognize the target's tasks. */
#ifndef LOCKPROF_SRC_PIDNS_H
#define LOCKPROF_SRC_PIDNS_H

#include <stdint.h>
#include <sys/types.h>

struct lp_pidns {
	uint32_t tgid; /* the target's tgid in namespace {dev, ino}; init namespace when ino is 0 */
	uint64_t dev;  /* nsfs device and inode of that pid namespace */
	uint64_t ino;
};

/* Works out how BPF finds pid (a PID in lockprof's own /proc). Returns 0 or an LP_EXIT_* code
 * after printing why. */
int pidns__resolve(pid_t pid, struct lp_pidns *ns);

/* The last (innermost) id of an "NSpid:" line of /proc/PID/status, or 0 when there is none. */
uint32_t pidns__innermost(const char *status_line);

#endif
