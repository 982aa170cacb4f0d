// SPDX-License-Identifier: GPL-2.0
/* Pure rules of the report: which waits are idle (a signal, not a lock holder), which files are
 * the threading machinery, and interpreter versions from file names. */
#include <stdio.h>
#include <string.h>

#include "profile/annotate.h"
#include "target/pyversion.h"
#include "testing.h"

/* A stack, leaf first, from "file:function" strings (line 1 each). */
static struct lp_stack_sym *stack(const char *const *frames, bool truncated)
{
	static union {
		struct lp_stack_sym st;
		char room[sizeof(struct lp_stack_sym) + 16 * sizeof(struct lp_frame_sym)];
	} u;
	static char text[16][128];
	uint32_t n = 0;

	for (; frames[n] && n < 16; n++) {
		char *colon;

		snprintf(text[n], sizeof(text[n]), "%s", frames[n]);
		colon = strrchr(text[n], ':');
		*colon = '\0';
		u.st.frames[n] =
			(struct lp_frame_sym){ .file = text[n], .function = colon + 1, .line = 1 };
	}
	u.st.depth = n;
	u.st.truncated = truncated;
	return &u.st;
}

#define STACK(...) stack((const char *const[]){ __VA_ARGS__, NULL }, false)

static bool idle(const char *file, const char *function, const char *source)
{
	struct lp_frame_sym leaf = { .function = function, .file = file, .line = 1 };

	return annotate__is_idle_wait(&leaf, source);
}

int main(void)
{
	const char *th = "/usr/lib/python3.11/threading.py";
	struct lp_pyversion v;

	CHECK(annotate__is_threading_file(th), "threading.py");
	CHECK(annotate__is_threading_file("/x/lib/python3.8/queue.py"), "queue.py");
	CHECK(!annotate__is_threading_file("/srv/app/threading_utils.py"), "not threading.py");

	CHECK(idle(th, "Condition.wait", "                waiter.acquire()"), "Condition.wait");
	CHECK(idle(th, "Thread._wait_for_tstate_lock", ""), "join up to 3.12");
	CHECK(idle(th, "Thread.join", ""), "join from 3.13");
	CHECK(idle(th, "wait", "            waiter.acquire()"), "pre-3.11 Condition.wait");
	CHECK(idle(th, "wait", "            self._acquire_restore(saved_state)"),
	      "re-take after notify");
	CHECK(!idle(th, "wait", "        with self._cond:"), "Event.wait's own lock is contention");
	CHECK(!idle(th, "Semaphore.acquire", "        with self._cond:"), "Semaphore's lock");
	CHECK(!idle("/srv/app/db.py", "Condition.wait", "waiter.acquire()"),
	      "user code never idle");

	/* What a signal wait is: idle in the thread's run loop, resource mid-work. */
#define TH "/usr/lib/python3.11/threading.py"
#define BOOT TH ":Thread.run", TH ":Thread._bootstrap_inner", TH ":Thread._bootstrap"
	CHECK_EQ_INT(annotate__signal_category(STACK(TH ":Condition.wait",
						     "/usr/lib/python3.11/queue.py:Queue.get",
						     "/srv/app/work.py:consumer", BOOT)),
		     LP_CATEGORY_IDLE, "a consumer's own loop waiting on a queue");
	CHECK_EQ_INT(annotate__signal_category(STACK(
			     "/usr/lib/python3.11/concurrent/futures/thread.py:_worker", BOOT)),
		     LP_CATEGORY_IDLE, "a pool worker waiting for work (SimpleQueue.get)");
	CHECK_EQ_INT(annotate__signal_category(STACK(
			     TH ":Condition.wait",
			     "/x/site-packages/sqlalchemy/pool/impl.py:QueuePool._do_get",
			     "/x/site-packages/sqlalchemy/pool/base.py:_ConnectionRecord.checkout",
			     "/srv/app/db.py:handle", BOOT)),
		     LP_CATEGORY_RESOURCE, "a request waiting for a pooled connection");
	CHECK_EQ_INT(annotate__signal_category(STACK(TH ":Condition.wait", TH ":Semaphore.acquire",
						     "/srv/app/work.py:fetch",
						     "/srv/app/work.py:worker", BOOT)),
		     LP_CATEGORY_RESOURCE, "a Semaphore limit reached mid-work");
	CHECK_EQ_INT(annotate__signal_category(STACK(TH ":Thread.join", "/srv/app/main.py:main",
						     "/srv/app/main.py:<module>")),
		     LP_CATEGORY_IDLE, "joins are idle");
	CHECK_EQ_INT(annotate__signal_category(STACK(TH ":Condition.wait", TH ":Event.wait",
						     "/srv/app/main.py:main",
						     "/srv/app/main.py:<module>")),
		     LP_CATEGORY_IDLE, "the main thread's main() loop");
	CHECK_EQ_INT(annotate__signal_category(STACK(TH ":Condition.wait", TH ":Event.wait",
						     "/srv/app/main.py:<module>")),
		     LP_CATEGORY_IDLE, "module code itself");
	CHECK_EQ_INT(annotate__signal_category(STACK(TH ":Condition.wait", TH ":Event.wait",
						     "/srv/app/main.py:wait_ready",
						     "/srv/app/main.py:main",
						     "/srv/app/main.py:<module>")),
		     LP_CATEGORY_RESOURCE, "a helper of main() waiting mid-work");
	CHECK_EQ_INT(annotate__signal_category(
			     stack((const char *const[]){ TH ":Condition.wait", NULL }, true)),
		     LP_CATEGORY_RESOURCE, "truncated: the run loop is not known");
	CHECK(annotate__is_threading_file("/usr/lib/python3.12/concurrent/futures/_base.py"),
	      "concurrent.futures is machinery");

	CHECK_EQ_INT(pyversion__from_name("libpython3.11.so.1.0", &v), 0, "libpython name");
	CHECK(v.major == 3 && v.minor == 11 && !v.free_threaded, "3.11");
	CHECK_EQ_INT(pyversion__from_name("libpython3.13t.so", &v), 0, "free-threaded name");
	CHECK(v.minor == 13 && v.free_threaded, "3.13t");
	CHECK_EQ_INT(pyversion__from_name("python3.7m", &v), 0, "3.7m");
	CHECK_EQ_INT(v.minor, 7, "minor 7");
	CHECK(pyversion__from_name("sleep", &v) != 0, "not python");
	CHECK(pyversion__from_name("python", &v) != 0, "no version");
	v = (struct lp_pyversion){ .major = 3, .minor = 13, .micro = 0 };
	CHECK(pyversion__lock_is_semaphore(&v), "3.13.0 Lock is a sem_t");
	v.micro = 5;
	CHECK(!pyversion__lock_is_semaphore(&v), "3.13.5 Lock is a PyMutex");
	v.minor = 14;
	v.micro = 0;
	CHECK(!pyversion__lock_is_semaphore(&v), "3.14 Lock is a PyMutex");
	return testing_summary("classify");
}
