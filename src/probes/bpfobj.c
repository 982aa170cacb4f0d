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

/* Map sizes (entries). A single process keeps the sizes bpf/ declares; a process among several
 * (-p PID,PID..., --all) gets smaller maps, as each process has its own BPF object: one pod's
 * worth of processes must not cost hundreds of MB of kernel memory. Maps a mode does not use
 * shrink to one entry either way (the programs that name them are loaded, never attached). */
struct map_size {
	struct bpf_map *map;
	bool used;
	uint32_t many; /* entries among several processes */
};

static void size_maps(struct lockprof_bpf *skel, const struct lp_interp *info,
		      const struct lp_opts *opts)
{
	bool full = opts->modes & LP_MODE_FULL, gil = opts->modes & LP_MODE_GIL;
	bool many = opts__many(opts), ft = info->version.free_threaded;
	const struct map_size sizes[] = {
		{ skel->maps.events, true, 1 << 18 },
		{ skel->maps.stats, true, 4096 },
		{ skel->maps.stacks_seen, true, 4096 },
		{ skel->maps.lock_states, true, 4096 },
		{ skel->maps.lock_created, opts->creation_sites, 16384 },
		{ skel->maps.gil_waits, gil, 1024 },
		{ skel->maps.object_types, ft, 4096 },
		{ skel->maps.stw_pauses, ft, 256 },
		{ skel->maps.holds, full, 16384 },
		{ skel->maps.held_sets, full, 4096 },
		{ skel->maps.lock_owner, full, 4096 },
		{ skel->maps.signal_locks, full, 4096 },
		{ skel->maps.lock_gen, full, 4096 },
		{ skel->maps.lock_order, full, 4096 },
	};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		const struct map_size *m = &sizes[i];
		uint32_t entries = bpf_map__max_entries(m->map);

		if (!m->used)
			entries = 1;
		else if (many && m->many < entries)
			entries = m->many;
		bpf_map__set_max_entries(m->map, entries);
	}
}

/* Programs nothing will attach stay out of the kernel: less to verify at each process's start
 * (--all attaches as processes come), less kernel memory. probes/probes.c's plan and
 * probes/fullmode.c say which program serves which mode and version. */
static void skip_programs(struct lockprof_bpf *skel, const struct lp_interp *info,
			  const struct lp_opts *opts, bool calibrated)
{
	bool contention = opts->modes & LP_MODE_CONTENTION, full = opts->modes & LP_MODE_FULL;
	bool park = info->version.minor >= 13; /* PyMutex waits park on _PySemaphore */
	bool ft = info->version.free_threaded; /* critical sections, stop-the-world pauses */
	const struct {
		struct bpf_program *prog;
		bool used;
	} progs[] = {
		{ skel->progs.sem_wait_enter, contention },
		{ skel->progs.sem_wait_exit, contention },
		{ skel->progs.sem_post_wake, contention },
		{ skel->progs.park_wait_enter, contention && park },
		{ skel->progs.park_wait_exit, contention && park },
		{ skel->progs.park_wakeup_enter, contention && park },
		{ skel->progs.lock_init_enter, contention && opts->creation_sites },
		{ skel->progs.lock_free_enter, contention && opts->creation_sites },
		{ skel->progs.section_wait_enter, contention && ft },
		{ skel->progs.section2_wait_enter, contention && ft },
		{ skel->progs.section_wait_exit, contention && ft },
		{ skel->progs.stw_stop_enter, contention && ft },
		{ skel->progs.stw_start_exit, contention && ft },
		{ skel->progs.gil_cond_wait_enter, opts->modes & LP_MODE_GIL },
		{ skel->progs.gil_cond_wait_exit, opts->modes & LP_MODE_GIL },
		{ skel->progs.sem_trywait_enter, full },
		{ skel->progs.sem_post_enter, full },
		{ skel->progs.mutex_acquire_enter, full },
		{ skel->progs.mutex_release_enter, full },
		{ skel->progs.rmutex_release_enter, full },
		{ skel->progs.rmutex_release_save_enter, full },
		{ skel->progs.calibration_enter, !calibrated },
		{ skel->progs.calibration_exit, !calibrated },
	};

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		if (!progs[i].used)
			bpf_program__set_autoload(progs[i].prog, false);
}

int bpfobj__load(struct lockprof_bpf **skelp, const struct lp_target *t,
		 const struct lp_interp *info, const struct lp_opts *opts, uint64_t gil,
		 bool calibrated)
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
	size_maps(skel, info, opts);
	skip_programs(skel, info, opts, calibrated);
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
