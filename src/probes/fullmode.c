// SPDX-License-Identifier: GPL-2.0
/* -m full (see fullmode.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "target/elf_syms.h"
#include "probes/fullmode.h"
#include "probes/links.h"
#include "probes/lockmethods.h"
#include "util/log.h"
#include "probes/uprobes.h"

#include "lockprof.skel.h"

#define CALIBRATION_CALLS 1000
#define CALIBRATION_ROUNDS 3
/* When calibration is impossible (no .symtab in lockprof): a uprobe trap on x86-64. */
#define DEFAULT_PROBE_COST_NS 3000.0

int fullmode__check_version(pid_t pid, const struct lp_pyversion *v, const char *version_str)
{
	if (pyversion__lock_is_semaphore(v) || v->minor == 13 || v->minor == 14)
		return 0;
	lp_err("pid %d: -m full does not cover CPython %s: lockprof knows where threading.Lock's "
	       "acquire and release are for 3.8 to 3.14 only", pid, version_str);
	return LP_EXIT_UNSUPPORTED;
}

void fullmode__configure(struct lockprof_bpf *skel, const struct lp_target *t,
			 const struct lp_opts *opts)
{
	skel->rodata->full_cfg.text_start = t->interp.text_start;
	skel->rodata->full_cfg.text_end = t->interp.text_end;
	skel->rodata->full_cfg.capture_pct = opts->capture_pct;
	skel->rodata->full_cfg.enabled = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Not inlined, not folded away: each call is one probe hit when a uprobe sits on it. */
__attribute__((noinline)) int lp_calibration_target(int x)
{
	__asm__ volatile("" : "+r"(x) : : "memory");
	return x + 1;
}

/* The fastest of a few rounds of calls: scheduling noise only ever adds time. */
static uint64_t time_calls(void)
{
	uint64_t best = UINT64_MAX;
	volatile int sink = 0;

	for (int r = 0; r < CALIBRATION_ROUNDS; r++) {
		uint64_t t0 = mono_ns(), dt;

		for (int i = 0; i < CALIBRATION_CALLS; i++)
			sink = lp_calibration_target(sink);
		dt = mono_ns() - t0;
		if (dt < best)
			best = dt;
	}
	return best;
}

/* Cost of one hit of an entry uprobe running one of our programs (sem_post_enter, which returns
 * at once for a process other than the target): trap, uprobe dispatch, BPF run, return. The
 * probe, on lockprof's own process, stays in *links until the first detach: removing it waits for
 * a kernel grace period, which need not delay the start. */
static double calibrate(struct lockprof_bpf *skel, struct lp_links *links)
{
	struct elf_symbol sym;
	struct elf_file *ef = NULL;
	uint64_t offset, bare, probed;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), err = -ENOENT;

	if (fd >= 0 && !(ef = elf_file__open_fd(fd)))
		close(fd);
	if (ef && !elf_file__find_symbol(ef, "lp_calibration_target", &sym))
		err = elf_file__vaddr_to_offset(ef, sym.value, &offset);
	elf_file__close(ef);
	if (err) {
		lp_warn("cannot find lp_calibration_target in /proc/self/exe (stripped?): assuming "
			"%.0f ns per probe hit", DEFAULT_PROBE_COST_NS);
		return DEFAULT_PROBE_COST_NS;
	}
	bare = time_calls();
	err = uprobes__attach(links, skel->progs.sem_post_enter, false, getpid(), "/proc/self/exe",
			      &offset, 1);
	if (err) {
		lp_warn("cannot attach the calibration uprobe to /proc/self/exe: %s: assuming %.0f "
			"ns per probe hit", strerror(-err), DEFAULT_PROBE_COST_NS);
		return DEFAULT_PROBE_COST_NS;
	}
	probed = time_calls();
	if (probed <= bare)
		return 1.0;
	return (double)(probed - bare) / CALIBRATION_CALLS;
}

static int libc_offset(const struct lp_target *t, struct elf_file *ef, const char *name,
		       uint64_t *offset)
{
	struct elf_symbol sym;
	int err = elf_file__find_symbol(ef, name, &sym);

	if (!err)
		err = elf_file__vaddr_to_offset(ef, sym.value, offset);
	if (err)
		lp_err("pid %d: %s has no usable %s symbol (needed by -m full)", t->pid,
		       t->libc.path, name);
	return err;
}

/* The ELF image of one of the target's modules, or NULL after printing why. */
static struct elf_file *open_module_elf(const struct lp_target *t, const struct lp_module *mod)
{
	struct elf_file *ef;
	int fd = target__open_module(t, mod);

	if (fd < 0) {
		lp_err("pid %d: cannot open %s: %s", t->pid, mod->path, strerror(-fd));
		return NULL;
	}
	ef = elf_file__open_fd(fd);
	if (!ef) {
		close(fd);
		lp_err("pid %d: cannot read the ELF headers of %s", t->pid, mod->path);
	}
	return ef;
}

/* Converts a function address in the target's interpreter to an offset in its file, after
 * checking that it lies in the interpreter's code (it was read from the target's memory). */
static int interp_offset(const struct lp_target *t, const struct elf_file *ef, uint64_t addr,
			 uint64_t *offset)
{
	if (addr < t->interp.text_start || addr >= t->interp.text_end)
		return -ERANGE;
	return elf_file__vaddr_to_offset(ef, addr - t->interp.start + elf_file__first_load_vaddr(ef),
					 offset);
}

#define MAX_TEXT_SCAN (256u << 20)

/* Callers into which the build inlined the probed methods (see lockmethods.h): their
 * acquisitions and releases go unseen, so the report calls its hold figures lower bounds. */
static uint64_t count_inlined_sites(const struct lp_target *t, const struct elf_file *ef,
				    const struct lp_lock_methods *m)
{
	uint64_t funcs[] = { m->lock_acquire,	   m->lock_release,	m->rlock_acquire,
			     m->rlock_release,	   m->rlock_release_save, m->rlock_acquire_restore };
	uint64_t bias = t->interp.start - elf_file__first_load_vaddr(ef), sites = 0;
	uint64_t text_vaddr, text_size;
	uint8_t *text;

	/* .text (section headers survive stripping); else the executable mapping, which begins
	 * on a page boundary and may end past the segment's file image. */
	if (elf_file__find_section(ef, ".text", &text_vaddr, &text_size)) {
		text_vaddr = t->interp.text_start - bias;
		text_size = t->interp.text_end - t->interp.text_start;
	}
	if (!text_size || text_size > MAX_TEXT_SCAN || !(text = malloc((size_t)text_size)))
		return 0;
	while (text_size > 4096 && elf_file__read_vaddr(ef, text_vaddr, text, (size_t)text_size))
		text_size -= text_size % 4096 ? text_size % 4096 : 4096;
	if (!elf_file__read_vaddr(ef, text_vaddr, text, (size_t)text_size))
		for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
			bool seen = !funcs[i];

			for (size_t j = 0; j < i && !seen; j++)
				seen = funcs[j] == funcs[i];
			if (!seen)
				sites += lockmethods__count_code_refs(text, (size_t)text_size,
								      text_vaddr, funcs[i] - bias);
		}
	free(text);
	return sites;
}

/* Lock's (and 3.14 RLock's) acquire and release, where Lock is a PyMutex. */
static int find_lock_methods(struct lp_fullmode *fm, const struct lp_target *t,
			     const struct lp_pyversion *v, const struct lp_pyoffsets *o,
			     uint64_t runtime_addr)
{
	struct lp_lock_methods m;
	struct elf_file *ef;
	int err;

	err = lockmethods__find(t->pid, runtime_addr, o, &m);
	if (err) {
		lp_err("pid %d: -m full: cannot find threading.Lock's acquire and release through "
		       "sys.modules['_thread'] in the target's memory: %s (has it imported "
		       "threading?)", t->pid, strerror(-err));
		return LP_EXIT_UNSUPPORTED;
	}
	ef = open_module_elf(t, &t->interp);
	if (!ef)
		return LP_EXIT_ERROR;
	err = interp_offset(t, ef, m.lock_acquire, &fm->lock_acquire_offset);
	if (!err)
		err = interp_offset(t, ef, m.lock_release, &fm->lock_release_offset);
	/* 3.13's RLock is still a sem_t lock, which the libc probes see. */
	if (!err && v->minor >= 14 &&
	    (!m.rlock_acquire || !m.rlock_release || !m.rlock_release_save ||
	     !m.rlock_acquire_restore))
		err = -ENOENT;
	if (!err && v->minor >= 14)
		err = interp_offset(t, ef, m.rlock_acquire, &fm->rlock_acquire_offset);
	if (!err && v->minor >= 14)
		err = interp_offset(t, ef, m.rlock_release, &fm->rlock_release_offset);
	if (!err && v->minor >= 14)
		err = interp_offset(t, ef, m.rlock_release_save, &fm->rlock_release_save_offset);
	if (!err && v->minor >= 14)
		err = interp_offset(t, ef, m.rlock_acquire_restore,
				    &fm->rlock_acquire_restore_offset);
	if (v->minor < 14) /* not probed */
		m.rlock_acquire = m.rlock_release = m.rlock_release_save = m.rlock_acquire_restore = 0;
	if (!err)
		fm->inlined_sites = count_inlined_sites(t, ef, &m);
	elf_file__close(ef);
	if (err) {
		lp_err("pid %d: -m full: threading.Lock's or RLock's methods are not in %s's code: %s",
		       t->pid, t->interp.path, strerror(-err));
		return LP_EXIT_UNSUPPORTED;
	}
	fm->pymutex = true;
	lp_info("-m full: Lock acquire/release at 0x%llx/0x%llx of %s%s; %llu call sites "
		"inline them",
		(unsigned long long)fm->lock_acquire_offset,
		(unsigned long long)fm->lock_release_offset, t->interp.path,
		fm->rlock_acquire_offset ? ", RLock's too" : "",
		(unsigned long long)fm->inlined_sites);
	return 0;
}

int fullmode__prepare(struct lp_fullmode *fm, struct lockprof_bpf *skel,
		      const struct lp_target *t, const struct lp_opts *opts,
		      const struct lp_pyversion *v, const struct lp_pyoffsets *o,
		      uint64_t runtime_addr)
{
	struct elf_file *ef;
	int err;

	memset(fm, 0, sizeof(*fm));
	fm->skel = skel;
	fm->target = t;
	fm->capture_pct = opts->capture_pct;
	if (!t->has_libc || !t->interp.text_start) {
		lp_err("pid %d: -m full needs the target's libc and the interpreter's code mapping",
		       t->pid);
		return LP_EXIT_UNSUPPORTED;
	}
	ef = open_module_elf(t, &t->libc);
	if (!ef)
		return LP_EXIT_ERROR;
	err = libc_offset(t, ef, "sem_trywait", &fm->trywait_offset);
	if (!err)
		err = libc_offset(t, ef, "sem_post", &fm->post_offset);
	elf_file__close(ef);
	if (err)
		return LP_EXIT_UNSUPPORTED;
	if (!pyversion__lock_is_semaphore(v)) {
		err = find_lock_methods(fm, t, v, o, runtime_addr);
		if (err)
			return err;
	}
	fm->probe_cost_ns = calibrate(skel, &fm->calibration);
	lp_info("-m full: one probe hit costs %.0f ns; capture %u%%, overhead bound %g%%",
		fm->probe_cost_ns, fm->capture_pct, opts->max_overhead_pct);
	dutycycle__init(&fm->dc, opts->max_overhead_pct, fm->probe_cost_ns, 0, 0);
	return 0;
}

static int attach(struct lp_fullmode *fm)
{
	const struct lp_target *t = fm->target;
	const struct {
		struct bpf_program *prog;
		const struct lp_module *mod;
		uint64_t offset;
		const char *what;
	} probes[] = {
		{ fm->skel->progs.sem_trywait_enter, &t->libc, fm->trywait_offset, "sem_trywait" },
		{ fm->skel->progs.sem_post_enter, &t->libc, fm->post_offset, "sem_post" },
		{ fm->skel->progs.mutex_acquire_enter, &t->interp, fm->lock_acquire_offset,
		  "Lock.acquire" },
		{ fm->skel->progs.mutex_release_enter, &t->interp, fm->lock_release_offset,
		  "Lock.release" },
		/* A held RLock mutex is a re-entry or a wait: Lock's acquire logic serves. */
		{ fm->skel->progs.mutex_acquire_enter, &t->interp, fm->rlock_acquire_offset,
		  "RLock.acquire" },
		{ fm->skel->progs.rmutex_release_enter, &t->interp, fm->rlock_release_offset,
		  "RLock.release" },
		/* Condition.wait on an RLock: released whatever its level, then taken back. */
		{ fm->skel->progs.rmutex_release_save_enter, &t->interp,
		  fm->rlock_release_save_offset, "RLock._release_save" },
		{ fm->skel->progs.mutex_acquire_enter, &t->interp, fm->rlock_acquire_restore_offset,
		  "RLock._acquire_restore" },
	};

	/* A new epoch first: holds opened before the last detach are not closed by releases
	 * seen from now on (their own release may have been missed). */
	fm->skel->bss->full_epoch = ++fm->epoch;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		int err;

		if (i >= 2 && (!fm->pymutex || !probes[i].offset))
			continue;
		err = uprobes__attach(&fm->links, probes[i].prog, false, t->pid,
				      probes[i].mod->open_path, &probes[i].offset, 1);
		if (err) {
			lp_err("failed to attach uprobe to %s (%s): %s", probes[i].what,
			       probes[i].mod->path, strerror(-err));
			fullmode__detach(fm);
			return err;
		}
	}
	fm->skel->bss->full_on = 1;
	fm->attached = true;
	return 0;
}

void fullmode__detach(struct lp_fullmode *fm)
{
	if (fm->skel)
		fm->skel->bss->full_on = 0;
	links__destroy_all(&fm->links);
	links__destroy_all(&fm->calibration);
	fm->attached = false;
}

int fullmode__start(struct lp_fullmode *fm, uint64_t now_ns)
{
	int err;

	dutycycle__init(&fm->dc, fm->dc.max_overhead * 100.0, fm->probe_cost_ns, now_ns,
			fm->skel->bss->full_probe_hits);
	fm->span = dutycycle__mark(&fm->dc, now_ns);
	err = attach(fm);
	if (err)
		return err == -EPERM || err == -EACCES ? LP_EXIT_PRIVILEGE : LP_EXIT_KERNEL;
	dutycycle__step(&fm->dc, now_ns, fm->skel->bss->full_probe_hits);
	return 0;
}

int fullmode__tick(struct lp_fullmode *fm, uint64_t now_ns, int max_ms)
{
	bool want = dutycycle__step(&fm->dc, now_ns, fm->skel->bss->full_probe_hits);
	uint64_t next_ns;

	if (want && !fm->attached) {
		/* The target keeps running without hold data; contention is still measured. */
		if (attach(fm))
			fm->attach_failures++;
		lp_dbg("-m full: attaching took %.1f ms (duty %.4f of %.1f s)",
		       (double)(mono_ns() - now_ns) / 1e6, fm->dc.duty,
		       (double)fm->dc.period_len_ns / 1e9);
	} else if (!want && fm->attached) {
		fullmode__detach(fm);
		/* Slow (uprobe unregistration waits for RCU), but the breakpoints go first. */
		lp_dbg("-m full: detaching took %.1f ms", (double)(mono_ns() - now_ns) / 1e6);
	}
	next_ns = dutycycle__next_change_ns(&fm->dc, now_ns);
	if (next_ns / 1000000 < (uint64_t)max_ms)
		return (int)(next_ns / 1000000) + (next_ns % 1000000 ? 1 : 0);
	return max_ms;
}

/* The figures of the span from the last snapshot to now; then the next span starts. */
/* The figures of the span from the last mark to now; then the next span starts. */
static void span_info(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info)
{
	double duty = dutycycle__average(&fm->dc, &fm->span, now_ns);

	info->measured = true;
	info->capture_pct = fm->capture_pct;
	info->duty_cycle = duty;
	info->overhead_pct = dutycycle__overhead_pct(&fm->dc, &fm->span, now_ns);
	info->probe_cost_ns = fm->probe_cost_ns;
	info->scale_contended = duty > 0 ? 1.0 / duty : 1.0;
	info->scale_sampled = info->scale_contended * 100.0 / fm->capture_pct;
	info->inlined_sites = fm->inlined_sites;
	fm->span = dutycycle__mark(&fm->dc, now_ns);
}

void fullmode__interval(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info)
{
	/* Bring the totals up to now; the decision is applied at the next tick. */
	dutycycle__step(&fm->dc, now_ns, fm->skel->bss->full_probe_hits);
	span_info(fm, now_ns, info);
}

void fullmode__stop(struct lp_fullmode *fm, uint64_t now_ns, struct lp_full_info *info)
{
	dutycycle__step(&fm->dc, now_ns, fm->skel->bss->full_probe_hits);
	fullmode__detach(fm);
	lp_dbg("-m full: probes attached %.3f of %.3f s, %llu hits",
	       (double)fm->dc.total_attached_ns / 1e9, (double)(now_ns - fm->dc.start_ns) / 1e9,
	       (unsigned long long)fm->dc.total_hits);
	span_info(fm, now_ns, info);
	if (fm->attach_failures)
		lp_warn("-m full: %llu re-attachments of the full-mode probes failed",
			(unsigned long long)fm->attach_failures);
}
