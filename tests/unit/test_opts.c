// SPDX-License-Identifier: GPL-2.0
/* Command-line parsing: formats paired with files, the output options, and usage errors (argp
 * exits on those, so each runs in a child whose exit status is checked). Also the thread name
 * cache, which reads /proc like lockprof does. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/opts.h"
#include "collect/threadnames.h"
#include "testing.h"
#include "util/log.h"

#define MAX_ARGS 32

static int parse(struct lp_opts *o, const char *const *args)
{
	char *argv[MAX_ARGS + 1] = { "lockprof" };
	int argc = 1;

	for (; *args && argc < MAX_ARGS; args++)
		argv[argc++] = (char *)*args;
	return opts__parse(argc, argv, o);
}

/* Exit status of parsing args in a child, stderr silenced. */
static int parse_status(const char *const *args)
{
	struct lp_opts o;
	int status = -1, null;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		null = open("/dev/null", O_WRONLY);
		dup2(null, STDERR_FILENO);
		dup2(null, STDOUT_FILENO);
		_exit(parse(&o, args));
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define ARGS(...) ((const char *const[]){ "-p", "1", __VA_ARGS__, NULL })

static void test_outputs(void)
{
	struct lp_opts o;

	CHECK_EQ_INT(parse(&o, ARGS("-d", "1")), 0, "defaults");
	CHECK(o.noutputs == 1 && o.outputs[0].format == LP_FORMAT_TEXT && !o.outputs[0].path,
	      "default: text to stdout");
	CHECK(o.report.sort == LP_SORT_TOTAL && !o.report.top && !o.report.histogram &&
		      o.report.weight == LP_WEIGHT_WAIT && o.report.pprof_role == LP_ROLE_WAITER,
	      "default report options");

	CHECK_EQ_INT(parse(&o, ARGS("-o", "r.txt")), 0, "-o alone");
	CHECK(o.noutputs == 1 && o.outputs[0].format == LP_FORMAT_TEXT &&
		      !strcmp(o.outputs[0].path, "r.txt"),
	      "-o alone: text to the file");

	CHECK_EQ_INT(parse(&o, ARGS("-o", "r.json", "-f", "json")), 0, "-o before -f");
	CHECK(o.noutputs == 1 && o.outputs[0].format == LP_FORMAT_JSON &&
		      !strcmp(o.outputs[0].path, "r.json"),
	      "-o before the only -f belongs to it");

	CHECK_EQ_INT(parse(&o, ARGS("-f", "json", "-o", "r.json", "-f", "pprof", "-o", "r.pb.gz",
				    "-f", "collapsed", "-o", "r.folded", "-f", "text")),
		     0, "four formats");
	CHECK_EQ_INT(o.noutputs, 4, "four outputs");
	CHECK(o.outputs[0].format == LP_FORMAT_JSON && !strcmp(o.outputs[0].path, "r.json") &&
		      o.outputs[1].format == LP_FORMAT_PPROF &&
		      !strcmp(o.outputs[1].path, "r.pb.gz") &&
		      o.outputs[2].format == LP_FORMAT_COLLAPSED &&
		      !strcmp(o.outputs[2].path, "r.folded") &&
		      o.outputs[3].format == LP_FORMAT_TEXT && !o.outputs[3].path,
	      "each -o goes with the -f before it");

	CHECK_EQ_INT(parse(&o, ARGS("-f", "pprof", "-o", "p", "-f", "json")), 0, "pprof file");
	CHECK(!strcmp(o.outputs[0].path, "p") && !o.outputs[1].path, "json to stdout");
}

static void test_report_options(void)
{
	struct lp_opts o;

	CHECK_EQ_INT(parse(&o, ARGS("-H", "--sort", "avg", "--top", "5", "--weight", "count",
				    "--min-wait", "10us", "-i", "2.5", "--pprof-stacks", "waiter")),
		     0, "report options");
	CHECK(o.report.histogram && o.report.sort == LP_SORT_AVG && o.report.top == 5 &&
		      o.report.weight == LP_WEIGHT_COUNT && o.min_wait_ns == 10000 &&
		      o.interval_s == 2.5 && o.report.pprof_role == LP_ROLE_WAITER,
	      "parsed values");
	CHECK_EQ_INT(parse(&o, ARGS("--sort", "max", "--min-wait", "5ms")), 0, "sort max");
	CHECK(o.report.sort == LP_SORT_MAX && o.min_wait_ns == 5000000, "max, 5 ms");
	CHECK_EQ_INT(parse(&o, ARGS("--sort", "count", "--histogram")), 0, "sort count");
	CHECK(o.report.sort == LP_SORT_COUNT && o.report.histogram, "count, histogram");
}

static void test_usage_errors(void)
{
	const struct {
		const char *const *args;
		const char *what;
	} cases[] = {
		{ ARGS("-f", "xml"), "unknown format" },
		{ ARGS("-f", "json", "-f", "json"), "format twice" },
		{ ARGS("-f", "json", "-o", "a", "-o", "b"), "two files for one format" },
		{ ARGS("-f", "json", "-o", "a", "-f", "collapsed", "-o", "a"), "one file twice" },
		{ ARGS("-f", "json", "-f", "text"), "two reports on stdout" },
		{ ARGS("-f", "pprof", "-o", "p", "-i", "1"), "-i with pprof" },
		{ ARGS("-o", ""), "empty file name" },
		{ ARGS("-i", "0"), "zero interval" },
		{ ARGS("-i", "0.01"), "interval below 0.1 s" },
		{ ARGS("-i", "soon"), "interval not a number" },
		{ ARGS("--min-wait", "10"), "min-wait without unit" },
		{ ARGS("--min-wait", "10 ms"), "min-wait with a space" },
		{ ARGS("--min-wait", "-1ms"), "negative min-wait" },
		{ ARGS("--sort", "name"), "unknown sort key" },
		{ ARGS("--top", "0"), "top 0" },
		{ ARGS("--top", "x"), "top not a number" },
		{ ARGS("--weight", "hold"), "hold weight needs full mode" },
		{ ARGS("--weight", "bytes"), "unknown weight" },
		{ ARGS("--pprof-stacks", "everyone"), "unknown role" },
		{ ARGS("--pprof-stacks", "hold"), "hold stacks are sample types of their own" },
		{ ARGS("-m", "everything"), "unknown mode" },
		{ ((const char *const[]){ "-f", "json", NULL }), "no pid" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_EQ_INT(parse_status(cases[i].args), LP_EXIT_USAGE, cases[i].what);
}

static void test_modes_and_roles(void)
{
	struct lp_opts o;

	CHECK_EQ_INT(parse(&o, ARGS("-d", "1")), 0, "defaults");
	CHECK(o.modes == LP_MODE_CONTENTION && !o.report.show_idle, "default: contention only");
	CHECK_EQ_INT(parse(&o, ARGS("-m", "gil")), 0, "-m gil");
	CHECK(o.modes == LP_MODE_GIL, "gil only");
	CHECK_EQ_STR(opts__mode_name(o.modes), "gil", "mode name");
	CHECK_EQ_INT(parse(&o, ARGS("-m", "contention,gil", "--show-idle")), 0, "both modes");
	CHECK(o.modes == (LP_MODE_CONTENTION | LP_MODE_GIL) && o.report.show_idle,
	      "contention and gil, idle waits shown");
	CHECK_EQ_STR(opts__mode_name(o.modes), "contention,gil", "mode name of both");
	CHECK_EQ_INT(parse(&o, ARGS("--pprof-stacks", "holder", "-f", "pprof", "-o", "p")), 0,
		     "--pprof-stacks holder");
	CHECK(o.report.pprof_role == LP_ROLE_HOLDER, "holder stacks in pprof");
	CHECK_EQ_STR(profile__role_name(LP_ROLE_HOLDER), "holder", "role name");
	CHECK_EQ_STR(profile__role_name(LP_ROLE_WAITER), "waiter", "role name");
	CHECK_EQ_INT(parse(&o, ARGS("-m", "full", "-i", "1")), 0, "-m full with intervals");
	CHECK(o.modes == (LP_MODE_CONTENTION | LP_MODE_FULL) && o.interval_s == 1.0,
	      "full implies contention; per-interval reports");
}

static void test_threadnames(void)
{
	struct lp_threadnames *t = threadnames__new(getpid());
	uint32_t tid = (uint32_t)gettid();

	CHECK(t != NULL, "threadnames__new");
	CHECK(threadnames__get(t, tid) == NULL, "unknown before it is read");
	prctl(PR_SET_NAME, "lp-test-one");
	CHECK_EQ_INT(threadnames__note(t, tid), 0, "note");
	CHECK_EQ_STR(threadnames__get(t, tid), "lp-test-one", "name read from /proc");
	prctl(PR_SET_NAME, "lp-test-two");
	threadnames__note(t, tid);
	CHECK_EQ_STR(threadnames__get(t, tid), "lp-test-one", "note keeps a known name");
	threadnames__refresh(t, tid);
	CHECK_EQ_STR(threadnames__get(t, tid), "lp-test-two", "refresh reads it again");
	/* a thread that does not exist: its name stays unknown, or the last one read */
	CHECK_EQ_INT(threadnames__note(t, 0x7ffffff0), 0, "gone thread is no error");
	CHECK(threadnames__get(t, 0x7ffffff0) == NULL, "gone thread stays unknown");
	threadnames__refresh(t, tid + 0x7fff0000u);
	CHECK_EQ_INT(threadnames__scan(t), 0, "scan");
	CHECK_EQ_STR(threadnames__get(t, tid), "lp-test-two", "scan keeps known names");
	threadnames__free(t);
}

/* The command word: optional, first, profile by default; the others reserved. */
static void test_faces(void)
{
	struct lp_opts o;

	CHECK_EQ_INT(parse(&o, ARGS("-d", "1")), 0, "no command");
	CHECK_EQ_INT(o.face, LP_FACE_PROFILE, "no command is profile");
	CHECK_EQ_INT(parse(&o, (const char *const[]){ "profile", "-p", "7", NULL }), 0, "profile");
	CHECK(o.face == LP_FACE_PROFILE && o.pid == 7, "profile -p 7");
	CHECK_EQ_INT(parse(&o, (const char *const[]){ "top", "-p", "8", NULL }), 0, "top");
	CHECK(o.face == LP_FACE_TOP && o.pid == 8, "top -p 8");
	CHECK_EQ_INT(parse(&o, (const char *const[]){ "dump", "-p", "9", NULL }), 0, "dump");
	CHECK_EQ_INT(o.face, LP_FACE_DUMP, "dump");
	CHECK_EQ_INT(parse(&o, (const char *const[]){ "serve", "--all", NULL }), 0, "serve --all");
	CHECK(o.face == LP_FACE_SERVE && o.all, "serve --all");
	CHECK(!strcmp(o.serve.listen, LP_DEFAULT_LISTEN) &&
		      o.serve.max_series == LP_DEFAULT_MAX_SERIES &&
		      o.serve.retain_exited_s == LP_DEFAULT_RETAIN_EXITED_S,
	      "serve's defaults: loopback, %u series", o.serve.max_series);
	CHECK_EQ_INT(parse(&o, (const char *const[]){ "serve", "-p", "3,4", "--listen", ":9000",
						      "--max-series", "7", "--retain-exited", "30",
						      NULL }),
		     0, "serve -p A,B with its options");
	CHECK(o.npids == 2 && !strcmp(o.serve.listen, ":9000") && o.serve.max_series == 7 &&
		      o.serve.retain_exited_s == 30.0,
	      "serve options parsed");
	CHECK_EQ_INT(parse_status((const char *const[]){ "serve", NULL }), LP_EXIT_USAGE,
		     "serve without -p or --all");
	CHECK_EQ_INT(parse_status((const char *const[]){ "serve", "-p", "1", "-f", "json", NULL }),
		     LP_EXIT_USAGE, "serve writes no report");
	CHECK_EQ_INT(parse_status((const char *const[]){ "serve", "-p", "1", "-i", "5", NULL }),
		     LP_EXIT_USAGE, "serve has no -i");
	CHECK_EQ_INT(parse_status((const char *const[]){ "serve", "--all", "--max-series", "0",
							 NULL }),
		     LP_EXIT_USAGE, "--max-series 0");
	CHECK_EQ_INT(parse_status((const char *const[]){ "serve", "--all", "--listen", "", NULL }),
		     LP_EXIT_USAGE, "empty --listen");
	CHECK_EQ_INT(parse_status((const char *const[]){ "dump", NULL }), LP_EXIT_USAGE,
		     "dump without -p");
	CHECK_EQ_INT(parse_status((const char *const[]){ "record", "-p", "1", NULL }),
		     LP_EXIT_USAGE, "unknown command");
	CHECK_EQ_INT(parse_status((const char *const[]){ "-p", "1", "top", NULL }), LP_EXIT_USAGE,
		     "a command after the options");
	CHECK_EQ_STR(opts__face_name(LP_FACE_TOP), "top", "face name");
	CHECK_EQ_INT(parse_status((const char *const[]){ "top", "-p", "1", "-f", "json", NULL }),
		     LP_EXIT_USAGE, "top writes no report");
	CHECK_EQ_INT(parse(&o, (const char *const[]){ "-p", "1", "-f", "html", NULL }), 0, "html");
	CHECK_EQ_INT(o.outputs[0].format, LP_FORMAT_HTML, "-f html");
	CHECK_EQ_INT(parse_status((const char *const[]){ "-p", "1", "-f", "html", "-i", "5",
							 NULL }),
		     LP_EXIT_USAGE, "a page holds one profile: not with -i");
}

/* One errno -> exit code rule for every stage. */
static void test_exit_codes(void)
{
	CHECK_EQ_INT(lp_exit_for_errno(-EPERM, LP_EXIT_KERNEL), LP_EXIT_PRIVILEGE, "-EPERM");
	CHECK_EQ_INT(lp_exit_for_errno(EACCES, LP_EXIT_ERROR), LP_EXIT_PRIVILEGE, "EACCES");
	CHECK_EQ_INT(lp_exit_for_errno(-ESRCH, LP_EXIT_ERROR), LP_EXIT_NO_PROCESS, "-ESRCH");
	CHECK_EQ_INT(lp_exit_for_errno(-ENOENT, LP_EXIT_KERNEL), LP_EXIT_KERNEL, "otherwise");
	CHECK(lp_errno_is_denied(-EACCES) && !lp_errno_is_denied(-ENOENT), "denied");
}

int main(void)
{
	test_faces();
	test_exit_codes();
	test_outputs();
	test_report_options();
	test_usage_errors();
	test_modes_and_roles();
	test_threadnames();
	return testing_summary("opts");
}
