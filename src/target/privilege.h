/* SPDX-License-Identifier: GPL-2.0 */
/* Checks, before touching anything, that lockprof holds the capabilities it needs, so a missing
 * one is named instead of surfacing later as an obscure EPERM. */
#ifndef LOCKPROF_SRC_PRIVILEGE_H
#define LOCKPROF_SRC_PRIVILEGE_H

#include <sys/types.h>

/* Returns 0, or LP_EXIT_PRIVILEGE after printing which capability is missing. target 0: no
 * particular process (--all): the capabilities only, not the right to read its memory. */
int privilege__check(pid_t target);

#endif
