// SPDX-License-Identifier: GPL-2.0
/* The HTTP server (http.h), over libmicrohttpd: a small, well-kept C library (GNU, in Debian as
 * libmicrohttpd-dev) that does HTTP/1.1 parsing, keep-alive, request limits and timeouts, and
 * can run without threads of its own. It runs in external-select mode: the serve face's one
 * thread polls its epoll fd beside BPF's ring buffer and calls http__run. One thread does
 * everything because the engine, collector and store are single-threaded structures that every
 * request reads: no locks around them, no request racing a span being folded, and a delta
 * profile (?seconds=N) is a suspended connection and a deadline, not a blocked thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "serve/http.h"
#include "util/clock.h"
#include "util/exitcode.h"
#include "util/log.h"

#define MAX_ARGS 16 /* query arguments looked at; more is a 400 */

/* A request's state across the handler's calls. */
struct request {
	struct lp_http *h;
	struct request *next; /* pending delta profiles */
	struct MHD_Connection *conn;
	struct lp_route route;
	void *delta;
	uint64_t due_ns;
	bool suspended, resumed;
};

struct lp_http {
	struct MHD_Daemon *daemon;
	const struct lp_http_handler *handler;
	int listen_fd;
	char url[96];
	struct request *pending; /* suspended until due_ns */
	size_t npending;
	size_t inflight; /* requests not yet completed */
	bool stopping;
	uint64_t answered, refused;
};

/* Splits "HOST:PORT", "[V6]:PORT" or ":PORT" (host "" then). 0 or -EINVAL. */
static int split_listen(const char *addr_arg, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon = strrchr(addr_arg, ':');
	size_t n;

	if (!colon || !colon[1] || strlen(colon + 1) >= plen)
		return -EINVAL;
	snprintf(port, plen, "%s", colon + 1);
	n = (size_t)(colon - addr_arg);
	if (n >= 2 && addr_arg[0] == '[' && addr_arg[n - 1] == ']') {
		addr_arg++;
		n -= 2;
	}
	if (n >= hlen)
		return -EINVAL;
	memcpy(host, addr_arg, n);
	host[n] = '\0';
	return 0;
}

static int bind_listen(struct lp_http *h, const char *where)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	char host[256], port[16], addr[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	struct addrinfo *res;
	int one = 1, err, fd;

	if (split_listen(where, host, sizeof(host), port, sizeof(port))) {
		lp_err("invalid --listen '%s': expected HOST:PORT, [IPV6]:PORT or :PORT", where);
		return LP_EXIT_USAGE;
	}
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (err) {
		lp_err("cannot listen on %s: %s", where, gai_strerror(err));
		return LP_EXIT_LISTEN;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    res->ai_protocol);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 64)) {
		err = errno;
		freeaddrinfo(res);
		if (fd >= 0)
			close(fd);
		lp_err("cannot listen on %s: %s%s", where, strerror(err),
		       err == EADDRINUSE ? " (another lockprof serve or exporter has the port: "
					   "give --listen HOST:PORT)"
					 : "");
		return LP_EXIT_LISTEN;
	}
	freeaddrinfo(res);
	h->listen_fd = fd;
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
			snprintf(h->url, sizeof(h->url), "http://[%s]:%u", addr,
				 ntohs(s6->sin6_port));
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
			snprintf(h->url, sizeof(h->url), "http://%s:%u", addr, ntohs(s4->sin_port));
		}
	}
	return 0;
}

struct args {
	struct lp_query_arg v[MAX_ARGS];
	size_t n;
	bool too_many;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct args *a = cls;

	(void)kind;
	if (a->n == MAX_ARGS) {
		a->too_many = true;
		return MHD_NO;
	}
	a->v[a->n++] = (struct lp_query_arg){ key, value };
	return MHD_YES;
}

static enum MHD_Result respond(struct lp_http *h, struct MHD_Connection *conn,
			       const struct lp_route *r, struct lp_http_body *body)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char disposition[96];

	if (!body->data) {
		body->status = 500;
		body->data = strdup("lockprof: out of memory\n");
		body->len = body->data ? strlen(body->data) : 0;
		body->content_type = "text/plain; charset=utf-8";
	}
	resp = MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body->data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, body->content_type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (body->status == 200 && body->filename) {
		snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"",
			 body->filename);
		MHD_add_response_header(resp, "Content-Disposition", disposition);
	}
	if (body->status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, (unsigned int)body->status, resp);
	MHD_destroy_response(resp);
	h->answered++;
	if (body->status != 200)
		h->refused++;
	lp_info("http: %s%s -> %d", r->head ? "HEAD " : "GET ", route__path(r->endpoint),
		body->status);
	return ret;
}

static void refusal(struct lp_http_body *body, int status, const char *why)
{
	memset(body, 0, sizeof(*body));
	body->status = status;
	body->content_type = "text/plain; charset=utf-8";
	if (asprintf(&body->data, "lockprof: %s\n", why) < 0)
		body->data = NULL;
	else
		body->len = strlen(body->data);
}

static enum MHD_Result answer(struct request *req)
{
	struct lp_http *h = req->h;
	struct lp_http_body body = {};

	if (h->stopping)
		refusal(&body, 503, "stopping (SIGTERM): ask the next lockprof");
	else
		h->handler->render(h->handler->ctx, &req->route, req->delta, &body);
	return respond(h, req->conn, &req->route, &body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **state)
{
	struct lp_http *h = cls;
	struct request *req = *state;
	struct lp_http_body body;
	struct args args = {};

	(void)version;
	(void)upload;
	if (req) {
		/* A request body is not wanted: drop it (the answer is already decided). */
		*upload_size = 0;
		if (req->suspended && req->resumed) {
			req->suspended = false;
			return answer(req);
		}
		return MHD_YES;
	}
	req = calloc(1, sizeof(*req));
	if (!req)
		return MHD_NO;
	req->h = h;
	req->conn = conn;
	*state = req;
	h->inflight++;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &args);
	route__parse(method, url, args.v, args.n, &req->route);
	if (req->route.endpoint != LP_EP_NONE && args.too_many)
		refusal(&body, 400, "too many query arguments");
	else if (req->route.endpoint == LP_EP_NONE)
		refusal(&body, req->route.status, req->route.error);
	else if (h->stopping)
		refusal(&body, 503, "stopping (SIGTERM)");
	else if (!req->route.seconds)
		return answer(req);
	else if (h->npending == LP_HTTP_MAX_PENDING)
		refusal(&body, 503, "too many delta profiles pending: try again later");
	else if (!(req->delta = h->handler->begin_delta(h->handler->ctx)))
		refusal(&body, 500, "cannot start the delta profile (see lockprof's log)");
	else {
		/* Like Go's: the answer comes N seconds from now, with what happened meanwhile. */
		req->due_ns = clock__monotonic_ns() + (uint64_t)req->route.seconds * 1000000000ULL;
		req->next = h->pending;
		h->pending = req;
		h->npending++;
		req->suspended = true;
		lp_info("http: GET %s?seconds=%u: delta profile started",
			route__path(req->route.endpoint), req->route.seconds);
		MHD_suspend_connection(conn);
		return MHD_YES;
	}
	return respond(h, conn, &req->route, &body);
}

static void unlink_pending(struct lp_http *h, struct request *req)
{
	for (struct request **p = &h->pending; *p; p = &(*p)->next)
		if (*p == req) {
			*p = req->next;
			h->npending--;
			return;
		}
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
			 enum MHD_RequestTerminationCode why)
{
	struct lp_http *h = cls;
	struct request *req = *state;

	(void)conn;
	(void)why;
	if (!req)
		return;
	unlink_pending(h, req);
	if (req->delta)
		h->handler->end_delta(h->handler->ctx, req->delta);
	free(req);
	*state = NULL;
	h->inflight--;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	lp_info("libmicrohttpd: %s", msg);
}

int http__start(struct lp_http **out, const char *where, const struct lp_http_handler *handler)
{
	struct lp_http *h = calloc(1, sizeof(*h));
	int err;

	*out = h;
	if (!h) {
		lp_err("out of memory starting the HTTP server");
		return LP_EXIT_ERROR;
	}
	h->handler = handler;
	h->listen_fd = -1;
	err = bind_listen(h, where);
	if (err)
		return err;
	h->daemon = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
		on_request, h, MHD_OPTION_LISTEN_SOCKET, h->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)LP_HTTP_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)LP_HTTP_MAX_PER_CLIENT, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)LP_HTTP_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)LP_HTTP_MAX_REQUEST, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
		MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_END);
	if (!h->daemon) {
		lp_err("cannot start the HTTP server on %s (libmicrohttpd refused; -v says why)",
		       where);
		return LP_EXIT_ERROR;
	}
	return 0;
}

const char *http__url(const struct lp_http *h)
{
	return h->url;
}

int http__fd(const struct lp_http *h)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);

	return info ? info->epoll_fd : -1;
}

int http__timeout_ms(const struct lp_http *h, uint64_t now_ns, int max_ms)
{
	MHD_UNSIGNED_LONG_LONG mhd_ms;
	int ms = max_ms;

	if (MHD_get_timeout(h->daemon, &mhd_ms) == MHD_YES && mhd_ms < (unsigned int)ms)
		ms = (int)mhd_ms;
	for (const struct request *r = h->pending; r; r = r->next) {
		uint64_t left = r->due_ns > now_ns ? (r->due_ns - now_ns + 999999) / 1000000 : 0;

		if (!r->resumed && left < (uint64_t)ms)
			ms = (int)left;
	}
	return ms;
}

void http__run(struct lp_http *h, uint64_t now_ns)
{
	for (struct request *r = h->pending; r; r = r->next)
		if (!r->resumed && (h->stopping || now_ns >= r->due_ns)) {
			r->resumed = true;
			MHD_resume_connection(r->conn);
		}
	MHD_run(h->daemon);
}

void http__shutdown(struct lp_http *h)
{
	h->stopping = true;
}

bool http__idle(const struct lp_http *h)
{
	return !h->inflight;
}

void http__counts(const struct lp_http *h, uint64_t *answered, uint64_t *refused)
{
	*answered = h->answered;
	*refused = h->refused;
}

void http__stop(struct lp_http *h)
{
	if (!h)
		return;
	if (h->daemon) {
		/* Suspended connections must be resumed before the daemon stops. */
		for (struct request *r = h->pending; r; r = r->next)
			if (!r->resumed) {
				r->resumed = true;
				MHD_resume_connection(r->conn);
			}
		MHD_stop_daemon(h->daemon);
	}
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	free(h);
}
