// SPDX-License-Identifier: GPL-2.0
/* The pprof report: a gzip-compressed profile.proto (github.com/google/pprof, proto/profile.proto)
 * in the schema of Go's mutex profile, so `go tool pprof` and the tools built on it read it:
 * sample types contentions/count and delay/nanoseconds, one sample per (lock, stack, thread),
 * Python frames as functions with file and line, labels "lock name", "wait kind" (contention, idle
 * with --show-idle, gil), "thread id", "thread name". */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "report/protobuf.h"
#include "report/render.h"
#include "report/report.h"
#include "util/u64map.h"

/* profile.proto field numbers */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUE_TYPE_TYPE = 1,
	VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_STR = 2,
	MAPPING_ID = 1,
	MAPPING_FILENAME = 5,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_FILENAME = 4,
};

#define MAPPING_PYTHON 1      /* the one mapping: the interpreter running the Python code */
#define GZIP_WINDOW (15 + 16) /* deflate's largest window, with a gzip header and trailer */

/* Everything but the samples is written once and referenced by id or string index. */
struct builder {
	struct protobuf samples, locations, functions;
	char **strings; /* string_table; [0] is "" as the format requires */
	size_t nstrings, strings_cap;
	struct u64map string_index; /* hash -> index + 1 (probing on collisions) */
	struct u64map function_ids; /* (name, file) -> id */
	struct u64map location_ids; /* (function id, line) -> id */
	uint64_t nfunctions, nlocations;
	bool failed;
};

static uint64_t hash_string(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h ? h : 1;
}

/* Index of s in the string table, adding it if new. */
static int64_t intern(struct builder *b, const char *s)
{
	uint64_t h = hash_string(s);
	uintptr_t slot;
	char *copy;

	if (!*s)
		return 0;
	while ((slot = (uintptr_t)u64map__get(&b->string_index, h))) {
		if (!strcmp(b->strings[slot - 1], s))
			return (int64_t)(slot - 1);
		h = h + 1 ? h + 1 : 1;
	}
	if (b->nstrings == b->strings_cap) {
		size_t cap = b->strings_cap * 2;
		char **strings = realloc(b->strings, cap * sizeof(*strings));

		if (!strings)
			goto fail;
		b->strings = strings;
		b->strings_cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		goto fail;
	if (u64map__put(&b->string_index, h, (void *)(uintptr_t)(b->nstrings + 1))) {
		free(copy);
		goto fail;
	}
	b->strings[b->nstrings] = copy;
	return (int64_t)b->nstrings++;
fail:
	b->failed = true;
	return 0;
}

static uint64_t function_id(struct builder *b, const char *name, const char *file)
{
	int64_t n = intern(b, name), fl = intern(b, file);
	uint64_t key = ((uint64_t)n << 32 | (uint64_t)fl) + 1;
	uint64_t id = (uintptr_t)u64map__get(&b->function_ids, key);
	size_t mark;

	if (id)
		return id;
	id = ++b->nfunctions;
	if (u64map__put(&b->function_ids, key, (void *)(uintptr_t)id))
		b->failed = true;
	mark = protobuf__begin(&b->functions, PROFILE_FUNCTION);
	protobuf__uint64(&b->functions, FUNCTION_ID, id);
	/* No system_name: pprof demangles a name equal to it as C++, and "<module>" would lose
	 * its "template parameters", i.e. all of it. */
	protobuf__int64(&b->functions, FUNCTION_NAME, n);
	protobuf__int64(&b->functions, FUNCTION_FILENAME, fl);
	protobuf__end(&b->functions, mark);
	return id;
}

static uint64_t location_id(struct builder *b, const char *function, const char *file, int line)
{
	uint64_t fid = function_id(b, function, file);
	uint64_t key = (fid << 32 | (uint32_t)line) + 1;
	uint64_t id = (uintptr_t)u64map__get(&b->location_ids, key);
	size_t mark, line_mark;

	if (id)
		return id;
	id = ++b->nlocations;
	if (u64map__put(&b->location_ids, key, (void *)(uintptr_t)id))
		b->failed = true;
	mark = protobuf__begin(&b->locations, PROFILE_LOCATION);
	protobuf__uint64(&b->locations, LOCATION_ID, id);
	protobuf__uint64(&b->locations, LOCATION_MAPPING_ID, MAPPING_PYTHON);
	line_mark = protobuf__begin(&b->locations, LOCATION_LINE);
	protobuf__uint64(&b->locations, LINE_FUNCTION_ID, fid);
	protobuf__int64(&b->locations, LINE_LINE, line);
	protobuf__end(&b->locations, line_mark);
	protobuf__end(&b->locations, mark);
	return id;
}

/* Location ids of a stack, leaf first as pprof wants; placeholders where frames are missing. */
static size_t stack_locations(struct builder *b, const struct lp_stack_sym *st,
			      uint64_t ids[LP_MAX_FRAMES + 1])
{
	size_t n = 0;

	if (!st) {
		ids[n++] = location_id(b, "<stack lost>", "", 0);
		return n;
	}
	for (uint32_t i = 0; i < st->depth; i++)
		ids[n++] = location_id(b, st->frames[i].function, st->frames[i].file,
				       st->frames[i].line);
	if (!st->depth)
		ids[n++] = location_id(b, "<no Python frames>", "", 0);
	else if (st->truncated)
		ids[n++] = location_id(b, "<truncated>", "", 0);
	return n;
}

static void label(struct builder *b, const char *key, const char *value)
{
	size_t mark = protobuf__begin(&b->samples, SAMPLE_LABEL);

	protobuf__int64(&b->samples, LABEL_KEY, intern(b, key));
	protobuf__int64(&b->samples, LABEL_STR, intern(b, value));
	protobuf__end(&b->samples, mark);
}

/* Sample values: contentions and delay, then, in -m full profiles, acquisitions and hold. */
enum { VALUE_CONTENTIONS, VALUE_DELAY, VALUE_ACQUISITIONS, VALUE_HOLD, NVALUES };

/* One sample per thread of a stack, its count and nanoseconds at values[first] and [first + 1]
 * (a hold stack's are acquisitions and hold time), the other values 0. */
static void add_samples(struct builder *b, const struct lp_profile *p, const struct lp_lock *lock,
			const struct lp_lock_stack *ls, int first, int nvalues)
{
	uint64_t locs[LP_MAX_FRAMES + 1];
	size_t nlocs = stack_locations(b, ls->stack, locs);
	char buf[32], tid[16];
	const char *name = report__lock_name(lock, buf, sizeof(buf));
	/* One sample per thread, so that pprof can focus on a thread (-tagfocus). */
	for (size_t t = 0; t < ls->ntids; t++) {
		const char *tname = threadnames__get(p->thread_names, ls->tids[t].tid);
		int64_t values[NVALUES] = { 0 };
		size_t mark = protobuf__begin(&b->samples, PROFILE_SAMPLE);

		values[first] = (int64_t)ls->tids[t].count;
		values[first + 1] = (int64_t)ls->tids[t].wait_ns;
		protobuf__packed_uint64(&b->samples, SAMPLE_LOCATION_ID, locs, nlocs);
		protobuf__packed_int64(&b->samples, SAMPLE_VALUE, values, (size_t)nvalues);
		label(b, "lock name", name);
		if (lock->category == LP_CATEGORY_OBJECT && lock->type_name[0])
			label(b, "object type", lock->type_name);
		/* The process, so that one profile of many processes can be focused on one
		 * (-tagfocus pid=4242) or split by command (-tagroot comm). */
		snprintf(tid, sizeof(tid), "%d", (int)p->pid);
		label(b, "pid", tid);
		if (p->comm[0])
			label(b, "comm", p->comm);
		label(b, "wait kind", profile__category_name(lock->category));
		snprintf(tid, sizeof(tid), "%u", ls->tids[t].tid);
		label(b, "thread id", tid);
		if (tname)
			label(b, "thread name", tname);
		protobuf__end(&b->samples, mark);
	}
}

static void value_type(struct builder *b, struct protobuf *out, uint32_t field, const char *type,
		       const char *unit)
{
	size_t mark = protobuf__begin(out, field);

	protobuf__int64(out, VALUE_TYPE_TYPE, intern(b, type));
	protobuf__int64(out, VALUE_TYPE_UNIT, intern(b, unit));
	protobuf__end(out, mark);
}

/* The Profile message: samples first (they fill the tables), then the tables and header. */
static void add_profile(struct builder *b, const struct lp_profile *p,
			const struct lp_report_opts *o, int nvalues)
{
	for (size_t i = 0; i < p->nlocks; i++) {
		const struct lp_lock *lock = &p->locks[i];

		for (size_t s = 0; report__lock_included(lock, o) && s < lock->nstacks; s++) {
			if (lock->stacks[s].role == o->pprof_role)
				add_samples(b, p, lock, &lock->stacks[s], VALUE_CONTENTIONS,
					    nvalues);
			else if (lock->stacks[s].role == LP_ROLE_HOLD && p->full.measured)
				add_samples(b, p, lock, &lock->stacks[s], VALUE_ACQUISITIONS,
					    nvalues);
		}
	}
}

/* The profile's one mapping (the interpreter), then the sections built apart: fields of one
 * message may come in any order. */
static void finish_profile(struct builder *b, struct protobuf *out, const char *interpreter)
{
	size_t mark = protobuf__begin(out, PROFILE_MAPPING);

	protobuf__uint64(out, MAPPING_ID, MAPPING_PYTHON);
	protobuf__int64(out, MAPPING_FILENAME, intern(b, interpreter));
	protobuf__bool(out, MAPPING_HAS_FUNCTIONS, true);
	protobuf__bool(out, MAPPING_HAS_FILENAMES, true);
	protobuf__bool(out, MAPPING_HAS_LINE_NUMBERS, true);
	protobuf__end(out, mark);
	protobuf__append(out, b->samples.data, b->samples.len);
	protobuf__append(out, b->locations.data, b->locations.len);
	protobuf__append(out, b->functions.data, b->functions.len);
	for (size_t i = 0; i < b->nstrings; i++)
		protobuf__string(out, PROFILE_STRING_TABLE, b->strings[i]);
	if (b->samples.failed || b->locations.failed || b->functions.failed)
		b->failed = true;
}

/* The Profile message of the n profiles ps (one per process; the header is ps[0]'s, the
 * processes and their commands labels on the samples). */
static void build(struct builder *b, const struct lp_profile *const *ps, size_t n,
		  const struct lp_report_opts *o, struct protobuf *out)
{
	const struct lp_profile *p = ps[0];
	/* Hold times (-m full) ride along as two more sample types, on the acquiring stacks, so
	 * one file answers both questions (-sample_index=hold). */
	int nvalues = p->full.measured ? NVALUES : VALUE_ACQUISITIONS;
	char comment[PATH_MAX + 128];

	for (size_t i = 0; i < n; i++)
		add_profile(b, ps[i], o, nvalues);

	/* Go's mutex profile: contentions (count) first, then delay (nanoseconds). */
	value_type(b, out, PROFILE_SAMPLE_TYPE, "contentions", "count");
	value_type(b, out, PROFILE_SAMPLE_TYPE, "delay", "nanoseconds");
	if (p->full.measured) {
		value_type(b, out, PROFILE_SAMPLE_TYPE, "acquisitions", "count");
		value_type(b, out, PROFILE_SAMPLE_TYPE, "hold", "nanoseconds");
		/* pprof shows the last type unless told: keep delay the default, as in Go's. */
		protobuf__int64(out, PROFILE_DEFAULT_SAMPLE_TYPE, intern(b, "delay"));
	}
	value_type(b, out, PROFILE_PERIOD_TYPE, "contentions", "count");
	protobuf__int64(out, PROFILE_PERIOD, 1);
	protobuf__int64(out, PROFILE_TIME_NANOS, (int64_t)p->start_unix_ns);
	protobuf__int64(out, PROFILE_DURATION_NANOS, (int64_t)p->duration_ns);
	for (size_t i = 0; i < n; i++) {
		snprintf(comment, sizeof(comment),
			 "lockprof %s: pid %d%s%s%s, CPython %s (%s), mode %s, %s stacks",
			 LOCKPROF_VERSION, (int)ps[i]->pid, ps[i]->comm[0] ? " (" : "", ps[i]->comm,
			 ps[i]->comm[0] ? ")" : "", ps[i]->python, ps[i]->interpreter, ps[i]->mode,
			 profile__role_name(o->pprof_role));
		protobuf__int64(out, PROFILE_COMMENT, intern(b, comment));
	}
	if (n == 1 && p->overhead.measured) {
		char note[1024];

		protobuf__int64(out, PROFILE_COMMENT,
				intern(b, report__overhead_note(p, note, sizeof(note))));
	}

	finish_profile(b, out, p->interpreter);
}

static int write_gzip(FILE *f, const uint8_t *data, size_t len)
{
	uint8_t chunk[16384];
	z_stream zs = {};
	int ret, err = 0;
	size_t n;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WINDOW, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)data;
	zs.avail_in = (uInt)len; /* profiles stay far below 4 GiB */
	do {
		zs.next_out = chunk;
		zs.avail_out = sizeof(chunk);
		ret = deflate(&zs, Z_FINISH);
		if (ret == Z_STREAM_ERROR) {
			err = -EIO;
			break;
		}
		n = sizeof(chunk) - zs.avail_out;
		if (fwrite(chunk, 1, n, f) != n) {
			err = -EIO;
			break;
		}
	} while (ret != Z_STREAM_END);
	deflateEnd(&zs);
	return err;
}

/* The header of a set's profile: value types, period, times, comment, the one mapping. */
static void build_samples(struct builder *b, const struct lp_pprof_samples *set,
			  struct protobuf *out)
{
	size_t mark;

	for (size_t i = 0; i < set->nsamples; i++) {
		const struct lp_pprof_sample *s = &set->samples[i];
		uint64_t locs[LP_MAX_FRAMES + 1];
		size_t nlocs = stack_locations(b, s->stack, locs);

		mark = protobuf__begin(&b->samples, PROFILE_SAMPLE);
		protobuf__packed_uint64(&b->samples, SAMPLE_LOCATION_ID, locs, nlocs);
		protobuf__packed_int64(&b->samples, SAMPLE_VALUE, s->values, 2);
		for (size_t l = 0; l < s->nlabels; l++)
			label(b, s->labels[l].key, s->labels[l].value);
		protobuf__end(&b->samples, mark);
	}
	value_type(b, out, PROFILE_SAMPLE_TYPE, set->types[0][0], set->types[0][1]);
	value_type(b, out, PROFILE_SAMPLE_TYPE, set->types[1][0], set->types[1][1]);
	value_type(b, out, PROFILE_PERIOD_TYPE, set->types[0][0], set->types[0][1]);
	protobuf__int64(out, PROFILE_PERIOD, 1);
	protobuf__int64(out, PROFILE_TIME_NANOS, (int64_t)set->time_unix_ns);
	protobuf__int64(out, PROFILE_DURATION_NANOS, (int64_t)set->duration_ns);
	if (set->comment)
		protobuf__int64(out, PROFILE_COMMENT, intern(b, set->comment));
	finish_profile(b, out, set->mapping ? set->mapping : "python");
}

/* Builds with build() (n profiles) or build_samples() (samples), then compresses into f. */
static int encode(FILE *f, const struct lp_profile *const *ps, size_t n,
		  const struct lp_report_opts *o, const struct lp_pprof_samples *set)
{
	struct builder b = {};
	struct protobuf out;
	int err;

	protobuf__init(&out);
	b.strings_cap = 64;
	b.strings = calloc(b.strings_cap, sizeof(*b.strings));
	if (b.strings)
		b.strings[0] = strdup("");
	if (!b.strings || !b.strings[0])
		b.failed = true;
	else
		b.nstrings = 1;
	if (!b.failed && set)
		build_samples(&b, set, &out);
	else if (!b.failed && n)
		build(&b, ps, n, o, &out);
	err = b.failed || out.failed ? -ENOMEM : write_gzip(f, out.data, out.len);
	if (!err && ferror(f))
		err = -EIO;
	for (size_t i = 0; i < b.nstrings; i++)
		free(b.strings[i]);
	free(b.strings);
	u64map__free(&b.string_index);
	u64map__free(&b.function_ids);
	u64map__free(&b.location_ids);
	protobuf__free(&b.samples);
	protobuf__free(&b.locations);
	protobuf__free(&b.functions);
	protobuf__free(&out);
	return err;
}

int report_pprof__write(FILE *f, const struct lp_profile *p, const struct lp_report_opts *o)
{
	return encode(f, &p, 1, o, NULL);
}

int report_pprof__write_set(FILE *f, const struct lp_profile *const *ps, size_t n,
			    const struct lp_report_opts *o)
{
	return encode(f, ps, n, o, NULL);
}

int report_pprof__write_samples(FILE *f, const struct lp_pprof_samples *set)
{
	return encode(f, NULL, 0, NULL, set);
}
