/* SPDX-License-Identifier: GPL-2.0 */
/* lockprof serve's HTTP server: libmicrohttpd in external-select mode, driven from the serve
 * face's own event loop (see http.c for why), requests routed by route.c and answered by the
 * face's callbacks. Bounded: connections (in all and per client), request size, delta profiles
 * pending at once and their length. */
#ifndef LOCKPROF_SRC_HTTP_H
#define LOCKPROF_SRC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/route.h"

#define LP_HTTP_MAX_CONNECTIONS 16
#define LP_HTTP_MAX_PER_CLIENT 8
#define LP_HTTP_MAX_PENDING 4	  /* ?seconds=N requests waiting at once */
#define LP_HTTP_MAX_REQUEST 16384 /* bytes of request line and headers */
#define LP_HTTP_IDLE_TIMEOUT_S 15 /* a connection silent this long is closed */

/* A response body (malloc'ed; the server frees it) or a refusal. */
struct lp_http_body {
	char *data;
	size_t len;
	const char *content_type;
	const char *filename; /* pprof: Content-Disposition, as Go's net/http/pprof sends */
	int status;	      /* 200, or an error status with data its message */
};

struct lp_http_handler {
	void *ctx;
	/* The body for r: cumulative (delta NULL), or the delta since begin_delta's state. */
	void (*render)(void *ctx, const struct lp_route *r, void *delta, struct lp_http_body *out);
	/* A delta profile starts now: its state (a snapshot), or NULL when it cannot be taken. */
	void *(*begin_delta)(void *ctx);
	void (*end_delta)(void *ctx, void *delta);
};

struct lp_http;

/* Binds listen ("HOST:PORT", "[V6]:PORT" or ":PORT" for every interface) and starts serving
 * through handler (borrowed). 0, LP_EXIT_LISTEN when the address cannot be bound, or
 * LP_EXIT_ERROR; each after printing why. */
int http__start(struct lp_http **out, const char *listen, const struct lp_http_handler *handler);

/* "http://127.0.0.1:9464": the address bound (the port chosen when listen gave port 0). */
const char *http__url(const struct lp_http *h);

/* A file descriptor that polls readable when the server has work. */
int http__fd(const struct lp_http *h);

/* How long the event loop may sleep: at most max_ms, less when a connection times out or a
 * delta profile is due sooner. */
int http__timeout_ms(const struct lp_http *h, uint64_t now_ns, int max_ms);

/* Does the server's work without waiting: reads requests, answers them, completes the delta
 * profiles due at now_ns. */
void http__run(struct lp_http *h, uint64_t now_ns);

/* Stopping: pending delta profiles are answered 503 and new requests refused. */
void http__shutdown(struct lp_http *h);

/* No response still in flight. */
bool http__idle(const struct lp_http *h);

/* Requests answered, and of them refused. */
void http__counts(const struct lp_http *h, uint64_t *answered, uint64_t *refused);

/* Closes every connection and the socket. */
void http__stop(struct lp_http *h);

#endif
