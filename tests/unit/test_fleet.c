// SPDX-License-Identifier: GPL-2.0
/* Many processes without BPF: -p's pid lists and --all's checks, procscan over a /proc tree built
 * in a temporary directory, and profile sets (delta of two cumulative sets, rendered as text,
 * json, collapsed). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/opts.h"
#include "collect/statsacc.h"
#include "collect/threadnames.h"
#include "profile/profile_set.h"
#include "report/report.h"
#include "target/procscan.h"
#include "testing.h"
#include "util/exitcode.h"

#define MAX_ARGS 16

static int parse_status(const char *const *args)
{
	char *argv[MAX_ARGS + 1] = { "lockprof" };
	struct lp_opts o;
	int argc = 1, status = -1;
	pid_t pid;

	for (; *args && argc < MAX_ARGS; args++)
		argv[argc++] = (char *)*args;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDERR_FILENO);
		dup2(null, STDOUT_FILENO);
		_exit(opts__parse(argc, argv, &o));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define ARGV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_pid_lists(void)
{
	pid_t pids[4];
	size_t n = 0;

	CHECK_EQ_INT(opts__parse_pid_list("10,20,30", pids, 4, &n), 0, "three pids");
	CHECK(n == 3 && pids[0] == 10 && pids[2] == 30, "in order");
	n = 0;
	CHECK_EQ_INT(opts__parse_pid_list("7,7,8,7", pids, 4, &n), 0, "duplicates");
	CHECK_EQ_INT(n, 2, "duplicates dropped");
	CHECK_EQ_INT(opts__parse_pid_list("9", pids, 4, &n), 0, "appends");
	CHECK_EQ_INT(n, 3, "repeated -p adds up");
	n = 0;
	CHECK_EQ_INT(opts__parse_pid_list("1,2,3,4,5", pids, 4, &n), -E2BIG, "too many");
	const char *bad[] = {
		"", ",", "1,", ",1", "1,,2", "a", "1,b", "0", "-3", "1 2", "99999999999999999999"
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 0;
		CHECK(opts__parse_pid_list(bad[i], pids, 4, &n) == -EINVAL, "'%s' refused", bad[i]);
	}
}

static void test_many_options(void)
{
	char *argv[] = { "lockprof", "-p", "5,6", "-p", "7", "--max-processes", "8" };
	char *all[] = { "lockprof", "--all", "-f", "json", "-o", "/tmp/x.json" };
	struct lp_opts o;

	CHECK_EQ_INT(opts__parse(7, argv, &o), 0, "-p twice");
	CHECK(o.npids == 3 && o.pid == 5 && o.max_processes == 8 && opts__many(&o), "pids %zu",
	      o.npids);
	CHECK_EQ_INT(opts__parse(6, all, &o), 0, "--all");
	CHECK(o.all && !o.npids && opts__many(&o) && o.max_processes == LP_DEFAULT_MAX_PROCESSES,
	      "--all set");
	CHECK_EQ_INT(parse_status(ARGV("-p", "1")), 0, "one pid");
	CHECK_EQ_INT(parse_status(ARGV("--all", "-p", "1")), LP_EXIT_USAGE, "-p with --all");
	CHECK_EQ_INT(parse_status(ARGV("-p", "1,2", "-f", "html", "-o", "/tmp/x.html")),
		     LP_EXIT_USAGE, "html of two processes");
	CHECK_EQ_INT(parse_status(ARGV("top", "-p", "1,2")), LP_EXIT_USAGE, "top of two");
	CHECK_EQ_INT(parse_status(ARGV("dump", "--all")), LP_EXIT_USAGE, "dump --all");
	CHECK_EQ_INT(parse_status(ARGV("--all", "-m", "full")), LP_EXIT_USAGE, "--all -m full");
	CHECK_EQ_INT(parse_status(ARGV("-p", "1,2,3", "--max-processes", "2")), LP_EXIT_USAGE,
		     "more pids than --max-processes");
	CHECK_EQ_INT(parse_status(ARGV("--all", "--max-processes", "0")), LP_EXIT_USAGE,
		     "--max-processes 0");
	CHECK_EQ_INT(parse_status(ARGV("--all", "--max-processes", "99999")), LP_EXIT_USAGE,
		     "--max-processes too large");
	CHECK_EQ_INT(parse_status(ARGV("-p", "1,x")), LP_EXIT_USAGE, "bad list");
	CHECK_EQ_INT(parse_status(ARGV("-d", "1")), LP_EXIT_USAGE, "neither -p nor --all");
}

static void test_python_paths(void)
{
	const char *yes[] = { "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0",
			      "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0",
			      "/opt/py/lib/libpython3.13t.so.1.0",
			      "/usr/bin/python3.11",
			      "/usr/bin/python3",
			      "/usr/local/bin/python3.14t",
			      "/usr/bin/python3.11 (deleted)" };
	const char *no[] = { "/usr/bin/python3-config",
			     "/usr/lib/libpythonic.so",
			     "/usr/bin/pythonista",
			     "/usr/lib/python3.11/lib-dynload/_ssl.so",
			     "/usr/bin/bash",
			     "/usr/lib/libpython.so",
			     "[heap]",
			     "" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CHECK(procscan__is_python_path(yes[i], strlen(yes[i])), "%s is python", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		CHECK(!procscan__is_python_path(no[i], strlen(no[i])), "%s is not", no[i]);

	const char maps_py[] = "55d0c0000000-55d0c0001000 r--p 00000000 08:01 123 /usr/bin/bash\n"
			       "7f0000000000-7f0000100000 r-xp 00000000 08:01 456 "
			       "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0\n"
			       "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]";
	const char maps_no[] = "55d0c0000000-55d0c0001000 r--p 00000000 08:01 123 /usr/bin/bash\n"
			       "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n";

	CHECK(procscan__maps_have_python(maps_py, strlen(maps_py)), "maps with libpython");
	CHECK(!procscan__maps_have_python(maps_no, strlen(maps_no)), "maps without");

	const char stat[] = "42 (a) b) (c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 "
			    "987654 12345 67";
	bool zombie;

	CHECK_EQ_INT(procscan__stat_start(stat, strlen(stat), &zombie), 987654,
		     "start time after a comm with parentheses");
	CHECK(!zombie, "sleeping");
	CHECK_EQ_INT(procscan__stat_start("7 (z) Z 1 2 3", 13, &zombie), 0, "short stat");
	CHECK(zombie, "zombie seen");
	CHECK_EQ_INT(procscan__stat_start("garbage", 7, &zombie), 0, "no comm");
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* ROOT/PID with maps, stat, comm and exe (a symlink to an existing file). */
static void fake_process(const char *root, int pid, const char *maps, const char *comm,
			 const char *state)
{
	char dir[PATH_MAX / 2], stat[256], exe[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/%d", root, pid);
	mkdir(dir, 0755);
	write_file(dir, "maps", maps);
	write_file(dir, "comm", comm);
	snprintf(stat, sizeof(stat), "%d (%s) %s 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n",
		 pid, comm, state, 1000 + pid);
	write_file(dir, "stat", stat);
	snprintf(exe, sizeof(exe), "%s/exe", dir);
	if (symlink("/proc/self/exe", exe))
		perror("symlink");
}

static void remove_tree(const char *root)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		perror("rm");
}

static void test_scan(void)
{
	char root[] = "/tmp/lockprof-procscan-XXXXXX", comm[LP_COMM_LEN];
	const char *py = "7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/libpython3.12.so.1.0\n";
	const char *exe_py = "5500-5501 r-xp 00000000 08:01 1 /usr/local/bin/python3.13\n";
	const char *sh = "5500-5501 r-xp 00000000 08:01 1 /usr/bin/dash\n";
	struct lp_procscan *s;
	pid_t pids[8];
	size_t n;

	if (!mkdtemp(root)) {
		CHECK(0, "mkdtemp failed");
		return;
	}
	fake_process(root, 300, py, "gunicorn\n", "S");
	fake_process(root, 20, exe_py, "worker\n", "R");
	fake_process(root, 21, sh, "sh\n", "S");
	fake_process(root, 22, py, "dead\n", "Z");
	fake_process(root, 77, py, "lockprof-self\n", "S");
	s = procscan__new(root, 77);
	CHECK(s != NULL, "scanner");
	if (!s)
		return;
	CHECK_EQ_INT(procscan__scan(s, pids, 8, &n), 0, "scan");
	CHECK(n == 2 && pids[0] == 20 && pids[1] == 300,
	      "python processes in pid order, self and zombies and shells skipped: %zu", n);
	procscan__comm(s, 300, comm, sizeof(comm));
	CHECK_EQ_STR(comm, "gunicorn", "comm without newline");
	procscan__comm(s, 999, comm, sizeof(comm));
	CHECK_EQ_STR(comm, "", "no such process");
	/* Known non-CPython processes are not read again; a process that started is seen. */
	fake_process(root, 400, py, "new\n", "S");
	CHECK_EQ_INT(procscan__scan(s, pids, 8, &n), 0, "rescan");
	CHECK(n == 3 && pids[2] == 400, "a process that started is found: %zu", n);
	CHECK_EQ_INT(procscan__scan(s, pids, 1, &n), 0, "bounded");
	CHECK_EQ_INT(n, 1, "at most max pids");
	procscan__free(s);
	s = procscan__new("/nonexistent-proc", 1);
	CHECK(s && procscan__scan(s, pids, 8, &n) == -ENOENT, "missing tree: -ENOENT");
	procscan__free(s);
	remove_tree(root);
}

/* A profile of one lock with one waiting stack of one thread. */
static void one_lock(struct lp_profile *p, pid_t pid, uint64_t waits, uint64_t ns)
{
	struct lp_stat_key key = { .lock = 0xa0, .stack_id = 0x11, .tid = 5 };
	struct lp_stat_value val = { .count = waits, .total_ns = ns, .max_ns = ns };

	profile__init(p, NULL, NULL);
	p->pid = pid;
	snprintf(p->comm, sizeof(p->comm), "worker");
	snprintf(p->python, sizeof(p->python), "3.11.2");
	val.hist[10] = (uint32_t)waits;
	CHECK_EQ_INT(profile__add_stat(p, &key, &val), 0, "add_stat");
	profile__link(p);
	profile__finish(p);
	snprintf(p->locks[0].name, sizeof(p->locks[0].name), "cache_lock");
}

static void test_sets(void)
{
	struct lp_proc_info a = {
		.pid = 10, .comm = "worker", .python = "3.11.2", .attached_ns = 1
	};
	struct lp_proc_info b = {
		.pid = 11, .comm = "worker", .python = "3.13.0", .attached_ns = 2
	};
	struct lp_profile_set early = {}, late = {};
	struct lp_profile p;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	one_lock(&p, 11, 3, 3000);
	profile_set__add(&early, &b, &p, false);
	early.duration_ns = 1000;
	one_lock(&p, 11, 10, 9000);
	p.duration_ns = 3000;
	profile_set__add(&late, &b, &p, false);
	one_lock(&p, 10, 4, 400);
	profile_set__add(&late, &a, &p, true); /* a copy: p stays the caller's */
	CHECK_EQ_INT(p.nlocks, 1, "copied, not taken");
	profile__free(&p);
	late.duration_ns = 3000;
	profile_set__sort(&late);
	CHECK(late.procs[0].proc.pid == 10 && late.procs[1].proc.pid == 11, "sorted by pid");
	CHECK_EQ_INT(profile_set__subtract(&late, &early), 0, "subtract");
	CHECK_EQ_INT(late.duration_ns, 2000, "delta span");
	CHECK_EQ_INT(profile_set__find(&late, 11)->profile.locks[0].waits, 7, "11: 10 - 3 waits");
	CHECK_EQ_INT(profile_set__find(&late, 11)->profile.locks[0].wait_ns, 6000, "11: wait");
	CHECK_EQ_INT(profile_set__find(&late, 11)->profile.total_waits, 7, "11: totals redone");
	CHECK_EQ_INT(profile_set__find(&late, 11)->profile.locks[0].stacks[0].tids[0].count, 7,
		     "11: thread share");
	CHECK_EQ_INT(profile_set__find(&late, 10)->profile.locks[0].waits, 4, "10: not in early");
	CHECK(profile_set__find(&late, 12) == NULL, "no such pid");
	/* The same again: nothing left of 11's lock. */
	CHECK_EQ_INT(profile_set__subtract(&early, &early), 0, "self-subtract");
	CHECK_EQ_INT(early.procs[0].profile.nlocks, 0, "lock dropped when nothing is left");

	f = open_memstream(&text, &len);
	CHECK_EQ_INT(report__write_set(f, LP_FORMAT_TEXT, &late, NULL), 0, "text");
	fclose(f);
	CHECK(text && strstr(text, "2 processes profiled") && strstr(text, "=== pid 10 (worker)") &&
		      strstr(text, "=== pid 11 (worker), CPython 3.11.2 ==="),
	      "text: table and sections\n%s", text);
	free(text);
	f = open_memstream(&text, &len);
	CHECK_EQ_INT(report__write_set(f, LP_FORMAT_JSON, &late, NULL), 0, "json");
	fclose(f);
	CHECK(text && strstr(text, "\"processes\": [") &&
		      strstr(text, "\"pid\": 11, \"comm\": \"worker\""),
	      "json: processes, pid and comm on locks\n%s", text);
	free(text);
	f = open_memstream(&text, &len);
	CHECK_EQ_INT(report__write_set(f, LP_FORMAT_COLLAPSED, &late, NULL), 0, "collapsed");
	fclose(f);
	CHECK(text && strstr(text, "worker (pid 10);<stack lost>;lock cache_lock 400\n") &&
		      strstr(text, "worker (pid 11);<stack lost>;lock cache_lock 6000\n"),
	      "collapsed: the process as root frame\n%s", text);
	free(text);
	f = open_memstream(&text, &len);
	CHECK(report__write_set(f, LP_FORMAT_HTML, &late, NULL) == -EINVAL, "html refused");
	fclose(f);
	free(text);
	profile_set__free(&late);
	profile_set__free(&early);
	CHECK(late.n == 0 && !late.procs, "freed");
}

static void test_caps(void)
{
	struct lp_statsacc *a = statsacc__new(4);
	struct lp_statsacc_info info;
	struct lp_stat_value v = {
		.count = 2, .total_ns = 100, .max_ns = 60, .first_ns = 5, .last_ns = 9
	};
	struct lp_threadnames *names = threadnames__new(getpid());
	struct lp_profile p;

	CHECK(a && names, "accumulator and names");
	if (!a || !names)
		return;
	/* Four threads fill it; the same keys again only add up. */
	for (uint32_t tid = 1; tid <= 4; tid++) {
		struct lp_stat_key k = { .lock = 0xa0, .stack_id = 7, .tid = tid };

		CHECK_EQ_INT(statsacc__add(a, &k, &v), 0, "add");
		CHECK_EQ_INT(statsacc__add(a, &k, &v), 0, "add again");
	}
	statsacc__info(a, &info);
	CHECK(info.entries == 4 && !info.folded_waits && !info.dropped_waits, "four entries");
	/* Threads past the cap: folded into tid 0 of their lock and stack. */
	for (uint32_t tid = 5; tid <= 9; tid++) {
		struct lp_stat_key k = { .lock = 0xa0, .stack_id = 7, .tid = tid };

		statsacc__add(a, &k, &v);
	}
	statsacc__info(a, &info);
	CHECK(info.entries == 5 && info.folded_waits == 10 && !info.dropped_waits,
	      "folded: %zu entries, %llu folded", info.entries,
	      (unsigned long long)info.folded_waits);
	/* A new lock past the cap: its waits join the other locks waited on at its stack. */
	struct lp_stat_key other = { .lock = 0xb0, .stack_id = 7, .tid = 1 };

	statsacc__add(a, &other, &v);
	statsacc__info(a, &info);
	CHECK(info.entries == 6 && info.folded_waits == 12 && !info.dropped_waits,
	      "other locks: %zu entries", info.entries);
	/* The reserve (4 / 8 + 2) full: a new lock at a new stack is dropped, counted. */
	struct lp_stat_key lost = { .lock = 0xc0, .stack_id = 8, .tid = 1 };

	statsacc__add(a, &lost, &v);
	statsacc__info(a, &info);
	CHECK_EQ_INT(info.dropped_waits, 2, "dropped");
	/* A holder's entry re-counts waits: never counted as folded or dropped waits. */
	lost.kind = LP_KIND_HOLDER;
	statsacc__add(a, &lost, &v);
	statsacc__info(a, &info);
	CHECK_EQ_INT(info.dropped_waits, 2, "a holder's entry is no wait");
	profile__init(&p, NULL, NULL);
	CHECK_EQ_INT(statsacc__to_profile(a, &p), 0, "to profile");
	profile__link(&p);
	profile__finish(&p);
	CHECK(p.nlocks == 2 && p.locks[0].waits == 26 && p.locks[0].wait_ns == 1300 &&
		      p.locks[0].max_ns == 60 && p.locks[1].id == LP_STATSACC_OTHER_LOCKS &&
		      p.locks[1].waits == 2,
	      "every kept wait in the profile: %zu locks", p.nlocks);
	profile__free(&p);
	statsacc__free(a);

	/* Thread names: past the cap, those of threads that are gone are forgotten. */
	for (uint32_t i = 0; i < LP_THREADNAMES_MAX; i++)
		threadnames__set(names, 3000000000u + i, "gone");
	CHECK_EQ_INT(threadnames__evicted(names), 0, "full, nothing evicted yet");
	threadnames__set(names, (uint32_t)getpid(), "main");
	CHECK_EQ_INT(threadnames__evicted(names), LP_THREADNAMES_MAX, "exited threads forgotten");
	CHECK_EQ_STR(threadnames__get(names, (uint32_t)getpid()), "main", "new name kept");
	CHECK(threadnames__get(names, 3000000000u) == NULL, "old name gone");
	threadnames__free(names);
}

int main(void)
{
	test_caps();
	test_pid_lists();
	test_many_options();
	test_python_paths();
	test_scan();
	test_sets();
	return testing_summary("fleet");
}
