// SPDX-License-Identifier: GPL-2.0
/* lockprof dump's read of a thread-state list that changes while it is read: built in this
 * process's own memory (process_vm_readv of our own pid), laid out as CPython's: a runtime that
 * points to an interpreter, whose thread list holds states beginning {prev, next, interp}. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dump/dump.h"
#include "dump/layout.h"
#include "target/interp.h"
#include "testing.h"

#define RUNTIME_INTERP_HEAD 24 /* any offsets: the reader takes them from the table */
#define INTERP_THREADS_HEAD 8

struct tstate {
	_Atomic uint64_t prev, next, interp;
	uint64_t rest[4];
};

static uint64_t runtime[8];
static _Atomic uint64_t interp[4]; /* threads.head at INTERP_THREADS_HEAD */
static struct tstate a, b, c, n;
static struct lp_interp info;

static uint64_t addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void link_list(struct tstate **states, int count)
{
	for (int i = 0; i < count; i++) {
		states[i]->prev = i ? addr(states[i - 1]) : 0;
		states[i]->next = i + 1 < count ? addr(states[i + 1]) : 0;
		states[i]->interp = addr(interp);
	}
	interp[INTERP_THREADS_HEAD / 8] = count ? addr(states[0]) : 0;
}

static int read_list(uint64_t *states, int max)
{
	return dump__read_thread_list(getpid(), &info, states, max);
}

static void setup(void)
{
	info.runtime_addr = addr(runtime);
	info.offsets.walk.runtime_interp_head = RUNTIME_INTERP_HEAD;
	info.offsets.walk.interp_threads_head = INTERP_THREADS_HEAD;
	info.offsets.walk.tstate_next = DUMP_TSTATE_PREV + 8;
	runtime[RUNTIME_INTERP_HEAD / 8] = addr(interp);
}

static void test_consistent_lists(void)
{
	struct tstate *abc[] = { &a, &b, &c };
	uint64_t states[8];

	link_list(abc, 3);
	CHECK_EQ_INT(read_list(states, 8), 3, "three linked states");
	CHECK(states[0] == addr(&a) && states[1] == addr(&b) && states[2] == addr(&c),
	      "head first: %#llx %#llx %#llx", (unsigned long long)states[0],
	      (unsigned long long)states[1], (unsigned long long)states[2]);
	CHECK_EQ_INT(read_list(states, 2), 2, "at most max states");
	link_list(abc, 0);
	CHECK_EQ_INT(read_list(states, 8), 0, "no threads");
	runtime[RUNTIME_INTERP_HEAD / 8] = 0;
	CHECK_EQ_INT(read_list(states, 8), -ENOENT, "no interpreter");
	runtime[RUNTIME_INTERP_HEAD / 8] = addr(interp);
}

/* What a thread that exits leaves to a reader that holds its state's address. */
static void test_broken_lists(void)
{
	struct tstate *abc[] = { &a, &b, &c };
	uint64_t states[8];
	void *unmapped;

	/* b exited and was unlinked; its own links are stale, so a reader that got to b from a
	 * read of a's next before the unlink finds c, whose prev is now a. */
	link_list(abc, 3);
	c.prev = addr(&a);
	CHECK_EQ_INT(read_list(states, 8), -EAGAIN, "a stale state's successor no longer its");
	/* b's memory freed and taken by a new state not yet linked (calloc: all zero): its next
	 * reads as the end of the list, which would hide c. */
	link_list(abc, 3);
	memset(&b, 0, sizeof(b));
	CHECK_EQ_INT(read_list(states, 8), -EAGAIN, "a zeroed state in the list");
	/* b's memory back in malloc's free lists: its first words are malloc's pointers. */
	link_list(abc, 3);
	b.prev = addr(runtime);
	CHECK_EQ_INT(read_list(states, 8), -EAGAIN, "a freed state's prev");
	link_list(abc, 3);
	b.interp = addr(runtime);
	CHECK_EQ_INT(read_list(states, 8), -EAGAIN, "a state of another interpreter");
	link_list(abc, 3);
	a.prev = addr(&n);
	CHECK_EQ_INT(read_list(states, 8), -EAGAIN, "a head with a prev: a new head not read");
	/* b's next into memory no longer mapped (a thread arena given back). */
	unmapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(unmapped != MAP_FAILED, "mmap: %s", strerror(errno));
	munmap(unmapped, 4096);
	link_list(abc, 3);
	b.next = addr(unmapped);
	CHECK_EQ_INT(read_list(states, 8), -EAGAIN, "a next into unmapped memory");
	link_list(abc, 3);
	CHECK_EQ_INT(read_list(states, 8), 3, "whole again");
}

/* A thread starting and exiting over and over, as CPython links and unlinks one (under its
 * HEAD_LOCK, which a reader from outside cannot take): a new head n before a, b, c. */
static atomic_bool churn_stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&churn_stop)) {
		n.prev = 0;
		n.next = addr(&a);
		n.interp = addr(interp);
		a.prev = addr(&n);
		interp[INTERP_THREADS_HEAD / 8] = addr(&n);
		usleep(20);
		interp[INTERP_THREADS_HEAD / 8] = addr(&a);
		a.prev = 0;
		/* freed: malloc's free-list pointers over its first words, into readable memory */
		n.prev = addr(runtime);
		n.next = addr(runtime);
		usleep(20);
	}
	return NULL;
}

static void test_list_changing_while_read(void)
{
	struct tstate *abc[] = { &a, &b, &c };
	int reads = 2000, wrong = 0, consistent = 0;
	uint64_t states[8];
	pthread_t writer;

	link_list(abc, 3);
	atomic_store(&churn_stop, false);
	if (pthread_create(&writer, NULL, churn, NULL)) {
		CHECK(0, "pthread_create failed");
		return;
	}
	for (int i = 0; i < reads; i++) {
		int got = read_list(states, 8);

		if (got == 3 || got == 4)
			consistent++;
		else if (got != -EAGAIN)
			wrong++;
		if (got == 4 && (states[0] != addr(&n) || states[1] != addr(&a)))
			wrong++;
		if (got == 3 && (states[0] != addr(&a) || states[2] != addr(&c)))
			wrong++;
	}
	atomic_store(&churn_stop, true);
	pthread_join(writer, NULL);
	CHECK_EQ_INT(wrong, 0, "reads that returned a list the target never had");
	CHECK(consistent >= reads * 9 / 10, "%d of %d reads consistent", consistent, reads);
}

int main(void)
{
	setup();
	test_consistent_lists();
	test_broken_lists();
	test_list_changing_while_read();
	return testing_summary("test_threadlist");
}
