// SPDX-License-Identifier: GPL-2.0
/* The HTML report: one self-contained page (report_html.html, its CSS and JavaScript inline) with
 * the profile as compact JSON inside it: every string once in a table, stacks as indices. The
 * page's script draws the summary, the sortable lock table, the flame graph and the histograms
 * from that data; nothing from the profile reaches the page as markup. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile/annotate.h"
#include "report/render.h"

/* The page, embedded at build time: editing it as a file keeps the JavaScript readable and
 * checkable by a browser, with no C string escaping (the Makefile makes this object depend on
 * it). */
__asm__(".section .rodata\n"
	".global lp_html_page\n"
	"lp_html_page:\n"
	".incbin \"src/report/report_html.html\"\n"
	".global lp_html_page_end\n"
	"lp_html_page_end:\n"
	".byte 0\n"
	".previous\n");
extern const char lp_html_page[], lp_html_page_end[];

#define DATA_MARK "@LOCKPROF_DATA@"

/* Every distinct string once, by index: function names and files repeat in most stacks. */
struct strtab {
	const char **strs;
	size_t n, cap;
	uint32_t *slots; /* index + 1, 0 empty; open addressing */
	size_t nslots;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int strtab__grow(struct strtab *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = hash_str(t->strs[i]) & (nslots - 1);

		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

/* The index of s in the table, added when new; -ENOMEM. */
static long strtab__index(struct strtab *t, const char *s)
{
	size_t j;

	if (!s)
		s = "";
	if ((t->n + 1) * 2 > t->nslots && strtab__grow(t))
		return -ENOMEM;
	for (j = hash_str(s) & (t->nslots - 1); t->slots[j]; j = (j + 1) & (t->nslots - 1))
		if (!strcmp(t->strs[t->slots[j] - 1], s))
			return t->slots[j] - 1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		const char **strs = realloc(t->strs, cap * sizeof(*strs));

		if (!strs)
			return -ENOMEM;
		t->strs = strs;
		t->cap = cap;
	}
	t->strs[t->n] = s;
	t->slots[j] = (uint32_t)t->n + 1;
	return (long)t->n++;
}

static void strtab__free(struct strtab *t)
{
	free(t->strs);
	free(t->slots);
}

/* Every distinct frame (function, file, line) once, by index: a stack is then a list of small
 * numbers, which keeps a 10,000-stack page small and the page's tree building cheap. */
struct frame_key {
	uint32_t fn, file;
	int line;
};

struct frametab {
	struct frame_key *frames;
	size_t n, cap;
	uint32_t *slots; /* index + 1, 0 empty */
	size_t nslots;
};

static uint64_t hash_frame(const struct frame_key *k)
{
	uint64_t h = ((uint64_t)k->fn << 32 | k->file) * 0x9e3779b97f4a7c15ULL;

	return (h ^ (h >> 29) ^ (uint64_t)(uint32_t)k->line * 0xbf58476d1ce4e5b9ULL);
}

static int frametab__grow(struct frametab *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 1024;
	uint32_t *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t j = hash_frame(&t->frames[i]) & (nslots - 1);

		while (slots[j])
			j = (j + 1) & (nslots - 1);
		slots[j] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

/* The index of the frame, added when new; -ENOMEM. */
static long frametab__index(struct frametab *t, const struct frame_key *k)
{
	size_t j;

	if ((t->n + 1) * 2 > t->nslots && frametab__grow(t))
		return -ENOMEM;
	for (j = hash_frame(k) & (t->nslots - 1); t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
		const struct frame_key *o = &t->frames[t->slots[j] - 1];

		if (o->fn == k->fn && o->file == k->file && o->line == k->line)
			return t->slots[j] - 1;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct frame_key *frames = realloc(t->frames, cap * sizeof(*frames));

		if (!frames)
			return -ENOMEM;
		t->frames = frames;
		t->cap = cap;
	}
	t->frames[t->n] = *k;
	t->slots[j] = (uint32_t)t->n + 1;
	return (long)t->n++;
}

static void frametab__free(struct frametab *t)
{
	free(t->frames);
	free(t->slots);
}

struct tables {
	struct strtab strs;
	struct frametab frames;
	int err; /* the first allocation failure: the page is not written */
};

/* Writes the frame's index; an allocation failure is kept for the writer to return. */
static void put_frame(FILE *f, struct tables *t, const char *fn, const char *file, int line)
{
	long fi = strtab__index(&t->strs, fn), fl = strtab__index(&t->strs, file), i = -ENOMEM;

	if (fi >= 0 && fl >= 0)
		i = frametab__index(&t->frames,
				    &(struct frame_key){ (uint32_t)fi, (uint32_t)fl, line });
	if (i < 0) {
		t->err = t->err ? t->err : (int)i;
		i = 0;
	}
	fprintf(f, "%ld", i);
}

/* The first frame outside threading/queue: where the code itself waited or released. */
static const struct lp_frame_sym *code_frame(const struct lp_stack_sym *st)
{
	if (!st || !st->depth)
		return NULL;
	for (uint32_t i = 0; i < st->depth; i++)
		if (!annotate__is_threading_file(st->frames[i].file))
			return &st->frames[i];
	return &st->frames[0];
}

/* "app/db.py:42 self._pool_lock", as the text report's lock column calls it. */
static void lock_label(const struct lp_lock *lock, char *buf, size_t len)
{
	const struct lp_frame_sym *at = lock->created_at ? lock->created_at
							 : profile__lock_site(lock);
	char id[32];

	if ((profile__is_signal_category(lock->category) || lock->category == LP_CATEGORY_OBJECT) &&
	    lock->site)
		at = lock->site;
	if (at && lock->category == LP_CATEGORY_OBJECT)
		snprintf(buf, len, "%s:%d %s (%s)", report__short_path(at->file), at->line,
			 report__lock_name(lock, id, sizeof(id)),
			 lock->type_name[0] ? lock->type_name : "object");
	else if (at)
		snprintf(buf, len, "%s:%d %s", report__short_path(at->file), at->line,
			 report__lock_name(lock, id, sizeof(id)));
	else
		snprintf(buf, len, "lock 0x%" PRIx64, lock->id);
}

static void write_hist(FILE *f, const uint64_t hist[LP_HIST_SLOTS])
{
	fputc('[', f);
	for (int i = 0; i < LP_HIST_SLOTS; i++)
		fprintf(f, i ? ",%" PRIu64 : "%" PRIu64, hist[i]);
	fputc(']', f);
}

/* One stack: [role, count, ns, max_ns, truncated, [frame, ...] leaf first]; a stack never
 * announced (lost) or left out by the stack budget is one pseudo-frame saying so. */
static void write_stack(FILE *f, struct tables *t, const struct lp_lock_stack *ls)
{
	const struct lp_stack_sym *st = ls->stack;

	fprintf(f, "[%d,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%d,[", (int)ls->role, ls->count,
		ls->wait_ns, ls->max_ns, st && st->truncated ? 1 : 0);
	if (!st || !st->depth) {
		put_frame(f, t,
			  !st ? (ls->stack_id == LP_STACK_UNSAMPLED ? "<stack not sampled>"
								    : "<stack lost>")
			      : "<no Python frames>",
			  "", 0);
	}
	for (uint32_t i = 0; st && i < st->depth; i++) {
		if (i)
			fputc(',', f);
		put_frame(f, t, st->frames[i].function, st->frames[i].file, st->frames[i].line);
	}
	fputs("]]", f);
}

static void write_lock(FILE *f, struct tables *t, const struct lp_lock *lock, bool full)
{
	const struct lp_lock_stack *h = profile__top_stack(lock, LP_ROLE_HOLDER);
	const struct lp_frame_sym *hf = h ? code_frame(h->stack) : NULL;
	char label[512], holder[512] = "";

	lock_label(lock, label, sizeof(label));
	if (hf)
		snprintf(holder, sizeof(holder), "%s:%d in %s", report__short_path(hf->file),
			 hf->line, hf->function);
	fputs("{\"label\":", f);
	json__write_string(f, label);
	fputs(",\"holder\":", f);
	json__write_string(f, holder);
	fputs(",\"category\":", f);
	json__write_string(f, profile__category_name(lock->category));
	/* The JSON report's lock id: a later lock at the same address (generation g) is "0xADDR.g". */
	if (lock->generation)
		fprintf(f, ",\"id\":\"0x%" PRIx64 ".%u\"", lock->id, lock->generation);
	else
		fprintf(f, ",\"id\":\"0x%" PRIx64 "\"", lock->id);
	fprintf(f,
		",\"waits\":%" PRIu64 ",\"wait_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64
		",\"timeouts\":%" PRIu64,
		lock->waits, lock->wait_ns, lock->max_ns, lock->timeouts);
	if (full)
		fprintf(f,
			",\"hold_count\":%" PRIu64 ",\"hold_ns\":%" PRIu64
			",\"max_hold_ns\":%" PRIu64,
			lock->hold_count, lock->hold_ns, lock->max_hold_ns);
	fputs(",\"hist\":", f);
	write_hist(f, lock->hist);
	fputs(",\"stacks\":[", f);
	for (size_t s = 0; s < lock->nstacks; s++) {
		if (s)
			fputc(',', f);
		write_stack(f, t, &lock->stacks[s]);
	}
	fputs("]}", f);
}

static void write_gil(FILE *f, const struct lp_profile *p)
{
	if (!p->gil_measured) {
		fputs("null", f);
		return;
	}
	fprintf(f,
		"{\"handoffs\":%" PRId64 ",\"waits\":%" PRIu64 ",\"wait_ns\":%" PRIu64
		",\"threads\":[",
		p->gil_handoffs, p->gil_waits, p->gil_wait_ns);
	for (size_t i = 0; i < p->ngil_threads; i++) {
		const struct lp_gil_thread *g = &p->gil_threads[i];
		const char *name = threadnames__get(p->thread_names, g->tid);

		fprintf(f, "%s{\"tid\":%u,\"name\":", i ? "," : "", g->tid);
		json__write_string(f, name ? name : "");
		fprintf(f,
			",\"waits\":%" PRIu64 ",\"wait_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64
			",\"hist\":",
			g->waits, g->wait_ns, g->max_ns);
		write_hist(f, g->hist);
		fputc('}', f);
	}
	fputs("]}", f);
}

/* The data object; its frames and strings come last, once every stack has added to them. */
static int write_data(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o)
{
	const struct lp_counters *c = &p->counters;
	struct tables t = {};
	char note[512];
	bool first = true;
	int err;

	fprintf(f, "{\"lockprof\":\"%s\",\"pid\":%d,\"python\":", LOCKPROF_VERSION, (int)p->pid);
	json__write_string(f, p->python);
	fputs(",\"interpreter\":", f);
	json__write_string(f, p->interpreter);
	fputs(",\"mode\":", f);
	json__write_string(f, p->mode ? p->mode : "");
	fprintf(f,
		",\"start_unix_ns\":%" PRIu64 ",\"duration_ns\":%" PRIu64 ",\"interval\":%u"
		",\"threads\":%zu,\"waits\":%" PRIu64 ",\"wait_ns\":%" PRIu64
		",\"idle_waits\":%" PRIu64 ",\"idle_wait_ns\":%" PRIu64 ",\"lost_events\":%" PRIu64
		",\"lost_stacks\":%" PRIu64 ",\"stacks_truncated\":%" PRIu64
		",\"min_wait_ns\":%" PRIu64 ",\"short_waits\":%" PRIu64
		",\"sampled\":%s,\"upscaled\":%s,\"histogram\":%s,\"full\":%s",
		p->start_unix_ns, p->duration_ns, p->interval, p->nthreads, p->total_waits,
		p->total_wait_ns, p->idle_waits, p->idle_wait_ns, (uint64_t)c->lost_events,
		(uint64_t)(c->stacks_dropped + c->inflight_dropped), (uint64_t)c->stacks_truncated,
		p->min_wait_ns, (uint64_t)c->short_waits,
		report__stacks_sampled(p) ? "true" : "false",
		report__totals_upscaled(p) ? "true" : "false", o->histogram ? "true" : "false",
		p->full.measured ? "true" : "false");
	fputs(",\"overhead\":", f);
	if (p->overhead.measured) {
		fprintf(f, "{\"pct\":%.3f,\"note\":", p->overhead.estimated_pct);
		json__write_string(f, report__overhead_note(p, note, sizeof(note)));
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputs(",\"gil\":", f);
	write_gil(f, p);
	fputs(",\"locks\":[", f);
	for (size_t i = 0; i < p->nlocks; i++) {
		if (!report__lock_included(&p->locks[i], o))
			continue;
		if (!first)
			fputs(",\n", f);
		first = false;
		write_lock(f, &t, &p->locks[i], p->full.measured);
	}
	/* Frames as a flat [function, file, line, ...] over the strings. */
	fputs("],\n\"frames\":[", f);
	for (size_t i = 0; i < t.frames.n; i++)
		fprintf(f, "%s%u,%u,%d", i ? "," : "", t.frames.frames[i].fn,
			t.frames.frames[i].file, t.frames.frames[i].line);
	fputs("],\n\"strings\":[", f);
	for (size_t i = 0; i < t.strs.n; i++) {
		if (i)
			fputc(',', f);
		json__write_string(f, t.strs.strs[i]);
	}
	fputs("]}", f);
	err = t.err;
	strtab__free(&t.strs);
	frametab__free(&t.frames);
	return err;
}

/* Writes JSON text for an HTML <script> element: '<', '>' and '&' only occur inside JSON strings,
 * where \u escapes mean the same, so no "</script>" or "<!--" can end or change the element. */
static void write_script_safe(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '<':
			fputs("\\u003c", f);
			break;
		case '>':
			fputs("\\u003e", f);
			break;
		case '&':
			fputs("\\u0026", f);
			break;
		default:
			fputc(s[i], f);
		}
	}
}

int report_html__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o)
{
	size_t page_len = (size_t)(lp_html_page_end - lp_html_page), n = 0;
	const char *mark = memmem(lp_html_page, page_len, DATA_MARK, strlen(DATA_MARK));
	char *data = NULL;
	FILE *m;
	int err;

	if (!mark)
		return -EINVAL; /* a build whose page lost its data mark */
	m = open_memstream(&data, &n);
	if (!m)
		return -errno;
	err = write_data(m, p, o);
	if (fclose(m) && !err)
		err = -ENOMEM;
	if (!err) {
		fwrite(lp_html_page, 1, (size_t)(mark - lp_html_page), f);
		write_script_safe(f, data, n);
		fputs(mark + strlen(DATA_MARK), f);
	}
	free(data);
	if (err)
		return err;
	return ferror(f) ? -EIO : 0;
}
