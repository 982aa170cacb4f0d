/* SPDX-License-Identifier: GPL-2.0 */
/* Renderers of the in-memory profile. Each writes the whole report to f; 0 or -errno. */
#ifndef LOCKPROF_SRC_REPORT_H
#define LOCKPROF_SRC_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "profile.h"

/* show_idle: list idle waits (Condition/Event/queue waits, joins) instead of one summary line. */
int report_text__write(FILE *f, const struct lp_profile *p, bool show_idle);
int report_json__write(FILE *f, const struct lp_profile *p);

/* Writes s as a JSON string with quotes: escapes controls, quotes and backslashes, and replaces
 * bytes that are not valid UTF-8 with U+FFFD so the output always parses. */
void json__write_string(FILE *f, const char *s);

/* A shorter form of a Python file name for tables: drops the interpreter's lib/pythonX.Y/ and
 * site-packages/ prefixes, else keeps the last two path components. */
const char *report__short_path(const char *file);

#endif
