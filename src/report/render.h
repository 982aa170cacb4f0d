/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the report layer: one entry point per renderer (report_FORMAT.c), which report.c picks
 * by format, and what the renderers share (render_common.c). Each renderer writes the whole
 * report to f; 0 or -errno. */
#ifndef LOCKPROF_SRC_RENDER_H
#define LOCKPROF_SRC_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "profile/profile.h"
#include "report/report_opts.h"

int report_text__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o);
int report_json__write(FILE *f, const struct lp_profile *p);
int report_collapsed__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o);
int report_pprof__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o);
/* One pprof profile of several processes' profiles: samples labelled pid and comm. */
int report_pprof__write_set(FILE *f, const struct lp_profile *const *ps, size_t n,
			    const struct lp_report_opts *o);
/* Several processes' waiting stacks; rooted: each line's root frame is its process. */
int report_collapsed__write_set(FILE *f, const struct lp_profile *const *ps, size_t n, bool rooted,
				const struct lp_report_opts *o);
/* A self-contained page: summary, lock table, flame graph, histograms (report_html.html). */
int report_html__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o);

/* Free-threaded builds (report_freethreaded.c): the GIL's state after the summary, the
 * stop-the-world pauses, and their JSON member ("free_threaded": null on other builds). */
void report_freethreaded__text_header(FILE *f, const struct lp_profile *p);
void report_freethreaded__text_pauses(FILE *f, const struct lp_profile *p);
void report_freethreaded__json(FILE *f, const struct lp_profile *p);

/* Prints a log2 histogram of waits in libbpf-tools' print_log2_hist layout (range, count, bar of
 * stars), from the first to the last non-empty bucket, each line prefixed by indent. */
void report_hist__write(FILE *f, const uint64_t hist[LP_HIST_SLOTS], const char *indent);

/* Writes s as a JSON string with quotes: escapes controls, quotes and backslashes, and replaces
 * bytes that are not valid UTF-8 with U+FFFD so the output always parses. */
void json__write_string(FILE *f, const char *s);

/* A shorter form of a Python file name for tables: drops the interpreter's lib/pythonX.Y/ and
 * site-packages/ prefixes, else keeps the last two path components. */
const char *report__short_path(const char *file);

/* Whether the stack-based formats (collapsed, pprof) carry the lock's waits: contention and GIL
 * waits always, idle waits only with show_idle. */
bool report__lock_included(const struct lp_lock *lock, const struct lp_report_opts *o);

/* Stacks were sampled (the stack budget left some waits' stacks out): the stacks' figures are
 * their shares of the exact totals, upscaled from the captured stacks. */
bool report__stacks_sampled(const struct lp_profile *p);

/* The timing probes were detached part of the time: counts and totals are upscaled estimates. */
bool report__totals_upscaled(const struct lp_profile *p);

/* One line on lockprof's estimated cost and on how the bound shaped the figures (no newline),
 * for the text report and pprof's comments. */
const char *report__overhead_note(const struct lp_profile *p, char *buf, size_t len);

/* A stack for the text outputs, leaf first, one "file:line  function" line each (the locations
 * aligned), each line prefixed by indent; missing is printed for a NULL stack. */
void report__write_stack(FILE *f, const struct lp_stack_sym *st, const char *indent,
			 const char *missing);

/* What the reports call a lock: its name, else its address as "0x...". */
const char *report__lock_name(const struct lp_lock *lock, char *buf, size_t len);

#endif
