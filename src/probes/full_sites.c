// SPDX-License-Identifier: GPL-2.0
/* Finding -m full's probe sites (see full_sites.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "probes/full_sites.h"
#include "probes/lockmethods.h"
#include "target/elf_syms.h"
#include "util/log.h"

/* The ELF image of one of t's modules. 0 or an LP_EXIT_* code after printing why. */
static int open_elf(const struct lp_target *t, const struct lp_module *mod, struct elf_file **ef)
{
	int err = target__open_module_elf(t, mod, ef);

	if (err)
		lp_err("pid %d: cannot read the ELF headers of %s: %s", t->pid, mod->path,
		       strerror(-err));
	return err ? lp_exit_for_errno(err, LP_EXIT_ERROR) : 0;
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

/* Converts a function address in the target's interpreter to an offset in its file, after
 * checking that it lies in the interpreter's code (it was read from the target's memory). */
static int interp_offset(const struct lp_target *t, const struct elf_file *ef, uint64_t addr,
			 uint64_t *offset)
{
	if (addr < t->interp.text_start || addr >= t->interp.text_end)
		return -ERANGE;
	return elf_file__vaddr_to_offset(ef,
					 addr - t->interp.start + elf_file__first_load_vaddr(ef),
					 offset);
}

#define MAX_TEXT_SCAN (256u << 20)

/* Callers into which the build inlined the probed methods (see lockmethods.h): their
 * acquisitions and releases go unseen, so the report calls its hold figures lower bounds. */
static uint64_t count_inlined_sites(const struct lp_target *t, const struct elf_file *ef,
				    const struct lp_lock_methods *m)
{
	uint64_t funcs[] = { m->lock_acquire,  m->lock_release,	      m->rlock_acquire,
			     m->rlock_release, m->rlock_release_save, m->rlock_acquire_restore };
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
static int find_lock_methods(struct lp_full_sites *s, const struct lp_target *t,
			     const struct lp_interp *info)
{
	struct lp_lock_methods m;
	struct elf_file *ef;
	const struct lp_pyversion *v = &info->version;
	int err;

	err = lockmethods__find(t->pid, info->runtime_addr, &info->offsets, &m);
	if (err) {
		lp_err("pid %d: -m full: cannot find threading.Lock's acquire and release through "
		       "sys.modules['_thread'] in the target's memory: %s (has it imported "
		       "threading?)",
		       t->pid, strerror(-err));
		return LP_EXIT_UNSUPPORTED;
	}
	err = open_elf(t, &t->interp, &ef);
	if (err)
		return err;
	err = interp_offset(t, ef, m.lock_acquire, &s->lock_acquire_offset);
	if (!err)
		err = interp_offset(t, ef, m.lock_release, &s->lock_release_offset);
	/* 3.13's RLock is still a sem_t lock, which the libc probes see. */
	if (!err && v->minor >= 14 &&
	    (!m.rlock_acquire || !m.rlock_release || !m.rlock_release_save ||
	     !m.rlock_acquire_restore))
		err = -ENOENT;
	if (!err && v->minor >= 14)
		err = interp_offset(t, ef, m.rlock_acquire, &s->rlock_acquire_offset);
	if (!err && v->minor >= 14)
		err = interp_offset(t, ef, m.rlock_release, &s->rlock_release_offset);
	if (!err && v->minor >= 14)
		err = interp_offset(t, ef, m.rlock_release_save, &s->rlock_release_save_offset);
	if (!err && v->minor >= 14)
		err = interp_offset(t, ef, m.rlock_acquire_restore,
				    &s->rlock_acquire_restore_offset);
	if (v->minor < 14) /* not probed */
		m.rlock_acquire = m.rlock_release = m.rlock_release_save = m.rlock_acquire_restore =
			0;
	if (!err)
		s->inlined_sites = count_inlined_sites(t, ef, &m);
	elf_file__close(ef);
	if (err) {
		lp_err("pid %d: -m full: threading.Lock's or RLock's methods are not in %s's code: %s",
		       t->pid, t->interp.path, strerror(-err));
		return LP_EXIT_UNSUPPORTED;
	}
	s->pymutex = true;
	lp_info("-m full: Lock acquire/release at 0x%llx/0x%llx of %s%s; %llu call sites "
		"inline them",
		(unsigned long long)s->lock_acquire_offset,
		(unsigned long long)s->lock_release_offset, t->interp.path,
		s->rlock_acquire_offset ? ", RLock's too" : "",
		(unsigned long long)s->inlined_sites);
	return 0;
}

int full_sites__find(struct lp_full_sites *s, const struct lp_target *t,
		     const struct lp_interp *info)
{
	struct elf_file *ef;
	int err;

	memset(s, 0, sizeof(*s));
	if (!t->has_libc || !t->interp.text_start) {
		lp_err("pid %d: -m full needs the target's libc and the interpreter's code mapping",
		       t->pid);
		return LP_EXIT_UNSUPPORTED;
	}
	err = open_elf(t, &t->libc, &ef);
	if (err)
		return err;
	err = libc_offset(t, ef, "sem_trywait", &s->trywait_offset);
	if (!err)
		err = libc_offset(t, ef, "sem_post", &s->post_offset);
	elf_file__close(ef);
	if (err)
		return LP_EXIT_UNSUPPORTED;
	if (pyversion__lock_is_semaphore(&info->version))
		return 0;
	return find_lock_methods(s, t, info);
}
