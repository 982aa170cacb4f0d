/* SPDX-License-Identifier: GPL-2.0 */
/* Names of the target's threads (/proc/PID/task/TID/comm), read while they are alive: a thread
 * that waited may have exited by the time the report is written. */
#ifndef LOCKPROF_SRC_THREADNAMES_H
#define LOCKPROF_SRC_THREADNAMES_H

#include <stdint.h>
#include <sys/types.h>

#define LP_THREADNAMES_MAX 4096 /* names kept per process before exited threads' are dropped */

struct lp_threadnames;

/* An empty cache for the threads of pid, or NULL with errno set. */
struct lp_threadnames *threadnames__new(pid_t pid);
void threadnames__free(struct lp_threadnames *t);

/* Reads tid's name unless it is known already. A thread that is gone stays unknown. 0 or
 * -ENOMEM. */
int threadnames__note(struct lp_threadnames *t, uint32_t tid);

/* Reads tid's name again if the thread is alive (threads may rename themselves after start),
 * else keeps the last name read. 0 or -ENOMEM. */
int threadnames__refresh(struct lp_threadnames *t, uint32_t tid);

/* Notes every thread the process has now (cheap for known ones: no read). 0, -ENOMEM, or the
 * -errno of opening /proc/PID/task. */
int threadnames__scan(struct lp_threadnames *t);

/* Names forgotten: past LP_THREADNAMES_MAX names, those of threads that exited are dropped
 * (their waits keep their tid) so that thread churn over days cannot grow the cache. */
uint64_t threadnames__evicted(const struct lp_threadnames *t);

/* Sets tid's name (for callers that know it, and tests). 0 or -ENOMEM. */
int threadnames__set(struct lp_threadnames *t, uint32_t tid, const char *name);

/* The last name read for tid, or NULL when it was never read. Valid until the next call that
 * changes t. */
const char *threadnames__get(const struct lp_threadnames *t, uint32_t tid);

#endif
