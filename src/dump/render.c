// SPDX-License-Identifier: GPL-2.0
/* A dump written out: text for people (deadlocks first, then every thread), JSON for scripts. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dump/dump.h"
#include "dump/resolve.h"
#include "report/render.h"

/* "file:line name", as contention reports label a lock. */
static const char *lock_label(const struct dump_lock *l, char *buf, size_t len)
{
	if (l->site_file && l->site_line)
		snprintf(buf, len, "%s:%d %s", report__short_path(l->site_file), l->site_line,
			 l->name);
	else
		snprintf(buf, len, "%s", l->name);
	return buf;
}

static const char *thread_label(const struct dump_thread *t, char *buf, size_t len)
{
	if (t->py_name[0])
		snprintf(buf, len, "thread %d \"%s\"", t->tid ? t->tid : t->ns_tid, t->py_name);
	else
		snprintf(buf, len, "thread %d (%s)", t->tid ? t->tid : t->ns_tid, t->os_name);
	return buf;
}

static const struct dump_held *held_entry(const struct dump_thread *t, uint64_t lock)
{
	for (int h = 0; h < t->nheld; h++)
		if (t->held[h].lock == lock)
			return &t->held[h];
	return NULL;
}

static const char *taken_at(const struct dump_held *h, char *buf, size_t len)
{
	if (h && h->file && h->line)
		snprintf(buf, len, "took it at %s:%d", report__short_path(h->file), h->line);
	else
		snprintf(buf, len, "took it outside a with block (line unknown)");
	return buf;
}

static void text_stack(FILE *f, const struct dump_thread *t, const char *indent)
{
	int width = 0;
	char loc[512];

	for (int i = 0; i < t->nframes; i++) {
		int n = snprintf(loc, sizeof(loc), "%s:%d",
				 report__short_path(t->frames[i].sym.file), t->frames[i].sym.line);

		if (n > width)
			width = n;
	}
	for (int i = 0; i < t->nframes; i++) {
		snprintf(loc, sizeof(loc), "%s:%d", report__short_path(t->frames[i].sym.file),
			 t->frames[i].sym.line);
		fprintf(f, "%s%-*s  %s\n", indent, width, loc, t->frames[i].sym.function);
	}
	if (t->truncated)
		fprintf(f, "%s... (more frames)\n", indent);
	if (!t->nframes)
		fprintf(f, "%s(no Python frame)\n", indent);
}

static void text_holders(FILE *f, const struct dump *d, const struct dump_lock *l)
{
	char tb[192], at[512];
	int found = 0;

	for (int j = 0; j < d->nthreads; j++) {
		const struct dump_thread *h = &d->threads[j];
		const struct dump_held *e = h->gone ? NULL : held_entry(h, l->obj);

		if (!e)
			continue;
		fprintf(f, "%sheld by %s, which %s\n", found ? "    and " : "    ",
			thread_label(h, tb, sizeof(tb)), taken_at(e, at, sizeof(at)));
		found++;
	}
	if (!found)
		fprintf(f,
			"    owner unknown (%s, not held through a with block by any thread%s)\n",
			l->locked ? "locked" : "not locked now",
			l->kind == DUMP_KIND_LOCK ? ": taken by acquire()" : "");
}

void dump__render_text(const struct dump *d, FILE *f)
{
	char lb[512], tb[192], at[512];
	int blocked = 0;

	for (int i = 0; i < d->nthreads; i++)
		blocked += !d->threads[i].gone && d->threads[i].state == DUMP_LOCK;
	fprintf(f,
		"Process %d: CPython %s, %d threads, %d blocked on locks, %d deadlock%s (dumped in %.1f ms)\n",
		d->pid, d->python, d->nthreads - d->gone, blocked, d->ncycles,
		d->ncycles == 1 ? "" : "s", d->elapsed_ms);
	if (d->gone)
		fprintf(f, "%d thread%s exited during the dump (not shown).\n", d->gone,
			d->gone == 1 ? "" : "s");
	for (int c = 0; c < d->ncycles; c++) {
		const struct dump_cycle *cy = &d->cycles[c];

		fprintf(f, "\nDEADLOCK %d: %d thread%s wait for each other\n", c + 1, cy->len,
			cy->len == 1 ? " waits for itself" : "s");
		for (int k = 0; k < cy->len; k++) {
			const struct dump_thread *t = &d->threads[cy->threads[k]];
			const struct dump_thread *next =
				&d->threads[cy->threads[(k + 1) % cy->len]];
			const struct dump_lock *l = dump__lock(d, t->waits_for);

			fprintf(f, "  %s waits for %s\n", thread_label(t, tb, sizeof(tb)),
				l ? lock_label(l, lb, sizeof(lb)) : "?");
			fprintf(f, "    held by %s, which %s\n", thread_label(next, tb, sizeof(tb)),
				taken_at(held_entry(next, t->waits_for), at, sizeof(at)));
		}
		for (int k = 0; k < cy->len; k++) {
			const struct dump_thread *t = &d->threads[cy->threads[k]];

			fprintf(f, "  stack of %s:\n", thread_label(t, tb, sizeof(tb)));
			text_stack(f, t, "    ");
		}
	}
	for (int i = 0; i < d->nthreads; i++) {
		const struct dump_thread *t = &d->threads[i];
		const struct dump_lock *l = t->waits_for ? dump__lock(d, t->waits_for) : NULL;

		if (t->gone)
			continue;
		if (t->py_name[0])
			fprintf(f, "\nThread %d \"%s\" (%s): ", t->tid, t->py_name, t->os_name);
		else
			fprintf(f, "\nThread %d (%s): ", t->tid, t->os_name);
		if (t->state == DUMP_LOCK && l)
			fprintf(f, "blocked acquiring %s %s\n",
				l->kind == DUMP_KIND_RLOCK ? "RLock" : "Lock",
				lock_label(l, lb, sizeof(lb)));
		else if (t->state == DUMP_LOCK)
			fprintf(f, "blocked acquiring a lock (lock object not found)\n");
		else
			fprintf(f, "%s\n", t->detail);
		if (l)
			text_holders(f, d, l);
		for (int h = 0; h < t->nheld; h++) {
			const struct dump_lock *hl = dump__lock(d, t->held[h].lock);

			if (t->held[h].file && t->held[h].line)
				snprintf(at, sizeof(at), "taken at %s:%d",
					 report__short_path(t->held[h].file), t->held[h].line);
			else
				snprintf(at, sizeof(at),
					 "taken outside a with block (line unknown)");
			fprintf(f, "    holds %s %s, %s\n",
				hl && hl->kind == DUMP_KIND_RLOCK ? "RLock" : "Lock",
				hl ? lock_label(hl, lb, sizeof(lb)) : "?", at);
		}
		text_stack(f, t, "    ");
	}
}

static void json_str_field(FILE *f, const char *key, const char *v, bool comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", key);
	json__write_string(f, v ? v : "");
}

static void json_site(FILE *f, const char *key, const char *file, int line)
{
	fprintf(f, ",\"%s\":", key);
	if (!file || !line) {
		fputs("null", f);
		return;
	}
	fputc('{', f);
	json_str_field(f, "file", file, false);
	fprintf(f, ",\"line\":%d}", line);
}

static void json_lock_ref(FILE *f, const struct dump *d, uint64_t obj)
{
	const struct dump_lock *l = dump__lock(d, obj);

	fprintf(f, "{\"id\":\"0x%" PRIx64 "\"", obj);
	json_str_field(f, "name", l ? l->name : "", true);
	fputc('}', f);
}

void dump__render_json(const struct dump *d, FILE *f)
{
	fprintf(f, "{\"pid\":%d", d->pid);
	json_str_field(f, "python", d->python, true);
	fprintf(f, ",\"elapsed_ms\":%.3f,\"threads_exited_during_dump\":%d,\"threads\":[",
		d->elapsed_ms, d->gone);
	for (int i = 0, first = 1; i < d->nthreads; i++) {
		const struct dump_thread *t = &d->threads[i];

		if (t->gone)
			continue;
		fprintf(f, "%s{\"tid\":%d,\"ns_tid\":%d,\"ident\":%" PRIu64, first ? "" : ",",
			t->tid, t->ns_tid, t->ident);
		first = 0;
		json_str_field(f, "os_name", t->os_name, true);
		json_str_field(f, "python_name", t->py_name, true);
		json_str_field(f, "state", dump__state_name(t->state), true);
		json_str_field(f, "detail", t->detail, true);
		fputs(",\"waiting_for\":", f);
		if (t->waits_for)
			json_lock_ref(f, d, t->waits_for);
		else
			fputs("null", f);
		fputs(",\"holds\":[", f);
		for (int h = 0; h < t->nheld; h++) {
			const struct dump_lock *l = dump__lock(d, t->held[h].lock);

			fprintf(f, "%s{\"id\":\"0x%" PRIx64 "\"", h ? "," : "", t->held[h].lock);
			json_str_field(f, "name", l ? l->name : "", true);
			json_str_field(f, "how", t->held[h].frame >= 0 ? "with" : "rlock_owner",
				       true);
			json_site(f, "taken_at", t->held[h].file, t->held[h].line);
			fputc('}', f);
		}
		fputs("],\"stack\":[", f);
		for (int k = 0; k < t->nframes; k++) {
			fputs(k ? ",{" : "{", f);
			json_str_field(f, "function", t->frames[k].sym.function, false);
			json_str_field(f, "file", t->frames[k].sym.file, true);
			fprintf(f, ",\"line\":%d}", t->frames[k].sym.line);
		}
		fprintf(f, "],\"stack_truncated\":%s}", t->truncated ? "true" : "false");
	}
	fputs("],\"locks\":[", f);
	for (int i = 0; i < d->nlocks; i++) {
		const struct dump_lock *l = &d->locks[i];
		int first = 1;

		fprintf(f, "%s{\"id\":\"0x%" PRIx64 "\"", i ? "," : "", l->obj);
		json_str_field(f, "type", l->kind == DUMP_KIND_RLOCK ? "RLock" : "Lock", true);
		json_str_field(f, "name", l->name, true);
		json_site(f, "site", l->site_file, l->site_line);
		fprintf(f, ",\"locked\":%s,\"holders\":[", l->locked ? "true" : "false");
		for (int j = 0; j < d->nthreads; j++) {
			const struct dump_thread *t = &d->threads[j];

			if (!t->gone && dump__holds(t, l->obj)) {
				fprintf(f, "%s%d", first ? "" : ",", t->tid);
				first = 0;
			}
		}
		fputs("],\"waiters\":[", f);
		first = 1;
		for (int j = 0; j < d->nthreads; j++)
			if (!d->threads[j].gone && d->threads[j].waits_for == l->obj) {
				fprintf(f, "%s%d", first ? "" : ",", d->threads[j].tid);
				first = 0;
			}
		fputs("]}", f);
	}
	fputs("],\"deadlocks\":[", f);
	for (int c = 0; c < d->ncycles; c++) {
		const struct dump_cycle *cy = &d->cycles[c];

		fprintf(f, "%s{\"threads\":[", c ? "," : "");
		for (int k = 0; k < cy->len; k++) {
			const struct dump_thread *t = &d->threads[cy->threads[k]];
			const struct dump_thread *next =
				&d->threads[cy->threads[(k + 1) % cy->len]];
			const struct dump_held *e = held_entry(next, t->waits_for);

			fprintf(f, "%s{\"tid\":%d,\"waits_for\":", k ? "," : "", t->tid);
			json_lock_ref(f, d, t->waits_for);
			fprintf(f, ",\"held_by\":%d", next->tid);
			json_site(f, "holder_took_it_at", e ? e->file : NULL, e ? e->line : 0);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	fputs("]}\n", f);
}
