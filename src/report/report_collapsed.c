// SPDX-License-Identifier: GPL-2.0
/* The collapsed ("folded") stack report that flamegraph.pl, inferno and speedscope read: one line
 * per (waiter stack, lock), root frame first, frames joined by ';', the lock as the leaf frame
 * "lock NAME", a space, then the weight (nanoseconds waited, or waits with --weight count).
 * Contention and GIL waits ("lock GIL"), free-threaded object waits ("object NAME (TYPE)"); idle
 * waits only with --show-idle. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/render.h"

struct line {
	char *text; /* without the weight */
	uint64_t weight;
};

/* Writes s with the characters that would break the line grammar (';' separates frames, a
 * newline ends the line) and other control characters replaced by '_'. */
static void put_clean(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == ';' || (unsigned char)*s < 0x20 || *s == 0x7f ? '_' : *s, f);
}

static void put_frame(FILE *f, const struct lp_frame_sym *fr)
{
	put_clean(f, fr->function);
	fputs(" (", f);
	put_clean(f, fr->file);
	fprintf(f, ":%d);", fr->line);
}

static char *line_text(const char *root, const struct lp_lock *lock, const struct lp_lock_stack *ls)
{
	const struct lp_stack_sym *st = ls->stack;
	char *text = NULL, name[32];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (root) {
		put_clean(f, root);
		fputc(';', f);
	}
	if (!st)
		fputs("<stack lost>;", f);
	else if (!st->depth)
		fputs("<no Python frames>;", f);
	else if (st->truncated)
		fputs("<truncated>;", f);
	for (uint32_t i = st ? st->depth : 0; i-- > 0;)
		put_frame(f, &st->frames[i]);
	/* Free-threaded builds: "object NAME (TYPE)" for an object's critical section. */
	fputs(lock->category == LP_CATEGORY_OBJECT ? "object " : "lock ", f);
	put_clean(f, report__lock_name(lock, name, sizeof(name)));
	if (lock->category == LP_CATEGORY_OBJECT) {
		fputs(" (", f);
		put_clean(f, lock->type_name[0] ? lock->type_name : "object");
		fputc(')', f);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* The lines of p's waiting stacks appended at lines[*np] (room made by the caller); with rooted,
 * each starts with the process ("comm (pid N)") as its root frame. 0 or -ENOMEM. */
static int add_lines(const struct lp_profile *p, bool rooted, const struct lp_report_opts *o,
		     struct line *lines, size_t *np)
{
	char root[64];
	size_t n = *np;
	int err = 0;

	snprintf(root, sizeof(root), "%s (pid %d)", p->comm[0] ? p->comm : "?", (int)p->pid);
	for (size_t i = 0; i < p->nlocks && !err; i++) {
		const struct lp_lock *lock = &p->locks[i];

		for (size_t s = 0; report__lock_included(lock, o) && s < lock->nstacks; s++) {
			const struct lp_lock_stack *ls = &lock->stacks[s];

			if (ls->role != LP_ROLE_WAITER)
				continue;
			lines[n].text = line_text(rooted ? root : NULL, lock, ls);
			if (!lines[n].text) {
				err = -ENOMEM;
				break;
			}
			lines[n++].weight = o->weight == LP_WEIGHT_COUNT ? ls->count : ls->wait_ns;
		}
	}
	*np = n;
	return err;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

int report_collapsed__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o)
{
	return report_collapsed__write_set(f, &p, 1, false, o);
}

int report_collapsed__write_set(FILE *f, const struct lp_profile *const *ps, size_t nps,
				bool rooted, const struct lp_report_opts *o)
{
	struct line *lines;
	size_t n = 0, cap = 0;
	int err = 0;

	for (size_t k = 0; k < nps; k++)
		for (size_t i = 0; i < ps[k]->nlocks; i++)
			cap += ps[k]->locks[i].nstacks;
	lines = calloc(cap ? cap : 1, sizeof(*lines));
	if (!lines)
		return -ENOMEM;
	for (size_t k = 0; k < nps && !err; k++)
		err = add_lines(ps[k], rooted, o, lines, &n);
	/* Stacks that differ only below line granularity print the same: one line each, summed. */
	qsort(lines, n, sizeof(*lines), cmp_line);
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t weight = lines[i].weight;

		while (i + 1 < n && !strcmp(lines[i].text, lines[i + 1].text))
			weight += lines[++i].weight;
		fprintf(f, "%s %" PRIu64 "\n", lines[i].text, weight);
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i].text);
	free(lines);
	if (!err && ferror(f))
		err = -EIO;
	return err;
}
