// SPDX-License-Identifier: GPL-2.0
/* Attaching the contention probes. On 3.8-3.13, threading.Lock and RLock (and the C-internal
 * PyThread locks) are glibc semaphores: CPython tries sem_trywait first and calls sem_wait,
 * sem_clockwait or sem_timedwait only when the lock is taken, so probing those three costs an
 * uncontended acquire nothing. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "elf_syms.h"
#include "log.h"
#include "probes.h"
#include "lockprof/abi.h"

#include "lockprof.skel.h"

struct probe_spec {
	const char *symbol;
	bool optional; /* absent from older libcs (sem_clockwait: glibc 2.30) */
};

static const struct probe_spec sem_wait_plan[] = {
	{ "sem_wait", false },
	{ "sem_timedwait", false },
	{ "sem_clockwait", true },
};

void probes__configure(struct lockprof_bpf *skel, const struct lp_pyversion *v)
{
	(void)v; /* every supported version waits in a glibc sem_t for now */
	skel->rodata->wait_cfg.lock_deref = 0;
	skel->rodata->wait_cfg.check_sem_value = 1;
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

int probes__attach(struct lp_probes *pr, struct lockprof_bpf *skel, const struct lp_target *t,
		   const struct lp_pyversion *v)
{
	const struct lp_module *libc = &t->libc;
	struct elf_file *ef;
	int fd, err = 0;

	(void)v;
	memset(pr, 0, sizeof(*pr));
	fd = target__open_module(t, libc);
	if (fd < 0) {
		lp_err("pid %d: cannot open libc %s: %s", t->pid, libc->path, strerror(-fd));
		return LP_EXIT_ERROR;
	}
	ef = elf_file__open_fd(fd);
	if (!ef) {
		close(fd);
		lp_err("pid %d: cannot read ELF symbols of %s", t->pid, libc->path);
		return LP_EXIT_ERROR;
	}
	for (size_t i = 0; i < sizeof(sem_wait_plan) / sizeof(sem_wait_plan[0]); i++) {
		const struct probe_spec *spec = &sem_wait_plan[i];
		struct elf_symbol sym;
		uint64_t offset;
		char what[PATH_MAX + 64];

		err = elf_file__find_symbol(ef, spec->symbol, &sym);
		if (!err)
			err = elf_file__vaddr_to_offset(ef, sym.value, &offset);
		if (err) {
			if (spec->optional) {
				err = 0;
				continue;
			}
			lp_err("pid %d: %s has no usable %s symbol", t->pid, libc->path,
			       spec->symbol);
			err = LP_EXIT_NOT_PYTHON;
			goto out;
		}
		snprintf(what, sizeof(what), "%s:%s", libc->path, spec->symbol);
		err = attach_one(pr, skel->progs.wait_enter, false, t->pid, libc->open_path, offset,
				 what);
		if (!err)
			err = attach_one(pr, skel->progs.wait_exit, true, t->pid, libc->open_path,
					 offset, what);
		if (err) {
			err = exit_code_for(err);
			goto out;
		}
		pr->nfunctions++;
		lp_info("probing %s at file offset 0x%llx", what, (unsigned long long)offset);
	}
out:
	elf_file__close(ef);
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
