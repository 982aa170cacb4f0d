// SPDX-License-Identifier: GPL-2.0
/* The serve face: always on. The source's probes stay attached; every second the span's profile
 * is folded into the store (serve/store.c), and an HTTP server (serve/http.c) answers from it:
 * /metrics for Prometheus, /debug/pprof/mutex (and lockhold, gil) for go tool pprof, Pyroscope
 * and Parca. One thread: poll() on the server's and BPF's fds, then each does its work. Until
 * SIGTERM/SIGINT (or -d): then the probes go first, pending requests are answered 503, and
 * lockprof exits 0. */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faces/faces.h"
#include "serve/http.h"
#include "serve/metrics.h"
#include "serve/profiles.h"
#include "serve/source.h"
#include "serve/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stopsignal.h"

#define SPAN_NS 1000000000ULL	    /* how often the source is folded into the store */
#define MIN_REFRESH_NS 50000000ULL  /* a request folds first, unless a fold is this recent */
#define WAKE_MS 100		    /* the loop's longest sleep: -m full's duty cycle, the budget */
#define DRAIN_NS 2000000000ULL	    /* at exit, time given to the responses in flight */
#define MMAP_THRESHOLD (128 * 1024) /* glibc's default, kept fixed (see keep_heap_flat) */

/* Every process attached loads a BPF object (several MB of transient buffers: BTF, relocations)
 * and every scrape encodes a response. glibc raises its mmap threshold to the largest block freed,
 * after which such buffers come from the heap, and the heap, pinned by small live blocks, never
 * shrinks: measured, RSS grew 30 kB/s under process churn with no leak (LeakSanitizer: none).
 * A fixed threshold keeps large blocks in their own mappings, returned when freed. */
static void keep_heap_flat(void)
{
	if (!mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
		lp_info("mallopt(M_MMAP_THRESHOLD) failed: RSS may creep under process churn");
}

struct server {
	const struct lp_opts *opts;
	struct lp_source *src;
	struct lp_store store;
	struct lp_http *http;
	uint64_t last_fold_ns;
	uint64_t errors;
};

static uint64_t unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Folds the span so far into the store, unless that was just done. */
static void refresh(struct server *srv, bool force)
{
	uint64_t now = clock__monotonic_ns();

	if (!force && now - srv->last_fold_ns < MIN_REFRESH_NS)
		return;
	if (source__collect(srv->src, now, &srv->store))
		srv->errors++;
	store__expire(&srv->store, now);
	srv->last_fold_ns = now;
}

static void text_body(struct lp_http_body *out, int status, const char *text)
{
	out->status = status;
	out->content_type = status == 200 && text[0] == '<' ? "text/html; charset=utf-8"
							    : "text/plain; charset=utf-8";
	out->data = strdup(text);
	out->len = out->data ? strlen(out->data) : 0;
}

static const char index_page[] =
	"<html><head><title>lockprof</title></head><body>\n"
	"<h1>lockprof serve</h1>\n"
	"<p>Lock contention of the CPython processes profiled, since lockprof started "
	"(profiles take ?seconds=N for the next N seconds only).</p>\n<ul>\n"
	"<li><a href=\"/metrics\">/metrics</a>: Prometheus text format</li>\n"
	"<li><a href=\"/debug/pprof/mutex\">/debug/pprof/mutex</a>: waits for locks "
	"(contentions, delay), as Go's mutex profile</li>\n"
	"<li><a href=\"/debug/pprof/lockhold\">/debug/pprof/lockhold</a>: hold times "
	"(acquisitions, hold; -m full)</li>\n"
	"<li><a href=\"/debug/pprof/gil\">/debug/pprof/gil</a>: waits for the GIL "
	"(-m gil)</li>\n</ul></body></html>\n";

static void render(void *ctx, const struct lp_route *r, void *delta, struct lp_http_body *out)
{
	static const char *const files[] = {
		[LP_STORE_MUTEX] = "mutex", [LP_STORE_LOCKHOLD] = "lockhold", [LP_STORE_GIL] = "gil"
	};
	struct server *srv = ctx;
	enum lp_store_profile which;
	struct lp_metrics_info info = {
		.gil = srv->opts->modes & LP_MODE_GIL,
		.hold = srv->opts->modes & LP_MODE_FULL,
	};
	FILE *f;
	int err;

	switch (r->endpoint) {
	case LP_EP_ROOT:
	case LP_EP_INDEX:
		text_body(out, 200, index_page);
		return;
	case LP_EP_MUTEX:
		which = LP_STORE_MUTEX;
		break;
	case LP_EP_LOCKHOLD:
		which = LP_STORE_LOCKHOLD;
		if (!(srv->opts->modes & LP_MODE_FULL)) {
			text_body(out, 404,
				  "lockprof: hold times are measured under -m full only\n");
			return;
		}
		break;
	case LP_EP_GIL:
		which = LP_STORE_GIL;
		if (!(srv->opts->modes & LP_MODE_GIL)) {
			text_body(out, 404, "lockprof: GIL waits are measured under -m gil only\n");
			return;
		}
		break;
	case LP_EP_METRICS:
		which = LP_STORE_PROFILES;
		break;
	default:
		text_body(out, 404, "lockprof: no such path\n");
		return;
	}
	refresh(srv, false);
	f = open_memstream(&out->data, &out->len);
	if (!f) {
		text_body(out, 500, "lockprof: out of memory\n");
		return;
	}
	if (which == LP_STORE_PROFILES) {
		http__counts(srv->http, &info.http_requests, &info.http_refused);
		info.errors = srv->errors;
		source__health(srv->src, &info.procs);
		err = metrics__write(f, &srv->store, &info);
		out->content_type = LP_METRICS_CONTENT_TYPE;
	} else {
		err = profiles__write(f, &srv->store, which, delta, clock__monotonic_ns());
		out->content_type = LP_PPROF_CONTENT_TYPE;
		out->filename = files[which];
	}
	if (fclose(f) || err) {
		srv->errors++;
		free(out->data);
		out->data = NULL;
		lp_warn("failed to render %s: %s", route__path(r->endpoint),
			strerror(err ? -err : errno));
		text_body(out, 500, "lockprof: failed to render the response (see its log)\n");
		return;
	}
	out->status = 200;
}

static void *begin_delta(void *ctx)
{
	struct server *srv = ctx;
	struct lp_store_snapshot *snap = malloc(sizeof(*snap));

	/* What happened before the request must be in the snapshot, not in the delta. */
	refresh(srv, true);
	if (snap && store__snapshot(&srv->store, clock__monotonic_ns(), unix_now_ns(), snap)) {
		free(snap);
		snap = NULL;
	}
	if (!snap)
		srv->errors++;
	return snap;
}

static void end_delta(void *ctx, void *delta)
{
	(void)ctx;
	store__snapshot_free(delta);
	free(delta);
}

static int loop_timeout_ms(struct server *srv, uint64_t now, uint64_t deadline)
{
	uint64_t next_fold = srv->last_fold_ns + SPAN_NS;
	int ms = WAKE_MS;

	if (next_fold <= now)
		return 0;
	if ((next_fold - now) / 1000000 < (uint64_t)ms)
		ms = (int)((next_fold - now) / 1000000);
	if (deadline && deadline > now && (deadline - now) / 1000000 < (uint64_t)ms)
		ms = (int)((deadline - now) / 1000000);
	return http__timeout_ms(srv->http, now, ms);
}

/* Serves until a signal or -d: folds every span, answers requests. */
static void serve(struct server *srv)
{
	uint64_t now = clock__monotonic_ns();
	uint64_t deadline =
		srv->opts->duration_s > 0 ? now + (uint64_t)(srv->opts->duration_s * 1e9) : 0;

	while (!stop_signals__requested() && !(deadline && now >= deadline)) {
		struct pollfd fds[2] = { { .fd = http__fd(srv->http), .events = POLLIN },
					 { .fd = source__event_fd(srv->src), .events = POLLIN } };

		if (poll(fds, fds[1].fd >= 0 ? 2 : 1, loop_timeout_ms(srv, now, deadline)) < 0 &&
		    errno != EINTR) {
			lp_warn("poll failed: %s", strerror(errno));
			srv->errors++;
		}
		if (source__poll(srv->src, &now))
			srv->errors++;
		if (now >= srv->last_fold_ns + SPAN_NS)
			refresh(srv, true);
		http__run(srv->http, now);
	}
}

/* Probes first, then the requests in flight (delta profiles answered 503), for at most
 * DRAIN_NS. */
static void stop(struct server *srv)
{
	uint64_t now = clock__monotonic_ns(), until = now + DRAIN_NS;

	source__stop(srv->src, now, &srv->store);
	http__shutdown(srv->http);
	while (!http__idle(srv->http) && now < until) {
		struct pollfd pfd = { .fd = http__fd(srv->http), .events = POLLIN };

		http__run(srv->http, now);
		poll(&pfd, 1, http__timeout_ms(srv->http, now, 20));
		now = clock__monotonic_ns();
	}
	http__run(srv->http, now);
}

int face_serve__run(const struct lp_opts *opts)
{
	struct server srv = { .opts = opts };
	struct lp_http_handler h = {
		.ctx = &srv, .render = render, .begin_delta = begin_delta, .end_delta = end_delta
	};
	char what[128];
	int err;

	stop_signals__catch(false);
	keep_heap_flat();
	/* The address first: a port in use is said before anything is attached. */
	err = http__start(&srv.http, opts->serve.listen, &h);
	if (!err && store__init(&srv.store, opts->serve.max_series, opts->serve.retain_exited_s,
				clock__monotonic_ns(), unix_now_ns())) {
		lp_err("out of memory setting up the store");
		err = LP_EXIT_ERROR;
	}
	if (!err)
		err = source__open(&srv.src, opts);
	if (!err) {
		srv.store.start_ns = srv.last_fold_ns = clock__monotonic_ns();
		srv.store.start_unix_ns = unix_now_ns();
		source__describe(srv.src, what, sizeof(what));
		/* The banner says the probes are live and the address: scripts wait for it. */
		fprintf(stderr,
			"lockprof: %s, mode %s: serving %s/metrics and %s/debug/pprof/ until "
			"SIGTERM.\n",
			what, opts__mode_name(opts->modes), http__url(srv.http),
			http__url(srv.http));
		serve(&srv);
		lp_info("stopping: %s", stop_signals__requested() ? "signal" : "duration");
		stop(&srv);
	}
	http__stop(srv.http);
	source__close(srv.src);
	store__free(&srv.store);
	return err;
}
