// SPDX-License-Identifier: GPL-2.0
/* `lockprof dump -p PID`: a one-shot snapshot of a running or stuck process: every Python
 * thread's state and stack, the lock each blocked thread waits for and who holds it, and the
 * deadlocks. It reads the target's memory (process_vm_readv) and /proc only: no BPF program and
 * no probe, so nothing is ever left attached, and the target is not stopped. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dump/dump.h"
#include "dump/layout.h"
#include "dump/resolve.h"
#include "faces/faces.h"
#include "report/outfile.h"
#include "symbolize/source.h"
#include "target/interp.h"
#include "target/pyobj.h"
#include "util/clock.h"
#include "util/exitcode.h"
#include "util/log.h"

#define GIL_STATE_SIZE 208    /* struct _gil_runtime_state, default builds */
#define GIL_STATE_SIZE_FT 216 /* free-threaded: an `enabled` field first (sizeof, 3.13t, 3.14t) */

/* A zombie has no memory left to read: say so rather than "not a CPython process". */
static int check_target(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f) {
		lp_err("pid %d: no such process", pid);
		return LP_EXIT_NO_PROCESS;
	}
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X')) {
		lp_err("pid %d: the process has exited (a zombie its parent has not reaped): "
		       "nothing to dump",
		       pid);
		return LP_EXIT_NO_PROCESS;
	}
	return 0;
}

/* Where the GIL's state lies: a futex wait inside it is a wait for the GIL. */
static void gil_range(const struct lp_interp *info, pid_t pid, uint64_t *lo, uint64_t *hi)
{
	uint64_t base = info->runtime_addr;

	*lo = *hi = 0;
	if (info->offsets.gil_in_interp &&
	    remote_read(pid, info->runtime_addr + info->offsets.walk.runtime_interp_head, &base,
			sizeof(base)))
		return;
	*lo = base + (uint64_t)info->offsets.gil_state;
	*hi = *lo + (info->offsets.free_threaded ? GIL_STATE_SIZE_FT : GIL_STATE_SIZE);
}

static int write_dump(const struct dump *d, const struct lp_opts *opts)
{
	const struct lp_output *out = &opts->outputs[0];
	FILE *f = stdout;

	if (out->path) {
		int fd = outfile__open(out->path);

		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			lp_err("cannot write %s: %s", out->path, strerror(fd < 0 ? -fd : errno));
			if (fd >= 0)
				close(fd);
			return LP_EXIT_OUTPUT;
		}
	}
	if (out->format == LP_FORMAT_JSON)
		dump__render_json(d, f);
	else
		dump__render_text(d, f);
	if (f != stdout ? fclose(f) : fflush(f)) {
		lp_err("cannot write the dump to %s: %s", out->path ? out->path : "stdout",
		       strerror(errno));
		return LP_EXIT_OUTPUT;
	}
	return LP_EXIT_OK;
}

int face_dump__run(const struct lp_opts *opts)
{
	uint64_t start = clock__monotonic_ns(), gil_lo, gil_hi;
	struct lp_symbolizer *sym = NULL;
	struct lp_sources *src = NULL;
	struct dump d = { .pid = opts->pid };
	struct lp_interp info;
	struct lp_target t;
	int err;

	for (int i = 0; i < opts->noutputs; i++)
		if (opts->outputs[i].format != LP_FORMAT_TEXT &&
		    opts->outputs[i].format != LP_FORMAT_JSON) {
			lp_err("dump writes text or json (-f text, -f json)");
			return LP_EXIT_USAGE;
		}
	if ((err = check_target(opts->pid)) || (err = target__discover(opts->pid, &t)))
		return err;
	if ((err = interp__inspect(&t, &info)) ||
	    (err = interp__check_modes(&t, &info, LP_MODE_CONTENTION)))
		return err == LP_EXIT_NOTHING_TO_DO ? LP_EXIT_UNSUPPORTED : err;
	/* Every build with an offset table has a dump layout (make check-unit checks it); a build
	 * without one is refused rather than read with another build's layout. */
	if (!dump_layout__for(info.version.minor, info.offsets.free_threaded)) {
		lp_err("pid %d: CPython %s: lockprof dump has no layout for this build", opts->pid,
		       info.version_str);
		return LP_EXIT_UNSUPPORTED;
	}
	snprintf(d.python, sizeof(d.python), "%s", info.version_str);
	sym = symbolizer__new(opts->pid, &info.offsets);
	src = sources__new(&t);
	if (!sym || !src) {
		lp_err("dump: out of memory");
		err = LP_EXIT_ERROR;
		goto out;
	}
	/* The list of threads is read until consistent (pywalk.c); a thread that exits after that
	 * is left out and counted. */
	err = dump__read_threads(&d, &info, sym);
	if (!err)
		err = dump__read_tasks(&d);
	if (err) {
		if (!target__alive(opts->pid) || err == -ESRCH) {
			lp_err("pid %d: the process exited during the dump", opts->pid);
			err = LP_EXIT_NO_PROCESS;
		} else if (err == -EAGAIN) {
			lp_err("pid %d: its list of threads changed under every read (threads "
			       "starting and exiting faster than it can be read): try again",
			       opts->pid);
			err = LP_EXIT_ERROR;
		} else {
			lp_err("pid %d: cannot read its threads: %s", opts->pid, strerror(-err));
			err = lp_exit_for_errno(err, LP_EXIT_ERROR);
		}
		goto out;
	}
	if (!d.nthreads) {
		lp_err("pid %d: CPython %s has no Python thread state (not initialized yet, or "
		       "finalizing)",
		       opts->pid, info.version_str);
		err = LP_EXIT_NOT_PYTHON;
		goto out;
	}
	gil_range(&info, opts->pid, &gil_lo, &gil_hi);
	if ((err = dump__resolve(&d, src, gil_lo, gil_hi))) {
		lp_err("dump: %s", strerror(-err));
		err = LP_EXIT_ERROR;
		goto out;
	}
	for (int i = 0; i < d.nthreads; i++)
		d.gone += d.threads[i].gone;
	if (d.gone)
		lp_warn("pid %d: %d thread%s exited during the dump: left out", opts->pid, d.gone,
			d.gone == 1 ? "" : "s");
	d.elapsed_ms = (double)(clock__monotonic_ns() - start) / 1e6;
	err = write_dump(&d, opts);
out:
	dump__free(&d);
	sources__free(src);
	symbolizer__free(sym);
	return err;
}
