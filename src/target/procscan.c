// SPDX-License-Identifier: GPL-2.0
/* Finding CPython processes in /proc (see procscan.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/procscan.h"

/* The maps of a process are read whole up to this much: an interpreter is mapped early, among the
 * first few hundred lines. */
#define MAPS_READ_MAX (1 << 20)
/* Processes remembered as not CPython, at most; beyond, the table starts again (a cache). */
#define NOT_PYTHON_MAX 8192

struct not_python {
	pid_t pid;
	uint64_t start; /* /proc/PID/stat's start time */
	uint64_t exe_dev, exe_ino;
};

struct lp_procscan {
	char root[PATH_MAX];
	pid_t self;
	struct not_python *known;
	size_t nknown, cap;
};

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

/* The end of a version at s[i] ("3", "3.11", then an ABI flag t or d), or i when there is none. */
static size_t version_end(const char *s, size_t len, size_t i)
{
	size_t start = i;

	if (i >= len || !isdigit((unsigned char)s[i]))
		return start;
	while (i < len && (isdigit((unsigned char)s[i]) ||
			   (s[i] == '.' && i + 1 < len && isdigit((unsigned char)s[i + 1]))))
		i++;
	if (i < len && (s[i] == 't' || s[i] == 'd'))
		i++;
	return i;
}

bool procscan__is_python_path(const char *path, size_t len)
{
	const char *base = path;
	size_t i, blen;

	for (i = 0; i < len; i++)
		if (path[i] == '/')
			base = path + i + 1;
	blen = len - (size_t)(base - path);
	/* A replaced file reads "name (deleted)": still the interpreter the process runs. */
	if (blen > 10 && !memcmp(base + blen - 10, " (deleted)", 10))
		blen -= 10;
	if (starts_with(base, blen, "libpython")) {
		/* libpython3.11.so.1.0, libpython3.13t.so */
		i = version_end(base, blen, 9);
		return i > 9 && starts_with(base + i, blen - i, ".so");
	}
	if (!starts_with(base, blen, "python"))
		return false;
	/* python, python3, python3.11, python3.13t, python3.12d */
	return blen == 6 || version_end(base, blen, 6) == blen;
}

bool procscan__maps_have_python(const char *maps, size_t len)
{
	const char *line = maps, *end = maps + len;

	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl ? nl : end, *path;

		/* The path is the first '/' after the five fixed fields; anonymous mappings have
		 * none, or a bracketed name. */
		path = memchr(line, '/', (size_t)(eol - line));
		if (path && procscan__is_python_path(path, (size_t)(eol - path)))
			return true;
		line = eol + 1;
	}
	return false;
}

uint64_t procscan__stat_start(const char *stat, size_t len, bool *zombie)
{
	const char *p = NULL, *end = stat + len;
	uint64_t start = 0;
	int field = 2;

	*zombie = false;
	/* comm (field 2) may hold spaces and parentheses: the fields resume after the last ')'. */
	for (const char *c = stat; c < end; c++)
		if (*c == ')')
			p = c + 1;
	if (!p)
		return 0;
	while (p < end && field < 22) {
		while (p < end && *p == ' ')
			p++;
		if (p >= end)
			return 0;
		field++;
		if (field == 3)
			*zombie = *p == 'Z' || *p == 'X' || *p == 'x';
		if (field == 22)
			break;
		while (p < end && *p != ' ')
			p++;
	}
	if (field != 22)
		return 0;
	for (; p < end && isdigit((unsigned char)*p); p++) {
		if (start > (UINT64_MAX - 9) / 10)
			return 0;
		start = start * 10 + (uint64_t)(*p - '0');
	}
	return start;
}

struct lp_procscan *procscan__new(const char *proc_root, pid_t self)
{
	struct lp_procscan *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (snprintf(s->root, sizeof(s->root), "%s", proc_root) >= (int)sizeof(s->root)) {
		free(s);
		errno = ENAMETOOLONG;
		return NULL;
	}
	s->self = self;
	return s;
}

void procscan__free(struct lp_procscan *s)
{
	if (!s)
		return;
	free(s->known);
	free(s);
}

/* Reads up to max bytes of ROOT/PID/NAME into a new buffer (*len set). NULL when unreadable. */
static char *read_file(const struct lp_procscan *s, pid_t pid, const char *name, size_t max,
		       size_t *len)
{
	char path[PATH_MAX + 64], *buf = NULL;
	size_t cap = 0;
	int fd;

	*len = 0;
	snprintf(path, sizeof(path), "%s/%d/%s", s->root, (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t n;

		if (*len == cap) {
			char *grown;

			if (cap >= max)
				break;
			cap = cap ? cap * 2 : 4096;
			grown = realloc(buf, cap);
			if (!grown)
				break;
			buf = grown;
		}
		n = read(fd, buf + *len, cap - *len);
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return buf;
}

/* The process's identity for the not-CPython cache: start time and executable. false when gone,
 * a zombie or a kernel thread (no executable). */
static bool identify(const struct lp_procscan *s, pid_t pid, struct not_python *id)
{
	char path[PATH_MAX + 64], *text;
	struct stat st;
	bool zombie;
	size_t len;

	text = read_file(s, pid, "stat", 4096, &len);
	if (!text)
		return false;
	id->pid = pid;
	id->start = procscan__stat_start(text, len, &zombie);
	free(text);
	snprintf(path, sizeof(path), "%s/%d/exe", s->root, (int)pid);
	if (zombie || stat(path, &st))
		return false;
	id->exe_dev = (uint64_t)st.st_dev;
	id->exe_ino = (uint64_t)st.st_ino;
	return true;
}

static bool known_not_python(const struct lp_procscan *s, const struct not_python *id)
{
	for (size_t i = 0; i < s->nknown; i++)
		if (!memcmp(&s->known[i], id, sizeof(*id)))
			return true;
	return false;
}

static void remember_not_python(struct lp_procscan *s, const struct not_python *id)
{
	if (s->nknown == NOT_PYTHON_MAX)
		s->nknown = 0;
	if (s->nknown == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct not_python *grown = realloc(s->known, cap * sizeof(*grown));

		if (!grown)
			return;
		s->known = grown;
		s->cap = cap;
	}
	s->known[s->nknown++] = *id;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int procscan__scan(struct lp_procscan *s, pid_t *pids, size_t max, size_t *n)
{
	DIR *dir = opendir(s->root);
	struct dirent *de;

	*n = 0;
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) && *n < max) {
		struct not_python id = {};
		char *end, *maps;
		size_t len;
		long v;
		bool python;

		errno = 0;
		v = strtol(de->d_name, &end, 10);
		if (errno || *end || end == de->d_name || v <= 0 || v > INT_MAX || v == s->self)
			continue;
		memset(&id, 0, sizeof(id));
		if (!identify(s, (pid_t)v, &id) || known_not_python(s, &id))
			continue;
		maps = read_file(s, (pid_t)v, "maps", MAPS_READ_MAX, &len);
		python = maps && procscan__maps_have_python(maps, len);
		free(maps);
		if (python)
			pids[(*n)++] = (pid_t)v;
		else if (maps)
			remember_not_python(s, &id);
	}
	closedir(dir);
	qsort(pids, *n, sizeof(*pids), cmp_pid);
	return 0;
}

void procscan__comm(const struct lp_procscan *s, pid_t pid, char *buf, size_t size)
{
	size_t len;
	char *comm = read_file(s, pid, "comm", 64, &len);

	if (!size)
		return;
	while (comm && len && (comm[len - 1] == '\n' || len >= size))
		len--;
	if (comm)
		memcpy(buf, comm, len);
	buf[comm ? len : 0] = '\0';
	free(comm);
}
