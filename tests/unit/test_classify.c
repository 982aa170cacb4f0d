// SPDX-License-Identifier: GPL-2.0
/* Pure rules of the report: which waits are idle (a signal, not a lock holder), which files are
 * the threading machinery, and interpreter versions from file names. */
#include "profile/annotate.h"
#include "target/pyversion.h"
#include "testing.h"

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
