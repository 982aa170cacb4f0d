// SPDX-License-Identifier: GPL-2.0
/* Command-line parsing with argp: the option table, value checks and the --help text. */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "opts.h"

const char *argp_program_version = "lockprof " LOCKPROF_VERSION;

static const char doc[] =
	"lockprof: where the threads of a running CPython process wait on locks.\n"
	"\n"
	"Attaches eBPF uprobes to the lock slow path of a running Python process (no restart, nothing\n"
	"installed in the target; uncontended locking costs it nothing) and reports which locks its\n"
	"threads waited on, where in the Python code, how often and how long.\n"
	"\n"
	"USAGE: lockprof -p PID [-m contention|gil|full (comma-separated)] [-d SECONDS]\n"
	"                [-f text|json] [-o FILE] [--show-idle] [--capture-pct P]\n"
	"                [--max-overhead PCT] [-v]\n"
	"\n"
	"EXAMPLES:\n"
	"  sudo lockprof -p 4242              # profile until Ctrl-C or until the target exits\n"
	"  sudo lockprof -p 4242 -d 10        # profile for 10 seconds\n"
	"  sudo lockprof -p 4242 -d 5 -f json -o locks.json\n"
	"  sudo lockprof -p 4242 -d 10 -m gil  # which threads wait for the GIL, where\n"
	"  sudo lockprof -p 4242 -d 10 -m full --capture-pct 10  # hold times too (3.8-3.13.0)\n"
	"\n"
	"EXIT STATUS:\n"
	"  0 report written, 1 other error, 2 invalid command line, 3 no such process,\n"
	"  4 not a CPython process, 5 unsupported CPython version, 6 insufficient privilege,\n"
	"  7 kernel lacks BPF/BTF/uprobe support or attaching failed, 8 output file not writable.\n"
	"\v"
	"lockprof prints its banner on stderr once every probe is live, then stops at -d, on\n"
	"SIGINT/SIGTERM or when the target exits, and writes the report to stdout or FILE.";

enum { OPT_MODE = 'm', OPT_SHOW_IDLE = 0x100, OPT_CAPTURE_PCT, OPT_MAX_OVERHEAD };

static const struct argp_option options[] = {
	{ "pid", 'p', "PID", 0, "Process to profile (required)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS (default: Ctrl-C or target exit)", 0 },
	{ "format", 'f', "FORMAT", 0, "Report format: text (default) or json", 0 },
	{ "output", 'o', "FILE", 0, "Write the report to FILE instead of stdout", 0 },
	{ "mode", OPT_MODE, "MODE", 0,
	  "What to measure, comma-separated: contention (default), gil, full (hold times of "
	  "sampled acquisitions; implies contention)", 0 },
	{ "capture-pct", OPT_CAPTURE_PCT, "P", 0,
	  "-m full: record P% of uncontended acquisitions, 1-100 (default 1); totals are "
	  "upscaled estimates", 0 },
	{ "max-overhead", OPT_MAX_OVERHEAD, "PCT", 0,
	  "-m full: keep the estimated probe cost under PCT% of a CPU by attaching the full-mode "
	  "probes part of the time (default 5; 100: always attached)", 0 },
	{ "show-idle", OPT_SHOW_IDLE, NULL, 0,
	  "List waits that are not contention (Condition/Event/queue waits, joins)", 0 },
	{ "verbose", 'v', NULL, 0, "More diagnostics on stderr (twice: libbpf debug output)", 0 },
	{},
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
	struct lp_opts *opts = state->input;
	char *end;

	switch (key) {
	case 'p':
		if (parse_pid(arg, &opts->pid))
			argp_error(state, "invalid PID '%s': expected a positive integer", arg);
		break;
	case 'd':
		errno = 0;
		opts->duration_s = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(opts->duration_s) ||
		    opts->duration_s <= 0 || opts->duration_s > 31536000)
			argp_error(state, "invalid duration '%s': expected seconds > 0", arg);
		break;
	case 'f':
		if (!strcmp(arg, "text"))
			opts->format = LP_FORMAT_TEXT;
		else if (!strcmp(arg, "json"))
			opts->format = LP_FORMAT_JSON;
		else
			argp_error(state, "invalid format '%s': expected text or json", arg);
		break;
	case 'o':
		if (!*arg)
			argp_error(state, "empty output file name");
		opts->output = arg;
		break;
	case OPT_MODE:
		if (parse_modes(arg, &opts->modes))
			argp_error(state, "invalid mode '%s': expected contention, gil, full or a "
				   "comma-separated list of them", arg);
		break;
	case OPT_CAPTURE_PCT: {
		long pct;

		errno = 0;
		pct = strtol(arg, &end, 10);
		if (errno || end == arg || *end || pct < 1 || pct > 100)
			argp_error(state, "invalid capture percentage '%s': expected an integer from 1 "
				   "to 100", arg);
		opts->capture_pct = (unsigned int)pct;
		break;
	}
	case OPT_MAX_OVERHEAD:
		errno = 0;
		opts->max_overhead_pct = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(opts->max_overhead_pct) ||
		    opts->max_overhead_pct <= 0 || opts->max_overhead_pct > 100)
			argp_error(state, "invalid overhead bound '%s': expected a percentage > 0 and "
				   "<= 100", arg);
		break;
	case 'v':
		opts->verbose++;
		break;
	case OPT_SHOW_IDLE:
		opts->show_idle = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!opts->pid)
			argp_error(state, "missing -p PID");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

int opts__parse(int argc, char **argv, struct lp_opts *opts)
{
	static const struct argp argp = { options, parse_opt, NULL, doc, NULL, NULL, NULL };

	memset(opts, 0, sizeof(*opts));
	opts->format = LP_FORMAT_TEXT;
	opts->modes = LP_MODE_CONTENTION;
	opts->capture_pct = 1;
	opts->max_overhead_pct = 5;
	argp_err_exit_status = LP_EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, opts))
		return LP_EXIT_USAGE;
	return 0;
}
