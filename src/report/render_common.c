// SPDX-License-Identifier: GPL-2.0
/* What the renderers share: how a lock and a file are called, which locks the stack formats
 * carry, JSON strings. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "report/render.h"

bool report__lock_included(const struct lp_lock *lock, const struct lp_report_opts *o)
{
	return lock->category != LP_CATEGORY_IDLE || o->show_idle;
}

const char *report__lock_name(const struct lp_lock *lock, char *buf, size_t len)
{
	if (lock->name[0])
		return lock->name;
	snprintf(buf, len, "0x%" PRIx64, lock->id);
	return buf;
}

const char *report__short_path(const char *file)
{
	const char *p = strstr(file, "/site-packages/"), *slash;
	int slashes = 0;

	if (p)
		return p + strlen("/site-packages/");
	p = strstr(file, "/lib/python3.");
	if (p && (slash = strchr(p + strlen("/lib/python3."), '/')))
		return slash + 1;
	for (p = file + strlen(file); p > file; p--)
		if (p[-1] == '/' && ++slashes == 2)
			return p;
	return file;
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF are invalid */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void json__write_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	fputc('"', f);
	while (*s) {
		size_t n;

		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*s < 0x20) {
				fprintf(f, "\\u%04x", *s);
				break;
			}
			n = utf8_seq_len(s);
			if (!n) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		s++;
	}
	fputc('"', f);
}

bool report__stacks_sampled(const struct lp_profile *p)
{
	return p->overhead.measured && p->overhead.waits_unsampled > 0;
}

bool report__totals_upscaled(const struct lp_profile *p)
{
	return p->overhead.measured && p->overhead.timing_duty < 0.9999;
}

const char *report__overhead_note(const struct lp_profile *p, char *buf, size_t len)
{
	const struct lp_overhead *o = &p->overhead;
	size_t n;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!o->measured)
		return buf;
	n = (size_t)snprintf(buf, len,
			     "lockprof's estimated cost: %.2f%% of a CPU (%" PRIu64 " probe hits: "
			     "traps %.1f ms, %" PRIu64 " of them single-stepped at %.0f ns; BPF "
			     "%.1f ms, of which %.1f ms walking %" PRIu64 " stacks; bound %g%%).",
			     o->estimated_pct, o->probe_hits, o->trap_total_ns / 1e6,
			     o->hits_by_kind[LP_TRAP_STEPPED] + o->hits_by_kind[LP_TRAP_NOP],
			     o->costs.entry_ns[LP_TRAP_STEPPED], (double)o->bpf_ns / 1e6,
			     (double)o->walk_ns / 1e6, o->walks, o->max_pct);
	if (n < len && report__stacks_sampled(p))
		n += (size_t)snprintf(buf + n, len - n,
				      " Stacks sampled: %" PRIu64 " of %" PRIu64
				      " waits captured (every wait of %.0f us or more); each "
				      "stack's figures are its upscaled share of the exact totals.",
				      o->waits - o->waits_unsampled, o->waits,
				      (double)o->sample_ns / 1e3);
	if (n < len && report__totals_upscaled(p))
		snprintf(buf + n, len - n,
			 " Timing probes attached %.1f%% of the time: counts and totals are "
			 "estimates, upscaled x%.2f (the attached time less the probes' own).",
			 100.0 * o->timing_duty, profile__timing_scale(p));
	return buf;
}

void report__write_stack(FILE *f, const struct lp_stack_sym *st, const char *indent,
			 const char *missing)
{
	char where[512];
	int width = 0;

	if (!st) {
		fprintf(f, "%s%s\n", indent, missing);
		return;
	}
	for (uint32_t i = 0; i < st->depth; i++) {
		int n = snprintf(where, sizeof(where), "%s:%d",
				 report__short_path(st->frames[i].file), st->frames[i].line);

		if (n > width)
			width = n;
	}
	for (uint32_t i = 0; i < st->depth; i++) {
		snprintf(where, sizeof(where), "%s:%d", report__short_path(st->frames[i].file),
			 st->frames[i].line);
		fprintf(f, "%s%-*s  %s\n", indent, width, where, st->frames[i].function);
	}
	if (!st->depth)
		fprintf(f, "%s<no Python frames>\n", indent);
	if (st->truncated)
		fprintf(f, "%s... (deeper frames truncated)\n", indent);
}
