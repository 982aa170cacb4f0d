// SPDX-License-Identifier: GPL-2.0
/* Request routing for lockprof serve (route.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/route.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const struct {
	const char *path;
	enum lp_endpoint ep;
} routes[] = {
	{ "/", LP_EP_ROOT },
	{ "/debug/pprof/", LP_EP_INDEX },
	{ "/debug/pprof", LP_EP_INDEX },
	{ "/debug/pprof/mutex", LP_EP_MUTEX },
	{ "/debug/pprof/lockhold", LP_EP_LOCKHOLD },
	{ "/debug/pprof/gil", LP_EP_GIL },
	{ "/metrics", LP_EP_METRICS },
};

const char *route__path(enum lp_endpoint ep)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].ep == ep)
			return routes[i].path;
	return "";
}

__attribute__((format(printf, 3, 4))) static void refuse(struct lp_route *r, int status,
							 const char *fmt, ...)
{
	va_list ap;

	r->endpoint = LP_EP_NONE;
	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
}

/* A whole decimal number from 0 to max, digits only (no sign, space or exponent). */
static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	unsigned long v = 0;

	if (!s || !*s || strlen(s) > 9)
		return -EINVAL;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*c - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

static void check_profile_args(const struct lp_query_arg *args, size_t nargs, struct lp_route *r)
{
	for (size_t i = 0; i < nargs && r->endpoint != LP_EP_NONE; i++) {
		const char *key = args[i].key ? args[i].key : "", *value = args[i].value;
		unsigned int v;

		if (!strcmp(key, "seconds")) {
			int err = parse_uint(value, LP_ROUTE_MAX_SECONDS, &v);

			if (err == -ERANGE)
				refuse(r, 400,
				       "seconds=%s: at most " STR(LP_ROUTE_MAX_SECONDS) " allowed",
				       value);
			else if (err || v == 0)
				refuse(r, 400,
				       "seconds=%s: expected a whole number of seconds from 1 to "
				       "" STR(LP_ROUTE_MAX_SECONDS),
				       value ? value : "");
			else
				r->seconds = v;
		} else if (!strcmp(key, "debug")) {
			if (parse_uint(value, 0, &v))
				refuse(r, 400,
				       "debug=%s: only the binary profile (debug=0) is served",
				       value ? value : "");
		}
	}
}

void route__parse(const char *method, const char *path, const struct lp_query_arg *args,
		  size_t nargs, struct lp_route *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	if (!method || (strcmp(method, "GET") && strcmp(method, "HEAD"))) {
		refuse(r, 405, "method %s not allowed: only GET and HEAD", method ? method : "");
		return;
	}
	r->head = !strcmp(method, "HEAD");
	if (!path || strnlen(path, LP_ROUTE_MAX_PATH + 1) > LP_ROUTE_MAX_PATH) {
		refuse(r, 404, "%s", "no such path (see /debug/pprof/ and /metrics)");
		return;
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (!strcmp(path, routes[i].path))
			r->endpoint = routes[i].ep;
	if (r->endpoint == LP_EP_NONE) {
		refuse(r, 404, "%s", "no such path (see /debug/pprof/ and /metrics)");
		return;
	}
	if (r->endpoint == LP_EP_MUTEX || r->endpoint == LP_EP_LOCKHOLD || r->endpoint == LP_EP_GIL)
		check_profile_args(args, nargs, r);
}
