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

#include "elf_syms.h"
#include "log.h"
#include "opts.h"
#include "privilege.h"
#include "probes.h"
#include "profile.h"
#include "pyobj.h"
#include "pyoffsets.h"
#include "pyversion.h"
#include "report.h"
#include "lockname.h"
#include "stacktab.h"
#include "statsmap.h"
#include "symbolize.h"
#include "target.h"
#include "threadnames.h"
#include "u64map.h"

#include "lockprof.skel.h"

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
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

static int inspect_interpreter(const struct lp_target *t, struct interp_info *info)
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
		if (!err && info->version.free_threaded) {
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
		/* Never write through a symlink planted at the path. */
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || !(out[i] = fdopen(fd, "w"))) {
			lp_err("cannot write output file %s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			out[i] = NULL;
			return LP_EXIT_OUTPUT;
		}
	}
	return 0;
}

/* What lives for the whole run and every report needs; profiles come and go with intervals. */
struct session {
	const struct lp_opts *opts;
	const struct lp_target *target;
	const struct interp_info *info;
	struct lockprof_bpf *skel;
	struct lp_stacktab *stacks;
	struct lp_threadnames *threads;
	struct lp_symbolizer *symbolizer;
	FILE *out[LP_MAX_OUTPUTS];
	/* the interval being collected */
	unsigned int interval; /* 0 without -i */
	uint64_t start_ns, start_unix_ns;
	struct lp_counters counters_before;
	uint64_t unknown_frames_before;
	struct u64map lock_names; /* lock id -> name (strdup) read in an earlier interval */
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct session *sn = ctx;
	const struct lp_event_header *hdr = data;
	const struct lp_stack *raw;

	if (size < sizeof(*hdr))
		return 0;
	if (hdr->type == LP_EVENT_STACK && size >= sizeof(struct lp_stack_event)) {
		raw = &((const struct lp_stack_event *)data)->stack;
		stacktab__add(sn->stacks, raw, sn->symbolizer);
		/* The thread is blocked right now: alive, and named as it will be in the report. */
		threadnames__note(sn->threads, raw->tid);
	}
	return 0;
}

/* The BPF counters since the last report (they only grow). */
static void counters_since(struct session *sn, struct lp_counters *out)
{
	const __u64 *now = (const __u64 *)&sn->skel->bss->counters;
	const __u64 *before = (const __u64 *)&sn->counters_before;
	__u64 *delta = (__u64 *)out;

	_Static_assert(sizeof(struct lp_counters) % sizeof(__u64) == 0, "counters are all __u64");
	for (size_t i = 0; i < sizeof(*out) / sizeof(__u64); i++)
		delta[i] = now[i] - before[i];
	sn->counters_before = sn->skel->bss->counters;
}

/* Threads rename themselves: read again the names of those in the profile still alive. */
static void refresh_thread_names(struct lp_threadnames *names, const struct lp_profile *p)
{
	for (size_t i = 0; i < p->nlocks; i++)
		for (size_t j = 0; j < p->locks[i].nstacks; j++)
			for (size_t t = 0; t < p->locks[i].stacks[j].ntids; t++)
				threadnames__refresh(names, p->locks[i].stacks[j].tids[t].tid);
}

/* Lock names come from the source files, read at report time: by a later interval the target may
 * have exited and its files be out of reach, so names read once are kept for the whole run. */
static void remember_lock_names(struct u64map *known, struct lp_profile *p)
{
	for (size_t i = 0; i < p->nlocks; i++) {
		struct lp_lock *lock = &p->locks[i];
		char *name = u64map__get(known, lock->id), *copy;

		if (!lock->name[0]) {
			if (name)
				snprintf(lock->name, sizeof(lock->name), "%s", name);
			continue;
		}
		if (name && !strcmp(name, lock->name))
			continue;
		copy = strdup(lock->name);
		if (copy && !u64map__put(known, lock->id, copy))
			free(name);
		else
			free(copy);
	}
}

static void free_lock_names(struct u64map *known)
{
	u64map__for_each(known, i) free(known->values[i]);
	u64map__free(known);
}

/* Builds the profile of the current interval (the whole run without -i), which ended at end_ns,
 * writes every report, and starts the next interval. Returns 0 or an LP_EXIT_* code after
 * printing why. */
static int report(struct session *sn, uint64_t end_ns)
{
	const struct lp_opts *opts = sn->opts;
	uint64_t unknown = symbolizer__failures(sn->symbolizer);
	struct lp_profile profile;
	int err;

	profile__init(&profile, sn->stacks, sn->threads);
	profile.pid = opts->pid;
	snprintf(profile.python, sizeof(profile.python), "%s", sn->info->version_str);
	snprintf(profile.interpreter, sizeof(profile.interpreter), "%s", sn->target->interp.path);
	profile.duration_ns = end_ns - sn->start_ns;
	profile.start_unix_ns = sn->start_unix_ns;
	profile.interval = sn->interval;
	profile.min_wait_ns = opts->min_wait_ns;
	counters_since(sn, &profile.counters);
	profile.unknown_frames = unknown - sn->unknown_frames_before;
	sn->unknown_frames_before = unknown;
	err = statsmap__read(bpf_map__fd(sn->skel->maps.stats), &profile, sn->interval > 0);
	if (err) {
		lp_err("failed to read the statistics map: %s", strerror(-err));
		profile__free(&profile);
		return LP_EXIT_ERROR;
	}
	/* The next interval starts now: what BPF adds from here on was not in this read. */
	sn->start_ns = end_ns;
	sn->start_unix_ns = clock_ns(CLOCK_REALTIME);
	if (sn->interval)
		sn->interval++;

	refresh_thread_names(sn->threads, &profile);
	profile__finish(&profile);
	lockname__name_locks(&profile, sn->target);
	remember_lock_names(&sn->lock_names, &profile);
	lp_info("probe hits: %llu", (unsigned long long)profile.counters.probe_hits);

	for (int i = 0; i < opts->noutputs && !err; i++) {
		err = report__write(sn->out[i], opts->outputs[i].format, &profile, &opts->report);
		/* Successive intervals' text or collapsed reports: a blank line between them. */
		if (!err && sn->interval && opts->outputs[i].format != LP_FORMAT_JSON)
			fputc('\n', sn->out[i]);
		if (!err && fflush(sn->out[i]))
			err = -errno;
		if (err)
			lp_err("failed to write the %s report to %s: %s",
			       report__format_name(opts->outputs[i].format),
			       opts->outputs[i].path ? opts->outputs[i].path : "stdout",
			       strerror(-err));
	}
	profile__free(&profile);
	return err ? LP_EXIT_OUTPUT : 0;
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

/* Runs until -d, a signal or the target's exit; the ring buffer is drained as stacks arrive, and
 * with -i a report is written at the end of every interval. Returns 0 or an LP_EXIT_* code. */
static int collect(struct ring_buffer *rb, struct session *sn, int pidfd)
{
	const struct lp_opts *opts = sn->opts;
	uint64_t start = sn->start_ns, interval_ns = (uint64_t)(opts->interval_s * 1e9);
	uint64_t deadline = opts->duration_s > 0 ? start + (uint64_t)(opts->duration_s * 1e9) : 0;
	uint64_t next_report = start + interval_ns, next_scan = start, now = start;

	while (!exiting) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		int err = ring_buffer__poll(rb, poll_timeout_ms(now, deadline,
								interval_ns ? next_report : 0));

		now = now_ns();
		if (err < 0 && err != -EINTR) {
			lp_warn("ring buffer poll failed: %s", strerror(-err));
			stop_reason = "error";
			break;
		}
		/* Before the interval check: at -d the final report covers the last interval. */
		if (deadline && now >= deadline) {
			stop_reason = "duration";
			break;
		}
		if ((pidfd >= 0 && poll(&pfd, 1, 0) > 0) ||
		    (pidfd < 0 && !target__alive(opts->pid))) {
			stop_reason = "target exited";
			break;
		}
		/* Names of threads that may exit before the report; only new threads are read. */
		if (now >= next_scan) {
			threadnames__scan(sn->threads);
			next_scan = now + 1000000000ULL;
		}
		if (interval_ns && now >= next_report) {
			err = report(sn, now);
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
	struct session sn = {};
	struct lockprof_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t stop_ns;
	int err, pidfd = -1;

	err = opts__parse(argc, argv, &opts);
	if (err)
		return err;
	lp_verbose = opts.verbose;
	libbpf_set_print(lp_libbpf_print);
	sn.opts = &opts;
	sn.target = &target;
	sn.info = &info;

	/* Check the target and our rights before loading anything. */
	err = target__check_alive(opts.pid);
	if (!err)
		err = privilege__check(opts.pid);
	if (!err)
		err = target__discover(opts.pid, &target);
	if (!err)
		err = inspect_interpreter(&target, &info);
	if (!err)
		err = open_outputs(&opts, sn.out);
	if (err)
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
	skel->rodata->targ_tgid = (__u32)opts.pid;
	skel->rodata->targ_min_wait_ns = opts.min_wait_ns;
	skel->rodata->py = info.offsets.walk;
	skel->rodata->py.runtime_addr = info.runtime_addr;
	err = lockprof_bpf__load(skel);
	if (err) {
		lp_err("failed to load the BPF programs: %s (needs a kernel with BTF at "
		       "/sys/kernel/btf/vmlinux, BPF and uprobes; -v shows the verifier log)",
		       strerror(-err));
		err = err == -EPERM ? LP_EXIT_PRIVILEGE : LP_EXIT_KERNEL;
		goto cleanup;
	}
	sn.skel = skel;

	/* Stacks and thread names outlive each interval's profile. */
	sn.stacks = stacktab__new();
	sn.threads = threadnames__new(opts.pid);
	sn.symbolizer = symbolizer__new(opts.pid, &info.offsets);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, &sn, NULL);
	if (!sn.stacks || !sn.threads || !sn.symbolizer || !rb) {
		lp_err("failed to set up the event ring buffer: %s", strerror(errno));
		err = LP_EXIT_ERROR;
		goto cleanup;
	}

	/* Attach; the banner says the probes are live, so it comes only after this. */
	err = probes__attach(&probes, skel, &target, &info.version);
	if (err)
		goto cleanup;
	pidfd = (int)syscall(SYS_pidfd_open, opts.pid, 0);
	sn.start_ns = now_ns();
	sn.start_unix_ns = clock_ns(CLOCK_REALTIME);
	sn.interval = opts.interval_s > 0 ? 1 : 0;
	if (opts.duration_s > 0)
		fprintf(stderr, "lockprof: pid %d: CPython %s (%s), mode contention, %g s. Ctrl-C "
				"stops early.\n", opts.pid, info.version_str, target.interp.path,
			opts.duration_s);
	else
		fprintf(stderr, "lockprof: pid %d: CPython %s (%s), mode contention. Ctrl-C stops.\n",
			opts.pid, info.version_str, target.interp.path);

	err = collect(rb, &sn, pidfd);
	stop_ns = now_ns();

	/* Detach first: the target runs at full speed while the report is built. */
	probes__detach(&probes);
	ring_buffer__consume(rb);
	lp_info("stopped: %s", stop_reason);
	if (!err)
		err = report(&sn, stop_ns);

cleanup:
	probes__detach(&probes);
	ring_buffer__free(rb);
	lockprof_bpf__destroy(skel);
	symbolizer__free(sn.symbolizer);
	stacktab__free(sn.stacks);
	threadnames__free(sn.threads);
	free_lock_names(&sn.lock_names);
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < LP_MAX_OUTPUTS; i++)
		if (sn.out[i] && sn.out[i] != stdout)
			fclose(sn.out[i]);
	return err;
}
