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

#include "cli/opts.h"
#include "lockprof/abi.h"
#include "probes/links.h"
#include "probes/probe_site.h"
#include "probes/probes.h"
#include "probes/uprobes.h"
#include "target/elf_syms.h"
#include "util/log.h"

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
	PROG_SEM_POST_WAKE,   /* sem_post's FUTEX_WAKE block: release of a semaphore with waiters */
	PROG_LOCK_INIT_ENTER, /* sem_init: a lock's creation site names it */
	PROG_LOCK_FREE_ENTER,
	PROG_GIL_WAIT_ENTER, /* pthread_cond_timedwait from take_gil: waiting for the GIL */
	PROG_GIL_WAIT_EXIT,
	PROG_SECTION_WAIT_ENTER, /* free-threaded: a critical section's slow path (object waits) */
	PROG_SECTION2_WAIT_ENTER,
	PROG_SECTION_WAIT_EXIT,
	PROG_STW_STOP_ENTER, /* free-threaded: stop-the-world pauses */
	PROG_STW_START_EXIT,
};

struct probe_spec {
	unsigned int modes; /* enum lp_mode bits that need it */
	enum probe_module module;
	const char *symbol;
	enum probe_prog enter, exit;
	int min_minor, max_minor; /* the 3.x range that needs it */
	bool optional;		  /* absent from some builds (sem_clockwait: glibc < 2.30) */
	bool sem_locks_only;	  /* only where threading.Lock is a sem_t (pyversion.h) */
	bool at_wake_block; /* at the block that wakes waiters (probe_site.h), not the entry */
	bool creation;	    /* lock creation: only when creation sites are asked for */
	bool free_threaded; /* only on free-threaded builds */
};

/* The contention plan: functions a thread reaches when it is about to block or to wake a blocked
 * thread, never an uncontended acquire or release; lock creation only when asked (a trap per
 * Condition.wait, Event.wait and Future: each creates a lock). */
// clang-format off
static const struct probe_spec contention_plan[] = {
#define C LP_MODE_CONTENTION
	{ C, MOD_LIBC, "sem_wait", PROG_SEM_WAIT_ENTER, PROG_SEM_WAIT_EXIT, 8, 99, false, false, false, false, false },
	{ C, MOD_LIBC, "sem_timedwait", PROG_SEM_WAIT_ENTER, PROG_SEM_WAIT_EXIT, 8, 99, false, false, false, false, false },
	{ C, MOD_LIBC, "sem_clockwait", PROG_SEM_WAIT_ENTER, PROG_SEM_WAIT_EXIT, 8, 99, true, false, false, false, false },
	/* Blame: only a post that wakes a waiter reaches this block. */
	{ C, MOD_LIBC, "sem_post", PROG_SEM_POST_WAKE, PROG_NONE, 8, 99, true, false, true, false, false },
	{ C, MOD_INTERP, "_PySemaphore_Wait", PROG_PARK_WAIT_ENTER, PROG_PARK_WAIT_EXIT, 13, 99,
	  false, false, false, false, false },
	{ C, MOD_INTERP, "_PySemaphore_Wakeup", PROG_PARK_WAKEUP_ENTER, PROG_NONE, 13, 99, false, false,
	  false, false, false },
	/* Where Lock is a PyMutex, sem_init/sem_destroy run for every parked waiter instead. */
	{ C, MOD_LIBC, "sem_init", PROG_LOCK_INIT_ENTER, PROG_NONE, 8, 13, false, true, false, true, false },
	{ C, MOD_LIBC, "sem_destroy", PROG_LOCK_FREE_ENTER, PROG_NONE, 8, 13, false, true, false, true, false },
	/* Free-threaded: a critical section's slow path runs only when the object's ob_mutex was
	 * taken; stop_the_world/start_the_world (local symbols: optional) only at each pause. */
	{ C, MOD_INTERP, "_PyCriticalSection_BeginSlow", PROG_SECTION_WAIT_ENTER, PROG_SECTION_WAIT_EXIT,
	  13, 99, false, false, false, false, true },
	{ C, MOD_INTERP, "_PyCriticalSection2_BeginSlow", PROG_SECTION2_WAIT_ENTER,
	  PROG_SECTION_WAIT_EXIT, 13, 99, false, false, false, false, true },
	{ C, MOD_INTERP, "stop_the_world", PROG_STW_STOP_ENTER, PROG_NONE, 13, 99, true, false, false,
	  false, true },
	{ C, MOD_INTERP, "start_the_world", PROG_NONE, PROG_STW_START_EXIT, 13, 99, true, false, false,
	  false, true },
#undef C
	/* glibc has two versions of each; CPython binds to the default, @@GLIBC_2.3.2 (the plain
	 * name resolves to it, and also works for musl). take_gil() waits on the GIL's condition
	 * with timeouts; drop_gil() waits on switch_cond, when forced to hand the GIL over, until
	 * the other thread took it: both are time a thread loses to the GIL. */
	{ LP_MODE_GIL, MOD_LIBC, "pthread_cond_timedwait", PROG_GIL_WAIT_ENTER, PROG_GIL_WAIT_EXIT, 8,
	  99, false, false, false, false, false },
	{ LP_MODE_GIL, MOD_LIBC, "pthread_cond_wait", PROG_GIL_WAIT_ENTER, PROG_GIL_WAIT_EXIT, 8, 99,
	  false, false, false, false, false },
};
// clang-format on

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
	case PROG_SEM_POST_WAKE:
		return skel->progs.sem_post_wake;
	case PROG_LOCK_INIT_ENTER:
		return skel->progs.lock_init_enter;
	case PROG_LOCK_FREE_ENTER:
		return skel->progs.lock_free_enter;
	case PROG_GIL_WAIT_ENTER:
		return skel->progs.gil_cond_wait_enter;
	case PROG_GIL_WAIT_EXIT:
		return skel->progs.gil_cond_wait_exit;
	case PROG_SECTION_WAIT_ENTER:
		return skel->progs.section_wait_enter;
	case PROG_SECTION2_WAIT_ENTER:
		return skel->progs.section2_wait_enter;
	case PROG_SECTION_WAIT_EXIT:
		return skel->progs.section_wait_exit;
	case PROG_STW_STOP_ENTER:
		return skel->progs.stw_stop_enter;
	case PROG_STW_START_EXIT:
		return skel->progs.stw_start_exit;
	}
	return NULL;
}

/* The functions of one module that one program probes, entry or return: one attach call, so one
 * uprobe_multi link where the kernel has them. */
struct probe_group {
	enum probe_prog prog;
	bool retprobe;
	enum probe_module module;
	int n;
	uint64_t offsets[4];
	const char *symbols[4];
};

#define MAX_GROUPS 24

struct attach_plan {
	struct probe_group groups[MAX_GROUPS];
	int ngroups;
};

static int plan_add(struct attach_plan *plan, enum probe_prog prog, bool retprobe,
		    enum probe_module module, uint64_t offset, const char *symbol)
{
	struct probe_group *g = NULL;

	for (int i = 0; i < plan->ngroups && !g; i++)
		if (plan->groups[i].prog == prog && plan->groups[i].retprobe == retprobe &&
		    plan->groups[i].module == module)
			g = &plan->groups[i];
	if (!g) {
		if (plan->ngroups >= MAX_GROUPS)
			return -E2BIG;
		g = &plan->groups[plan->ngroups++];
		*g = (struct probe_group){ .prog = prog, .retprobe = retprobe, .module = module };
	}
	if (g->n >= (int)(sizeof(g->offsets) / sizeof(g->offsets[0])))
		return -E2BIG;
	g->offsets[g->n] = offset;
	g->symbols[g->n++] = symbol;
	return 0;
}

#define MAX_FUNCTION_SCAN 1024

/* Bytes past the function's entry where its probe goes (probe_site.h): for an entry probe, where
 * it is cheaper and sees the same (0: the entry); for a wake-block probe, the block (0: not
 * recognized). */
static size_t probe_offset(const struct elf_file *ef, const struct elf_symbol *sym, bool wake)
{
	uint8_t code[MAX_FUNCTION_SCAN];
	size_t len = (size_t)sym->size;

	/* The whole function or nothing: a branch back beyond what was read would go unseen. */
	if (!len || len > sizeof(code) || elf_file__read_vaddr(ef, sym->value, code, len))
		return 0;
	return wake ? probe_site__wake_offset(code, len) : probe_site__entry_offset(code, len);
}

/* Finds one function of the plan and adds its entry and return programs; 0 or an LP_EXIT_* code. */
static int plan_spec(struct attach_plan *plan, int *nfunctions, const struct lp_target *t,
		     const struct probe_spec *spec, const struct lp_module *mod,
		     const struct elf_file *ef)
{
	struct elf_symbol sym;
	uint64_t offset;
	size_t site = 0;
	int err;

	err = elf_file__find_symbol(ef, spec->symbol, &sym);
	if (!err)
		site = probe_offset(ef, &sym, spec->at_wake_block);
	if (!err && spec->at_wake_block && !site) {
		lp_warn("pid %d: %s's waking path is not one lockprof recognizes in %s: waits on "
			"semaphore locks are measured, their holders not",
			t->pid, spec->symbol, mod->path);
		return 0;
	}
	if (!err)
		err = elf_file__vaddr_to_offset(ef, sym.value + site, &offset);
	if (err) {
		if (spec->optional)
			return 0;
		lp_err("pid %d: %s has no usable %s symbol", t->pid, mod->path, spec->symbol);
		return LP_EXIT_UNSUPPORTED;
	}
	if (spec->enter != PROG_NONE)
		err = plan_add(plan, spec->enter, false, spec->module, offset, spec->symbol);
	if (!err && spec->exit != PROG_NONE)
		err = plan_add(plan, spec->exit, true, spec->module, offset, spec->symbol);
	if (err) {
		lp_err("internal error: the probe plan outgrew its table at %s", spec->symbol);
		return LP_EXIT_ERROR;
	}
	(*nfunctions)++;
	lp_info("probing %s:%s at file offset 0x%llx", mod->path, spec->symbol,
		(unsigned long long)offset);
	return 0;
}

/* Remembers g's offsets for probes__sweep (each once). */
static void note_offsets(struct lp_probes *pr, const struct probe_group *g)
{
	uint64_t *offsets = pr->offsets[g->module];
	int *n = &pr->noffsets[g->module];

	for (int i = 0; i < g->n; i++) {
		bool seen = false;

		for (int j = 0; j < *n; j++)
			seen |= offsets[j] == g->offsets[i];
		if (!seen && *n < LP_PROBE_OFFSETS_MAX)
			offsets[(*n)++] = g->offsets[i];
	}
}

static int attach_group(struct lp_probes *pr, struct lockprof_bpf *skel, const struct lp_target *t,
			const struct lp_module *mod, const struct probe_group *g)
{
	char symbols[256] = "";
	int err;

	err = uprobes__attach(&pr->links, program(skel, g->prog), g->retprobe, t->pid,
			      mod->open_path, g->offsets, g->n);
	if (!err) {
		note_offsets(pr, g);
		pr->any_prog = program(skel, g->prog);
		return 0;
	}
	for (int i = 0; i < g->n; i++)
		snprintf(symbols + strlen(symbols), sizeof(symbols) - strlen(symbols), "%s%s",
			 i ? "," : "", g->symbols[i]);
	lp_err("failed to attach %s to %s:%s: %s", g->retprobe ? "uretprobe" : "uprobe", mod->path,
	       symbols, strerror(-err));
	return lp_exit_for_errno(err, LP_EXIT_KERNEL);
}

int probes__attach(struct lp_probes *pr, struct lockprof_bpf *skel, const struct lp_target *t,
		   const struct lp_pyversion *v, unsigned int modes, bool creation_sites)
{
	const struct lp_module *mods[] = { [MOD_LIBC] = &t->libc, [MOD_INTERP] = &t->interp };
	struct elf_file *elfs[2] = {};
	struct attach_plan plan = { .ngroups = 0 };
	int err = 0;

	memset(pr, 0, sizeof(*pr));
	for (size_t i = 0; i < sizeof(contention_plan) / sizeof(contention_plan[0]) && !err; i++) {
		const struct probe_spec *spec = &contention_plan[i];
		const struct lp_module *mod = mods[spec->module];

		if (!(spec->modes & modes) || v->minor < spec->min_minor ||
		    v->minor > spec->max_minor ||
		    (spec->sem_locks_only && !pyversion__lock_is_semaphore(v)) ||
		    (spec->creation && !creation_sites) ||
		    (spec->free_threaded && !v->free_threaded))
			continue;
		if (!elfs[spec->module]) {
			err = target__open_module_elf(t, mod, &elfs[spec->module]);
			if (err) {
				lp_err("pid %d: cannot read the ELF symbols of %s: %s", t->pid,
				       mod->path, strerror(-err));
				err = lp_exit_for_errno(err, LP_EXIT_ERROR);
				break;
			}
		}
		err = plan_spec(&plan, &pr->nfunctions, t, spec, mod, elfs[spec->module]);
	}
	elf_file__close(elfs[MOD_LIBC]);
	elf_file__close(elfs[MOD_INTERP]);
	for (int i = 0; i < plan.ngroups && !err; i++)
		err = attach_group(pr, skel, t, mods[plan.groups[i].module], &plan.groups[i]);
	if (err)
		probes__detach(pr);
	return err;
}

int probes__sweep(const struct lp_probes *pr, const struct lp_target *t)
{
	const struct lp_module *mods[] = { [MOD_LIBC] = &t->libc, [MOD_INTERP] = &t->interp };
	struct lp_links sweep = {};
	int err = 0;

	_Static_assert(MOD_INTERP < LP_PROBE_MODULES, "probe modules");
	for (int m = 0; m < LP_PROBE_MODULES && pr->any_prog && !err; m++)
		if (pr->noffsets[m])
			err = uprobes__attach(&sweep, pr->any_prog, false, getpid(),
					      mods[m]->open_path, pr->offsets[m], pr->noffsets[m]);
	links__destroy_all(&sweep);
	if (err) {
		lp_warn("pid %d: cannot clear the probes its children inherited: %s", t->pid,
			strerror(-err));
		return lp_exit_for_errno(err, LP_EXIT_KERNEL);
	}
	return 0;
}

void probes__detach(struct lp_probes *pr)
{
	links__destroy_all(&pr->links);
}
