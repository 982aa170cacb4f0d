// SPDX-License-Identifier: GPL-2.0
/* Target discovery from /proc/PID: the mapped interpreter and libc, and safe opens of the
 * target's files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "target/elf_syms.h"
#include "target/target.h"
#include "util/log.h"

int target__check_alive(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	if (access(path, F_OK) == 0 && target__alive(pid))
		return 0;
	lp_err("pid %d: no such process", pid);
	return LP_EXIT_NO_PROCESS;
}

bool target__alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool alive = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	/* The state letter follows the last ')' (the command name may contain anything). */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
		alive = p[2] != 'Z' && p[2] != 'X';
	fclose(f);
	return alive;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Bounded copy; file names longer than the buffer are cut (only used for version hints). */
static void copy_name(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* libpython3.11.so.1.0, libpython3.13t.so, libpython3.7m.so.1.0, libpython2.7.so.1.0 */
static bool is_libpython(const char *name)
{
	return !strncmp(name, "libpython", 9) && strstr(name, ".so");
}

static bool is_libc(const char *name)
{
	return !strcmp(name, "libc.so.6") || !strncmp(name, "libc-2.", 7) ||
	       !strncmp(name, "ld-musl-", 8);
}

static void set_module(struct lp_module *m, uint64_t start, uint64_t end, uint64_t dev,
		       uint64_t ino, const char *path)
{
	snprintf(m->path, sizeof(m->path), "%s", path);
	m->open_path[0] = '\0';
	m->start = start;
	m->end = end;
	m->map_dev = dev;
	m->map_ino = ino;
	m->fd = -1;
}

/*
 * maps names a file by d_path() from lockprof's root, the way readlink(/proc/PID/root) names the
 * target's root. When the target is chrooted, or in a mount namespace lockprof is not in, both
 * carry the same prefix, and what follows it is the file's path inside the target's root.
 */
const char *target__path_in_root(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (n > 1 && !strncmp(path, root, n) && path[n] == '/')
		return path + n;
	return path;
}

/* The file a module maps: /proc/PID/map_files gives that very file (root: CAP_SYS_ADMIN or
 * CAP_CHECKPOINT_RESTORE); else its name is resolved inside the target's root, and the inode
 * must be the mapped one, or a file replaced since (or a planted symlink) would be read. */
static int open_mapped(const struct lp_target *t, const struct lp_module *m)
{
	char path[96];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, t->pid, m->start,
		 m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	fd = target__open_file(t, target__path_in_root(t->root, m->path));
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) || (uint64_t)st.st_ino != m->map_ino ||
	    m->map_dev != (uint64_t)st.st_dev) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* Opens a module for good; uprobes attach through /proc/self/fd/N, which names exactly this file
 * whatever the target's mounts and symlinks say, and needs no privilege over the target. */
static int pin_module(struct lp_target *t, struct lp_module *m)
{
	int fd = open_mapped(t, m);

	if (fd == -ESTALE) {
		lp_err("pid %d: %s in its root is not the file it maps (replaced since?): run as "
		       "root (CAP_SYS_ADMIN) to open the mapped file itself",
		       t->pid, m->path);
		return LP_EXIT_ERROR;
	}
	if (lp_errno_is_denied(fd)) {
		lp_err("missing capability CAP_DAC_READ_SEARCH (or CAP_SYS_ADMIN) to open %s of pid "
		       "%d: run as root, e.g. sudo lockprof -p %d",
		       m->path, t->pid, t->pid);
		return LP_EXIT_PRIVILEGE;
	}
	if (fd < 0) {
		lp_err("pid %d: cannot open %s: %s", t->pid, m->path, strerror(-fd));
		return LP_EXIT_ERROR;
	}
	m->fd = fd;
	snprintf(m->open_path, sizeof(m->open_path), "/proc/self/fd/%d", fd);
	return 0;
}

/* True when the ELF file holds the interpreter (a static python, or an embedding program). */
static bool module_has_interpreter(const struct lp_target *t, const struct lp_module *m)
{
	struct elf_symbol sym;
	struct elf_file *ef;
	bool found;

	if (target__open_module_elf(t, m, &ef))
		return false;
	found = !elf_file__find_symbol(ef, "_PyRuntime", &sym) ||
		!elf_file__find_symbol(ef, "Py_GetVersion", &sym);
	elf_file__close(ef);
	return found;
}

/* Maps list a file's segments in address order, the offset-0 one first: an executable mapping of
 * a module already found is its text. */
static void remember_text(struct lp_target *t, struct lp_module *exe_mod, uint64_t start,
			  uint64_t end, const char *file)
{
	struct lp_module *mods[] = { &t->interp, exe_mod };

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		if (mods[i]->path[0] && !strcmp(mods[i]->path, file) && !mods[i]->text_start) {
			mods[i]->text_start = start;
			mods[i]->text_end = end;
		}
	}
}

int target__discover(pid_t pid, struct lp_target *t)
{
	char path[64], line[PATH_MAX + 256], exe[PATH_MAX];
	struct lp_module exe_mod = {};
	bool have_exe = false;
	ssize_t n;
	FILE *f;
	int err;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->interp.fd = t->libc.fd = exe_mod.fd = -1;
	t->root_fd = t->cwd_fd = -1;
	err = pidns__resolve(pid, &t->ns);
	if (err)
		return err;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0) {
		if (errno == ENOENT && !target__alive(pid)) {
			lp_err("pid %d: no such process", pid);
			return LP_EXIT_NO_PROCESS;
		}
		if (lp_errno_is_denied(errno)) {
			lp_err("pid %d: cannot read /proc/%d/exe: %s (run as root, or with "
			       "CAP_SYS_PTRACE)",
			       pid, pid, strerror(errno));
			return LP_EXIT_PRIVILEGE;
		}
		lp_err("pid %d: cannot read /proc/%d/exe: %s (kernel thread?)", pid, pid,
		       strerror(errno));
		return LP_EXIT_NOT_PYTHON;
	}
	exe[n] = '\0';
	/* A replaced binary reads "path (deleted)"; maps lists it the same way. */
	copy_name(t->exe_name, sizeof(t->exe_name), base_name(exe));
	snprintf(path, sizeof(path), "/proc/%d/root", pid);
	n = readlink(path, t->root, sizeof(t->root) - 1);
	t->root[n > 0 ? n : 0] = '\0';
	t->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/cwd", pid);
	t->cwd_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		lp_err("pid %d: cannot open %s: %s", pid, path, strerror(errno));
		return lp_exit_for_errno(errno, LP_EXIT_NO_PROCESS);
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, offset, ino;
		unsigned int major, minor;
		char perms[8], *file;
		int consumed = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			   &start, &end, perms, &offset, &major, &minor, &ino, &consumed) < 7 ||
		    !consumed)
			continue;
		file = line + consumed;
		file[strcspn(file, "\n")] = '\0';
		if (file[0] != '/')
			continue;
		if (offset == 0) {
			if (is_libpython(base_name(file)) && !t->libpython_name[0]) {
				copy_name(t->libpython_name, sizeof(t->libpython_name),
					  base_name(file));
				set_module(&t->interp, start, end, makedev(major, minor), ino,
					   file);
			} else if (is_libc(base_name(file)) && !t->has_libc) {
				set_module(&t->libc, start, end, makedev(major, minor), ino, file);
				t->has_libc = true;
			} else if (!strcmp(file, exe) && !have_exe) {
				set_module(&exe_mod, start, end, makedev(major, minor), ino, file);
				have_exe = true;
			}
		}
		if (perms[2] == 'x')
			remember_text(t, &exe_mod, start, end, file);
	}
	if (ferror(f) && !t->has_libc) {
		fclose(f);
		lp_err("pid %d: cannot read %s", pid, path);
		return LP_EXIT_ERROR;
	}
	fclose(f);

	if (!t->libpython_name[0]) {
		if (!have_exe || !module_has_interpreter(t, &exe_mod)) {
			lp_err("pid %d: not a CPython process (no libpython or python binary mapped; "
			       "executable %s)",
			       pid, exe);
			return LP_EXIT_NOT_PYTHON;
		}
		t->interp = exe_mod;
		t->interp_in_exe = true;
	}
	if (!t->has_libc) {
		lp_err("pid %d: no glibc or musl libc mapped: lockprof needs the libc semaphore "
		       "functions",
		       pid);
		return LP_EXIT_NOT_PYTHON;
	}
	err = pin_module(t, &t->interp);
	return err ? err : pin_module(t, &t->libc);
}

int target__open_module(const struct lp_target *t, const struct lp_module *m)
{
	int fd;

	if (m->fd < 0)
		return open_mapped(t, m);
	/* A new open file description: the caller owns it and its offset. */
	fd = open(m->open_path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int target__open_module_elf(const struct lp_target *t, const struct lp_module *m,
			    struct elf_file **ef)
{
	int fd = target__open_module(t, m);

	if (fd < 0)
		return fd;
	*ef = elf_file__open_fd(fd);
	if (!*ef) {
		close(fd);
		return -ENOEXEC;
	}
	return 0;
}

int target__open_file(const struct lp_target *t, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int dirfd = path[0] == '/' ? t->root_fd : t->cwd_fd, fd;

	if (dirfd < 0)
		return -ENOENT;
	/* A relative co_filename is relative to the target's working directory (3.8 leaves
	 * __main__'s file relative); it is then resolved beneath that directory. */
	if (path[0] != '/')
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

void target__close(struct lp_target *t)
{
	int *fds[] = { &t->interp.fd, &t->libc.fd, &t->root_fd, &t->cwd_fd };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
