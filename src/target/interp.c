// SPDX-License-Identifier: GPL-2.0
/* Interpreter inspection (see interp.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/opts.h"
#include "target/elf_syms.h"
#include "target/interp.h"
#include "target/pyobj.h"
#include "util/log.h"

/* 3.13+: the interpreter publishes its own layout at the start of _PyRuntime; prefer it to our
 * table (a patch release or a distribution build may differ). It also says whether the build is
 * free-threaded, which the file name may not: then the other build's table is the base. */
static int read_debug_offsets(const struct lp_target *t, struct lp_interp *info)
{
	uint8_t buf[LP_DEBUG_OFFSETS_MAX];
	bool free_threaded = false;
	const struct lp_pyoffsets *other;
	int err = remote_read(t->pid, info->runtime_addr, buf, sizeof(buf));

	if (err) {
		lp_err("pid %d: cannot read _PyRuntime at 0x%llx: %s", t->pid,
		       (unsigned long long)info->runtime_addr, strerror(-err));
		return lp_exit_for_errno(err, LP_EXIT_ERROR);
	}
	if (pyoffsets__apply_debug_offsets(&info->offsets, buf, sizeof(buf), &free_threaded)) {
		lp_warn("pid %d: no valid _Py_DebugOffsets in _PyRuntime: using lockprof's table for "
			"3.%d%s",
			t->pid, info->version.minor, info->version.free_threaded ? "t" : "");
		return 0;
	}
	if (free_threaded == info->version.free_threaded)
		return 0;
	other = pyoffsets__for_build(info->version.major, info->version.minor, free_threaded);
	info->version.free_threaded = free_threaded;
	pyversion__format(&info->version, info->version_str, sizeof(info->version_str));
	if (!other) {
		lp_err("pid %d: CPython %s is not supported (lockprof supports CPython 3.%d to 3.%d, "
		       "and 3.13t and 3.14t)",
		       t->pid, info->version_str, pyoffsets__min_minor(), pyoffsets__max_minor());
		return LP_EXIT_UNSUPPORTED;
	}
	info->offsets = *other;
	if (pyoffsets__apply_debug_offsets(&info->offsets, buf, sizeof(buf), &free_threaded))
		lp_warn("pid %d: _Py_DebugOffsets of CPython %s do not fit its layout: using "
			"lockprof's table",
			t->pid, info->version_str);
	return 0;
}

/* Before 3.11 the patch level is only in memory: Py_GetVersion()'s buffer, filled when the sys
 * module is set up ("version.0" in .symtab, when the file has one). */
static void read_micro_version(const struct lp_target *t, const struct elf_file *ef,
			       struct lp_pyversion *v)
{
	struct elf_symbol sym;
	char buf[32] = "";

	if (v->micro >= 0 || elf_file__find_symbol(ef, "version.0", &sym))
		return;
	if (!remote_read(t->pid, t->interp.start - elf_file__first_load_vaddr(ef) + sym.value, buf,
			 sizeof(buf) - 1))
		pyversion__micro_from_string(buf, v);
}

int interp__gil_enabled(const struct lp_target *t, const struct lp_interp *info)
{
	uint64_t interp;
	int32_t enabled;

	if (!info->version.free_threaded)
		return 1;
	if (info->offsets.gil_enabled < 0 ||
	    remote_read(t->pid,
			info->runtime_addr + (uint64_t)info->offsets.walk.runtime_interp_head,
			&interp, sizeof(interp)) ||
	    !interp ||
	    remote_read(t->pid,
			interp + (uint64_t)info->offsets.gil_state +
				(uint64_t)info->offsets.gil_enabled,
			&enabled, sizeof(enabled)))
		return -1;
	return enabled != 0;
}

int interp__inspect(const struct lp_target *t, struct lp_interp *info)
{
	const char *name = t->interp_in_exe ? t->exe_name : t->libpython_name;
	const struct lp_pyoffsets *table;
	struct elf_symbol sym;
	struct elf_file *ef;
	int err;

	memset(info, 0, sizeof(*info));
	err = target__open_module_elf(t, &t->interp, &ef);
	if (err == -ENOEXEC) {
		lp_err("pid %d: %s is not a readable ELF file", t->pid, t->interp.path);
		return LP_EXIT_NOT_PYTHON;
	}
	if (err) {
		lp_err("pid %d: cannot open %s: %s", t->pid, t->interp.path, strerror(-err));
		return lp_exit_for_errno(err, LP_EXIT_ERROR);
	}
	if (pyversion__detect(ef, name, &info->version)) {
		lp_err("pid %d: cannot tell the CPython version of %s", t->pid, t->interp.path);
		err = LP_EXIT_NOT_PYTHON;
		goto out;
	}
	read_micro_version(t, ef, &info->version);
	pyversion__format(&info->version, info->version_str, sizeof(info->version_str));
	table = pyoffsets__for_build(info->version.major, info->version.minor,
				     info->version.free_threaded);
	if (!table) {
		lp_err("pid %d: CPython %s is not supported (lockprof supports CPython 3.%d to 3.%d, "
		       "and 3.13t and 3.14t)",
		       t->pid, info->version_str, pyoffsets__min_minor(), pyoffsets__max_minor());
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
	if (table->has_debug_offsets)
		err = read_debug_offsets(t, info);
	if (!err)
		info->gil_enabled = interp__gil_enabled(t, info);
out:
	elf_file__close(ef);
	return err;
}

int interp__check_modes(const struct lp_target *t, const struct lp_interp *info, unsigned int modes)
{
	const struct lp_pyversion *v = &info->version;

	if (v->free_threaded && modes == LP_MODE_GIL && info->gil_enabled == 0) {
		lp_err("pid %d: CPython %s is a free-threaded build running without its GIL "
		       "(PYTHON_GIL=1 turns it on): there is no GIL to wait for",
		       t->pid, info->version_str);
		return LP_EXIT_NOTHING_TO_DO;
	}
	/* A sem_t Lock (3.8-3.13.0) or a PyMutex one whose method table we know (3.13, 3.14). */
	if ((modes & LP_MODE_FULL) && !pyversion__lock_is_semaphore(v) && v->minor != 13 &&
	    v->minor != 14) {
		lp_err("pid %d: -m full does not cover CPython %s: lockprof knows where "
		       "threading.Lock's acquire and release are for 3.8 to 3.14 only",
		       t->pid, info->version_str);
		return LP_EXIT_UNSUPPORTED;
	}
	if ((modes & LP_MODE_GIL) && !t->interp.text_start) {
		lp_err("pid %d: cannot find the executable code of %s", t->pid, t->interp.path);
		return LP_EXIT_NOT_PYTHON;
	}
	return 0;
}
