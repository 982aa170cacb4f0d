// SPDX-License-Identifier: GPL-2.0
/* Lock names from the source line of the wait site. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lockname.h"

#define MAX_SOURCE_LINE 4096

static bool is_expr_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '[' || c == ']' ||
	       c == '(' || c == ')' || c == '\'' || c == '"';
}

static size_t copy_trimmed(const char *start, const char *end, char *out, size_t outlen)
{
	size_t n;

	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	n = (size_t)(end - start);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, start, n);
	out[n] = '\0';
	return n;
}

size_t lockname__from_source(const char *line, char *out, size_t outlen)
{
	const char *p = line, *end, *acq;

	if (!outlen)
		return 0;
	out[0] = '\0';
	while (isspace((unsigned char)*p))
		p++;
	if (!strncmp(p, "async ", 6))
		p += 6;
	if (!strncmp(p, "with ", 5)) {
		p += 5;
		/* the first context manager: up to " as ", ',' or ':' outside brackets */
		int depth = 0;

		for (end = p; *end && *end != '\n' && *end != '#'; end++) {
			if (*end == '(' || *end == '[')
				depth++;
			else if ((*end == ')' || *end == ']') && depth > 0)
				depth--;
			else if (!depth && (*end == ',' || *end == ':' || !strncmp(end, " as ", 4)))
				break;
		}
		return copy_trimmed(p, end, out, outlen);
	}
	acq = strstr(p, ".acquire(");
	if (acq) {
		const char *start = acq;

		while (start > p && is_expr_char(start[-1]))
			start--;
		return copy_trimmed(start, acq, out, outlen);
	}
	return 0;
}

/* Reads line `lineno` (1-based) of fd into buf. */
static int read_line(FILE *f, int lineno, char *buf, size_t len)
{
	for (int n = 1; fgets(buf, (int)len, f); n++) {
		size_t l = strlen(buf);

		/* a line longer than the buffer continues on the next fgets: skip it whole */
		while (l && buf[l - 1] != '\n' && fgets(buf, (int)len, f))
			l = strlen(buf);
		if (n == lineno)
			return 0;
	}
	return -1;
}

size_t lockname__for_site(const struct lp_target *t, const struct lp_frame_sym *site, char *out,
			  size_t outlen)
{
	char buf[MAX_SOURCE_LINE];
	size_t n = 0;
	FILE *f;
	int fd;

	if (outlen)
		out[0] = '\0';
	if (!site || site->line <= 0 || site->file[0] == '<')
		return 0;
	fd = target__open_file(t, site->file);
	if (fd < 0)
		return 0;
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return 0;
	}
	if (!read_line(f, site->line, buf, sizeof(buf)))
		n = lockname__from_source(buf, out, outlen);
	fclose(f);
	return n;
}

void lockname__name_locks(struct lp_profile *p, const struct lp_target *t)
{
	for (size_t i = 0; i < p->nlocks; i++)
		lockname__for_site(t, profile__lock_site(&p->locks[i]), p->locks[i].name,
				   sizeof(p->locks[i].name));
}
