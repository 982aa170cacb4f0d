// SPDX-License-Identifier: GPL-2.0
/* The faces the command line reserves for what is coming (serve): one clear line. */
#include "faces/faces.h"
#include "util/log.h"

int face_planned__run(const struct lp_opts *opts)
{
	lp_err("'lockprof %s' is not in this version yet: use 'lockprof -p PID' (see --help)",
	       opts__face_name(opts->face));
	return LP_EXIT_USAGE;
}
