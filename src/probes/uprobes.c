// SPDX-License-Identifier: GPL-2.0
/* Uprobe attachment (see uprobes.h). libbpf 1.1 (Debian 12) predates uprobe_multi, so the link is
 * created with the bpf() syscall directly; the few constants and the attribute layout are the
 * kernel's UAPI (include/uapi/linux/bpf.h, 6.6+), spelled out here. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes/sites.h"
#include "probes/uprobes.h"
#include "util/log.h"

#define ATTACH_UPROBE_MULTI 48	      /* enum bpf_attach_type: BPF_TRACE_UPROBE_MULTI */
#define UPROBE_MULTI_RETURN (1U << 0) /* BPF_F_UPROBE_MULTI_RETURN */
#define MAX_OFFSETS_PER_LINK 16

/* union bpf_attr, BPF_LINK_CREATE, as far as uprobe_multi; the kernel zero-fills the rest. */
struct link_create_uprobe_multi {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t multi_flags;
	uint32_t pid;
	uint32_t pad;
};

static bool use_multi;

static int link_create_uprobe_multi(int prog_fd, bool retprobe, pid_t pid, const char *path,
				    const uint64_t *offsets, const uint64_t *cookies, int n)
{
	struct link_create_uprobe_multi attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (uint32_t)prog_fd;
	attr.attach_type = ATTACH_UPROBE_MULTI;
	attr.path = (uint64_t)(uintptr_t)path;
	attr.offsets = (uint64_t)(uintptr_t)offsets;
	attr.cookies = (uint64_t)(uintptr_t)cookies;
	attr.cnt = (uint32_t)n;
	attr.multi_flags = retprobe ? UPROBE_MULTI_RETURN : 0;
	attr.pid = (uint32_t)pid;
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

/* Whether the kernel creates uprobe_multi links: a do-nothing program of that attach type, and a
 * link asked for on "/", which a kernel that knows the type refuses as not a regular file
 * (EBADF) and an older one as an unknown type (EINVAL). Nothing is ever attached. */
static bool multi_supported(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, load_opts, .expected_attach_type = ATTACH_UPROBE_MULTI);
	uint64_t offset = 0;
	int prog_fd, link_fd;

	prog_fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &load_opts);
	if (prog_fd < 0)
		return false;
	link_fd = link_create_uprobe_multi(prog_fd, false, 0, "/", &offset, NULL, 1);
	close(prog_fd);
	if (link_fd >= 0) {
		close(link_fd);
		return true;
	}
	return link_fd == -EBADF;
}

/* LOCKPROF_UPROBE_LINKS=perf forces the older method (tests cover both on one kernel). */
static bool perf_forced(void)
{
	const char *forced = getenv("LOCKPROF_UPROBE_LINKS");

	return forced && !strcmp(forced, "perf");
}

bool uprobes__multi_available(void)
{
	static int available = -1;

	if (available < 0)
		available = !perf_forced() && multi_supported();
	return available;
}

void uprobes__prepare(struct bpf_object *obj)
{
	struct bpf_program *prog;

	use_multi = uprobes__multi_available();
	// clang-format off
	lp_info("attaching uprobes with %s",
		use_multi     ? "uprobe_multi links" :
		perf_forced() ? "one perf-event link per function (LOCKPROF_UPROBE_LINKS=perf)" :
			      "one perf-event link per function (no uprobe_multi in this kernel)");
	// clang-format on
	if (!use_multi)
		return;
	bpf_object__for_each_program(prog, obj) {
		if (bpf_program__type(prog) == BPF_PROG_TYPE_KPROBE)
			bpf_program__set_expected_attach_type(prog, ATTACH_UPROBE_MULTI);
	}
}

int uprobes__attach(struct lp_links *ls, struct bpf_program *prog, bool retprobe, pid_t pid,
		    const char *path, const uint64_t *offsets, int n)
{
	uint64_t cookies[MAX_OFFSETS_PER_LINK];
	int first = ls->n, err = 0;

	if (n <= 0 || n > MAX_OFFSETS_PER_LINK)
		return -EINVAL;
	/* Each site's number is its cookie: the programs count hits per site (sites.h). */
	for (int i = 0; i < n; i++) {
		int site = sites__register(path, offsets[i], retprobe);

		cookies[i] = site < 0 ? LP_MAX_SITES : (uint64_t)site;
	}
	if (use_multi) {
		int fd = link_create_uprobe_multi(bpf_program__fd(prog), retprobe, pid, path,
						  offsets, cookies, n);

		return fd < 0 ? fd : links__add_fd(ls, fd);
	}
	for (int i = 0; i < n && !err; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe, .bpf_cookie = cookies[i]);
		struct bpf_link *link =
			bpf_program__attach_uprobe_opts(prog, pid, path, (size_t)offsets[i], &opts);

		err = link ? links__add_bpf(ls, link) : -errno;
	}
	if (err) {
		/* Undo this call's links only; earlier ones belong to the caller. */
		struct lp_links mine = { .n = ls->n - first };

		memcpy(mine.link, &ls->link[first], sizeof(mine.link[0]) * (size_t)mine.n);
		links__destroy_all(&mine);
		ls->n = first;
	}
	return err;
}
