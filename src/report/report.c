// SPDX-License-Identifier: GPL-2.0
/* Choosing a renderer by format, and the formats' names. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "report/render.h"
#include "report/report.h"
#include "util/names.h"

// clang-format off
static const char *const format_names[] = {
	[LP_FORMAT_TEXT] = "text",
	[LP_FORMAT_JSON] = "json",
	[LP_FORMAT_COLLAPSED] = "collapsed",
	[LP_FORMAT_PPROF] = "pprof",
	[LP_FORMAT_HTML] = "html",
};
// clang-format on

const char *report__format_name(enum lp_format fmt)
{
	return names__of(format_names, NAMES_COUNT(format_names), fmt);
}

int report__format_from_name(const char *name, enum lp_format *fmt)
{
	int i = names__find(format_names, NAMES_COUNT(format_names), name);

	if (i < 0)
		return -ENOENT;
	*fmt = (enum lp_format)i;
	return 0;
}

int report__write(FILE *f, enum lp_format fmt, const struct lp_profile *p,
		  const struct lp_report_opts *o)
{
	static const struct lp_report_opts defaults;

	if (!o)
		o = &defaults;
	switch (fmt) {
	case LP_FORMAT_TEXT:
		return report_text__write(f, p, o);
	case LP_FORMAT_JSON:
		return report_json__write(f, p);
	case LP_FORMAT_COLLAPSED:
		return report_collapsed__write(f, p, o);
	case LP_FORMAT_PPROF:
		return report_pprof__write(f, p, o);
	case LP_FORMAT_HTML:
		return report_html__write(f, p, o);
	}
	return -EINVAL;
}
