// SPDX-License-Identifier: GPL-2.0
/* The pure rules of `lockprof dump`: wait-for cycles (deadlocks), a thread's state from its system
 * call and leaf frame, and the with statements enclosing a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"
#include "testing.h"

#define FUTEX 202

/* Cycles of a graph given as "0>1 1>0 2>3": returns their count, the first as text "0 1". */
static int cycles(int n, const char *spec, char *first, size_t len)
{
	int store[16][16], nedges[16] = { 0 }, *edges[16];
	struct dump_cycle *out;
	const char *p = spec;
	int from, to, used, count;

	for (int i = 0; i < 16; i++)
		edges[i] = store[i];
	while (sscanf(p, "%d>%d%n", &from, &to, &used) == 2) {
		store[from][nedges[from]++] = to;
		p += used;
	}
	count = dump__find_cycles(n, edges, nedges, &out, 8);
	first[0] = '\0';
	for (int c = 0; c < count; c++) {
		for (int k = 0; c == 0 && k < out[c].len; k++)
			snprintf(first + strlen(first), len - strlen(first), "%s%d", k ? " " : "",
				 out[c].threads[k]);
		free(out[c].threads);
	}
	free(out);
	return count;
}

static void test_cycles(void)
{
	char first[64];

	CHECK_EQ_INT(cycles(2, "0>1 1>0", first, sizeof(first)), 1, "two threads, opposite order");
	CHECK_EQ_STR(first, "0 1", "the cycle starts at its lowest thread");
	CHECK_EQ_INT(cycles(3, "2>1 1>0", first, sizeof(first)), 0, "a chain is no deadlock");
	CHECK_EQ_INT(cycles(4, "1>2 2>3 3>1 0>1", first, sizeof(first)), 1,
		     "a waiter on a deadlocked thread is not part of the cycle");
	CHECK_EQ_STR(first, "1 2 3", "three-thread cycle");
	CHECK_EQ_INT(cycles(1, "0>0", first, sizeof(first)), 1, "a thread waiting for itself");
	CHECK_EQ_INT(cycles(4, "0>1 1>0 2>3 3>2", first, sizeof(first)), 2, "two deadlocks");
	CHECK_EQ_INT(cycles(3, "0>1 0>2 1>0 2>0", first, sizeof(first)), 2,
		     "two candidate holders, two cycles");
	CHECK_EQ_INT(cycles(0, "", first, sizeof(first)), 0, "no threads");
}

static enum dump_state classify(long nr, uint64_t addr, const char *function, const char *source,
				bool found)
{
	struct dump_task task = { .state = 'S', .syscall = nr, .arg = { addr } };
	struct dump_leaf leaf = {
		.file = function[0] ? (strchr(function, '.') && !strncmp(function, "Condition", 9)
					       ? "/usr/lib/python3.12/threading.py"
					       : "/srv/app.py")
				    : "",
		.function = function,
		.source = source
	};
	char detail[192];

	return dump__classify(&task, &leaf, 0x1000, 0x1000 + 208, found, detail, sizeof(detail));
}

static void test_classify(void)
{
	struct dump_task running = { .state = 'R', .running = true, .syscall = -1 };
	struct dump_leaf leaf = { .file = "/srv/app.py", .function = "spin", .source = "x += 1" };
	char detail[192];

	CHECK_EQ_INT(dump__classify(&running, &leaf, 0, 0, false, detail, sizeof(detail)),
		     DUMP_RUNNING, "on a CPU");
	CHECK_EQ_INT(classify(FUTEX, 0x1000 + 40, "spin", "x += 1", false), DUMP_GIL,
		     "a futex in the GIL's state");
	CHECK_EQ_INT(classify(FUTEX, 0x9000, "ab", "        with b:", false), DUMP_LOCK,
		     "a with line in a futex wait");
	CHECK_EQ_INT(classify(FUTEX, 0x9000, "ab", "    lock.acquire()", true), DUMP_LOCK,
		     "an acquire with the lock found");
	CHECK_EQ_INT(classify(FUTEX, 0x9000, "Condition.wait", "                waiter.acquire()",
			      true),
		     DUMP_SIGNAL, "Condition.wait's waiter lock is a signal wait");
	CHECK_EQ_INT(classify(FUTEX, 0x9000, "consume", "    item = jobs.get()", false),
		     DUMP_SIGNAL, "SimpleQueue.get blocks in C on a signal");
	CHECK_EQ_INT(classify(FUTEX, 0x9000, "write", "    fh.write(data)", false),
		     DUMP_NATIVE_WAIT, "a native lock in a C call");
	CHECK_EQ_INT(classify(230, 0, "sleeper", "    time.sleep(3600)", false), DUMP_SLEEP,
		     "clock_nanosleep");
	CHECK_EQ_INT(classify(23, 0, "sleeper", "    time.sleep(3600)", false), DUMP_SLEEP,
		     "select() behind time.sleep before 3.11");
	CHECK_EQ_INT(classify(45, 0, "serve", "    data = sock.recv(4096)", false), DUMP_IO,
		     "recvfrom");
	CHECK_EQ_STR(dump__state_name(DUMP_SIGNAL), "signal", "state name");
}

static const char *const source[] = {
	"",
	"def worker(a, b):",	   /* 1 */
	"    with a:",		   /* 2 */
	"        x = 1",	   /* 3 */
	"        # a comment",	   /* 4 */
	"        with b, c as d:", /* 5 */
	"            if x:",	   /* 6 */
	"",			   /* 7 */
	"                call()",  /* 8 */
	"    with e:",		   /* 9 */
	"        def inner():",	   /* 10 */
	"            with f:",	   /* 11 */
	"                g()",	   /* 12 */
};

static void get_line(void *ctx, int n, char *buf, size_t len)
{
	(void)ctx;
	snprintf(buf, len, "%s",
		 n > 0 && n < (int)(sizeof(source) / sizeof(source[0])) ? source[n] : "");
}

static void test_enclosing_withs(void)
{
	int lines[8];

	CHECK_EQ_INT(dump__enclosing_withs(get_line, NULL, 8, 1, lines, 8), 3,
		     "two with statements, one of two items");
	CHECK(lines[0] == 5 && lines[1] == 5 && lines[2] == 2, "innermost first: %d %d %d",
	      lines[0], lines[1], lines[2]);
	CHECK_EQ_INT(dump__enclosing_withs(get_line, NULL, 3, 1, lines, 8), 1, "one with");
	CHECK_EQ_INT(dump__enclosing_withs(get_line, NULL, 9, 1, lines, 8), 0,
		     "a with line does not enclose itself");
	CHECK_EQ_INT(dump__enclosing_withs(get_line, NULL, 12, 1, lines, 8), 1,
		     "an inner function stops at its def");
	CHECK_EQ_INT(lines[0], 11, "the inner function's with");
}

int main(void)
{
	test_cycles();
	test_classify();
	test_enclosing_withs();
	return testing_summary("test_dump");
}
