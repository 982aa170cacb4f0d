// SPDX-License-Identifier: GPL-2.0
/* lockprof's lifecycle: parse options, find the target's interpreter, load and configure the BPF
 * object, attach, collect until told to stop, detach, then write the report. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "target/elf_syms.h"
#include "probes/fullmode.h"
#include "util/log.h"
#include "cli/opts.h"
#include "report/outfile.h"
#include "target/privilege.h"
#include "probes/probes.h"
#include "target/pyobj.h"
#include "target/pyoffsets.h"
#include "target/pyversion.h"
#include "collect/reporter.h"
#include "symbolize/symbolize.h"
#include "target/target.h"
#include "probes/uprobes.h"

#include "lockprof.skel.h"

/* take_gil() calls its condition wait again within microseconds after a timeout; a longer pause
 * means the thread got the GIL and ran. */
#define GIL_WAIT_GAP_NS 50000

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* What the interpreter file tells: version, layout and where _PyRuntime is in the target. */
struct interp_info {
	struct lp_pyversion version;
	char version_str[32];
	struct lp_pyoffsets offsets;
	uint64_t runtime_addr;
};

/* 3.13+: the interpreter publishes its own layout at the start of _PyRuntime; prefer it to our
 * table (a patch release or a distribution build may differ). */
static int read_debug_offsets(const struct lp_target *t, struct interp_info *info)
{
	uint8_t buf[LP_DEBUG_OFFSETS_MAX];
	bool free_threaded = false;
	int err = remote_read(t->pid, info->runtime_addr, buf, sizeof(buf));

	if (err) {
		lp_err("pid %d: cannot read _PyRuntime at 0x%llx: %s", t->pid,
		       (unsigned long long)info->runtime_addr, strerror(-err));
		return err == -EPERM ? LP_EXIT_PRIVILEGE : LP_EXIT_ERROR;
	}
	if (pyoffsets__apply_debug_offsets(&info->offsets, buf, sizeof(buf), &free_threaded)) {
		lp_warn("pid %d: no valid _Py_DebugOffsets in _PyRuntime: using lockprof's table for "
			"3.%d", t->pid, info->version.minor);
		return 0;
	}
	info->version.free_threaded |= free_threaded;
	return 0;
}

/* Returned by inspect_interpreter when there is nothing to profile and that is not an error. */
#define NOTHING_TO_DO (-1)

static int inspect_interpreter(const struct lp_target *t, struct interp_info *info,
			       unsigned int modes)
{
	const char *name = t->interp_in_exe ? t->exe_name : t->libpython_name;
	const struct lp_pyoffsets *table;
	struct elf_symbol sym;
	struct elf_file *ef;
	int fd, err = 0;

	fd = target__open_module(t, &t->interp);
	if (fd < 0) {
		lp_err("pid %d: cannot open %s: %s", t->pid, t->interp.path, strerror(-fd));
		return -fd == EACCES || -fd == EPERM ? LP_EXIT_PRIVILEGE : LP_EXIT_ERROR;
	}
	ef = elf_file__open_fd(fd);
	if (!ef) {
		close(fd);
		lp_err("pid %d: %s is not a readable ELF file", t->pid, t->interp.path);
		return LP_EXIT_NOT_PYTHON;
	}
	if (pyversion__detect(ef, name, &info->version)) {
		lp_err("pid %d: cannot tell the CPython version of %s", t->pid, t->interp.path);
		err = LP_EXIT_NOT_PYTHON;
		goto out;
	}
	/* Before 3.11 the patch level is only in memory: Py_GetVersion()'s buffer, filled when the
	 * sys module is set up ("version.0" in .symtab, when the file has one). */
	if (info->version.micro < 0 && !elf_file__find_symbol(ef, "version.0", &sym)) {
		char buf[32] = "";

		if (!remote_read(t->pid, t->interp.start - elf_file__first_load_vaddr(ef) + sym.value,
				 buf, sizeof(buf) - 1))
			pyversion__micro_from_string(buf, &info->version);
	}
	pyversion__format(&info->version, info->version_str, sizeof(info->version_str));
	table = pyoffsets__for(info->version.major, info->version.minor);
	if (table && info->version.free_threaded && modes == LP_MODE_GIL) {
		lp_err("pid %d: CPython %s is a free-threaded build: there is no GIL to wait for",
		       t->pid, info->version_str);
		err = NOTHING_TO_DO;
		goto out;
	}
	if (!table || info->version.free_threaded) {
		lp_err("pid %d: CPython %s is not supported (lockprof supports CPython 3.%d to 3.%d, "
		       "default builds)", t->pid, info->version_str, pyoffsets__min_minor(),
		       pyoffsets__max_minor());
		err = LP_EXIT_UNSUPPORTED;
		goto out;
	}
	if (elf_file__find_symbol(ef, "_PyRuntime", &sym)) {
		lp_err("pid %d: %s has no _PyRuntime symbol", t->pid, t->interp.path);
		err = LP_EXIT_UNSUPPORTED;
		goto out;
	}
	/* Load bias: where the file's first segment landed minus where it asked to be. */
	info->runtime_addr = t->interp.start - elf_file__first_load_vaddr(ef) + sym.value;
	info->offsets = *table;
	if (table->has_debug_offsets) {
		err = read_debug_offsets(t, info);
		if (!err && info->version.free_threaded && modes == LP_MODE_GIL) {
			lp_err("pid %d: CPython %st is a free-threaded build: there is no GIL to wait "
			       "for", t->pid, info->version_str);
			err = NOTHING_TO_DO;
		} else if (!err && info->version.free_threaded) {
			lp_err("pid %d: CPython %st is a free-threaded build, which lockprof does not "
			       "support yet", t->pid, info->version_str);
			err = LP_EXIT_UNSUPPORTED;
		}
	}
out:
	elf_file__close(ef);
	return err;
}

static int open_outputs(const struct lp_opts *opts, FILE *out[LP_MAX_OUTPUTS])
{
	for (int i = 0; i < opts->noutputs; i++) {
		const char *path = opts->outputs[i].path;
		int fd;

		out[i] = stdout;
		if (!path)
			continue;
		/* Never through a symlink or hard link planted at the path (src/outfile.c). */
		fd = outfile__open(path);
		if (fd < 0 || !(out[i] = fdopen(fd, "w"))) {
			if (fd >= 0) {
				lp_err("cannot write output file %s: %s", path, strerror(errno));
				close(fd);
			}
			out[i] = NULL;
			return LP_EXIT_OUTPUT;
		}
	}
	return 0;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct lp_reporter *rep = ctx;
	const struct lp_event_header *hdr = data;

	if (size < sizeof(*hdr))
		return 0;
	if (hdr->type == LP_EVENT_STACK && size >= sizeof(struct lp_stack_event))
		reporter__add_stack(rep, &((const struct lp_stack_event *)data)->stack);
	return 0;
}

/* Address of the (main interpreter's) GIL state in the target, or 0. */
static uint64_t gil_address(pid_t pid, const struct interp_info *info)
{
	const struct lp_pyoffsets *o = &info->offsets;
	uint64_t base = info->runtime_addr;

	if (o->gil_in_interp &&
	    remote_read(pid, info->runtime_addr + (uint64_t)o->walk.runtime_interp_head, &base,
			sizeof(base)))
		return 0;
	return base + (uint64_t)o->gil_state;
}

/* The GIL's switch_number: how many times it changed hands so far. -1 when unreadable. */
static int64_t gil_switches(pid_t pid, const struct interp_info *info)
{
	uint64_t gil = gil_address(pid, info), n;

	if (!gil || remote_read(pid, gil + LP_GIL_SWITCH_NUMBER, &n, sizeof(n)))
		return -1;
	return (int64_t)n;
}

/* The GIL's switch count, sampled while the target lives (it may exit before the end). */
struct gil_switch_sampler {
	const struct interp_info *info;
	int64_t first, last;
};

static void sample_gil_switches(struct gil_switch_sampler *g, pid_t pid)
{
	int64_t n;

	if (!g)
		return;
	n = gil_switches(pid, g->info);
	if (n < 0)
		return;
	if (g->first < 0)
		g->first = n;
	g->last = n;
}

/* The GIL's switches since the last call (since the start the first time), or -1 when unknown. */
static int64_t take_gil_handoffs(struct gil_switch_sampler *g)
{
	int64_t n;

	if (!g || g->first < 0 || g->last < g->first)
		return -1;
	n = g->last - g->first;
	g->first = g->last;
	return n;
}

/* Writes the reports of the interval (or run) ending at end_ns; last: profiling has stopped. */
static int write_reports(struct lp_reporter *rep, uint64_t end_ns, struct lockprof_bpf *skel,
			 struct gil_switch_sampler *gil, bool last, const struct lp_full_info *full)
{
	struct lp_report_input in = {
		.stats_fd = bpf_map__fd(skel->maps.stats),
		.counters = &skel->bss->counters,
		.gil_waits_fd = last && gil ? bpf_map__fd(skel->maps.gil_waits) : -1,
		.gil_key = skel->rodata->gil_cfg.gil_key,
		.gil_handoffs = take_gil_handoffs(gil),
		.full = full,
	};

	return reporter__write(rep, end_ns, &in);
}

static const char *stop_reason;

/* Wake up every 100 ms to check on the target, and in time for -d and the next report (0: none). */
static int poll_timeout_ms(uint64_t now, uint64_t deadline, uint64_t next_report)
{
	const uint64_t due[] = { deadline, next_report };
	uint64_t ms = 100;

	for (size_t i = 0; i < sizeof(due) / sizeof(due[0]); i++) {
		if (!due[i])
			continue;
		if (due[i] <= now)
			return 0;
		if ((due[i] - now + 999999) / 1000000 < ms)
			ms = (due[i] - now + 999999) / 1000000;
	}
	return (int)ms;
}

/* Runs from start until -d, a signal or the target's exit; the ring buffer is drained as stacks
 * arrive, and with -i the reports are written at the end of every interval. Returns 0 or an
 * LP_EXIT_* code. */
static int collect(struct ring_buffer *rb, const struct lp_opts *opts, int pidfd, uint64_t start,
		   struct lp_reporter *rep, struct lockprof_bpf *skel, struct gil_switch_sampler *gil,
		   struct lp_fullmode *full)
{
	uint64_t deadline = opts->duration_s > 0 ? start + (uint64_t)(opts->duration_s * 1e9) : 0;
	uint64_t interval_ns = (uint64_t)(opts->interval_s * 1e9), now = start;
	uint64_t next_report = interval_ns ? start + interval_ns : 0, next_scan = start;

	while (!exiting) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		int timeout_ms = poll_timeout_ms(now, deadline, next_report);
		int err;

		/* -m full: the duty cycle may attach or detach its probes sooner. */
		if (full)
			timeout_ms = fullmode__tick(full, now_ns(), timeout_ms);
		err = ring_buffer__poll(rb, timeout_ms);

		now = now_ns();
		sample_gil_switches(gil, opts->pid);
		if (err < 0 && err != -EINTR) {
			lp_warn("ring buffer poll failed: %s", strerror(-err));
			stop_reason = "error";
			break;
		}
		/* Before the interval check: at -d, the final report covers the last interval. */
		if (deadline && now >= deadline) {
			stop_reason = "duration";
			break;
		}
		if ((pidfd >= 0 && poll(&pfd, 1, 0) > 0) ||
		    (pidfd < 0 && !target__alive(opts->pid))) {
			stop_reason = "target exited";
			break;
		}
		/* Threads may exit before the report: name them while they live. */
		if (now >= next_scan) {
			reporter__scan_threads(rep);
			next_scan = now + 1000000000ULL;
		}
		if (next_report && now >= next_report) {
			struct lp_full_info interval_full = {};

			if (full)
				fullmode__interval(full, now, &interval_full);
			err = write_reports(rep, now, skel, gil, false, full ? &interval_full : NULL);
			if (err)
				return err;
			next_report += interval_ns;
		}
	}
	if (!stop_reason)
		stop_reason = "signal";
	return 0;
}

int main(int argc, char **argv)
{
	struct lp_opts opts;
	struct lp_target target;
	struct interp_info info = {};
	struct lp_probes probes = {};
	struct lp_fullmode full = {};
	struct lp_full_info full_info = {};
	struct lp_symbolizer *symbolizer = NULL;
	struct lp_reporter *rep = NULL;
	struct lockprof_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	FILE *out[LP_MAX_OUTPUTS] = {};
	uint64_t start_ns, stop_ns;
	struct gil_switch_sampler gil_sampler = { .info = &info, .first = -1, .last = -1 };
	struct gil_switch_sampler *gil = NULL;
	int err, pidfd = -1;

	err = opts__parse(argc, argv, &opts);
	if (err)
		return err;
	lp_verbose = opts.verbose;
	libbpf_set_print(lp_libbpf_print);

	/* Check the target and our rights before loading anything. */
	err = target__check_alive(opts.pid);
	if (!err)
		err = privilege__check(opts.pid);
	if (!err)
		err = target__discover(opts.pid, &target);
	if (!err)
		err = inspect_interpreter(&target, &info, opts.modes);
	if (!err && (opts.modes & LP_MODE_FULL))
		err = fullmode__check_version(opts.pid, &info.version, info.version_str);
	if (!err && (opts.modes & LP_MODE_GIL) && !target.interp.text_start) {
		lp_err("pid %d: cannot find the executable code of %s", opts.pid, target.interp.path);
		err = LP_EXIT_NOT_PYTHON;
	}
	if (!err)
		err = open_outputs(&opts, out);
	if (err == NOTHING_TO_DO)
		err = 0; /* said why: no report */
	if (err || !out[0])
		goto cleanup;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* Open, configure and load the BPF object. */
	skel = lockprof_bpf__open();
	if (!skel) {
		lp_err("failed to open the BPF object: %s", strerror(errno));
		err = LP_EXIT_KERNEL;
		goto cleanup;
	}
	skel->rodata->targ_tgid = target.ns.tgid;
	skel->rodata->targ_pidns_dev = target.ns.dev;
	skel->rodata->targ_pidns_ino = target.ns.ino;
	skel->rodata->targ_min_wait_ns = opts.min_wait_ns;
	skel->rodata->py = info.offsets.walk;
	skel->rodata->py.runtime_addr = info.runtime_addr;
	skel->rodata->gil_cfg.text_start = target.interp.text_start;
	skel->rodata->gil_cfg.text_end = target.interp.text_end;
	skel->rodata->gil_cfg.gap_ns = GIL_WAIT_GAP_NS;
	skel->rodata->gil_cfg.gil_key = gil_address(opts.pid, &info);
	if ((opts.modes & LP_MODE_GIL) && !skel->rodata->gil_cfg.gil_key) {
		lp_err("pid %d: cannot find the GIL in the target's memory", opts.pid);
		err = LP_EXIT_ERROR;
		goto cleanup;
	}
	if (opts.modes & LP_MODE_FULL)
		fullmode__configure(skel, &target, &opts);
	if (opts.modes & LP_MODE_GIL)
		gil = &gil_sampler;
	uprobes__prepare(skel->obj);
	err = lockprof_bpf__load(skel);
	if (err) {
		lp_err("failed to load the BPF programs: %s (needs a kernel with BTF at "
		       "/sys/kernel/btf/vmlinux, BPF and uprobes; -v shows the verifier log)",
		       strerror(-err));
		err = err == -EPERM ? LP_EXIT_PRIVILEGE : LP_EXIT_KERNEL;
		goto cleanup;
	}

	symbolizer = symbolizer__new(opts.pid, &info.offsets);
	if (symbolizer)
		rep = reporter__new(&opts, &target, info.version_str, symbolizer, out);
	if (rep)
		rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, rep, NULL);
	if (!rb) {
		lp_err("failed to set up the symbolizer, reports and event ring buffer: %s",
		       strerror(errno));
		err = LP_EXIT_ERROR;
		goto cleanup;
	}

	/* Attach; the banner says the probes are live, so it comes only after this. */
	if (opts.modes & LP_MODE_FULL) {
		err = fullmode__prepare(&full, skel, &target, &opts, &info.version, &info.offsets,
					info.runtime_addr);
		if (err)
			goto cleanup;
	}
	err = probes__attach(&probes, skel, &target, &info.version, opts.modes);
	if (!err && (opts.modes & LP_MODE_FULL))
		err = fullmode__start(&full, now_ns());
	if (err)
		goto cleanup;
	pidfd = (int)syscall(SYS_pidfd_open, opts.pid, 0);
	start_ns = now_ns();
	sample_gil_switches(gil, opts.pid);
	reporter__start(rep, start_ns);
	if (opts.duration_s > 0)
		fprintf(stderr, "lockprof: pid %d: CPython %s (%s), mode %s, %g s. Ctrl-C stops "
				"early.\n", opts.pid, info.version_str, target.interp.path,
			opts__mode_name(opts.modes), opts.duration_s);
	else
		fprintf(stderr, "lockprof: pid %d: CPython %s (%s), mode %s. Ctrl-C stops.\n",
			opts.pid, info.version_str, target.interp.path, opts__mode_name(opts.modes));

	err = collect(rb, &opts, pidfd, start_ns, rep, skel, gil,
		      (opts.modes & LP_MODE_FULL) ? &full : NULL);
	stop_ns = now_ns();
	if (opts.modes & LP_MODE_FULL)
		fullmode__stop(&full, stop_ns, &full_info);

	/* Detach first: the target runs at full speed while the report is built. */
	probes__detach(&probes);
	ring_buffer__consume(rb);
	lp_info("stopped: %s", stop_reason);
	if (!err)
		err = write_reports(rep, stop_ns, skel, gil, true,
				    (opts.modes & LP_MODE_FULL) ? &full_info : NULL);

cleanup:
	fullmode__detach(&full);
	probes__detach(&probes);
	ring_buffer__free(rb);
	lockprof_bpf__destroy(skel);
	reporter__free(rep);
	symbolizer__free(symbolizer);
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < LP_MAX_OUTPUTS; i++)
		if (out[i] && out[i] != stdout)
			fclose(out[i]);
	return err;
}
