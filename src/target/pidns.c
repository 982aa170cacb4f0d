// SPDX-License-Identifier: GPL-2.0
/*
 * PID namespaces. The user names the target by its PID in lockprof's /proc, and lockprof reads
 * /proc/PID, process_vm_readv()s it and attaches its uprobes by that number: all of these agree
 * as long as /proc is the procfs of lockprof's own pid namespace. BPF, though, sees init-namespace
 * ids (bpf_get_current_pid_tgid()), which a lockprof inside a PID namespace (a sidecar container
 * sharing the target's) cannot learn: its /proc shows none. There the programs ask the kernel for
 * the ids in the target's own namespace instead (bpf_get_ns_current_pid_tgid(), Linux 5.7), which
 * are also the ids such a lockprof reports its threads by.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/pidns.h"
#include "util/log.h"

/* The init pid namespace's inode number is fixed (PROC_PID_INIT_INO, include/linux/proc_ns.h). */
#define PROC_PID_INIT_INO 0xEFFFFFFCU

uint32_t pidns__innermost(const char *line)
{
	unsigned long v, last = 0;
	const char *p;
	char *end;

	if (strncmp(line, "NSpid:", 6))
		return 0;
	for (p = line + 6;; p = end) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			break;
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno || v > UINT32_MAX)
			return 0;
		last = v;
	}
	return (uint32_t)last;
}

/* The target's pid in its own namespace: the last NSpid field (the first is ours). */
static uint32_t innermost_pid(pid_t pid)
{
	char path[64], line[512];
	uint32_t tgid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if ((tgid = pidns__innermost(line)))
			break;
	fclose(f);
	return tgid;
}

int pidns__resolve(pid_t pid, struct lp_pidns *ns)
{
	char path[64], self[32];
	struct stat own, target;
	ssize_t n;

	memset(ns, 0, sizeof(*ns));
	ns->tgid = (uint32_t)pid;
	/* /proc must number processes as our own namespace does (a procfs mounted for another
	 * namespace, e.g. `unshare --pid --fork` without --mount-proc, would not). */
	n = readlink("/proc/self", self, sizeof(self) - 1);
	if (n > 0)
		self[n] = '\0';
	if (n <= 0 || strtol(self, NULL, 10) != getpid()) {
		lp_err("/proc is not the procfs of lockprof's pid namespace (it names lockprof %s, "
		       "not %d): mount one for it, e.g. unshare --pid --fork --mount-proc",
		       n > 0 ? self : "nothing", getpid());
		return LP_EXIT_ERROR;
	}
	if (stat("/proc/self/ns/pid", &own)) {
		lp_err("cannot stat /proc/self/ns/pid: %s (kernel without namespaces?)",
		       strerror(errno));
		return LP_EXIT_KERNEL;
	}
	if (own.st_ino == PROC_PID_INIT_INO)
		return 0; /* the host: init-namespace ids are ours */

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	if (stat(path, &target)) {
		lp_err("pid %d: cannot stat %s: %s", pid, path, strerror(errno));
		return lp_exit_for_errno(errno, LP_EXIT_NO_PROCESS);
	}
	ns->tgid = innermost_pid(pid);
	if (!ns->tgid) {
		lp_err("pid %d: no NSpid line in /proc/%d/status (kernel older than 4.1?)", pid,
		       pid);
		return LP_EXIT_KERNEL;
	}
	ns->dev = (uint64_t)target.st_dev;
	ns->ino = (uint64_t)target.st_ino;
	if (target.st_ino != own.st_ino)
		lp_info("pid %d: in a pid namespace below lockprof's: thread ids are reported as "
			"that namespace numbers them",
			pid);
	return 0;
}
