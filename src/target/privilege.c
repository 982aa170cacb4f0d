// SPDX-License-Identifier: GPL-2.0
/*
 * Capability checks before anything is loaded, so that a missing capability is named in one line
 * instead of surfacing later as an obscure EPERM. capget(2) reads our own bits; where the kernel's
 * rule varies by version (uprobes) or depends on the target (reading its memory), the kernel is
 * asked directly with an operation that has no effect.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "probes/uprobes.h"
#include "target/privilege.h"
#include "util/log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

/*
 * Linux 5.8 opened uprobe perf events to CAP_PERFMON; a 2025 fix (in 6.x stable releases too)
 * requires CAP_SYS_ADMIN again, for perf-event uprobes only: uprobe_multi links (6.6+) are used
 * instead where the kernel has them. Ask the kernel: a uprobe on "/" is refused by the capability
 * check (EACCES) or, past it, because "/" is no regular file (EINVAL). Nothing gets probed.
 */
static bool uprobes_need_admin(void)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .disabled = 1 };
	int type = -1, fd;
	FILE *f;

	f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
	if (!f)
		return false; /* no uprobe PMU: the attach reports what the kernel lacks */
	if (fscanf(f, "%d", &type) != 1)
		type = -1;
	fclose(f);
	if (type < 0)
		return false;
	attr.type = (__u32)type;
	attr.config1 = (__u64)(unsigned long)"/"; /* uprobe_path */
	fd = (int)syscall(SYS_perf_event_open, &attr, getpid(), -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	return lp_errno_is_denied(errno);
}

/*
 * Whether we may read the target's memory (PTRACE_MODE_ATTACH: same user and a dumpable target,
 * no stricter LSM, or CAP_SYS_PTRACE): try one byte of its first readable mapping.
 */
static bool can_read_memory(pid_t pid)
{
	char path[64], line[512], perms[8];
	uint64_t start = 0;
	struct iovec local, remote;
	uint8_t byte;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return !lp_errno_is_denied(errno);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNx64 "-%*x %7s", &start, perms) == 2 && perms[0] == 'r')
			break;
		start = 0;
	}
	/* Reading maps itself is refused without the right to ptrace-read the process. */
	if (ferror(f) && (lp_errno_is_denied(errno))) {
		fclose(f);
		return false;
	}
	fclose(f);
	if (!start)
		return true; /* nothing to try (exited?): later steps say what is wrong */
	local = (struct iovec){ .iov_base = &byte, .iov_len = 1 };
	remote = (struct iovec){ .iov_base = (void *)(uintptr_t)start, .iov_len = 1 };
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == 1 || errno != EPERM;
}

int privilege__check(pid_t target)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	char example[48];
	bool admin;

	/* The command to suggest: the one given, for one process or for all. */
	if (target > 0)
		snprintf(example, sizeof(example), "sudo lockprof -p %d", (int)target);
	else
		snprintf(example, sizeof(example), "sudo lockprof --all");
	if (syscall(SYS_capget, &hdr, data)) {
		lp_err("cannot read own capabilities (capget failed)");
		return LP_EXIT_PRIVILEGE;
	}
	admin = has_cap(data, CAP_SYS_ADMIN);
	if (!admin && !has_cap(data, CAP_BPF)) {
		lp_err("missing capability CAP_BPF (or CAP_SYS_ADMIN) to load BPF programs: run as "
		       "root, e.g. %s",
		       example);
		return LP_EXIT_PRIVILEGE;
	}
	if (!admin && !has_cap(data, CAP_PERFMON)) {
		lp_err("missing capability CAP_PERFMON (or CAP_SYS_ADMIN) to load tracing programs: "
		       "run as root, e.g. %s",
		       example);
		return LP_EXIT_PRIVILEGE;
	}
	if (!admin && !uprobes__multi_available() && uprobes_need_admin()) {
		lp_err("missing capability CAP_SYS_ADMIN to attach uprobes (this kernel does not "
		       "accept CAP_PERFMON for them): run as root, e.g. %s",
		       example);
		return LP_EXIT_PRIVILEGE;
	}
	if (target > 0 && !can_read_memory(target)) {
		lp_err("missing capability CAP_SYS_PTRACE to read the memory of pid %d (another "
		       "user's, or not dumpable): run as root, e.g. %s",
		       target, example);
		return LP_EXIT_PRIVILEGE;
	}
	return 0;
}
