/* SPDX-License-Identifier: GPL-2.0 */
/* What lockprof's own BPF programs cost: each program's runs and run time, which the kernel
 * counts while kernel.bpf_stats_enabled is 1 (an administrator's switch: lockprof reads it and
 * never sets it). Reports carry them, so the cost of every probe is visible, and a test can show
 * that no program runs for another process's events. */
#ifndef LOCKPROF_SRC_PROGSTATS_H
#define LOCKPROF_SRC_PROGSTATS_H

#include <stdbool.h>

#include "profile/profile.h"

struct bpf_object;

/* Whether the kernel counts BPF program runs now. */
bool progstats__enabled(void);

/* Reads the loaded programs of obj into *s (their counts since load). 0 or -errno. */
int progstats__read(struct bpf_object *obj, struct lp_prog_stats *s);

#endif
