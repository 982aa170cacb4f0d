/* SPDX-License-Identifier: GPL-2.0 */
/* The target process: which file holds its interpreter, which holds libc, where they are mapped,
 * and how to open files as the target sees them (its mount namespace), without trusting it. */
#ifndef LOCKPROF_SRC_TARGET_H
#define LOCKPROF_SRC_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct lp_module {
	char path[PATH_MAX];	  /* as the target sees it (/proc/PID/maps) */
	char open_path[PATH_MAX]; /* /proc/PID/map_files/START-END: the mapped file itself */
	uint64_t start;		  /* start of the mapping with file offset 0 */
	uint64_t text_start;	  /* its executable mapping (0 when not seen) */
	uint64_t text_end;
};

struct lp_target {
	pid_t pid;
	struct lp_module interp; /* libpython or the python executable */
	bool interp_in_exe;
	struct lp_module libc;
	bool has_libc;
	char libpython_name[64]; /* basename of a mapped libpython, "" when static */
	char exe_name[64];	 /* basename of /proc/PID/exe */
};

/* Checks that pid exists. Returns 0 or an LP_EXIT_* code after printing why. */
int target__check_alive(pid_t pid);

/* Finds the mapped modules of pid. `has_symbol` tells whether an ELF file (opened fd) defines
 * a symbol, used to tell a python executable with the interpreter linked in from any other
 * program. Returns 0 or an LP_EXIT_* code after printing why. */
int target__discover(pid_t pid, struct lp_target *t);

/* Opens a file by the path the target sees, resolved inside the target's root so that symlinks
 * in the target cannot point lockprof at host files. Returns an fd or -errno. */
int target__open_file(const struct lp_target *t, const char *path);

/* Opens a mapped module (the exact file mapped, even if replaced since). Returns an fd or -errno. */
int target__open_module(const struct lp_target *t, const struct lp_module *m);

/* True while the process exists and is not a zombie. */
bool target__alive(pid_t pid);

#endif
