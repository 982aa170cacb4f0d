/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which tasks are the target's, and the thread ids lockprof reports. bpf_get_current_pid_tgid()
 * gives init-namespace ids; lockprof running inside a PID namespace (a sidecar container) knows
 * the target by namespace-local ids, which only bpf_get_ns_current_pid_tgid() gives. User space
 * (src/pidns.c) sets targ_pidns_ino only in that case, so the host case costs nothing more.
 */
#ifndef LOCKPROF_TARGET_BPF_H
#define LOCKPROF_TARGET_BPF_H

#include "globals.bpf.h"

/* True when the current task is one of the target's threads; *tid is then its thread id, in the
 * same namespace as targ_tgid. */
static __always_inline bool current_is_target(__u32 *tid)
{
	struct bpf_pidns_info ns = {};
	__u64 id;

	if (!targ_pidns_ino) {
		id = bpf_get_current_pid_tgid();
		*tid = (__u32)id;
		return id >> 32 == targ_tgid;
	}
	/* Fails (-ENOENT) for a task whose own pid namespace is not that one: not the target. */
	if (bpf_get_ns_current_pid_tgid(targ_pidns_dev, targ_pidns_ino, &ns, sizeof(ns)))
		return false;
	*tid = ns.pid;
	return ns.tgid == targ_tgid;
}

#endif
