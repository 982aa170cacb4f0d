// SPDX-License-Identifier: GPL-2.0
/* gen_html_report NSTACKS FILE: writes the HTML report of a synthetic profile with NSTACKS
 * distinct waiting stacks (and as many holder stacks' worth of blame) over 40 locks, for the
 * large-report test and make bench. The stacks are paths through a random call tree (shared
 * callers, as in a real service), 8 to 40 frames deep, with long module paths, so the page's
 * size and its flame graph's work are those of a large real profile. Deterministic. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report.h"

#define NLOCKS 40
#define NFUNCS 3000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

int main(int argc, char **argv)
{
	static char fn[NFUNCS][96], file[NFUNCS][160];
	long nstacks = argc == 3 ? strtol(argv[1], NULL, 10) : 0;
	struct lp_stacktab *st = stacktab__new();
	struct lp_frame_sym frames[40];
	struct lp_profile p;
	FILE *f;
	int err;

	if (nstacks <= 0 || !st) {
		fprintf(stderr, "usage: gen_html_report NSTACKS FILE\n");
		return 2;
	}
	for (int i = 0; i < NFUNCS; i++) {
		snprintf(fn[i], sizeof(fn[i]), "Service%d.handler_%d_step", i % 97, i);
		snprintf(file[i], sizeof(file[i]),
			 "/srv/app/.venv/lib/python3.12/site-packages/pkg%d/module_%d.py", i % 53,
			 i % 211);
	}
	profile__init(&p, st, NULL);
	p.pid = 4242;
	snprintf(p.python, sizeof(p.python), "3.12.1");
	snprintf(p.interpreter, sizeof(p.interpreter), "/usr/lib/libpython3.12.so.1.0");
	p.mode = "contention";
	p.duration_ns = 30000000000ULL;
	for (long s = 0; s < nstacks; s++) {
		uint32_t depth = 8 + rnd(33), node = 0;
		struct lp_stat_key key = { .lock = 0x7f0000001000ULL + 0x40 * (s % NLOCKS),
					   .stack_id = (uint64_t)s + 1,
					   .tid = 100 + (uint32_t)(s % 64) };
		struct lp_stat_value val = { .count = 1 + rnd(50) };

		/* Root first: a node's children are a few of the functions "after" it. */
		for (uint32_t d = 0; d < depth; d++) {
			node = (node * 7 + 1 + rnd(d < 4 ? 3 : 40)) % NFUNCS;
			frames[depth - 1 - d] = (struct lp_frame_sym){ fn[node], file[node],
								       10 + (int)(node % 400) };
		}
		if ((err = stacktab__insert(st, key.stack_id, frames, depth, false)))
			goto fail;
		val.total_ns = val.count * (1000 + rnd(5000000));
		val.max_ns = val.total_ns / val.count * 2;
		val.hist[10 + rnd(12)] = (uint32_t)val.count;
		if ((err = profile__add_stat(&p, &key, &val)))
			goto fail;
	}
	profile__link(&p);
	profile__finish(&p);
	f = fopen(argv[2], "w");
	if (!f) {
		fprintf(stderr, "gen_html_report: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	err = report__write(f, LP_FORMAT_HTML, &p, &(struct lp_report_opts){ .histogram = true });
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		goto fail;
	profile__free(&p);
	stacktab__free(st);
	return 0;
fail:
	fprintf(stderr, "gen_html_report: %s\n", strerror(-err));
	return 1;
}
