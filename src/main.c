// SPDX-License-Identifier: GPL-2.0
/* lockprof's entry: parse the command line, run its face. Every face drives the same pipeline
 * (engine/engine.h): discover the target -> inspect its interpreter -> load BPF -> attach ->
 * collect -> build the profile (symbolized, named, classified) -> render -> detach. */
#include <bpf/libbpf.h>

#include "cli/opts.h"
#include "faces/faces.h"
#include "util/log.h"

int main(int argc, char **argv)
{
	struct lp_opts opts;
	int err;

	err = opts__parse(argc, argv, &opts);
	if (err)
		return err;
	lp_verbose = opts.verbose;
	libbpf_set_print(lp_libbpf_print);

	switch (opts.face) {
	case LP_FACE_PROFILE:
		err = face_profile__run(&opts);
		break;
	case LP_FACE_DUMP:
		err = face_dump__run(&opts);
		break;
	case LP_FACE_TOP:
		err = face_top__run(&opts);
		break;
	case LP_FACE_SERVE:
		err = face_serve__run(&opts);
		break;
	default:
		err = LP_EXIT_USAGE;
		break;
	}
	/* Nothing to measure is not a failure: the face said why, and there is no report. */
	return err == LP_EXIT_NOTHING_TO_DO ? LP_EXIT_OK : err;
}
