// SPDX-License-Identifier: GPL-2.0
/* The pure rules of a dump: a thread's state from its system call and leaf frame, and which
 * `with` statements enclose a line (where a holder entered the block on the lock it holds). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "dump/dump.h"
#include "profile/annotate.h"
#include "profile/lockname.h"

#define NR_READ 0
#define NR_POLL 7
#define NR_SELECT 23
#define NR_NANOSLEEP 35
#define NR_ACCEPT 43
#define NR_RECVFROM 45
#define NR_RECVMSG 47
#define NR_WAIT4 61
#define NR_FUTEX 202
#define NR_EPOLL_WAIT 232
#define NR_CLOCK_NANOSLEEP 230
#define NR_PSELECT6 270
#define NR_PPOLL 271
#define NR_EPOLL_PWAIT 281
#define NR_ACCEPT4 288
#define NR_WAITID 247
#define NR_EPOLL_PWAIT2 441
#define NR_FUTEX_WAITV 449

const char *dump__syscall_name(long nr)
{
	switch (nr) {
	case NR_READ:
		return "read";
	case NR_POLL:
		return "poll";
	case NR_SELECT:
		return "select";
	case NR_NANOSLEEP:
		return "nanosleep";
	case NR_ACCEPT:
		return "accept";
	case NR_RECVFROM:
		return "recvfrom";
	case NR_RECVMSG:
		return "recvmsg";
	case NR_WAIT4:
		return "wait4";
	case NR_FUTEX:
		return "futex";
	case NR_EPOLL_WAIT:
		return "epoll_wait";
	case NR_CLOCK_NANOSLEEP:
		return "clock_nanosleep";
	case NR_WAITID:
		return "waitid";
	case NR_PSELECT6:
		return "pselect6";
	case NR_PPOLL:
		return "ppoll";
	case NR_EPOLL_PWAIT:
		return "epoll_pwait";
	case NR_ACCEPT4:
		return "accept4";
	case NR_EPOLL_PWAIT2:
		return "epoll_pwait2";
	case NR_FUTEX_WAITV:
		return "futex_waitv";
	default:
		return NULL;
	}
}

const char *dump__state_name(enum dump_state s)
{
	static const char *const names[] = {
		[DUMP_RUNNING] = "running",    [DUMP_LOCK] = "lock",	   [DUMP_GIL] = "gil",
		[DUMP_SIGNAL] = "signal",      [DUMP_SLEEP] = "sleep",	   [DUMP_IO] = "io",
		[DUMP_NATIVE_WAIT] = "native", [DUMP_UNKNOWN] = "unknown",
	};

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

/* A call on the leaf line that waits for a signal rather than a lock holder when it blocks in
 * C: SimpleQueue.get (and put), a join, an Event or Condition wait reached from C. */
static bool signal_call(const char *source)
{
	char call[128];
	const char *dot;

	if (!lockname__call_on_line(source, call, sizeof(call)))
		return false;
	dot = strrchr(call, '.');
	dot = dot ? dot + 1 : call;
	return !strcmp(dot, "get") || !strcmp(dot, "put") || !strcmp(dot, "join") ||
	       !strcmp(dot, "wait") || !strcmp(dot, "wait_for") || !strcmp(dot, "result");
}

enum dump_state dump__classify(const struct dump_task *task, const struct dump_leaf *leaf,
			       uint64_t gil_lo, uint64_t gil_hi, bool found_lock, char *detail,
			       size_t detail_len)
{
	const char *src = leaf->source ? leaf->source : "";
	const char *sc;
	char expr[DUMP_NAME_MAX];

	detail[0] = '\0';
	if (task->running || task->state == 'R') {
		snprintf(detail, detail_len, "running");
		return DUMP_RUNNING;
	}
	if (task->syscall < 0) {
		snprintf(detail, detail_len, "state %c, not in a system call", task->state);
		return DUMP_UNKNOWN;
	}
	sc = dump__syscall_name(task->syscall);
	if (task->syscall == NR_FUTEX || task->syscall == NR_FUTEX_WAITV) {
		uint64_t addr = task->arg[0];
		struct lp_frame_sym sym = { .file = leaf->file, .function = leaf->function };

		if (gil_hi > gil_lo && addr >= gil_lo && addr < gil_hi) {
			snprintf(detail, detail_len, "waiting for the GIL");
			return DUMP_GIL;
		}
		/* A signal wait first: Condition.wait's `waiter.acquire()` takes a lock too. */
		if (leaf->file[0] && annotate__is_idle_wait(&sym, src)) {
			snprintf(detail, detail_len, "waiting for a signal in %s", leaf->function);
			return DUMP_SIGNAL;
		}
		if (found_lock || lockname__from_source(src, expr, sizeof(expr))) {
			snprintf(detail, detail_len, "blocked acquiring a lock");
			return DUMP_LOCK;
		}
		if (leaf->file[0] && signal_call(src)) {
			char call[128];

			lockname__call_on_line(src, call, sizeof(call));
			snprintf(detail, detail_len, "waiting for a signal in %s()", call);
			return DUMP_SIGNAL;
		}
		snprintf(detail, detail_len, "waiting in native code (futex)");
		return DUMP_NATIVE_WAIT;
	}
	if (task->syscall == NR_NANOSLEEP || task->syscall == NR_CLOCK_NANOSLEEP ||
	    strstr(src, "sleep(")) {
		snprintf(detail, detail_len, "sleeping (%s)", sc ? sc : "system call");
		return DUMP_SLEEP;
	}
	if (sc)
		snprintf(detail, detail_len, "in I/O or a blocking system call (%s)", sc);
	else
		snprintf(detail, detail_len, "in a blocking system call (%ld)", task->syscall);
	return DUMP_IO;
}

/* Indentation of a line, or -1 for a blank or comment-only line. */
static int indent_of(const char *s)
{
	int n = 0;

	for (; *s == ' ' || *s == '\t'; s++)
		n += *s == '\t' ? 8 - n % 8 : 1;
	return *s == '\0' || *s == '#' || *s == '\n' || *s == '\r' ? -1 : n;
}

/* Items of a with statement: top-level commas before its colon, plus one. */
static int with_items(const char *s)
{
	int depth = 0, items = 1;
	char quote = 0;

	for (; *s; s++) {
		if (quote) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == quote)
				quote = 0;
			continue;
		}
		if (*s == '\'' || *s == '"')
			quote = *s;
		else if (*s == '(' || *s == '[' || *s == '{')
			depth++;
		else if (*s == ')' || *s == ']' || *s == '}')
			depth--;
		else if (*s == ',' && depth == 0)
			items++;
		else if (*s == ':' && depth == 0)
			break;
	}
	return items;
}

static bool is_with(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (!strncmp(s, "async", 5) && isspace((unsigned char)s[5]))
		for (s += 5; isspace((unsigned char)*s); s++)
			;
	return !strncmp(s, "with", 4) && (isspace((unsigned char)s[4]) || s[4] == '(');
}

static bool is_definition(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return !strncmp(s, "def ", 4) || !strncmp(s, "async def ", 10) || !strncmp(s, "class ", 6);
}

int dump__enclosing_withs(void (*get_line)(void *ctx, int n, char *buf, size_t len), void *ctx,
			  int line, int first_line, int *lines, int max)
{
	char buf[1024];
	int n = 0, min_indent;

	if (line <= 0 || max <= 0)
		return 0;
	get_line(ctx, line, buf, sizeof(buf));
	min_indent = indent_of(buf);
	if (min_indent < 0)
		return 0;
	if (first_line < 1)
		first_line = 1;
	for (int l = line - 1; l >= first_line && min_indent > 0; l--) {
		int ind;

		get_line(ctx, l, buf, sizeof(buf));
		ind = indent_of(buf);
		if (ind < 0 || ind >= min_indent)
			continue;
		min_indent = ind;
		if (is_definition(buf))
			break; /* the function's own header: outer withs are not its frame's */
		if (!is_with(buf))
			continue;
		for (int k = with_items(buf); k > 0 && n < max; k--)
			lines[n++] = l;
	}
	return n;
}
