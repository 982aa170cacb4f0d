// SPDX-License-Identifier: GPL-2.0
/* Cache of the target's source files, bounded in count and bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize/source.h"

#define MAX_SOURCE_FILE (4u << 20)
#define MAX_SOURCE_BYTES (24u << 20)
#define MAX_SOURCE_FILES 512

struct source_file {
	char *path;
	char *data; /* NUL-terminated; NULL when unreadable or over budget */
	size_t len;
};

struct lp_sources {
	const struct lp_target *target;
	struct source_file files[MAX_SOURCE_FILES];
	int nfiles;
	size_t bytes;
};

struct lp_sources *sources__new(const struct lp_target *t)
{
	struct lp_sources *s = calloc(1, sizeof(*s));

	if (s)
		s->target = t;
	return s;
}

void sources__free(struct lp_sources *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].data);
	}
	free(s);
}

static struct source_file *lookup(struct lp_sources *s, const char *path)
{
	for (int i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i].path, path))
			return &s->files[i];
	return NULL;
}

static void read_file(struct lp_sources *s, struct source_file *sf)
{
	char *data;
	FILE *f;
	int fd;

	if (sf->path[0] == '<' || s->bytes >= MAX_SOURCE_BYTES)
		return;
	fd = target__open_file(s->target, sf->path);
	if (fd < 0)
		return;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return;
	}
	data = malloc(MAX_SOURCE_FILE + 1);
	if (data) {
		sf->len = fread(data, 1, MAX_SOURCE_FILE, f);
		data[sf->len] = '\0';
		/* Keep only what was read. */
		sf->data = realloc(data, sf->len + 1);
		if (!sf->data)
			sf->data = data;
		s->bytes += sf->len;
	}
	fclose(f);
}

void sources__load(struct lp_sources *s, const char *path)
{
	struct source_file *sf;

	if (!s || lookup(s, path) || s->nfiles == MAX_SOURCE_FILES)
		return;
	sf = &s->files[s->nfiles];
	sf->path = strdup(path);
	if (!sf->path)
		return;
	s->nfiles++;
	read_file(s, sf);
}

void sources__line(struct lp_sources *s, const char *path, int lineno, char *buf, size_t len)
{
	const struct source_file *sf;
	const char *p, *end;
	size_t n;

	if (!len)
		return;
	buf[0] = '\0';
	if (!s || lineno <= 0)
		return;
	sources__load(s, path);
	sf = lookup(s, path);
	if (!sf || !sf->data)
		return;
	p = sf->data;
	for (int i = 1; i < lineno && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return;
	end = strchr(p, '\n');
	n = end ? (size_t)(end - p) : strlen(p);
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}
