/* SPDX-License-Identifier: GPL-2.0 */
/* Python source files of the target, read inside its root while it is alive (a report is
 * written after the target may have exited) and kept for looking up lines. */
#ifndef LOCKPROF_SRC_SOURCE_H
#define LOCKPROF_SRC_SOURCE_H

#include <stddef.h>

#include "target/target.h"

struct lp_sources;

struct lp_sources *sources__new(const struct lp_target *t);
void sources__free(struct lp_sources *s);

/* Reads path now unless already read (or tried). Pseudo-files such as "<string>" are skipped. */
void sources__load(struct lp_sources *s, const char *path);

/* Copies line `lineno` (1-based, without its newline) into buf; "" when unknown. Loads the file
 * if it was not loaded yet. */
void sources__line(struct lp_sources *s, const char *path, int lineno, char *buf, size_t len);

#endif
