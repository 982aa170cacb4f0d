// SPDX-License-Identifier: GPL-2.0
/* Command-line parsing with argp: the option table, value checks and the --help text. */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/opts.h"
#include "util/log.h"
#include "util/names.h"
#include "util/units.h"

const char *argp_program_version = "lockprof " LOCKPROF_VERSION;

/* argp wraps at column 79: lines here stay shorter. */
static const char doc[] =
	"lockprof: where the threads of a running CPython process wait on locks.\n"
	"\n"
	"Attaches eBPF uprobes to the lock slow path of a running Python process (no\n"
	"restart, nothing installed in the target; uncontended locking costs it\n"
	"nothing) and reports which locks its threads waited on, where in the Python\n"
	"code, how often and how long.\n"
	"\n"
	"USAGE: lockprof [profile] -p PID[,PID...] | --all [-m MODE] [-d SECONDS]\n"
	"                [-i SECONDS] [-f FORMAT [-o FILE]]... [options]\n"
	"\n"
	"COMMANDS (one engine, four faces; the first word, profile when omitted):\n"
	"  profile   profile a process and write reports at the end (and every -i)\n"
	"  serve     always on: /metrics for Prometheus, /debug/pprof/mutex for go\n"
	"            tool pprof, Pyroscope and Parca, until SIGTERM (--listen ADDR)\n"
	"  top       a live view of the locks waited on, refreshed every second\n"
	"  dump      who waits on which lock held by whom, and deadlocks, in a stuck\n"
	"            process: one snapshot, nothing attached (-p PID [-f text|json])\n"
	"\n"
	"EXAMPLES:\n"
	"  lockprof -p 4242               until Ctrl-C or until the target exits\n"
	"  lockprof profile -p 4242       the same, the command spelled out\n"
	"  lockprof -p 4242 -d 10 -H      10 s, with a wait histogram per lock\n"
	"  lockprof -p 4242 -i 5          a report every 5 s\n"
	"  lockprof -p 4242 -d 5 -f json -o locks.json\n"
	"  lockprof -p 4242 -d 30 -f pprof -o locks.pb.gz     for go tool pprof\n"
	"  lockprof -p 4242 -d 30 -f collapsed | flamegraph.pl --countname=ns\n"
	"  lockprof -p 4242 -f json -o l.json -f pprof -o l.pb.gz -f text\n"
	"  lockprof -p 4242 -d 10 -m gil  which threads wait for the GIL, where\n"
	"  lockprof -p 4242 -d 10 -m full --capture-pct 10   hold times too\n"
	"  lockprof -p 4242,4243 -d 10   two processes, a report section each\n"
	"  lockprof --all -d 60 -f json -o pod.json   every CPython process,\n"
	"                                 including those that start meanwhile\n"
	"  lockprof serve -p 4242         serve on http://127.0.0.1:9464/metrics\n"
	"  lockprof serve -p 4242 --listen 0.0.0.0:9464 -m contention,gil\n"
	"  go tool pprof http://127.0.0.1:9464/debug/pprof/mutex?seconds=30\n"
	"\n"
	"EXIT STATUS:\n"
	"  0 report written, 1 other error, 2 invalid command line, 3 no such\n"
	"  process, 4 not a CPython process, 5 unsupported CPython version,\n"
	"  6 insufficient privilege, 7 kernel lacks BPF/BTF/uprobe support or\n"
	"  attaching failed, 8 output file not writable, 9 serve: --listen address\n"
	"  cannot be bound (in use, or not an address of this host).\n"
	"\v"
	"-f may be given once per format; each -o names the file of the -f before\n"
	"it, and at most one report goes to stdout. lockprof prints its banner on\n"
	"stderr once every probe is live, then stops at -d, on SIGINT/SIGTERM or\n"
	"when the target exits, and writes the reports. With -i it also writes\n"
	"them at the end of every interval, each covering only that interval.\n"
	"See lockprof(8).";

enum {
	OPT_MODE = 'm',
	OPT_SORT = 0x100,
	OPT_TOP,
	OPT_MIN_WAIT,
	OPT_WEIGHT,
	OPT_PPROF_STACKS,
	OPT_SHOW_IDLE,
	OPT_CAPTURE_PCT,
	OPT_MAX_OVERHEAD,
	OPT_LOCK_NAMES,
	OPT_ALL,
	OPT_MAX_PROCESSES,
	OPT_LISTEN,
	OPT_MAX_SERIES,
	OPT_RETAIN_EXITED,
};

enum { GROUP_PROFILE = 1, GROUP_OUTPUT, GROUP_TEXT, GROUP_SERVE, GROUP_OTHER };

// clang-format off
static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "What to profile:", GROUP_PROFILE },
	{ "pid", 'p', "PID[,PID...]", 0, "Process(es) to profile (or --all); may be repeated", 0 },
	{ "all", OPT_ALL, NULL, 0, "Every CPython process visible (lockprof's PID namespace), "
	  "picking up those that start within a second and dropping those that exit", 0 },
	{ "max-processes", OPT_MAX_PROCESSES, "N", 0, "Profile at most N processes at once "
	  "(default 64); more are reported and skipped", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS (default: Ctrl-C or target exit)", 0 },
	{ "interval", 'i', "SECONDS", 0, "Write a report every SECONDS, each covering only its "
	  "interval", 0 },
	{ "mode", OPT_MODE, "MODE", 0,
	  "What to measure, comma-separated: contention (default), gil, full (hold times of "
	  "sampled acquisitions; implies contention)", 0 },
	{ "capture-pct", OPT_CAPTURE_PCT, "P", 0,
	  "-m full: record P% of uncontended acquisitions, 1-100 (default 1); totals are "
	  "upscaled estimates", 0 },
	{ "max-overhead", OPT_MAX_OVERHEAD, "PCT", 0,
	  "Keep lockprof's estimated cost under PCT% of a CPU (default 50; -m full's probes 5). "
	  "Stack walks get at most 1/25 of it (2% of a CPU by default): past that, short waits' "
	  "stacks are sampled, weighted (wait totals stay exact); at extreme wait rates the "
	  "probes are attached part of the time and totals upscaled; 100: no bound, every "
	  "stack", 0 },
	{ "lock-names", OPT_LOCK_NAMES, "FROM", 0,
	  "wait (default): name locks from the line where threads wait; creation: also probe lock "
	  "creation for the creating line and the creation site, at two traps per lock created (every "
	  "Condition.wait, Event.wait, queue get/put and Future creates one; measured: about 25 us "
	  "per lock, a queue pipeline 1.7x slower). On with -m full", 0 },
	{ "min-wait", OPT_MIN_WAIT, "DURATION", 0, "Do not count waits shorter than DURATION "
	  "(e.g. 10us, 5ms, 1s)", 0 },
	{ NULL, 0, NULL, 0, "Output:", GROUP_OUTPUT },
	{ "format", 'f', "FORMAT", 0, "Report format: text (default), json, collapsed, pprof or html; "
	  "repeat for several", 0 },
	{ "output", 'o', "FILE", 0, "Write the report of the preceding -f to FILE instead of "
	  "stdout", 0 },
	{ "show-idle", OPT_SHOW_IDLE, NULL, 0, "Also report waits that are not contention "
	  "(Condition/Event/queue waits, joins)", 0 },
	{ "weight", OPT_WEIGHT, "WEIGHT", 0, "collapsed: wait (nanoseconds, default) or count", 0 },
	{ "pprof-stacks", OPT_PPROF_STACKS, "ROLE", 0, "pprof: waiter (default: who waited) or "
	  "holder (whose release ended the waits)", 0 },
	{ NULL, 0, NULL, 0, "Text report:", GROUP_TEXT },
	{ "histogram", 'H', NULL, 0, "A log2 histogram of wait times per lock", 0 },
	{ "sort", OPT_SORT, "KEY", 0, "Order of locks: total (default), max, count or avg", 0 },
	{ "top", OPT_TOP, "N", 0, "List only the first N locks", 0 },
	{ NULL, 0, NULL, 0, "serve:", GROUP_SERVE },
	{ "listen", OPT_LISTEN, "HOST:PORT", 0, "Address to serve on (default "
	  LP_DEFAULT_LISTEN "; :PORT for every interface)", 0 },
	{ "max-series", OPT_MAX_SERIES, "N", 0, "Lock series per process in /metrics (default 100); "
	  "the waits of further locks go to one lock=\"other\" series", 0 },
	{ "retain-exited", OPT_RETAIN_EXITED, "SECONDS", 0, "Keep serving an exited process's "
	  "figures this long (default 300)", 0 },
	{ NULL, 0, NULL, 0, "Other:", GROUP_OTHER },
	{ "verbose", 'v', NULL, 0, "More diagnostics on stderr (twice: libbpf debug output)", 0 },
	{},
};
// clang-format on

/* What parsing needs beyond the result: -f and -o pair up by order. */
struct parse_state {
	struct lp_opts *opts;
	int nformats;
	const char *first_path; /* an -o before any -f: it belongs to the first report */
};

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -EINVAL;
	*pid = (pid_t)v;
	return 0;
}

int opts__parse_pid_list(const char *s, pid_t *pids, size_t max, size_t *npids)
{
	const char *p = s;

	if (!*s)
		return -EINVAL;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char one[16];
		bool seen = false;
		pid_t pid;

		if (!len || len >= sizeof(one))
			return -EINVAL;
		memcpy(one, p, len);
		one[len] = 0;
		if (parse_pid(one, &pid))
			return -EINVAL;
		for (size_t i = 0; i < *npids; i++)
			seen |= pids[i] == pid;
		if (!seen) {
			if (*npids >= max)
				return -E2BIG;
			pids[(*npids)++] = pid;
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

bool opts__many(const struct lp_opts *opts)
{
	return opts->all || opts->npids > 1;
}

static int parse_seconds(const char *s, double min, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < min || v <= 0 || v > 31536000)
		return -EINVAL;
	*out = v;
	return 0;
}

static void add_format(struct argp_state *state, struct parse_state *ps, const char *arg)
{
	struct lp_opts *opts = ps->opts;
	enum lp_format fmt;

	if (report__format_from_name(arg, &fmt))
		argp_error(state,
			   "invalid format '%s': expected text, json, collapsed, pprof or html",
			   arg);
	for (int i = 0; i < ps->nformats; i++)
		if (opts->outputs[i].format == fmt)
			argp_error(state, "-f %s given twice", arg);
	/* Cannot overflow: the check above allows each format once. */
	opts->outputs[ps->nformats].format = fmt;
	opts->outputs[ps->nformats].path = ps->nformats ? NULL : ps->first_path;
	ps->nformats++;
}

static void add_path(struct argp_state *state, struct parse_state *ps, const char *arg)
{
	const char **slot = ps->nformats ? &ps->opts->outputs[ps->nformats - 1].path
					 : &ps->first_path;

	if (!*arg)
		argp_error(state, "empty output file name");
	if (*slot)
		argp_error(state, "-o %s: the report already goes to %s (give -f before each -o)",
			   arg, *slot);
	*slot = arg;
}

/* Checks that need the whole command line. */
static void check_outputs(struct argp_state *state, struct parse_state *ps)
{
	struct lp_opts *opts = ps->opts;
	int on_stdout = 0;

	if (opts->face == LP_FACE_TOP && (ps->nformats || ps->first_path))
		argp_error(state, "top shows the profile live and writes no report: drop "
				  "-f and -o (reports come from lockprof profile)");
	if (opts->face == LP_FACE_SERVE && (ps->nformats || ps->first_path || opts->interval_s))
		argp_error(state, "serve writes no report: drop -f, -o and -i (scrapers fetch "
				  "/metrics and /debug/pprof/mutex, see --help)");
	if (!ps->nformats) {
		opts->outputs[0].format = LP_FORMAT_TEXT;
		opts->outputs[0].path = ps->first_path;
		ps->nformats = 1;
	}
	opts->noutputs = ps->nformats;
	for (int i = 0; i < opts->noutputs; i++) {
		const struct lp_output *out = &opts->outputs[i];

		if (!out->path)
			on_stdout++;
		for (int j = 0; j < i; j++)
			if (out->path && opts->outputs[j].path &&
			    !strcmp(out->path, opts->outputs[j].path))
				argp_error(state, "-o %s given for two formats", out->path);
		if (out->format == LP_FORMAT_HTML && opts->interval_s > 0)
			argp_error(state,
				   "-i cannot be used with -f html: a page shows one profile "
				   "(use -d, or lockprof top for a live view)");
		if (out->format != LP_FORMAT_PPROF)
			continue;
		if (opts->interval_s > 0)
			argp_error(state, "-i cannot be used with -f pprof: a pprof file holds one "
					  "profile (use -d, or -f json/collapsed/text with -i)");
		if (!out->path && isatty(STDOUT_FILENO))
			argp_error(state, "-f pprof writes gzip-compressed binary data: give "
					  "-o FILE");
	}
	if (on_stdout > 1)
		argp_error(state, "%d reports would go to stdout: give -o FILE to all but one",
			   on_stdout);
}

/* Several processes: the faces and formats that show one process refuse them. */
static void check_many(struct argp_state *state, struct parse_state *ps)
{
	struct lp_opts *opts = ps->opts;

	if (!opts__many(opts))
		return;
	if (opts->face == LP_FACE_TOP || opts->face == LP_FACE_DUMP)
		argp_error(state, "%s shows one process: give -p with a single PID",
			   opts__face_name(opts->face));
	for (int i = 0; i < opts->noutputs; i++)
		if (opts->outputs[i].format == LP_FORMAT_HTML)
			argp_error(state, "-f html shows one process: give -p with a single PID, "
					  "or use -f json, text, collapsed or pprof");
	/* -m full's lock-order graph and duty cycle are per process and heavy: one at a time. */
	if (opts->modes & LP_MODE_FULL)
		argp_error(state, "-m full profiles one process: give -p with a single PID");
}

static const char *const face_names[] = {
	[LP_FACE_PROFILE] = "profile",
	[LP_FACE_SERVE] = "serve",
	[LP_FACE_TOP] = "top",
	[LP_FACE_DUMP] = "dump",
};

const char *opts__face_name(enum lp_face face)
{
	return names__of(face_names, NAMES_COUNT(face_names), face);
}

/* The command word at argv[1], if any: it is taken out of argv (argp sees the options only). */
static enum lp_face take_face(int *argc, char **argv)
{
	int face = *argc < 2 ? -1 : names__find(face_names, NAMES_COUNT(face_names), argv[1]);

	/* No command word: profile (a word that is no command is argp's unexpected argument). */
	if (face < 0)
		return LP_FACE_PROFILE;
	memmove(&argv[1], &argv[2], (size_t)(*argc - 1) * sizeof(*argv));
	(*argc)--;
	return (enum lp_face)face;
}

const char *opts__mode_name(unsigned int modes)
{
	static char name[32];

	snprintf(name, sizeof(name), "%s%s%s%s%s", modes & LP_MODE_CONTENTION ? "contention" : "",
		 (modes & LP_MODE_CONTENTION) && (modes & LP_MODE_GIL) ? "," : "",
		 modes & LP_MODE_GIL ? "gil" : "", modes & LP_MODE_FULL ? "," : "",
		 modes & LP_MODE_FULL ? "full" : "");
	return name;
}

/* "contention", "gil", "contention,gil" */
static int parse_modes(const char *arg, unsigned int *modes)
{
	char buf[64], *tok, *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	*modes = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "contention"))
			*modes |= LP_MODE_CONTENTION;
		else if (!strcmp(tok, "gil"))
			*modes |= LP_MODE_GIL;
		else if (!strcmp(tok, "full"))
			*modes |= LP_MODE_FULL | LP_MODE_CONTENTION;
		else
			return -EINVAL;
	}
	return *modes ? 0 : -EINVAL;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct parse_state *ps = state->input;
	struct lp_opts *opts = ps->opts;
	char *end;
	long n;

	switch (key) {
	case 'p': {
		int err = opts__parse_pid_list(arg, opts->pids, LP_MAX_PIDS, &opts->npids);

		if (err == -E2BIG)
			argp_error(state, "-p %s: more than %d processes named (use --all)", arg,
				   LP_MAX_PIDS);
		else if (err)
			argp_error(state,
				   "invalid PID list '%s': expected positive integers separated "
				   "by commas",
				   arg);
		opts->pid = opts->pids[0];
		break;
	}
	case OPT_ALL:
		opts->all = true;
		break;
	case OPT_MAX_PROCESSES:
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || end == arg || *end || n <= 0 || n > LP_MAX_PROCESSES_LIMIT)
			argp_error(state,
				   "invalid --max-processes '%s': expected an integer from 1 "
				   "to %d",
				   arg, LP_MAX_PROCESSES_LIMIT);
		opts->max_processes = (unsigned int)n;
		break;
	case 'd':
		if (parse_seconds(arg, 0, &opts->duration_s))
			argp_error(state, "invalid duration '%s': expected seconds > 0", arg);
		break;
	case 'i':
		/* The collection loop wakes every 100 ms: shorter intervals could not be kept. */
		if (parse_seconds(arg, 0.1, &opts->interval_s))
			argp_error(state, "invalid interval '%s': expected seconds >= 0.1", arg);
		break;
	case 'f':
		add_format(state, ps, arg);
		break;
	case 'o':
		add_path(state, ps, arg);
		break;
	case OPT_MODE:
		if (parse_modes(arg, &opts->modes))
			argp_error(state,
				   "invalid mode '%s': expected contention, gil, full or a "
				   "comma-separated list of them",
				   arg);
		break;
	case OPT_CAPTURE_PCT: {
		long pct;

		errno = 0;
		pct = strtol(arg, &end, 10);
		if (errno || end == arg || *end || pct < 1 || pct > 100)
			argp_error(state,
				   "invalid capture percentage '%s': expected an integer from 1 "
				   "to 100",
				   arg);
		opts->capture_pct = (unsigned int)pct;
		break;
	}
	case OPT_LOCK_NAMES:
		if (!strcmp(arg, "creation"))
			opts->creation_sites = true;
		else if (strcmp(arg, "wait"))
			argp_error(state, "invalid --lock-names '%s': expected wait or creation",
				   arg);
		break;
	case OPT_MAX_OVERHEAD:
		errno = 0;
		opts->max_overhead_pct = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(opts->max_overhead_pct) ||
		    opts->max_overhead_pct <= 0 || opts->max_overhead_pct > 100)
			argp_error(state,
				   "invalid overhead bound '%s': expected a percentage > 0 and "
				   "<= 100",
				   arg);
		opts->full_overhead_pct = opts->max_overhead_pct;
		break;
	case OPT_MIN_WAIT:
		if (units__parse_duration(arg, &opts->min_wait_ns))
			argp_error(state,
				   "invalid --min-wait '%s': expected a duration with a "
				   "unit, such as 10us, 5ms or 1s",
				   arg);
		break;
	case OPT_WEIGHT:
		if (!strcmp(arg, "wait"))
			opts->report.weight = LP_WEIGHT_WAIT;
		else if (!strcmp(arg, "count"))
			opts->report.weight = LP_WEIGHT_COUNT;
		else if (!strcmp(arg, "hold"))
			argp_error(state, "--weight hold needs hold times (-m full), which this "
					  "version does not measure");
		else
			argp_error(state, "invalid --weight '%s': expected wait or count", arg);
		break;
	case OPT_PPROF_STACKS:
		/* Hold stacks (-m full) are always in the pprof file, as their own sample types. */
		if (profile__role_from_name(arg, &opts->report.pprof_role) ||
		    opts->report.pprof_role == LP_ROLE_HOLD)
			argp_error(state, "invalid --pprof-stacks '%s': expected waiter or holder",
				   arg);
		break;
	case 'H':
		opts->report.histogram = true;
		break;
	case OPT_SORT:
		if (!strcmp(arg, "total"))
			opts->report.sort = LP_SORT_TOTAL;
		else if (!strcmp(arg, "max"))
			opts->report.sort = LP_SORT_MAX;
		else if (!strcmp(arg, "count"))
			opts->report.sort = LP_SORT_COUNT;
		else if (!strcmp(arg, "avg"))
			opts->report.sort = LP_SORT_AVG;
		else
			argp_error(state, "invalid --sort '%s': expected total, max, count or avg",
				   arg);
		break;
	case OPT_TOP:
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || end == arg || *end || n <= 0 || n > INT_MAX)
			argp_error(state, "invalid --top '%s': expected a positive integer", arg);
		opts->report.top = (size_t)n;
		break;
	case OPT_LISTEN:
		if (!*arg)
			argp_error(state, "invalid --listen '': expected HOST:PORT");
		opts->serve.listen = arg;
		break;
	case OPT_MAX_SERIES:
		errno = 0;
		n = strtol(arg, &end, 10);
		if (errno || end == arg || *end || n < 1 || n > 100000)
			argp_error(
				state,
				"invalid --max-series '%s': expected an integer from 1 to 100000",
				arg);
		opts->serve.max_series = (unsigned int)n;
		break;
	case OPT_RETAIN_EXITED:
		if (parse_seconds(arg, 0, &opts->serve.retain_exited_s))
			argp_error(state, "invalid --retain-exited '%s': expected seconds > 0",
				   arg);
		break;
	case 'v':
		opts->verbose++;
		break;
	case OPT_SHOW_IDLE:
		opts->report.show_idle = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (opts->all && opts->npids)
			argp_error(state, "-p and --all cannot be used together");
		if (!opts->npids && !opts->all)
			argp_error(state, "missing -p PID (or --all)");
		if (opts->npids > opts->max_processes)
			argp_error(state, "%zu processes named, more than --max-processes %u",
				   opts->npids, opts->max_processes);
		check_outputs(state, ps);
		check_many(state, ps);
		/* -m full traps on every acquisition anyway: creation costs it little more. */
		if (opts->modes & LP_MODE_FULL)
			opts->creation_sites = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int opts__parse(int argc, char **argv, struct lp_opts *opts)
{
	static const struct argp argp = { options, parse_opt, NULL, doc, NULL, NULL, NULL };
	struct parse_state ps = { .opts = opts };

	memset(opts, 0, sizeof(*opts));
	opts->face = take_face(&argc, argv);
	opts->modes = LP_MODE_CONTENTION;
	opts->capture_pct = 1;
	opts->max_overhead_pct = LP_DEFAULT_MAX_OVERHEAD_PCT;
	opts->full_overhead_pct = LP_DEFAULT_FULL_OVERHEAD_PCT;
	opts->report.pprof_role = LP_ROLE_WAITER;
	opts->max_processes = LP_DEFAULT_MAX_PROCESSES;
	opts->serve.listen = LP_DEFAULT_LISTEN;
	opts->serve.max_series = LP_DEFAULT_MAX_SERIES;
	opts->serve.retain_exited_s = LP_DEFAULT_RETAIN_EXITED_S;
	argp_err_exit_status = LP_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, &ps))
		return LP_EXIT_USAGE;
	return 0;
}
