/* SPDX-License-Identifier: GPL-2.0 */
/* How lockprof attaches uprobes. Where the kernel has uprobe_multi links (6.6+), all the
 * functions one program probes in one file go in one link: one registration and, above all, one
 * unregistration, whose RCU waits otherwise make stopping take 50-80 ms per probed function
 * (seconds under load). Elsewhere, one perf-event uprobe link per function, through libbpf. The
 * choice is made once, before the BPF object is loaded, because a uprobe_multi program must be
 * loaded as one. */
#ifndef LOCKPROF_SRC_UPROBES_H
#define LOCKPROF_SRC_UPROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "probes/links.h"

struct bpf_object;
struct bpf_program;

/* Whether this kernel creates uprobe_multi links for us (asked once: needs CAP_BPF and
 * CAP_PERFMON). They are not subject to the 2025 rule that perf-event uprobes need
 * CAP_SYS_ADMIN. */
bool uprobes__multi_available(void);

/* Before loading obj: picks the attach method and prepares obj's uprobe programs for it. */
void uprobes__prepare(struct bpf_object *obj);

/* Attaches prog to each offsets[i] of path (entry, or return with retprobe), firing only in
 * process pid (as seen from lockprof's PID namespace); adds the links to ls. 0 or -errno; on
 * error nothing of this call stays attached. */
int uprobes__attach(struct lp_links *ls, struct bpf_program *prog, bool retprobe, pid_t pid,
		    const char *path, const uint64_t *offsets, int n);

#endif
