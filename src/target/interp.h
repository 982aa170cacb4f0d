/* SPDX-License-Identifier: GPL-2.0 */
/* Interpreter inspection: what the target's interpreter file and memory tell about the CPython it
 * runs (version, struct layout, where _PyRuntime is), and which measurements that build allows. */
#ifndef LOCKPROF_SRC_INTERP_H
#define LOCKPROF_SRC_INTERP_H

#include <stdint.h>

#include "target/pyoffsets.h"
#include "target/pyversion.h"
#include "target/target.h"

struct lp_interp {
	struct lp_pyversion version;
	char version_str[32]; /* "3.12.1", "3.13.0t", "3.9" when the patch level is unknown */
	struct lp_pyoffsets offsets;
	uint64_t runtime_addr; /* _PyRuntime in the target */
	int gil_enabled;       /* 1, 0 (a free-threaded build without its GIL), -1: unknown */
};

/* Reads t's interpreter file (and, for the patch level and 3.13+ layouts, its memory). Returns 0
 * or an LP_EXIT_* code after printing why. */
int interp__inspect(const struct lp_target *t, struct lp_interp *info);

/* Whether the main interpreter's GIL is enabled now: always on a default build; on a
 * free-threaded one when PYTHON_GIL=1 or an extension not marked free-threading-safe turned it on.
 * 1, 0, or -1 when it cannot be read. */
int interp__gil_enabled(const struct lp_target *t, const struct lp_interp *info);

/* Whether this build supports the measurements asked for (enum lp_mode bits): with -m gil alone
 * on a free-threaded build without its GIL there is nothing to measure (LP_EXIT_NOTHING_TO_DO),
 * -m full knows threading.Lock's methods for 3.8-3.14 only, -m gil needs
 * the interpreter's code mapping. 0 or an LP_EXIT_* code after printing why. */
int interp__check_modes(const struct lp_target *t, const struct lp_interp *info,
			unsigned int modes);

#endif
