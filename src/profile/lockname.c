// SPDX-License-Identifier: GPL-2.0
/* Lock names from the source line of the wait site. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "profile/lockname.h"

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
	/* lock.acquire(...), and lock.__enter__() as Condition.__enter__ takes its lock */
	acq = strstr(p, ".acquire(");
	if (!acq)
		acq = strstr(p, ".__enter__(");
	if (acq) {
		const char *start = acq;
		int depth = 0;

		/* Back over the expression the method is called on: names, attributes, calls and
		 * subscripts, but not into an enclosing call ("results.append(lock.acquire())" names
		 * "lock"). */
		while (start > p && is_expr_char(start[-1])) {
			char c = start[-1];

			if (c == ')' || c == ']')
				depth++;
			else if ((c == '(' || c == '[') && depth-- == 0)
				break;
			start--;
		}
		return copy_trimmed(start, acq, out, outlen);
	}
	return 0;
}

size_t lockname__from_assignment(const char *line, char *out, size_t outlen)
{
	const char *p = line, *eq;

	if (!outlen)
		return 0;
	out[0] = '\0';
	while (isspace((unsigned char)*p))
		p++;
	/* "target = ...", not "==", "<=", ">=", "!=", and no keyword argument "f(x=1)" */
	for (eq = p; *eq && *eq != '#'; eq++) {
		if (*eq == '(' || *eq == '"' || *eq == '\'')
			return 0;
		if (*eq == '=' && eq[1] != '=' && eq > p && !strchr("<>!=+-*/%&|^:", eq[-1]))
			return copy_trimmed(p, eq, out, outlen);
	}
	return 0;
}

size_t lockname__call_on_line(const char *line, char *out, size_t outlen)
{
	const char *p = line, *start;

	if (!outlen)
		return 0;
	out[0] = '\0';
	for (; *p && *p != '#'; p++) {
		if (!isalpha((unsigned char)*p) && *p != '_')
			continue;
		start = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
			p++;
		if (*p == '(' && strncmp(start, "with ", 5) && strncmp(start, "await ", 6))
			return copy_trimmed(start, p, out, outlen);
		if (!*p)
			break;
	}
	return 0;
}

size_t lockname__object_on_line(const char *line, char *out, size_t outlen)
{
	const char *p = line, *start, *last_dot;

	if (!outlen)
		return 0;
	out[0] = '\0';
	for (; *p && *p != '#' && *p != '\n'; p++) {
		if (*p == '"' || *p == '\'') /* no names inside string literals */
			return 0;
		if (!isalpha((unsigned char)*p) && *p != '_')
			continue;
		if (p > line && (isalnum((unsigned char)p[-1]) || p[-1] == '_' || p[-1] == '.'))
			continue; /* inside a name already passed over */
		start = p;
		last_dot = NULL;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '.') {
			if (*p == '.')
				last_dot = p;
			p++;
		}
		/* NAME[...]: the subscripted object; A.B.method(...): A.B */
		if (*p == '[')
			return copy_trimmed(start, p, out, outlen);
		if (*p == '(' && last_dot && last_dot > start)
			return copy_trimmed(start, last_dot, out, outlen);
		if (!*p)
			break;
		p--;
	}
	return 0;
}
