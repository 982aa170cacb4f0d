/* SPDX-License-Identifier: GPL-2.0 */
/* --all: which processes in /proc run CPython. A process is a candidate when its memory maps a
 * libpython or an executable named python; the engine's discovery then confirms it (version,
 * _PyRuntime). A process found not to be one is remembered by its start time and executable, so
 * each rescan reads the maps of new processes only. */
#ifndef LOCKPROF_SRC_PROCSCAN_H
#define LOCKPROF_SRC_PROCSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* True when path (a /proc/PID/maps file name) is a CPython interpreter: a libpythonX.Y shared
 * library, or an executable named python, pythonX or pythonX.Y (with an ABI suffix such as t). */
bool procscan__is_python_path(const char *path, size_t len);

/* True when the maps text (len bytes, /proc/PID/maps' format) maps a CPython interpreter. */
bool procscan__maps_have_python(const char *maps, size_t len);

/* The start time (clock ticks since boot, field 22) from /proc/PID/stat's text, or 0 when it
 * cannot be parsed; *zombie set for a process that is a zombie or dead. */
uint64_t procscan__stat_start(const char *stat, size_t len, bool *zombie);

struct lp_procscan;

/* A scanner of the /proc tree at proc_root ("/proc", or a fixture), skipping the pid self
 * (lockprof). NULL with errno set. */
struct lp_procscan *procscan__new(const char *proc_root, pid_t self);
void procscan__free(struct lp_procscan *s);

/* The pids that run CPython now, ascending, into pids (at most max; *n set). Processes read
 * before and found not to run CPython are not read again while their start time and executable
 * stay the same. 0, or -errno when proc_root cannot be read. */
int procscan__scan(struct lp_procscan *s, pid_t *pids, size_t max, size_t *n);

/* The comm of pid (/proc/PID/comm, newline stripped) into buf; "" when unreadable. */
void procscan__comm(const struct lp_procscan *s, pid_t pid, char *buf, size_t size);

#endif
