// SPDX-License-Identifier: GPL-2.0
/* lockprof serve's pure parts: request routing (bounded seconds, methods, paths), label escaping,
 * and the store behind /metrics and the pprof endpoints: totals across spans, the series cap and
 * its "other" series, series that stay exposed, delta snapshots, retained exited processes, the
 * stack cap; and the exposition text itself. */
#include <stdlib.h>

#include "serve/metrics.h"
#include "serve/route.h"
#include "serve/store.h"
#include "testing.h"

static struct lp_route route(const char *method, const char *path, const char *key,
			     const char *value)
{
	struct lp_query_arg arg = { key, value };
	struct lp_route r;

	route__parse(method, path, &arg, key ? 1 : 0, &r);
	return r;
}

static void test_route(void)
{
	struct lp_route r;
	char longpath[LP_ROUTE_MAX_PATH + 10];

	r = route("GET", "/metrics", NULL, NULL);
	CHECK_EQ_INT(r.endpoint, LP_EP_METRICS, "GET /metrics");
	r = route("HEAD", "/debug/pprof/mutex", NULL, NULL);
	CHECK(r.endpoint == LP_EP_MUTEX && r.head && !r.seconds, "HEAD mutex: %d", r.endpoint);
	r = route("GET", "/debug/pprof/", NULL, NULL);
	CHECK_EQ_INT(r.endpoint, LP_EP_INDEX, "index");
	r = route("GET", "/debug/pprof/mutex", "seconds", "30");
	CHECK(r.endpoint == LP_EP_MUTEX && r.seconds == 30, "seconds=30: %u", r.seconds);
	r = route("GET", "/debug/pprof/gil", "seconds", "300");
	CHECK_EQ_INT(r.seconds, 300, "seconds at the bound");
	r = route("GET", "/debug/pprof/mutex", "gc", "1");
	CHECK_EQ_INT(r.endpoint, LP_EP_MUTEX, "unknown argument ignored");
	r = route("GET", "/debug/pprof/mutex", "debug", "0");
	CHECK_EQ_INT(r.endpoint, LP_EP_MUTEX, "debug=0");
	/* refusals */
	r = route("POST", "/metrics", NULL, NULL);
	CHECK(r.endpoint == LP_EP_NONE && r.status == 405, "POST: %d", r.status);
	r = route("DELETE", "/debug/pprof/mutex", NULL, NULL);
	CHECK_EQ_INT(r.status, 405, "DELETE");
	r = route("GET", "/nope", NULL, NULL);
	CHECK_EQ_INT(r.status, 404, "unknown path");
	r = route("GET", "/debug/pprof/heap", NULL, NULL);
	CHECK_EQ_INT(r.status, 404, "a Go profile lockprof has not");
	static const char *const bad_seconds[] = {
		"abc", "0", "301", "-1", "1.5", " 5", "5s", "", "99999999999999", NULL
	};
	for (int i = 0; bad_seconds[i]; i++) {
		r = route("GET", "/debug/pprof/mutex", "seconds", bad_seconds[i]);
		CHECK(r.endpoint == LP_EP_NONE && r.status == 400 && strstr(r.error, "seconds"),
		      "seconds=%s: status %d, %s", bad_seconds[i], r.status, r.error);
	}
	r = route("GET", "/debug/pprof/mutex", "seconds", NULL);
	CHECK_EQ_INT(r.status, 400, "seconds without a value");
	r = route("GET", "/debug/pprof/mutex", "debug", "1");
	CHECK_EQ_INT(r.status, 400, "debug=1 (text format) refused");
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	r = route("GET", longpath, NULL, NULL);
	CHECK_EQ_INT(r.status, 404, "long path");
	r = route(NULL, NULL, NULL, NULL);
	CHECK_EQ_INT(r.status, 405, "no method");
	CHECK_EQ_STR(route__path(LP_EP_MUTEX), "/debug/pprof/mutex", "path of mutex");
}

static void test_escape(void)
{
	char out[64];

	metrics__escape("self._lock", out, sizeof(out));
	CHECK_EQ_STR(out, "self._lock", "plain");
	metrics__escape("a\"b\\c\nd", out, sizeof(out));
	CHECK_EQ_STR(out, "a\\\"b\\\\c\\nd", "quote, backslash, newline");
	metrics__escape("caf\xc3\xa9", out, sizeof(out));
	CHECK_EQ_STR(out, "caf\xc3\xa9", "UTF-8 kept");
	metrics__escape("x\xff\xc3y", out, sizeof(out));
	CHECK_EQ_STR(out, "x??y", "invalid UTF-8 replaced");
	metrics__escape("\"\"\"\"", out, 6);
	CHECK_EQ_STR(out, "\\\"\\\"", "cut between escapes, never inside one");
	metrics__escape("\xc3\xa9\xc3\xa9", out, 4);
	CHECK_EQ_STR(out, "\xc3\xa9", "cut between UTF-8 sequences");
}

/* A profile of one span: locks named by `names` (NULL name: unnamed), each with one waiter
 * stack of id 100 + i, waits[i] waits of 1 ms... */
struct fake {
	struct lp_profile p;
	struct lp_lock locks[8];
	struct lp_lock_stack stacks[8];
	struct lp_stack_sym *syms[8];
};

static struct lp_stack_sym *sym(uint64_t id, const char *function, int line)
{
	struct lp_stack_sym *st = calloc(1, sizeof(*st) + sizeof(st->frames[0]));

	st->id = id;
	st->depth = 1;
	st->frames[0].function = function;
	st->frames[0].file = "/srv/app.py";
	st->frames[0].line = line;
	return st;
}

static void fake_span(struct fake *f, size_t n, const char *const *names, const uint64_t *waits,
		      uint64_t stack_base)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->p.python, sizeof(f->p.python), "3.12.1");
	f->p.counters.probe_hits = 10;
	f->p.counters.lost_events = 1;
	f->p.nlocks = n;
	f->p.locks = f->locks;
	for (size_t i = 0; i < n; i++) {
		struct lp_lock *l = &f->locks[i];
		struct lp_lock_stack *ls = &f->stacks[i];

		f->syms[i] = sym(stack_base + i, "work", (int)(10 + i));
		snprintf(l->name, sizeof(l->name), "%s", names[i]);
		l->id = 0x1000 + i;
		l->category = LP_CATEGORY_CONTENTION;
		l->waits = waits[i];
		l->wait_ns = waits[i] * 1000000;
		l->hist[19] = waits[i]; /* 2^19 ns .. 2^20 ns: about 1 ms */
		ls->stack = f->syms[i];
		ls->stack_id = f->syms[i]->id;
		ls->role = LP_ROLE_WAITER;
		ls->count = waits[i];
		ls->wait_ns = waits[i] * 1000000;
		l->stacks = ls;
		l->nstacks = 1;
	}
}

static void fake_free(struct fake *f)
{
	for (size_t i = 0; i < f->p.nlocks; i++)
		free(f->syms[i]);
}

static const struct lp_store_series *series(const struct lp_store_proc *p, const char *lock)
{
	for (size_t i = 0; i < p->nseries; i++)
		if (!strcmp(p->series[i].lock, lock))
			return &p->series[i];
	return NULL;
}

static char *metrics_text(const struct lp_store *s, bool hold)
{
	struct lp_metrics_info info = { .gil = true, .hold = hold };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK_EQ_INT(metrics__write(f, s, &info), 0, "metrics__write");
	fclose(f);
	return text;
}

static void test_store(void)
{
	static const char *const names1[] = { "a_lock", "b_lock", "c_lock" };
	static const char *const names2[] = { "c_lock", "d_lock" };
	static const uint64_t waits1[] = { 5, 3, 2 }, waits2[] = { 4, 7 };
	struct lp_store_snapshot snap;
	const struct lp_store_series *se;
	struct lp_store_proc *p;
	struct lp_store s;
	struct fake f;
	uint64_t v[2];
	char *text;

	CHECK_EQ_INT(store__init(&s, 2, 60.0, 0, 0), 0, "init");
	fake_span(&f, 3, names1, waits1, 100);
	CHECK_EQ_INT(store__add_profile(&s, 42, "gunicorn \"w\"", &f.p, false), 0, "add span 1");
	fake_free(&f);
	p = store__proc(&s, 42);
	CHECK(p != NULL, "process 42 kept");
	if (!p)
		return;
	CHECK_EQ_INT(p->nseries, 3, "two series and other");
	se = series(p, "a_lock");
	CHECK(se && se->waits == 5 && se->wait_ns == 5000000, "a_lock totals");
	se = series(p, LP_STORE_OTHER);
	CHECK(se && se->waits == 2, "c_lock past the cap: in other");
	CHECK_EQ_INT(s.series_overflow_waits, 2, "overflow counted");

	CHECK_EQ_INT(store__snapshot(&s, 1000, 2000, &snap), 0, "snapshot");
	fake_span(&f, 2, names2, waits2, 200);
	CHECK_EQ_INT(store__add_profile(&s, 42, "gunicorn \"w\"", &f.p, false), 0, "add span 2");
	fake_free(&f);
	CHECK_EQ_INT(p->nseries, 3, "no new series past the cap");
	se = series(p, "a_lock");
	CHECK(se && se->waits == 5, "a_lock, absent from span 2, still exposed at its total");
	se = series(p, LP_STORE_OTHER);
	CHECK(se && se->waits == 2 + 4 + 7, "c_lock and d_lock in other: %" PRIu64,
	      se ? se->waits : 0);
	CHECK_EQ_INT(p->health.probe_hits, 20, "probe hits summed");
	CHECK_EQ_INT(p->health.lost_events, 2, "lost events summed");
	/* The delta: samples of span 1 subtract, span 2's came later (whole). */
	for (size_t i = 0; i < p->nsamples; i++) {
		store__snapshot_values(&snap, p, i, v);
		if (p->samples[i].stack_id < 200)
			CHECK(v[0] == p->samples[i].count, "span 1 sample %zu in the snapshot", i);
		else
			CHECK(v[0] == 0 && v[1] == 0, "span 2 sample %zu after the snapshot", i);
	}
	CHECK(store__stack(&s, p, 100) && store__stack(&s, p, 100)->frames[0].line == 10,
	      "stack 100 copied");
	store__snapshot_free(&snap);

	text = metrics_text(&s, false);
	CHECK(strstr(text, "# TYPE lockprof_lock_waits_total counter\n") != NULL, "TYPE line");
	CHECK(!strstr(text, "lockprof_lock_hold_seconds_total") &&
		      !strstr(text, "lockprof_lock_acquisitions_total"),
	      "no hold families without -m full");
	CHECK(strstr(text,
		     "lockprof_lock_waits_total{pid=\"42\",comm=\"gunicorn \\\"w\\\"\","
		     "lock=\"a_lock\",site=\"srv/app.py:10\",kind=\"contention\"} 5\n") != NULL,
	      "a_lock's counter, comm escaped:\n%s", text);
	CHECK(strstr(text, "lockprof_lock_wait_seconds_total{pid=\"42\",comm=\"gunicorn "
			   "\\\"w\\\"\",lock=\"other\",site=\"\",kind=\"contention\"} "
			   "0.013000000\n") != NULL,
	      "other's seconds, exact");
	CHECK(strstr(text,
		     "lockprof_lock_wait_duration_seconds_bucket{pid=\"42\",comm=\"gunicorn "
		     "\\\"w\\\"\",lock=\"a_lock\",site=\"srv/app.py:10\",kind=\"contention\",le="
		     "\"0.000524288\"} 0\n") != NULL,
	      "below 2^19 ns: none");
	CHECK(strstr(text, "kind=\"contention\",le=\"0.004194304\"} 5\n") != NULL,
	      "below 2^22 ns: all five of a_lock");
	CHECK(strstr(text, "kind=\"contention\",le=\"+Inf\"} 5\n") != NULL, "+Inf");
	CHECK(strstr(text, "lockprof_gil_wait_seconds_total{pid=\"42\",comm=\"gunicorn "
			   "\\\"w\\\"\"} 0.000000000\n") != NULL,
	      "GIL family per process");
	CHECK(strstr(text, "lockprof_series_overflow_waits_total 13\n") != NULL, "overflow");
	free(text);
	/* -m full: the hold families, each with its own type and value. */
	se = series(p, "a_lock");
	((struct lp_store_series *)se)->hold_count = 17;
	((struct lp_store_series *)se)->hold_ns = 2500000000ULL;
	text = metrics_text(&s, true);
	CHECK(strstr(text, "# TYPE lockprof_lock_acquisitions_total counter\n") &&
		      strstr(text, "lockprof_lock_acquisitions_total{pid=\"42\",comm=\"gunicorn "
				   "\\\"w\\\"\",lock=\"a_lock\",site=\"srv/app.py:10\","
				   "kind=\"contention\"} 17\n"),
	      "acquisitions of a_lock:\n%s", text);
	CHECK(strstr(text, "lockprof_lock_hold_seconds_total{pid=\"42\",comm=\"gunicorn "
			   "\\\"w\\\"\",lock=\"a_lock\",site=\"srv/app.py:10\","
			   "kind=\"contention\"} 2.500000000\n") != NULL,
	      "hold seconds of a_lock");
	free(text);

	/* Exited: kept retain_s, then dropped; a new process may reuse the pid meanwhile. */
	store__process_exited(&s, 42, 10 * 1000000000ULL);
	CHECK(store__proc(&s, 42) == NULL, "no live 42 after exit");
	store__expire(&s, 69 * 1000000000ULL);
	CHECK_EQ_INT(s.nprocs, 1, "kept within --retain-exited");
	fake_span(&f, 1, names1, waits1, 300);
	store__add_profile(&s, 42, "new", &f.p, false);
	fake_free(&f);
	CHECK_EQ_INT(s.nprocs, 2, "the reused pid is a new process");
	CHECK(s.procs[0]->serial != s.procs[1]->serial, "told apart by serial");
	store__expire(&s, 70 * 1000000000ULL);
	CHECK_EQ_INT(s.nprocs, 1, "dropped after --retain-exited");
	CHECK_EQ_INT(s.procs_dropped, 1, "drop counted");
	CHECK_EQ_STR(s.procs[0]->comm, "new", "the live one stays");
	store__free(&s);
}

/* Stacks past LP_STORE_MAX_SAMPLES go to "<other stacks>", counted. */
static void test_stack_cap(void)
{
	static const char *const names[] = { "hot" };
	static const uint64_t waits[] = { 1 };
	struct lp_store s;
	struct lp_store_proc *p;
	struct fake f;
	uint64_t total = 0;

	store__init(&s, 10, 60.0, 0, 0);
	for (uint64_t i = 0; i < LP_STORE_MAX_SAMPLES + 50; i++) {
		fake_span(&f, 1, names, waits, 1000 + i);
		store__add_profile(&s, 7, "py", &f.p, false);
		fake_free(&f);
	}
	p = store__proc(&s, 7);
	CHECK(p && p->nsamples == LP_STORE_MAX_SAMPLES + 1, "capped: %zu", p ? p->nsamples : 0);
	CHECK_EQ_INT(s.samples_evicted, 50, "evictions counted");
	for (size_t i = 0; p && i < p->nsamples; i++)
		total += p->samples[i].count;
	CHECK_EQ_INT(total, LP_STORE_MAX_SAMPLES + 50, "no wait lost to the cap");
	CHECK(p && store__stack(&s, p, 0) &&
		      !strcmp(store__stack(&s, p, 0)->frames[0].function, "<other stacks>"),
	      "the other stacks' frame");
	store__free(&s);
}

int main(void)
{
	test_route();
	test_escape();
	test_store();
	test_stack_cap();
	return testing_summary("serve_metrics");
}
