// SPDX-License-Identifier: GPL-2.0
/* Capability checks with capget(2): no libcap needed for reading three bits. */
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privilege.h"

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

int privilege__check(pid_t target)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	char path[64];
	struct stat st;
	bool admin;

	if (syscall(SYS_capget, &hdr, data)) {
		lp_err("cannot read own capabilities (capget failed)");
		return LP_EXIT_PRIVILEGE;
	}
	admin = has_cap(data, CAP_SYS_ADMIN);
	if (!admin && !has_cap(data, CAP_BPF)) {
		lp_err("missing capability CAP_BPF (or CAP_SYS_ADMIN) to load BPF programs: run as "
		       "root, e.g. sudo lockprof -p %d", target);
		return LP_EXIT_PRIVILEGE;
	}
	if (!admin && !has_cap(data, CAP_PERFMON)) {
		lp_err("missing capability CAP_PERFMON (or CAP_SYS_ADMIN) to attach uprobes: run as "
		       "root, e.g. sudo lockprof -p %d", target);
		return LP_EXIT_PRIVILEGE;
	}
	/* Reading another user's process memory needs CAP_SYS_PTRACE. */
	snprintf(path, sizeof(path), "/proc/%d", target);
	if (!stat(path, &st) && st.st_uid != geteuid() && !has_cap(data, CAP_SYS_PTRACE)) {
		lp_err("missing capability CAP_SYS_PTRACE to read the memory of pid %d (owned by "
		       "uid %u)", target, (unsigned)st.st_uid);
		return LP_EXIT_PRIVILEGE;
	}
	return 0;
}
