// SPDX-License-Identifier: GPL-2.0
/* The top face: the engine's stages as the profile face runs them, but a profile of every span
 * (1 s, or -i) shown at once instead of written: per lock the waits/s, the share of wall time
 * waited, average and max wait, the top waiting function and the top holder. Full-screen with
 * ncurses when stdout is a terminal (keys: q quit, p pause, s sort, arrows and Enter expand a
 * lock to its stacks); plain tables, one per span, when it is not. */
#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "faces/faces.h"
#include "profile/annotate.h"
#include "report/render.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stopsignal.h"
#include "util/units.h"

#define STALE_SPANS 10	/* a lock without waits stays listed (at zero) this many spans */
#define EXPAND_STACKS 3 /* waiting stacks shown under an expanded lock */
#define EXPAND_FRAMES 8 /* frames of each */
#define EXPAND_LINES 48
#define TEXT 192
#define PLAIN_COLS 200 /* plain tables' layout width: read by people and scripts, not cut */

enum top_sort { SORT_RATE, SORT_SHARE, SORT_AVG, SORT_MAX, SORT_COUNT_ };

static const char *const sort_names[SORT_COUNT_] = { "waits/s", "wait %", "avg", "max" };

/* A row is a lock across spans: by address (and generation); waits for a signal by their site,
 * since each of them waits on a fresh lock (profile.h) and only the site stays the same. */
#define KEY 48

struct top_row {
	char key[KEY];
	char label[TEXT];
	double rate, share; /* waits/s; share of the span's wall time waited (per thread summed) */
	uint64_t waits, wait_ns, max_ns;
	char waiter[TEXT], holder[TEXT];
	char (*lines)[TEXT]; /* the expanded view: top waiting stacks and the top holder */
	int nlines;
	int stale; /* spans since its last wait */
};

struct top_view {
	struct top_row *rows;
	size_t n, cap;
	enum top_sort sort;
	bool paused, curses;
	size_t sel;	       /* selected row (curses) */
	char exp_key[KEY];     /* the expanded lock's key, or "" */
	char title[TEXT * 2];  /* pid, CPython, mode */
	char status[TEXT * 2]; /* the last span: when, how long, overhead, lost */
	char gil[TEXT * 2];    /* -m gil: the GIL's line, else "" */
	uint64_t spans;
};

static bool quit_key; /* q, not a signal */

/* The first frame outside threading/queue: the code's own line, not Condition.wait's. */
static const struct lp_frame_sym *code_frame(const struct lp_stack_sym *st)
{
	if (!st || !st->depth)
		return NULL;
	for (uint32_t i = 0; i < st->depth; i++)
		if (!annotate__is_threading_file(st->frames[i].file))
			return &st->frames[i];
	return &st->frames[0];
}

static void frame_text(const struct lp_frame_sym *fr, char *buf, size_t len)
{
	if (fr)
		snprintf(buf, len, "%s (%s:%d)", fr->function, report__short_path(fr->file),
			 fr->line);
	else
		snprintf(buf, len, "-");
}

static void lock_label(const struct lp_lock *lock, char *buf, size_t len)
{
	const struct lp_frame_sym *at = lock->created_at ? lock->created_at
							 : profile__lock_site(lock);
	char id[32];

	if (profile__is_signal_category(lock->category) && lock->site)
		at = lock->site;
	/* The name first: a narrow column cuts the path, not the name. */
	if (at)
		snprintf(buf, len, "%s (%s:%d)", report__lock_name(lock, id, sizeof(id)),
			 report__short_path(at->file), at->line);
	else
		snprintf(buf, len, "lock %s", report__lock_name(lock, id, sizeof(id)));
}

static void add_line(struct top_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_line(struct top_row *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nlines >= EXPAND_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(r->lines[r->nlines++], TEXT, fmt, ap);
	va_end(ap);
}

static void add_stack_lines(struct top_row *r, const struct lp_lock_stack *ls, uint64_t total,
			    const char *what)
{
	char d[32];

	add_line(r, "%5.1f%%  %s, %s in %" PRIu64 " %s:", total ? 100.0 * ls->wait_ns / total : 0,
		 what, units__duration(ls->wait_ns, d, sizeof(d)), ls->count,
		 ls->role == LP_ROLE_WAITER ? "waits" : "waits ended");
	if (!ls->stack) {
		add_line(r, "          <stack lost>");
		return;
	}
	for (uint32_t i = 0; i < ls->stack->depth && i < EXPAND_FRAMES; i++)
		add_line(r, "          %s:%d  %s", report__short_path(ls->stack->frames[i].file),
			 ls->stack->frames[i].line, ls->stack->frames[i].function);
	if (ls->stack->depth > EXPAND_FRAMES || ls->stack->truncated)
		add_line(r, "          ...");
}

/* The row's figures and expanded lines from this span's lock. */
static int fill_row(struct top_row *r, const struct lp_lock *lock, double span_s)
{
	const struct lp_lock_stack *h = profile__top_stack(lock, LP_ROLE_HOLDER);
	const struct lp_lock_stack *w = profile__top_stack(lock, LP_ROLE_WAITER);
	int shown = 0;

	lock_label(lock, r->label, sizeof(r->label));
	r->waits = lock->waits;
	r->wait_ns = lock->wait_ns;
	r->max_ns = lock->max_ns;
	r->rate = span_s > 0 ? lock->waits / span_s : 0;
	r->share = span_s > 0 ? lock->wait_ns / (span_s * 1e9) : 0;
	frame_text(w ? code_frame(w->stack) : profile__lock_site(lock), r->waiter,
		   sizeof(r->waiter));
	frame_text(h ? code_frame(h->stack) : NULL, r->holder, sizeof(r->holder));
	r->stale = 0;
	if (!r->lines && !(r->lines = calloc(EXPAND_LINES, TEXT)))
		return -ENOMEM;
	r->nlines = 0;
	for (size_t s = 0; s < lock->nstacks && shown < EXPAND_STACKS; s++)
		if (lock->stacks[s].role == LP_ROLE_WAITER) {
			add_stack_lines(r, &lock->stacks[s], lock->wait_ns, "waiting");
			shown++;
		}
	if (h)
		add_stack_lines(r, h, lock->wait_ns, "top holder");
	return 0;
}

static double sort_value(const struct top_row *r, enum top_sort key)
{
	switch (key) {
	case SORT_SHARE:
		return r->share;
	case SORT_AVG:
		return r->waits ? (double)r->wait_ns / r->waits : 0;
	case SORT_MAX:
		return (double)r->max_ns;
	default:
		return r->rate;
	}
}

static enum top_sort sort_key;

static int cmp_rows(const void *a, const void *b)
{
	double x = sort_value(a, sort_key), y = sort_value(b, sort_key);

	if (x != y)
		return x < y ? 1 : -1;
	return strcmp(((const struct top_row *)a)->label, ((const struct top_row *)b)->label);
}

static void sort_rows(struct top_view *v)
{
	char sel[KEY] = "";

	if (v->sel < v->n)
		memcpy(sel, v->rows[v->sel].key, KEY);
	sort_key = v->sort;
	qsort(v->rows, v->n, sizeof(*v->rows), cmp_rows);
	/* The selection follows its lock, not its position. */
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->rows[i].key, sel))
			v->sel = i;
	if (v->sel >= v->n)
		v->sel = v->n ? v->n - 1 : 0;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static void row_key(const struct lp_lock *lock, char *key)
{
	const struct lp_frame_sym *s = lock->site;

	if (profile__is_signal_category(lock->category) && s)
		snprintf(key, KEY, "s%d:%016" PRIx64 ":%d", (int)lock->category,
			 hash_str(hash_str(0xcbf29ce484222325ULL, s->function), s->file), s->line);
	else
		snprintf(key, KEY, "l%" PRIx64 ".%u", lock->id, lock->generation);
}

static struct top_row *find_row(struct top_view *v, const struct lp_lock *lock)
{
	char key[KEY];

	row_key(lock, key);
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->rows[i].key, key))
			return &v->rows[i];
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct top_row *rows = realloc(v->rows, cap * sizeof(*rows));

		if (!rows)
			return NULL;
		v->rows = rows;
		v->cap = cap;
	}
	memset(&v->rows[v->n], 0, sizeof(v->rows[v->n]));
	memcpy(v->rows[v->n].key, key, KEY);
	return &v->rows[v->n++];
}

/* The view after one span's profile: its locks' rows refreshed, locks without waits at zero
 * until they go stale. Idle waits (run loops, joins) are not contention and stay out unless
 * --show-idle. */
static int update_view(struct top_view *v, const struct lp_profile *p, const struct lp_opts *opts)
{
	double span_s = p->duration_ns / 1e9;
	char d1[32], d2[32];
	size_t keep = 0;

	for (size_t i = 0; i < v->n; i++) {
		struct top_row *r = &v->rows[i];

		r->rate = r->share = 0;
		r->waits = r->wait_ns = r->max_ns = 0;
		r->stale++;
	}
	for (size_t i = 0; i < p->nlocks; i++) {
		const struct lp_lock *lock = &p->locks[i];
		struct top_row *r;

		if (!report__lock_included(lock, &opts->report) || !lock->waits)
			continue;
		r = find_row(v, lock);
		if (!r || fill_row(r, lock, span_s))
			return -ENOMEM;
	}
	for (size_t i = 0; i < v->n; i++) {
		if (v->rows[i].stale > STALE_SPANS) {
			free(v->rows[i].lines);
			continue;
		}
		v->rows[keep++] = v->rows[i];
	}
	v->n = keep;
	sort_rows(v);

	if (p->gil_measured) {
		const struct lp_gil_thread *g = p->ngil_threads ? &p->gil_threads[0] : NULL;
		const char *name = g ? threadnames__get(p->thread_names, g->tid) : NULL;

		snprintf(
			v->gil, sizeof(v->gil),
			"GIL: %.0f waits/s, %.1f%% of wall time waited (all threads), avg %s; most "
			"waiting thread: %s%u %s",
			span_s > 0 ? p->gil_waits / span_s : 0,
			span_s > 0 ? 100.0 * p->gil_wait_ns / (span_s * 1e9) : 0,
			units__duration(p->gil_waits ? p->gil_wait_ns / p->gil_waits : 0, d1,
					sizeof(d1)),
			g ? "" : "-", g ? g->tid : 0, name ? name : "");
		if (!g)
			snprintf(v->gil, sizeof(v->gil), "GIL: no waits");
	}
	snprintf(v->status, sizeof(v->status),
		 "span %s, %" PRIu64
		 " contended waits, %s waited; overhead %.2f%% of a CPU; lost %" PRIu64 " events",
		 units__duration(p->duration_ns, d1, sizeof(d1)), p->total_waits,
		 units__duration(p->total_wait_ns, d2, sizeof(d2)),
		 p->overhead.measured ? p->overhead.estimated_pct : 0.0,
		 (uint64_t)p->counters.lost_events);
	v->spans++;
	return 0;
}

#define NUM_COLS 41 /* the four figures' columns and their gaps */

/* The text columns' widths for a screen `cols` wide: the lock gets the most, the holder the
 * rest (at least 30 each for a narrow terminal). */
static void widths(int cols, int *lock, int *waiter)
{
	int text = cols - NUM_COLS - 4;

	*lock = text * 2 / 5 > 30 ? text * 2 / 5 : 30;
	*waiter = text * 3 / 10 > 30 ? text * 3 / 10 : 30;
}

static void row_text(const struct top_row *r, int cols, char *buf, size_t len)
{
	char avg[32], max[32];
	int lw, ww;

	widths(cols, &lw, &ww);
	units__duration(r->waits ? r->wait_ns / r->waits : 0, avg, sizeof(avg));
	units__duration(r->max_ns, max, sizeof(max));
	snprintf(buf, len, "%9.1f %7.1f%% %9s %9s  %-*.*s %-*.*s %s", r->rate, 100 * r->share, avg,
		 max, lw, lw, r->label, ww, ww, r->waiter, r->holder);
}

static void header_text(int cols, char *buf, size_t len)
{
	int lw, ww;

	widths(cols, &lw, &ww);
	snprintf(buf, len, "  WAITS/S  WAIT %%       AVG       MAX  %-*s %-*s %s", lw, "LOCK", ww,
		 "TOP WAITING FUNCTION", "TOP HOLDER");
}

/* Not a terminal: one plain table per span, like top -b. */
static void print_plain(const struct top_view *v)
{
	char line[1024], when[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&now, &tm));
	printf("lockprof top %s: %s; %s; sort %s\n", when, v->title, v->status,
	       sort_names[v->sort]);
	if (v->gil[0])
		printf("%s\n", v->gil);
	header_text(PLAIN_COLS, line, sizeof(line));
	printf("%s\n", line);
	for (size_t i = 0; i < v->n; i++) {
		row_text(&v->rows[i], PLAIN_COLS, line, sizeof(line));
		printf("%s\n", line);
	}
	if (!v->n)
		printf("  (no lock waits yet)\n");
	printf("\n");
	fflush(stdout);
}

static void draw(const struct top_view *v)
{
	char line[1024];
	int y = 0, rows = LINES;

	erase();
	attron(A_BOLD);
	mvprintw(y++, 0, "lockprof top: %.*s", COLS - 14, v->title);
	attroff(A_BOLD);
	mvprintw(y++, 0, "%.*s%s", COLS - 12, v->status, v->paused ? "  [PAUSED]" : "");
	if (v->gil[0])
		mvprintw(y++, 0, "%.*s", COLS, v->gil);
	y++;
	attron(A_REVERSE);
	header_text(COLS, line, sizeof(line));
	mvprintw(y++, 0, "%-*.*s", COLS, COLS, line);
	attroff(A_REVERSE);
	for (size_t i = 0; i < v->n && y < rows - 1; i++) {
		const struct top_row *r = &v->rows[i];
		bool expanded = !strcmp(r->key, v->exp_key);

		row_text(r, COLS, line, sizeof(line));
		if (i == v->sel)
			attron(A_REVERSE);
		if (r->stale)
			attron(A_DIM);
		mvprintw(y++, 0, "%c%-*.*s", expanded ? '-' : '+', COLS - 1, COLS - 1, line + 1);
		attroff(A_REVERSE | A_DIM);
		for (int l = 0; expanded && l < r->nlines && y < rows - 1; l++)
			mvprintw(y++, 0, "    %.*s", COLS - 4, r->lines[l]);
	}
	if (!v->n && y < rows - 1)
		mvprintw(y++, 0, "  (no lock waits yet)");
	attron(A_REVERSE);
	mvprintw(rows - 1, 0, "%-*.*s", COLS, COLS,
		 "q quit  p pause  s sort  Up/Down select  Enter expand");
	mvprintw(rows - 1, 58, "sort: %s ", sort_names[v->sort]);
	attroff(A_REVERSE);
	refresh();
}

/* Handles the keys typed since the last look; true when the screen must be drawn again. */
static bool handle_keys(struct top_view *v)
{
	bool redraw = false;
	int ch;

	while ((ch = getch()) != ERR) {
		redraw = true;
		switch (ch) {
		case 'q':
		case 'Q':
			stop_signals__request();
			quit_key = true;
			break;
		case 'p':
		case ' ':
			v->paused = !v->paused;
			break;
		case 's':
		case '>':
			v->sort = (v->sort + 1) % SORT_COUNT_;
			sort_rows(v);
			break;
		case '<':
			v->sort = (v->sort + SORT_COUNT_ - 1) % SORT_COUNT_;
			sort_rows(v);
			break;
		case KEY_UP:
		case 'k':
			if (v->sel > 0)
				v->sel--;
			break;
		case KEY_DOWN:
		case 'j':
			if (v->sel + 1 < v->n)
				v->sel++;
			break;
		case '\n':
		case '\r':
		case KEY_ENTER:
		case KEY_RIGHT:
		case KEY_LEFT:
			if (v->sel >= v->n)
				break;
			if (!strcmp(v->exp_key, v->rows[v->sel].key))
				v->exp_key[0] = '\0';
			else if (ch != KEY_LEFT)
				memcpy(v->exp_key, v->rows[v->sel].key, KEY);
			break;
		default:
			break;
		}
	}
	return redraw;
}

static void free_view(struct top_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->rows[i].lines);
	free(v->rows);
}

static int start_curses(void)
{
	if (!newterm(NULL, stdout, stdin))
		return -1;
	cbreak(); /* not raw: Ctrl-C stays SIGINT, which stops us like q */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	return 0;
}

/* Polls the engine until a signal, q, -d or the target's exit, showing a profile every span. */
static int run(struct lp_engine *e, struct top_view *v, const char **why)
{
	const struct lp_opts *opts = e->opts;
	uint64_t span_ns = (uint64_t)(opts->interval_s * 1e9);
	uint64_t now = e->start_ns, next = now + span_ns;
	uint64_t deadline = opts->duration_s > 0 ? now + (uint64_t)(opts->duration_s * 1e9) : 0;
	int err = 0;

	*why = "signal";
	if (v->curses)
		draw(v);
	while (!stop_signals__requested()) {
		uint64_t wait = next > now ? (next - now + 999999) / 1000000 : 0;

		err = engine__poll(e, wait < 100 ? (int)wait : 100, &now);
		if (err) {
			*why = "error";
			break;
		}
		if (e->target_exited) {
			*why = "target exited";
			break;
		}
		if (deadline && now >= deadline) {
			*why = "duration";
			break;
		}
		if (now >= next) {
			struct lp_profile p;

			next += span_ns;
			if (next <= now) /* a slow draw: skip spans rather than catch up */
				next = now + span_ns;
			if ((err = engine__profile(e, now, false, &p)))
				break;
			/* Paused: spans are still taken (each covers one span), only not shown. */
			if (!v->paused)
				err = update_view(v, &p, opts);
			profile__free(&p);
			if (err) {
				lp_err("top: cannot keep the view: out of memory");
				break;
			}
			if (!v->paused) {
				if (v->curses)
					draw(v);
				else
					print_plain(v);
			}
		}
		if (v->curses && handle_keys(v))
			draw(v);
		if (quit_key)
			*why = "quit";
	}
	return err;
}

/* While the screen is ncurses', a diagnostic would be drawn over it and gone with it: stderr
 * goes to a temporary file meanwhile, copied to the real one once the terminal is restored. */
struct held_stderr {
	int saved; /* the real stderr, or -1 when not held */
	FILE *tmp;
};

static void hold_stderr(struct held_stderr *h)
{
	h->saved = -1;
	h->tmp = tmpfile();
	if (!h->tmp)
		return; /* then diagnostics land on the screen: seen, if briefly */
	fflush(stderr);
	h->saved = dup(STDERR_FILENO);
	if (h->saved >= 0 && dup2(fileno(h->tmp), STDERR_FILENO) < 0) {
		close(h->saved);
		h->saved = -1;
	}
	if (h->saved < 0) {
		fclose(h->tmp);
		h->tmp = NULL;
	}
}

static void release_stderr(struct held_stderr *h)
{
	char buf[4096];
	size_t n;

	if (h->saved < 0)
		return;
	fflush(stderr);
	dup2(h->saved, STDERR_FILENO);
	close(h->saved);
	rewind(h->tmp);
	while ((n = fread(buf, 1, sizeof(buf), h->tmp)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(h->tmp);
	h->saved = -1;
}

int face_top__run(const struct lp_opts *cli)
{
	/* Spans as -i makes them: each profile covers only its span (the collector resets). */
	struct lp_opts top_opts = *cli, *opts = &top_opts;
	struct lp_engine engine;
	struct top_view view = {};
	struct held_stderr held = { .saved = -1 };
	const char *why = "signal";
	int err;

	if (opts->interval_s <= 0)
		opts->interval_s = 1;
	err = engine__discover(&engine, opts);
	if (!err) {
		stop_signals__catch(true);
		err = engine__load(&engine);
	}
	if (!err)
		err = engine__attach(&engine);
	if (!err) {
		snprintf(view.title, sizeof(view.title), "pid %d, CPython %s, mode %s", opts->pid,
			 engine.interp.version_str, opts__mode_name(opts->modes));
		snprintf(view.status, sizeof(view.status), "waiting for the first span");
		/* The banner as the profile face prints it: scripts wait for it. */
		fprintf(stderr, "lockprof: pid %d: CPython %s (%s), mode %s. top: q quits.\n",
			opts->pid, engine.interp.version_str, engine.target.interp.path,
			opts__mode_name(opts->modes));
		view.curses = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
		if (view.curses && start_curses()) {
			lp_warn("top: cannot drive the terminal (TERM=%s): plain tables instead",
				getenv("TERM") ? getenv("TERM") : "unset");
			view.curses = false;
		}
		if (view.curses)
			hold_stderr(&held);
		err = run(&engine, &view, &why);
		if (view.curses) {
			endwin(); /* the terminal as it was, before anything else is printed */
			release_stderr(&held);
		}
		engine__detach(&engine, clock__monotonic_ns());
		lp_info("stopped: %s", why);
		if (!strcmp(why, "target exited"))
			fprintf(stderr, "lockprof: pid %d exited\n", opts->pid);
	}
	engine__close(&engine);
	free_view(&view);
	return err;
}
