// SPDX-License-Identifier: GPL-2.0
/* The link set (see links.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "probes/links.h"

int links__add_bpf(struct lp_links *ls, struct bpf_link *link)
{
	if (ls->n >= LP_MAX_LINKS) {
		bpf_link__destroy(link);
		return -E2BIG;
	}
	ls->link[ls->n++] = (struct lp_link){ .bpf = link, .fd = -1 };
	return 0;
}

int links__add_fd(struct lp_links *ls, int fd)
{
	if (ls->n >= LP_MAX_LINKS) {
		close(fd);
		return -E2BIG;
	}
	ls->link[ls->n++] = (struct lp_link){ .bpf = NULL, .fd = fd };
	return 0;
}

static void *destroy_link(void *arg)
{
	struct lp_link *link = arg;

	if (link->bpf)
		bpf_link__destroy(link->bpf);
	else if (link->fd >= 0)
		close(link->fd);
	link->bpf = NULL;
	link->fd = -1;
	return NULL;
}

void links__destroy_all(struct lp_links *ls)
{
	pthread_t threads[LP_MAX_LINKS];
	bool started[LP_MAX_LINKS];

	for (int i = 0; i < ls->n; i++) {
		/* A link whose thread cannot be started is closed here; the others still overlap.
		 * One link needs no thread. */
		started[i] = ls->n > 1 &&
			     pthread_create(&threads[i], NULL, destroy_link, &ls->link[i]) == 0;
		if (!started[i])
			destroy_link(&ls->link[i]);
	}
	for (int i = 0; i < ls->n; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	ls->n = 0;
}
