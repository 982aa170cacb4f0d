// SPDX-License-Identifier: GPL-2.0
/* Attaching the contention probes. On 3.8-3.13, threading.Lock and RLock (and the C-internal
 * PyThread locks) are glibc semaphores: CPython tries sem_trywait first and calls sem_wait,
 * sem_clockwait or sem_timedwait only when the lock is taken, so probing those three costs an
 * uncontended acquire nothing. From 3.13, PyMutex-based locks park in _PySemaphore_Wait, which is
 * probed too (the glibc wait it makes inside is then skipped). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "elf_syms.h"
#include "log.h"
#include "opts.h"
#include "probes.h"
#include "lockprof/abi.h"

#include "lockprof.skel.h"

enum probe_module {
	MOD_LIBC,
	MOD_INTERP,
};

enum probe_prog {
	PROG_NONE,
	PROG_SEM_WAIT_ENTER, /* libc semaphore waits: 3.8-3.13 Lock/RLock, C-internal PyThread locks */
	PROG_SEM_WAIT_EXIT,
	PROG_PARK_WAIT_ENTER, /* _PySemaphore_Wait: PyMutex and parking-lot waits, 3.13+ */
	PROG_PARK_WAIT_EXIT,
	PROG_PARK_WAKEUP_ENTER, /* _PySemaphore_Wakeup: release of a lock with a parked waiter */
	PROG_LOCK_INIT_ENTER,	/* sem_init: a lock's creation site names it */
	PROG_LOCK_FREE_ENTER,
	PROG_GIL_WAIT_ENTER, /* pthread_cond_timedwait from take_gil: waiting for the GIL */
	PROG_GIL_WAIT_EXIT,
};

struct probe_spec {
	unsigned int modes; /* enum lp_mode bits that need it */
	enum probe_module module;
	const char *symbol;
	enum probe_prog enter, exit;
	int min_minor, max_minor; /* the 3.x range that needs it */
	bool optional;		  /* absent from some builds (sem_clockwait: glibc < 2.30) */
	bool sem_locks_only;	  /* only where threading.Lock is a sem_t (pyversion.h) */
};

/* The contention plan: functions a thread reaches when it is about to block or to wake a blocked
 * thread, plus lock creation (never on an acquire or release). */
static const struct probe_spec contention_plan[] = {
#define C LP_MODE_CONTENTION
	{ C, MOD_LIBC, "sem_wait", PROG_SEM_WAIT_ENTER, PROG_SEM_WAIT_EXIT, 8, 99, false, false },
	{ C, MOD_LIBC, "sem_timedwait", PROG_SEM_WAIT_ENTER, PROG_SEM_WAIT_EXIT, 8, 99, false, false },
	{ C, MOD_LIBC, "sem_clockwait", PROG_SEM_WAIT_ENTER, PROG_SEM_WAIT_EXIT, 8, 99, true, false },
	{ C, MOD_INTERP, "_PySemaphore_Wait", PROG_PARK_WAIT_ENTER, PROG_PARK_WAIT_EXIT, 13, 99,
	  false, false },
	{ C, MOD_INTERP, "_PySemaphore_Wakeup", PROG_PARK_WAKEUP_ENTER, PROG_NONE, 13, 99, false, false },
	/* Where Lock is a PyMutex, sem_init/sem_destroy run for every parked waiter instead. */
	{ C, MOD_LIBC, "sem_init", PROG_LOCK_INIT_ENTER, PROG_NONE, 8, 13, false, true },
	{ C, MOD_LIBC, "sem_destroy", PROG_LOCK_FREE_ENTER, PROG_NONE, 8, 13, false, true },
#undef C
	/* glibc has two versions of each; CPython binds to the default, @@GLIBC_2.3.2 (the plain
	 * name resolves to it, and also works for musl). take_gil() waits on the GIL's condition
	 * with timeouts; drop_gil() waits on switch_cond, when forced to hand the GIL over, until
	 * the other thread took it: both are time a thread loses to the GIL. */
	{ LP_MODE_GIL, MOD_LIBC, "pthread_cond_timedwait", PROG_GIL_WAIT_ENTER, PROG_GIL_WAIT_EXIT, 8,
	  99, false, false },
	{ LP_MODE_GIL, MOD_LIBC, "pthread_cond_wait", PROG_GIL_WAIT_ENTER, PROG_GIL_WAIT_EXIT, 8, 99,
	  false, false },
};

static struct bpf_program *program(struct lockprof_bpf *skel, enum probe_prog prog)
{
	switch (prog) {
	case PROG_NONE:
		return NULL;
	case PROG_SEM_WAIT_ENTER:
		return skel->progs.sem_wait_enter;
	case PROG_SEM_WAIT_EXIT:
		return skel->progs.sem_wait_exit;
	case PROG_PARK_WAIT_ENTER:
		return skel->progs.park_wait_enter;
	case PROG_PARK_WAIT_EXIT:
		return skel->progs.park_wait_exit;
	case PROG_PARK_WAKEUP_ENTER:
		return skel->progs.park_wakeup_enter;
	case PROG_LOCK_INIT_ENTER:
		return skel->progs.lock_init_enter;
	case PROG_LOCK_FREE_ENTER:
		return skel->progs.lock_free_enter;
	case PROG_GIL_WAIT_ENTER:
		return skel->progs.gil_cond_wait_enter;
	case PROG_GIL_WAIT_EXIT:
		return skel->progs.gil_cond_wait_exit;
	}
	return NULL;
}

static int attach_one(struct lp_probes *pr, struct bpf_program *prog, bool retprobe, pid_t pid,
		      const char *path, uint64_t offset, const char *what)
{
	struct bpf_link *link;
	int err;

	if (pr->nlinks >= LP_MAX_LINKS)
		return -E2BIG;
	link = bpf_program__attach_uprobe(prog, retprobe, pid, path, (size_t)offset);
	if (!link) {
		err = -errno;
		lp_err("failed to attach %s to %s: %s", retprobe ? "uretprobe" : "uprobe", what,
		       strerror(-err));
		return err;
	}
	pr->links[pr->nlinks++] = link;
	return 0;
}

static int exit_code_for(int err)
{
	return err == -EPERM || err == -EACCES ? LP_EXIT_PRIVILEGE : LP_EXIT_KERNEL;
}

/* Attaches the entry and return programs to one function; 0 or an LP_EXIT_* code. */
static int attach_spec(struct lp_probes *pr, struct lockprof_bpf *skel, const struct lp_target *t,
		       const struct probe_spec *spec, const struct lp_module *mod,
		       const struct elf_file *ef)
{
	struct bpf_program *enter = program(skel, spec->enter), *exit = program(skel, spec->exit);
	struct elf_symbol sym;
	char what[PATH_MAX + 64];
	uint64_t offset;
	int err;

	err = elf_file__find_symbol(ef, spec->symbol, &sym);
	if (!err)
		err = elf_file__vaddr_to_offset(ef, sym.value, &offset);
	if (err) {
		if (spec->optional)
			return 0;
		lp_err("pid %d: %s has no usable %s symbol", t->pid, mod->path, spec->symbol);
		return LP_EXIT_UNSUPPORTED;
	}
	snprintf(what, sizeof(what), "%s:%s", mod->path, spec->symbol);
	err = enter ? attach_one(pr, enter, false, t->pid, mod->open_path, offset, what) : 0;
	if (!err && exit)
		err = attach_one(pr, exit, true, t->pid, mod->open_path, offset, what);
	if (err)
		return exit_code_for(err);
	pr->nfunctions++;
	lp_info("probing %s at file offset 0x%llx", what, (unsigned long long)offset);
	return 0;
}

/* Releases of contended semaphores: every futex syscall enters this program, which keeps only the
 * target's FUTEX_WAKEs on addresses threads are known to wait on. */
static int attach_futex_wake(struct lp_probes *pr, struct lockprof_bpf *skel)
{
	struct bpf_link *link;

	if (pr->nlinks >= LP_MAX_LINKS)
		return LP_EXIT_ERROR;
	link = bpf_program__attach_raw_tracepoint(skel->progs.futex_wake_enter, "sys_enter");
	if (!link) {
		int err = -errno;

		lp_err("failed to attach the raw tracepoint sys_enter: %s", strerror(-err));
		return exit_code_for(err);
	}
	pr->links[pr->nlinks++] = link;
	lp_info("tracing futex wakes (raw tracepoint sys_enter)");
	return 0;
}

int probes__attach(struct lp_probes *pr, struct lockprof_bpf *skel, const struct lp_target *t,
		   const struct lp_pyversion *v, unsigned int modes)
{
	const struct lp_module *mods[] = { [MOD_LIBC] = &t->libc, [MOD_INTERP] = &t->interp };
	struct elf_file *elfs[2] = {};
	int err = 0;

	memset(pr, 0, sizeof(*pr));
	for (size_t i = 0; i < sizeof(contention_plan) / sizeof(contention_plan[0]) && !err; i++) {
		const struct probe_spec *spec = &contention_plan[i];
		const struct lp_module *mod = mods[spec->module];

		if (!(spec->modes & modes) || v->minor < spec->min_minor ||
		    v->minor > spec->max_minor ||
		    (spec->sem_locks_only && !pyversion__lock_is_semaphore(v)))
			continue;
		if (!elfs[spec->module]) {
			int fd = target__open_module(t, mod);

			if (fd < 0) {
				lp_err("pid %d: cannot open %s: %s", t->pid, mod->path,
				       strerror(-fd));
				err = LP_EXIT_ERROR;
				break;
			}
			elfs[spec->module] = elf_file__open_fd(fd);
			if (!elfs[spec->module]) {
				close(fd);
				lp_err("pid %d: cannot read ELF symbols of %s", t->pid, mod->path);
				err = LP_EXIT_ERROR;
				break;
			}
		}
		err = attach_spec(pr, skel, t, spec, mod, elfs[spec->module]);
	}
	elf_file__close(elfs[MOD_LIBC]);
	elf_file__close(elfs[MOD_INTERP]);
	if (!err && (modes & LP_MODE_CONTENTION))
		err = attach_futex_wake(pr, skel);
	if (err)
		probes__detach(pr);
	return err;
}

void probes__detach(struct lp_probes *pr)
{
	for (int i = 0; i < pr->nlinks; i++)
		bpf_link__destroy(pr->links[i]);
	pr->nlinks = 0;
}
