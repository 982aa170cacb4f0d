// SPDX-License-Identifier: GPL-2.0
/* The kernel's view of the target's threads for a dump, from /proc/PID/task/TID: which task a
 * Python thread is (its id inside the target's PID namespace, NSpid), its name, its scheduler
 * state and the system call it sleeps in (syscall: number and arguments, "running" when it is
 * on a CPU or in user space). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"

struct task_ids {
	pid_t host, ns;
};

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

/* The last id of the NSpid line: the task's id in the innermost PID namespace. */
static pid_t ns_tid_of(pid_t pid, pid_t host)
{
	char path[96], buf[2048], *p;
	pid_t last = host;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, host);
	if (read_file(path, buf, sizeof(buf)) || !(p = strstr(buf, "\nNSpid:")))
		return host;
	p += 7;
	for (;;) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		last = (pid_t)v;
		p = end;
		if (*p == '\n')
			break;
	}
	return last;
}

static void read_task(pid_t pid, struct dump_thread *t)
{
	char path[96], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, t->tid);
	if (!read_file(path, t->os_name, sizeof(t->os_name)))
		t->os_name[strcspn(t->os_name, "\n")] = '\0';
	t->task.syscall = -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, t->tid);
	if (read_file(path, buf, sizeof(buf)) || !(p = strrchr(buf, ')')) || p[1] != ' ') {
		t->gone = true;
		return;
	}
	t->task.state = p[2];
	if (t->task.state == 'Z' || t->task.state == 'X') {
		t->gone = true;
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, t->tid);
	if (read_file(path, buf, sizeof(buf)))
		return;
	if (!strncmp(buf, "running", 7)) {
		t->task.running = true;
		return;
	}
	/* "NR arg0 ... arg5 sp pc"; -1 when not in a system call (a fault, a stop). */
	p = buf;
	t->task.syscall = strtol(p, &p, 10);
	for (int i = 0; i < 6; i++)
		t->task.arg[i] = strtoull(p, &p, 16);
}

int dump__read_tasks(struct dump *d)
{
	struct task_ids *ids = NULL;
	size_t n = 0, cap = 0;
	char path[64];
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", d->pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		pid_t host = (pid_t)atoi(e->d_name);

		if (host <= 0)
			continue;
		if (n == cap) {
			struct task_ids *grown;

			cap = cap ? 2 * cap : 64;
			grown = realloc(ids, cap * sizeof(*ids));
			if (!grown) {
				free(ids);
				closedir(dir);
				return -ENOMEM;
			}
			ids = grown;
		}
		ids[n].host = host;
		ids[n].ns = ns_tid_of(d->pid, host);
		n++;
	}
	closedir(dir);
	for (int i = 0; i < d->nthreads; i++) {
		struct dump_thread *t = &d->threads[i];

		for (size_t j = 0; j < n && !t->tid; j++)
			if (ids[j].ns == t->ns_tid)
				t->tid = ids[j].host;
		if (!t->tid)
			t->gone = true; /* its thread state outlived the task, or it just exited */
		else
			read_task(d->pid, t);
	}
	free(ids);
	return 0;
}
