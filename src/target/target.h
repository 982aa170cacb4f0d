/* SPDX-License-Identifier: GPL-2.0 */
/* The target process: which file holds its interpreter, which holds libc, where they are mapped,
 * and how to open files as the target sees them (its mount namespace), without trusting it. */
#ifndef LOCKPROF_SRC_TARGET_H
#define LOCKPROF_SRC_TARGET_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/pidns.h"

struct elf_file;

struct lp_module {
	char path[PATH_MAX];	  /* as /proc/PID/maps names it */
	char open_path[PATH_MAX]; /* /proc/self/fd/N of fd: what uprobes attach through */
	uint64_t start;		  /* the mapping with file offset 0: start and end */
	uint64_t end;
	uint64_t map_dev; /* device (makedev) and inode of the mapped file, from maps */
	uint64_t map_ino;
	int fd;		     /* the file itself, held open while lockprof runs; -1 if not */
	uint64_t text_start; /* its executable mapping (0 when not seen) */
	uint64_t text_end;
};

struct lp_target {
	pid_t pid;		 /* as lockprof's /proc numbers it */
	struct lp_pidns ns;	 /* how BPF recognizes its tasks */
	struct lp_module interp; /* libpython or the python executable */
	bool interp_in_exe;
	struct lp_module libc;
	bool has_libc;
	char libpython_name[64]; /* basename of a mapped libpython, "" when static */
	char exe_name[64];	 /* basename of /proc/PID/exe */
	char root[PATH_MAX];	 /* readlink(/proc/PID/root): the target's root as maps names it */
	int root_fd;		 /* its root and working directory, held open (O_PATH) from */
	int cwd_fd;		 /* discovery on: they outlive the target and its pid; -1 if not */
};

/* Checks that pid exists. Returns 0 or an LP_EXIT_* code after printing why. */
int target__check_alive(pid_t pid);

/* Finds the mapped interpreter and libc of pid and opens them: the fds stay open for lockprof's
 * lifetime, and uprobes attach through them (open_path), so the probes land on the very files
 * whose symbols were read. Returns 0 or an LP_EXIT_* code after printing why. */
int target__discover(pid_t pid, struct lp_target *t);

/* Opens a file by the path the target sees, resolved inside the target's root (a relative one
 * beneath its working directory) so that symlinks in the target cannot point lockprof at host
 * files. Works after the target exited: the root is the one held since discovery, never that of
 * a process that got the pid since. Returns an fd or -errno. */
int target__open_file(const struct lp_target *t, const char *path);

/* Opens a mapped module: the exact file the target maps (even if replaced since), else the file
 * at its path inside the target's root, as target__open_file does. Returns an fd or -errno. */
int target__open_module(const struct lp_target *t, const struct lp_module *m);

/* Opens a mapped module (as target__open_module does) and its ELF image: *ef owns the fd.
 * Returns 0, or -errno (-ENOEXEC: not a readable ELF file) with nothing left open. */
int target__open_module_elf(const struct lp_target *t, const struct lp_module *m,
			    struct elf_file **ef);

/* path (a /proc/PID/maps name) inside the target's root, given root as readlink(/proc/PID/root)
 * names it: a chrooted target's maps names start with its root. Returns a pointer into path. */
const char *target__path_in_root(const char *root, const char *path);

/* Closes the files discovery opened (safe to call again, and on a target never discovered whose
 * fds are -1). */
void target__close(struct lp_target *t);

/* True while the process exists and is not a zombie. */
bool target__alive(pid_t pid);

#endif
