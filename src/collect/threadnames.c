// SPDX-License-Identifier: GPL-2.0
/* Thread name cache fed from /proc/PID/task/TID/comm. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/threadnames.h"
#include "util/u64map.h"

#define COMM_LEN 16 /* the kernel's TASK_COMM_LEN, NUL included */

struct lp_threadnames {
	pid_t pid;
	struct u64map by_tid; /* tid + 1 (keys must be nonzero) -> char[COMM_LEN] */
	uint64_t evicted;
};

struct lp_threadnames *threadnames__new(pid_t pid)
{
	struct lp_threadnames *t = calloc(1, sizeof(*t));

	if (t)
		t->pid = pid;
	return t;
}

void threadnames__free(struct lp_threadnames *t)
{
	if (!t)
		return;
	u64map__for_each(&t->by_tid, i)
		free(t->by_tid.values[i]);
	u64map__free(&t->by_tid);
	free(t);
}

/* Reads the comm of tid into name; -errno when the thread is gone. */
static int read_comm(pid_t pid, uint32_t tid, char name[COMM_LEN])
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%u/comm", (int)pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, name, COMM_LEN - 1);
	close(fd);
	if (n < 0)
		return -errno;
	name[n] = '\0';
	name[strcspn(name, "\n")] = '\0';
	return 0;
}

/* The cache is full: the names of threads that exited are dropped (the map rebuilt without
 * them). */
static int prune(struct lp_threadnames *t)
{
	struct u64map kept = {};
	char path[64];

	u64map__for_each(&t->by_tid, i) {
		snprintf(path, sizeof(path), "/proc/%d/task/%llu", (int)t->pid,
			 (unsigned long long)(t->by_tid.keys[i] - 1));
		if (!access(path, F_OK) &&
		    u64map__put(&kept, t->by_tid.keys[i], t->by_tid.values[i])) {
			u64map__free(&kept);
			return -ENOMEM;
		}
	}
	u64map__for_each(&t->by_tid, i) {
		if (u64map__get(&kept, t->by_tid.keys[i]))
			continue;
		free(t->by_tid.values[i]);
		t->evicted++;
	}
	u64map__free(&t->by_tid);
	t->by_tid = kept;
	return 0;
}

uint64_t threadnames__evicted(const struct lp_threadnames *t)
{
	return t ? t->evicted : 0;
}

int threadnames__set(struct lp_threadnames *t, uint32_t tid, const char *name)
{
	char *slot = u64map__get(&t->by_tid, (uint64_t)tid + 1);

	if (!slot && t->by_tid.len >= LP_THREADNAMES_MAX) {
		if (prune(t))
			return -ENOMEM;
		if (t->by_tid.len >= LP_THREADNAMES_MAX) {
			t->evicted++; /* every named thread still lives: this one stays unnamed */
			return 0;
		}
	}
	if (!slot) {
		slot = malloc(COMM_LEN);
		if (!slot)
			return -ENOMEM;
		if (u64map__put(&t->by_tid, (uint64_t)tid + 1, slot)) {
			free(slot);
			return -ENOMEM;
		}
	}
	snprintf(slot, COMM_LEN, "%s", name);
	return 0;
}

int threadnames__refresh(struct lp_threadnames *t, uint32_t tid)
{
	char name[COMM_LEN];

	if (read_comm(t->pid, tid, name))
		return 0;
	return threadnames__set(t, tid, name);
}

int threadnames__note(struct lp_threadnames *t, uint32_t tid)
{
	if (u64map__get(&t->by_tid, (uint64_t)tid + 1))
		return 0;
	return threadnames__refresh(t, tid);
}

int threadnames__scan(struct lp_threadnames *t)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	int err = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!err && (de = readdir(dir))) {
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);

		if (de->d_name[0] >= '0' && de->d_name[0] <= '9' && !*end && tid <= UINT32_MAX)
			err = threadnames__note(t, (uint32_t)tid);
	}
	closedir(dir);
	return err;
}

const char *threadnames__get(const struct lp_threadnames *t, uint32_t tid)
{
	return t ? u64map__get(&t->by_tid, (uint64_t)tid + 1) : NULL;
}
