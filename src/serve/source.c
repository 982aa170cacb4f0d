// SPDX-License-Identifier: GPL-2.0
/* The serve face's source (source.h): one engine for -p PID, as the profile face runs it (-m full
 * included), or the fleet (engine/fleet.h) for -p PID,PID... and --all. Either is read every
 * span (SPAN_S) and emptied, so that memory stays bounded however long it runs: the store keeps
 * the totals. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "engine/engine.h"
#include "engine/fleet.h"
#include "serve/source.h"
#include "util/clock.h"
#include "util/log.h"

/* A span: how often the BPF maps are read and emptied into the store. */
#define SPAN_S 1.0

struct lp_source {
	struct lp_opts opts;	 /* the caller's, with the span as the interval */
	struct lp_fleet *fleet;	 /* many processes; else the engine */
	struct lp_engine engine; /* one process */
	char comm[LP_STORE_COMM_LEN];
	bool stopped; /* probes removed, the last span folded */
};

/* The command name of pid, as /proc/PID/comm has it ("" if unreadable). */
static void read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

int source__open(struct lp_source **out, const struct lp_opts *opts)
{
	struct lp_source *src = calloc(1, sizeof(*src));
	int err;

	*out = src;
	if (!src) {
		lp_err("out of memory setting up the profiled process");
		return LP_EXIT_ERROR;
	}
	src->opts = *opts;
	/* Every span's profile empties the stats map: memory stays bounded however long. */
	src->opts.interval_s = SPAN_S;
	src->engine.pidfd = -1;
	if (opts__many(opts))
		return fleet__new(&src->opts, &src->fleet);
	read_comm(opts->pid, src->comm, sizeof(src->comm));
	err = engine__discover(&src->engine, &src->opts);
	if (!err)
		err = engine__load(&src->engine);
	if (!err)
		err = engine__attach(&src->engine);
	return err;
}

int source__event_fd(const struct lp_source *src)
{
	if (src->fleet)
		return src->stopped ? -1 : fleet__fd(src->fleet);
	return src->engine.events && !src->stopped ? ring_buffer__epoll_fd(src->engine.events) : -1;
}

int source__poll(struct lp_source *src, uint64_t *now_ns)
{
	if (src->stopped) {
		*now_ns = clock__monotonic_ns();
		return 0;
	}
	if (src->fleet)
		return fleet__poll(src->fleet, 0, now_ns);
	return engine__poll(&src->engine, 0, now_ns);
}

/* The fleet's span: every process's profile, with its identity; exited ones marked. */
static int fold_fleet(struct lp_source *src, uint64_t now_ns, bool last, struct lp_store *store)
{
	struct lp_profile_set set;
	int err = fleet__snapshot(src->fleet, now_ns, last, &set);

	if (err)
		return err;
	for (size_t i = 0; i < set.n; i++) {
		const struct lp_proc_profile *pp = &set.procs[i];

		if (store__add_profile(store, pp->proc.pid, pp->proc.comm, &pp->profile,
				       src->opts.report.show_idle))
			lp_warn("out of memory keeping pid %d's profile: this span is left out",
				(int)pp->proc.pid);
		if (pp->proc.exited)
			store__process_exited(store, pp->proc.pid, now_ns);
	}
	profile_set__free(&set);
	return 0;
}

static int fold(struct lp_source *src, uint64_t now_ns, bool last, struct lp_store *store)
{
	struct lp_profile profile;
	int err;

	if (src->fleet)
		return fold_fleet(src, now_ns, last, store);
	err = engine__profile(&src->engine, now_ns, last, &profile);
	if (err)
		return err;
	if (store__add_profile(store, src->opts.pid, src->comm, &profile,
			       src->opts.report.show_idle))
		lp_warn("out of memory keeping pid %d's profile: this span is left out",
			(int)src->opts.pid);
	profile__free(&profile);
	return 0;
}

int source__collect(struct lp_source *src, uint64_t now_ns, struct lp_store *store)
{
	if (src->stopped)
		return 0;
	if (!src->fleet && src->engine.target_exited) {
		lp_info("pid %d exited: its probes are removed, its figures kept %g s",
			(int)src->opts.pid, store->retain_s);
		source__stop(src, now_ns, store);
		store__process_exited(store, src->opts.pid, now_ns);
		return 0;
	}
	return fold(src, now_ns, false, store);
}

void source__describe(const struct lp_source *src, char *buf, size_t len)
{
	if (src->fleet && src->opts.all) {
		snprintf(buf, len, "every CPython process (%zu now)", fleet__nprocs(src->fleet));
		return;
	}
	if (src->fleet) {
		snprintf(buf, len, "%zu processes", fleet__nprocs(src->fleet));
		return;
	}
	snprintf(buf, len, "pid %d: CPython %s (%s)", (int)src->opts.pid,
		 src->engine.interp.version_str, src->comm);
}

void source__stop(struct lp_source *src, uint64_t now_ns, struct lp_store *store)
{
	if (!src || src->stopped || (!src->fleet && !src->engine.skel))
		return;
	if (src->fleet)
		fleet__stop(src->fleet, now_ns);
	else
		engine__detach(&src->engine, now_ns);
	src->stopped = true;
	fold(src, now_ns, true, store);
}

void source__close(struct lp_source *src)
{
	if (!src)
		return;
	fleet__free(src->fleet);
	engine__close(&src->engine);
	free(src);
}

void source__health(const struct lp_source *src, struct lp_fleet_health *h)
{
	memset(h, 0, sizeof(*h));
	if (src->fleet) {
		fleet__health(src->fleet, h);
		return;
	}
	h->live = !src->stopped;
	h->attached = 1;
	h->exited = src->engine.target_exited;
}
