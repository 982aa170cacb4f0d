/* SPDX-License-Identifier: GPL-2.0 */
/* A set of BPF links lockprof owns: libbpf links (perf-event uprobes) and
 * bare link fds (uprobe_multi links, which libbpf 1.1 cannot create), destroyed together.
 * Destroying a uprobe link waits for RCU grace periods in the kernel (50-80 ms each here,
 * seconds on a loaded machine); the set closes its links from parallel threads so that the
 * waits overlap where the kernel lets them. */
#ifndef LOCKPROF_SRC_LINKS_H
#define LOCKPROF_SRC_LINKS_H

struct bpf_link;

#define LP_MAX_LINKS 32

struct lp_link {
	struct bpf_link *bpf; /* a libbpf link, or NULL when fd is the link */
	int fd;
};

struct lp_links {
	struct lp_link link[LP_MAX_LINKS];
	int n;
};

/* Take ownership of a link; -E2BIG (and the link destroyed) when the set is full. */
int links__add_bpf(struct lp_links *ls, struct bpf_link *link);
int links__add_fd(struct lp_links *ls, int fd);

/* Destroys every link of the set and empties it; returns when all are gone. Safe to call twice. */
void links__destroy_all(struct lp_links *ls);

#endif
