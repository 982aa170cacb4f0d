/* SPDX-License-Identifier: GPL-2.0 */
/* What an HTTP request asks of lockprof serve: its method, path and query arguments (already
 * split and decoded by libmicrohttpd) checked and turned into an endpoint, or into the status
 * and message of a refusal. Pure: no I/O, fuzzed (tests/fuzz/fuzz_route.c). */
#ifndef LOCKPROF_SRC_ROUTE_H
#define LOCKPROF_SRC_ROUTE_H

#include <stddef.h>

/* Longest delta profile a request may ask for (?seconds=N): it holds a connection that long. */
#define LP_ROUTE_MAX_SECONDS 300
#define LP_ROUTE_MAX_PATH 256 /* longer paths are 404 without a look */

enum lp_endpoint {
	LP_EP_NONE,	/* refused: see status and error */
	LP_EP_ROOT,	/* / : a page of links */
	LP_EP_INDEX,	/* /debug/pprof/ : the profiles served */
	LP_EP_MUTEX,	/* /debug/pprof/mutex : contention, Go's mutex profile */
	LP_EP_LOCKHOLD, /* /debug/pprof/lockhold : hold times (-m full) */
	LP_EP_GIL,	/* /debug/pprof/gil : GIL waits (-m gil) */
	LP_EP_METRICS,	/* /metrics : Prometheus text format */
};

struct lp_route {
	enum lp_endpoint endpoint;
	unsigned int seconds; /* profiles: 0 cumulative since start, else a delta of the next N s */
	int status;	      /* HTTP status when refused (endpoint LP_EP_NONE), else 200 */
	char error[160];      /* why, for the response body */
	int head;	      /* HEAD: headers only */
};

/* One decoded query argument; value NULL for "?key" without '='. */
struct lp_query_arg {
	const char *key, *value;
};

/* Routes a request. Only GET and HEAD are served (405 otherwise): no endpoint changes state.
 * Profiles take `seconds` (1..LP_ROUTE_MAX_SECONDS) and `debug` (0 only: no text format);
 * other arguments are ignored, as Go's net/http/pprof does. Always fills r. */
void route__parse(const char *method, const char *path, const struct lp_query_arg *args,
		  size_t nargs, struct lp_route *r);

/* The endpoint's path, e.g. "/debug/pprof/mutex". */
const char *route__path(enum lp_endpoint ep);

#endif
