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
#include <sys/syscall.h>
#include <unistd.h>

#include "elf_syms.h"
#include "log.h"
#include "target.h"

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

static void set_module(struct lp_module *m, pid_t pid, uint64_t start, uint64_t end,
		       const char *path)
{
	snprintf(m->path, sizeof(m->path), "%s", path);
	snprintf(m->open_path, sizeof(m->open_path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
		 pid, start, end);
	m->start = start;
}

/* True when the ELF file holds the interpreter (a static python, or an embedding program). */
static bool module_has_interpreter(const struct lp_target *t, const struct lp_module *m)
{
	struct elf_symbol sym;
	struct elf_file *ef;
	bool found;
	int fd = target__open_module(t, m);

	if (fd < 0)
		return false;
	ef = elf_file__open_fd(fd);
	if (!ef) {
		close(fd);
		return false;
	}
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

	memset(t, 0, sizeof(*t));
	t->pid = pid;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0) {
		if (errno == ENOENT && !target__alive(pid)) {
			lp_err("pid %d: no such process", pid);
			return LP_EXIT_NO_PROCESS;
		}
		if (errno == EACCES || errno == EPERM) {
			lp_err("pid %d: cannot read /proc/%d/exe: %s (run as root, or with "
			       "CAP_SYS_PTRACE)", pid, pid, strerror(errno));
			return LP_EXIT_PRIVILEGE;
		}
		lp_err("pid %d: cannot read /proc/%d/exe: %s (kernel thread?)", pid, pid,
		       strerror(errno));
		return LP_EXIT_NOT_PYTHON;
	}
	exe[n] = '\0';
	/* A replaced binary reads "path (deleted)"; maps lists it the same way. */
	copy_name(t->exe_name, sizeof(t->exe_name), base_name(exe));

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f) {
		lp_err("pid %d: cannot open %s: %s", pid, path, strerror(errno));
		return errno == EACCES ? LP_EXIT_PRIVILEGE : LP_EXIT_NO_PROCESS;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, offset;
		char perms[8], *file;
		int consumed = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", &start, &end,
			   perms, &offset, &consumed) < 4 || !consumed)
			continue;
		file = line + consumed;
		file[strcspn(file, "\n")] = '\0';
		if (file[0] != '/')
			continue;
		if (offset == 0) {
			if (is_libpython(base_name(file)) && !t->libpython_name[0]) {
				copy_name(t->libpython_name, sizeof(t->libpython_name),
					  base_name(file));
				set_module(&t->interp, pid, start, end, file);
			} else if (is_libc(base_name(file)) && !t->has_libc) {
				set_module(&t->libc, pid, start, end, file);
				t->has_libc = true;
			} else if (!strcmp(file, exe) && !have_exe) {
				set_module(&exe_mod, pid, start, end, file);
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
			       "executable %s)", pid, exe);
			return LP_EXIT_NOT_PYTHON;
		}
		t->interp = exe_mod;
		t->interp_in_exe = true;
	}
	if (!t->has_libc) {
		lp_err("pid %d: no glibc or musl libc mapped: lockprof needs the libc semaphore "
		       "functions", pid);
		return LP_EXIT_NOT_PYTHON;
	}
	return 0;
}

int target__open_module(const struct lp_target *t, const struct lp_module *m)
{
	int fd = open(m->open_path, O_RDONLY | O_CLOEXEC);

	/* map_files needs CAP_SYS_ADMIN; fall back to the path inside the target's root. */
	if (fd < 0)
		return target__open_file(t, m->path);
	return fd;
}

int target__open_file(const struct lp_target *t, const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char root[64];
	int rootfd, fd;

	/* A relative co_filename is relative to the target's working directory (3.8 leaves
	 * __main__'s file relative); it is then resolved beneath that directory. */
	snprintf(root, sizeof(root), "/proc/%d/%s", t->pid, path[0] == '/' ? "root" : "cwd");
	if (path[0] != '/')
		how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0)
		fd = -errno;
	close(rootfd);
	return fd;
}
