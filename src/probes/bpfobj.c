// SPDX-License-Identifier: GPL-2.0
/* Configuring and loading the BPF object (see bpfobj.h). */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "probes/bpfobj.h"
#include "probes/uprobes.h"
#include "util/log.h"

#include "lockprof/abi.h" /* the skeleton names its types */
#include "lockprof.skel.h"

/* take_gil() calls its condition wait again within microseconds after a timeout; a longer pause
 * means the thread got the GIL and ran. */
#define GIL_WAIT_GAP_NS 50000

static void configure(struct lockprof_bpf *skel, const struct lp_target *t,
		      const struct lp_interp *info, const struct lp_opts *opts, uint64_t gil)
{
	skel->rodata->targ_tgid = t->ns.tgid;
	skel->rodata->targ_pidns_dev = t->ns.dev;
	skel->rodata->targ_pidns_ino = t->ns.ino;
	skel->rodata->targ_min_wait_ns = opts->min_wait_ns;
	skel->rodata->targ_creation_sites = opts->creation_sites;
	skel->rodata->targ_lock_mutex_off = (__u32)info->offsets.object_head;
	skel->rodata->targ_object_mutex = (__u32)info->offsets.object_mutex;
	skel->rodata->targ_object_type = (__u32)info->offsets.code.object_type;
	skel->rodata->targ_type_name = (__u32)info->offsets.type_name;
	skel->rodata->py = info->offsets.walk;
	skel->rodata->py.runtime_addr = info->runtime_addr;
	skel->rodata->gil_cfg.text_start = t->interp.text_start;
	skel->rodata->gil_cfg.text_end = t->interp.text_end;
	skel->rodata->gil_cfg.gap_ns = GIL_WAIT_GAP_NS;
	skel->rodata->gil_cfg.gil_key = gil;
	if (opts->modes & LP_MODE_FULL) {
		skel->rodata->full_cfg.text_start = t->interp.text_start;
		skel->rodata->full_cfg.text_end = t->interp.text_end;
		skel->rodata->full_cfg.capture_pct = opts->capture_pct;
		skel->rodata->full_cfg.enabled = 1;
	}
}

int bpfobj__load(struct lockprof_bpf **skelp, const struct lp_target *t,
		 const struct lp_interp *info, const struct lp_opts *opts, uint64_t gil)
{
	struct lockprof_bpf *skel;
	int err;

	*skelp = NULL;
	if ((opts->modes & LP_MODE_GIL) && !gil) {
		lp_err("pid %d: cannot find the GIL in the target's memory", t->pid);
		return LP_EXIT_ERROR;
	}
	skel = lockprof_bpf__open();
	if (!skel) {
		lp_err("failed to open the BPF object: %s", strerror(errno));
		return LP_EXIT_KERNEL;
	}
	configure(skel, t, info, opts, gil);
	uprobes__prepare(skel->obj);
	err = lockprof_bpf__load(skel);
	if (err) {
		lp_err("failed to load the BPF programs: %s (needs a kernel with BTF at "
		       "/sys/kernel/btf/vmlinux, BPF and uprobes; -v shows the verifier log)",
		       strerror(-err));
		lockprof_bpf__destroy(skel);
		return lp_exit_for_errno(err, LP_EXIT_KERNEL);
	}
	*skelp = skel;
	return 0;
}

void bpfobj__destroy(struct lockprof_bpf *skel)
{
	lockprof_bpf__destroy(skel);
}
