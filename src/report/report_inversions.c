// SPDX-License-Identifier: GPL-2.0
/* -m full's lock-order inversions in the text and JSON reports: each cycle of the lock-order
 * graph, with the stack that took each lock while holding the previous one. */
#include <inttypes.h>
#include <stdio.h>

#include "collect/lockorder.h"
#include "report/render.h"
#include "report/report_inversions.h"

static const char *name_or_addr(const char *name, uint64_t lock, char *buf, size_t len)
{
	if (name[0])
		return name;
	snprintf(buf, len, "lock 0x%" PRIx64, lock);
	return buf;
}

void report_inversions__text(FILE *f, const struct lp_profile *p)
{
	const struct lp_lockorder *o = p->lockorder;
	char a[64], b[64];

	if (!o)
		return;
	fprintf(f,
		"\nLock order: %zu order%s between locks seen (probes attached %.0f%% of the run), ",
		o->nedges, o->nedges == 1 ? "" : "s", 100.0 * p->full.duty_cycle);
	if (!o->ncycles) {
		fputs("no inversion.\n", f);
		return;
	}
	fprintf(f, "%zu inversion%s (potential deadlock%s):\n", o->ncycles,
		o->ncycles == 1 ? "" : "s", o->ncycles == 1 ? "" : "s");
	for (size_t c = 0; c < o->ncycles; c++) {
		const struct lp_inversion *inv = &o->cycles[c];

		fprintf(f, "\nLOCK-ORDER INVERSION %zu:", c + 1);
		for (size_t k = 0; k < inv->len; k++)
			fprintf(f, " %s ->",
				name_or_addr(inv->steps[k].first_name, inv->steps[k].first, a,
					     sizeof(a)));
		fprintf(f, " %s\n",
			name_or_addr(inv->steps[0].first_name, inv->steps[0].first, a, sizeof(a)));
		for (size_t k = 0; k < inv->len; k++) {
			const struct lp_order_step *s = &inv->steps[k];

			fprintf(f, "  %s taken while holding %s (thread %u, %u time%s):\n",
				name_or_addr(s->second_name, s->second, a, sizeof(a)),
				name_or_addr(s->first_name, s->first, b, sizeof(b)), s->tid,
				s->count, s->count == 1 ? "" : "s");
			report__write_stack(f,
					    s->stack_id ? stacktab__get(p->stacks, s->stack_id)
							: NULL,
					    "      ", "<stack not captured>");
		}
	}
}

void report_inversions__json(FILE *f, const struct lp_profile *p)
{
	const struct lp_lockorder *o = p->lockorder;

	if (!o)
		return;
	fprintf(f, ",\n \"lock_order\": {\"orders\": %zu, \"coverage\": %.4f, \"inversions\": [",
		o->nedges, p->full.duty_cycle);
	for (size_t c = 0; c < o->ncycles; c++) {
		const struct lp_inversion *inv = &o->cycles[c];

		fputs(c ? ", {\"steps\": [" : "{\"steps\": [", f);
		for (size_t k = 0; k < inv->len; k++) {
			const struct lp_order_step *s = &inv->steps[k];
			const struct lp_stack_sym *st =
				s->stack_id ? stacktab__get(p->stacks, s->stack_id) : NULL;

			fprintf(f, "%s{\"held\": {\"id\": \"0x%" PRIx64 "\", \"name\": ",
				k ? ", " : "", s->first);
			json__write_string(f, s->first_name);
			fprintf(f,
				"}, \"taken\": {\"id\": \"0x%" PRIx64 "\", \"name\": ", s->second);
			json__write_string(f, s->second_name);
			fprintf(f, "}, \"tid\": %u, \"count\": %u, \"frames\": [", s->tid,
				s->count);
			for (uint32_t i = 0; st && i < st->depth; i++) {
				fputs(i ? ", {\"function\": " : "{\"function\": ", f);
				json__write_string(f, st->frames[i].function);
				fputs(", \"file\": ", f);
				json__write_string(f, st->frames[i].file);
				fprintf(f, ", \"line\": %d}", st->frames[i].line);
			}
			fputs("]}", f);
		}
		fputs("]}", f);
	}
	fputs("]}", f);
}
