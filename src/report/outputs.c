// SPDX-License-Identifier: GPL-2.0
/* The run's report files (see outputs.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "report/outfile.h"
#include "report/outputs.h"
#include "report/report.h"
#include "util/log.h"

int outputs__open(struct lp_outputs *o, const struct lp_opts *opts)
{
	memset(o, 0, sizeof(*o));
	o->opts = opts;
	for (int i = 0; i < opts->noutputs; i++) {
		const char *path = opts->outputs[i].path;
		int fd;

		o->files[i] = stdout;
		if (!path)
			continue;
		/* Never through a symlink or hard link planted at the path (outfile.c). */
		fd = outfile__open(path);
		if (fd < 0 || !(o->files[i] = fdopen(fd, "w"))) {
			if (fd >= 0) {
				lp_err("cannot write output file %s: %s", path, strerror(errno));
				close(fd);
			}
			o->files[i] = NULL;
			outputs__close(o);
			return LP_EXIT_OUTPUT;
		}
	}
	return 0;
}

/* One profile (p) or a set of them. */
static int write_all(struct lp_outputs *o, const struct lp_profile *p,
		     const struct lp_profile_set *set)
{
	const struct lp_opts *opts = o->opts;
	unsigned int interval = p ? p->interval : set->interval;
	int err = 0;

	for (int i = 0; i < opts->noutputs && !err; i++) {
		err = p ? report__write(o->files[i], opts->outputs[i].format, p, &opts->report)
			: report__write_set(o->files[i], opts->outputs[i].format, set,
					    &opts->report);
		/* Successive intervals' text or collapsed reports: a blank line between them. */
		if (!err && interval && opts->outputs[i].format != LP_FORMAT_JSON)
			fputc('\n', o->files[i]);
		if (!err && fflush(o->files[i]))
			err = -errno;
		if (err)
			lp_err("failed to write the %s report to %s: %s",
			       report__format_name(opts->outputs[i].format),
			       opts->outputs[i].path ? opts->outputs[i].path : "stdout",
			       strerror(-err));
	}
	return err ? LP_EXIT_OUTPUT : 0;
}

int outputs__write(struct lp_outputs *o, const struct lp_profile *p)
{
	return write_all(o, p, NULL);
}

int outputs__write_set(struct lp_outputs *o, const struct lp_profile_set *set)
{
	return write_all(o, NULL, set);
}

void outputs__close(struct lp_outputs *o)
{
	for (int i = 0; i < LP_MAX_OUTPUTS; i++) {
		if (o->files[i] && o->files[i] != stdout)
			fclose(o->files[i]);
		o->files[i] = NULL;
	}
}
