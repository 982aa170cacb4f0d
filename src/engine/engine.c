// SPDX-License-Identifier: GPL-2.0
/* The stages in order (see engine.h). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collect/progstats.h"
#include "engine/engine.h"
#include "probes/bpfobj.h"
#include "target/privilege.h"
#include "util/clock.h"
#include "util/log.h"

#include "lockprof/abi.h" /* the skeleton names its types */
#include "lockprof.skel.h"

#define THREAD_SCAN_NS 1000000000ULL

int engine__discover(struct lp_engine *e, const struct lp_opts *opts)
{
	int err;

	memset(e, 0, sizeof(*e));
	e->opts = opts;
	e->pidfd = -1;
	e->target.interp.fd = e->target.libc.fd = -1;
	e->target.root_fd = e->target.cwd_fd = -1;
	/* The target and our rights first: a missing capability is named before anything runs. */
	err = target__check_alive(opts->pid);
	if (!err)
		err = privilege__check(opts->pid);
	if (!err)
		err = target__discover(opts->pid, &e->target);
	if (!err)
		err = interp__inspect(&e->target, &e->interp);
	if (!err)
		err = interp__check_modes(&e->target, &e->interp, opts->modes);
	return err;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct lp_collector *c = ctx;
	const struct lp_event_header *hdr = data;

	if (size < sizeof(*hdr))
		return 0;
	if (hdr->type == LP_EVENT_STACK && size >= sizeof(struct lp_stack_event))
		collector__add_stack(c, &((const struct lp_stack_event *)data)->stack);
	return 0;
}

int engine__load(struct lp_engine *e)
{
	uint64_t gil = gil__address(e->opts->pid, &e->interp);
	int err;

	err = bpfobj__load(&e->skel, &e->target, &e->interp, e->opts, gil, e->calibrated);
	if (err)
		return err;
	gil_switches__init(&e->gil, e->opts->pid, (e->opts->modes & LP_MODE_GIL) ? gil : 0,
			   e->interp.offsets.gil_switch_number);
	e->symbolizer = symbolizer__new(e->opts->pid, &e->interp.offsets);
	if (e->symbolizer)
		e->collector =
			collector__new(e->opts, &e->target, e->interp.version_str, e->symbolizer);
	if (e->collector && e->accumulate && !(e->acc = statsacc__new(LP_STATSACC_MAX)))
		e->collector = (collector__free(e->collector), NULL);
	if (e->collector)
		e->events = ring_buffer__new(bpf_map__fd(e->skel->maps.events), on_event,
					     e->collector, NULL);
	if (!e->events) {
		lp_err("failed to set up the symbolizer, collector and event ring buffer: %s",
		       strerror(errno));
		return LP_EXIT_ERROR;
	}
	return 0;
}

int engine__attach(struct lp_engine *e)
{
	bool full = e->opts->modes & LP_MODE_FULL;
	int err = 0;

	struct lp_timing_plan plan = {
		.target = &e->target,
		.version = &e->interp.version,
		.modes = e->opts->modes,
		.creation_sites = e->opts->creation_sites,
	};

	budget__prepare(&e->budget, e->skel, e->opts->max_overhead_pct, e->calibrated);
	if (full)
		err = fullmode__prepare(&e->full, e->skel, &e->target, &e->interp, e->opts,
					&e->budget.costs);
	if (!err)
		err = probes__attach(&e->probes, e->skel, &e->target, &e->interp.version,
				     e->opts->modes, e->opts->creation_sites);
	if (!err && full)
		err = fullmode__start(&e->full, clock__monotonic_ns());
	if (err)
		return err;
	e->pidfd = (int)syscall(SYS_pidfd_open, e->opts->pid, 0);
	e->start_ns = clock__monotonic_ns();
	budget__start(&e->budget, &e->probes, &plan, e->start_ns);
	gil_switches__sample(&e->gil);
	collector__start(e->collector, e->start_ns);
	e->next_thread_scan_ns = e->start_ns;
	return 0;
}

static bool target_gone(const struct lp_engine *e)
{
	struct pollfd pfd = { .fd = e->pidfd, .events = POLLIN };

	if (e->pidfd >= 0)
		return poll(&pfd, 1, 0) > 0;
	return !target__alive(e->opts->pid);
}

/* Whether the target forked a child since the last look that still runs its executable (a
 * fork, not an exec of something else): such a child carries the target's breakpoints. */
static bool forked_child(struct lp_engine *e)
{
	char path[96], line[4096];
	struct stat self, child;
	struct dirent *de;
	bool found = false;
	int nthreads = 0;
	DIR *tasks;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)e->target.pid);
	tasks = opendir(path);
	if (!tasks)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)e->target.pid);
	if (stat(path, &self)) {
		closedir(tasks);
		return false;
	}
	/* Forks come from the main thread or a few others: the first threads' children are read,
	 * so that a process of thousands of threads costs no more than a few hundred reads. */
	while ((de = readdir(tasks)) && nthreads < 256) {
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		nthreads++;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children", (int)e->target.pid,
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fscanf(f, "%4095s", line) == 1) {
			pid_t pid = (pid_t)atoi(line);
			bool known = false;
			unsigned int n = e->nchildren < 64 ? e->nchildren : 64;

			for (unsigned int i = 0; i < n; i++)
				known |= e->children[i] == pid;
			if (known || pid <= 0)
				continue;
			e->children[e->nchildren++ % 64] = pid;
			snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
			if (!stat(path, &child) && child.st_dev == self.st_dev &&
			    child.st_ino == self.st_ino)
				found = true;
		}
		fclose(f);
	}
	closedir(tasks);
	return found;
}

/* Whether the GIL is on now; the last value read once the target is gone. */
static int refresh_gil_enabled(struct lp_engine *e)
{
	int now = interp__gil_enabled(&e->target, &e->interp);

	if (now >= 0)
		e->interp.gil_enabled = now;
	return e->interp.gil_enabled;
}

int engine__poll(struct lp_engine *e, int timeout_ms, uint64_t *now_ns)
{
	int err;

	if (e->opts->modes & LP_MODE_FULL)
		timeout_ms = fullmode__tick(&e->full, clock__monotonic_ns(), timeout_ms);
	if (e->budget.skel && !e->detached)
		timeout_ms = budget__tick(&e->budget, clock__monotonic_ns(), timeout_ms);
	err = ring_buffer__poll(e->events, timeout_ms);
	*now_ns = clock__monotonic_ns();
	gil_switches__sample(&e->gil);
	if (err < 0 && err != -EINTR) {
		lp_warn("ring buffer poll failed: %s", strerror(-err));
		return LP_EXIT_ERROR;
	}
	if (target_gone(e)) {
		e->target_exited = true;
		return 0;
	}
	/* Long runs: BPF's stats map emptied into lockprof's bounded copy before it can fill. */
	if (e->acc && *now_ns >= e->next_drain_ns) {
		int derr = statsacc__drain(e->acc, bpf_map__fd(e->skel->maps.stats));

		if (derr)
			lp_warn("draining the statistics map failed: %s", strerror(-derr));
		e->next_drain_ns = *now_ns + THREAD_SCAN_NS;
	}
	/* Threads may exit before the report: name them while they live. A free-threaded
	 * build's GIL may be turned on meanwhile (an extension not marked free-threading-safe). */
	if (*now_ns >= e->next_thread_scan_ns) {
		if (!e->detached && forked_child(e) && !probes__sweep(&e->probes, &e->target)) {
			e->sweeps++;
			lp_info("pid %d forked: the probes its child inherited are cleared",
				(int)e->target.pid);
		}
		refresh_gil_enabled(e);
		collector__scan_threads(e->collector);
		e->next_thread_scan_ns = *now_ns + THREAD_SCAN_NS;
	}
	return 0;
}

int engine__profile(struct lp_engine *e, uint64_t now_ns, bool last, struct lp_profile *p)
{
	bool gil = e->opts->modes & LP_MODE_GIL;
	struct lp_full_info interval_full = {};
	struct lp_prog_stats programs;
	struct lp_overhead overhead;
	struct lp_counters counters = e->skel->bss->counters;
	struct lp_collect_input in = {
		.stats_fd = bpf_map__fd(e->skel->maps.stats),
		.acc = e->acc,
		.counters = &counters,
		.gil_waits_fd = last && gil ? bpf_map__fd(e->skel->maps.gil_waits) : -1,
		.gil_key = e->skel->rodata->gil_cfg.gil_key,
		.gil_handoffs = gil_switches__take(&e->gil),
		.object_types_fd = e->interp.version.free_threaded
					   ? bpf_map__fd(e->skel->maps.object_types)
					   : -1,
		.free_threaded = e->interp.version.free_threaded,
		.gil_enabled = refresh_gil_enabled(e),
	};

	counters.probe_hits = budget__timing_hits(e->skel);
	if ((e->opts->modes & LP_MODE_FULL) && last) {
		in.full = &e->full_info;
	} else if (e->opts->modes & LP_MODE_FULL) {
		fullmode__interval(&e->full, now_ns, &interval_full);
		in.full = &interval_full;
	}
	if (!progstats__read(e->skel->obj, &programs))
		in.programs = &programs;
	if (e->budget.skel) {
		budget__span(&e->budget, now_ns, &overhead);
		in.overhead = &overhead;
	}
	return collector__build(e->collector, now_ns, &in, p);
}

void engine__detach(struct lp_engine *e, uint64_t now_ns)
{
	if ((e->opts->modes & LP_MODE_FULL) && e->full.skel && !e->full_info.measured)
		fullmode__stop(&e->full, now_ns, &e->full_info);
	/* The breakpoints go first: the target runs at full speed while the report is built. */
	probes__detach(&e->probes);
	e->detached = true;
	if (e->events)
		ring_buffer__consume(e->events);
}

void engine__release(struct lp_engine *e)
{
	fullmode__detach(&e->full);
	probes__detach(&e->probes);
	budget__close(&e->budget);
	e->budget.skel = NULL;
	ring_buffer__free(e->events);
	e->events = NULL;
	statsacc__free(e->acc);
	e->acc = NULL;
	bpfobj__destroy(e->skel);
	e->skel = NULL;
	if (e->pidfd >= 0)
		close(e->pidfd);
	e->pidfd = -1;
	target__close(&e->target);
}

uint64_t engine__map_bytes(const struct lp_engine *e)
{
	const struct bpf_map *map;
	uint64_t bytes = 0;
	int ncpus = libbpf_num_possible_cpus();

	if (!e->skel)
		return 0;
	bpf_object__for_each_map(map, e->skel->obj)
	{
		uint64_t entry = (uint64_t)bpf_map__key_size(map) + bpf_map__value_size(map);
		enum bpf_map_type type = bpf_map__type(map);

		if (bpf_map__fd(map) < 0)
			continue;
		if (type == BPF_MAP_TYPE_RINGBUF)
			entry = 1;
		else if (type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY)
			entry = bpf_map__key_size(map) +
				(uint64_t)bpf_map__value_size(map) * (ncpus > 0 ? ncpus : 1);
		bytes += entry * bpf_map__max_entries(map);
	}
	return bytes;
}

void engine__close(struct lp_engine *e)
{
	engine__release(e);
	collector__free(e->collector);
	symbolizer__free(e->symbolizer);
	memset(e, 0, sizeof(*e));
	e->pidfd = -1;
	e->target.interp.fd = e->target.libc.fd = -1;
	e->target.root_fd = e->target.cwd_fd = -1;
}
