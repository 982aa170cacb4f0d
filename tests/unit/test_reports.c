// SPDX-License-Identifier: GPL-2.0
/* The renderers on a hand-built profile: collapsed lines, the text table's order and histogram,
 * JSON keys, and the pprof file decoded back (gunzip, then the protobuf fields). */
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include "lockprof/hist.h"
#include "report/report.h"
#include "testing.h"

#define STACK_WAITER 0x11
#define STACK_OTHER 0x22
#define STACK_SAME_LINE 0x33 /* differs from STACK_WAITER below line granularity */
#define STACK_LOST 0x44	     /* never announced */
#define LOCK_A 0xa000
#define LOCK_B 0xb000

static const struct lp_frame_sym waiter_frames[] = {
	{ "Pool.get", "/srv/app/db.py", 42 },
	{ "handle", "/srv/app/web.py", 7 },
	{ "<module>", "/srv/app/main.py", 1 },
};
static const struct lp_frame_sym other_frames[] = {
	{ "odd;name\n", "/srv/a b/x.py", 3 },
};

static void add(struct lp_profile *p, uint64_t lock, uint64_t stack, uint32_t tid, uint64_t count,
		uint64_t ns)
{
	struct lp_stat_key key = { .lock = lock, .stack_id = stack, .tid = tid };
	struct lp_stat_value val = { .count = count, .total_ns = ns, .max_ns = ns / count };

	val.hist[20] = (uint32_t)count;
	CHECK_EQ_INT(profile__add_stat(p, &key, &val), 0, "add_stat");
}

static void build(struct lp_profile *p, struct lp_stacktab *st, struct lp_threadnames *names)
{
	stacktab__insert(st, STACK_WAITER, waiter_frames, 3, false);
	stacktab__insert(st, STACK_SAME_LINE, waiter_frames, 3, false);
	stacktab__insert(st, STACK_OTHER, other_frames, 1, true);
	threadnames__set(names, 101, "worker-1");
	profile__init(p, st, names);
	p->pid = 4242;
	snprintf(p->python, sizeof(p->python), "3.12.1");
	snprintf(p->interpreter, sizeof(p->interpreter), "/usr/lib/libpython3.12.so");
	p->duration_ns = 2000000000;
	p->start_unix_ns = 1700000000000000000ULL;
	/* lock A: most total wait; lock B: most waits */
	add(p, LOCK_A, STACK_WAITER, 101, 2, 3000000);
	add(p, LOCK_A, STACK_WAITER, 102, 1, 1000000);
	add(p, LOCK_A, STACK_SAME_LINE, 101, 1, 500);
	add(p, LOCK_B, STACK_OTHER, 103, 5, 1000);
	add(p, LOCK_B, STACK_LOST, 103, 1, 100);
	profile__link(p);
	profile__finish(p);
	snprintf(p->locks[0].name, sizeof(p->locks[0].name), "self._pool");
}

static char *render(const struct lp_profile *p, enum lp_format fmt, const struct lp_report_opts *o,
		    size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	CHECK_EQ_INT(report__write(f, fmt, p, o), 0, report__format_name(fmt));
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static void test_collapsed(const struct lp_profile *p)
{
	struct lp_report_opts o = {};
	char *out = render(p, LP_FORMAT_COLLAPSED, &o, NULL);

	CHECK_EQ_STR(out,
		     "<module> (/srv/app/main.py:1);handle (/srv/app/web.py:7);"
		     "Pool.get (/srv/app/db.py:42);lock self._pool 4000500\n"
		     "<stack lost>;lock 0xb000 100\n"
		     "<truncated>;odd_name_ (/srv/a b/x.py:3);lock 0xb000 1000\n",
		     "collapsed, wait weight");
	free(out);
	o.weight = LP_WEIGHT_COUNT;
	out = render(p, LP_FORMAT_COLLAPSED, &o, NULL);
	CHECK_EQ_STR(out,
		     "<module> (/srv/app/main.py:1);handle (/srv/app/web.py:7);"
		     "Pool.get (/srv/app/db.py:42);lock self._pool 4\n"
		     "<stack lost>;lock 0xb000 1\n"
		     "<truncated>;odd_name_ (/srv/a b/x.py:3);lock 0xb000 5\n",
		     "collapsed, count weight");
	free(out);
}

static void test_text(const struct lp_profile *p)
{
	struct lp_report_opts o = {};
	char *out = render(p, LP_FORMAT_TEXT, &o, NULL), *a, *b;

	a = strstr(out, "app/db.py:42 self._pool");
	b = strstr(out, "x.py:3 0xb000");
	CHECK(a && b && a < b, "--sort total: lock A first\n%s", out);
	CHECK(!strstr(out, "distribution"), "no histogram without -H\n%s", out);
	free(out);

	o.sort = LP_SORT_COUNT;
	o.top = 1;
	o.histogram = true;
	out = render(p, LP_FORMAT_TEXT, &o, NULL);
	CHECK(strstr(out, "x.py:3 0xb000") && !strstr(out, "self._pool"),
	      "--sort count --top 1: only lock B\n%s", out);
	CHECK(strstr(out, "(1 more lock not listed: --top 1)"), "--top says what it hid\n%s", out);
	CHECK(strstr(out, "wait : count  distribution"), "-H header\n%s", out);
	CHECK(strstr(out, "1.05 ms -> 2.10 ms : 6      |****************************************|"),
	      "-H row: bucket 20 holds [2^20, 2^21) ns\n%s", out);
	free(out);

	o = (struct lp_report_opts){ .sort = LP_SORT_MAX };
	out = render(p, LP_FORMAT_TEXT, &o, NULL);
	a = strstr(out, "app/db.py:42 self._pool");
	b = strstr(out, "x.py:3 0xb000");
	CHECK(a && b && a < b, "--sort max: lock A (1.5 ms) first\n%s", out);
	free(out);
}

static void test_json(const struct lp_profile *p)
{
	char *out = render(p, LP_FORMAT_JSON, NULL, NULL);

	CHECK(strstr(out, "\"start_unix_ns\": 1700000000000000000"), "start time\n%s", out);
	CHECK(strstr(out, "\"interval\": null"), "no interval\n%s", out);
	/* STACK_SAME_LINE folded into STACK_WAITER: thread 101's shares summed */
	CHECK(strstr(out, "\"threads\": [{\"id\": 101, \"name\": \"worker-1\", \"count\": 3, "
			  "\"wait_ns\": 3000500}, {\"id\": 102, \"name\": null, \"count\": 1, "
			  "\"wait_ns\": 1000000}]"),
	      "per-thread shares with names\n%s", out);
	CHECK(strstr(out, "\"role\": \"waiter\""), "role\n%s", out);
	CHECK(strstr(out, "\"truncated\": true"), "truncated stack\n%s", out);
	free(out);
}

/* Protobuf reading, just enough to check what we wrote. */
static uint64_t varint(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;

	for (int shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
	}
	return v;
}

struct decoded {
	char strings[64][160];
	int nstrings, nsamples, nlocations, nfunctions, nmappings, nsample_types;
	int nvalues; /* values in the last sample */
	int64_t sum[4];
	uint64_t time_nanos, duration_nanos, period;
};

static void decode_sample(struct decoded *d, const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		uint64_t tag = varint(&p, end), len;
		const uint8_t *sub;

		CHECK((tag & 7) == 2, "sample fields are length-delimited, tag %" PRIu64, tag);
		len = varint(&p, end);
		sub = p;
		p += len;
		if (tag >> 3 == 2) {
			d->nvalues = 0;
			for (int i = 0; sub < p; i++, d->nvalues++)
				d->sum[i < 4 ? i : 3] += (int64_t)varint(&sub, p);
		}
	}
}

static void decode(struct decoded *d, const uint8_t *p, const uint8_t *end)
{
	while (p < end) {
		uint64_t tag = varint(&p, end), field = tag >> 3, v, len;

		if ((tag & 7) == 0) {
			v = varint(&p, end);
			if (field == 9)
				d->time_nanos = v;
			else if (field == 10)
				d->duration_nanos = v;
			else if (field == 12)
				d->period = v;
			continue;
		}
		CHECK((tag & 7) == 2, "wire type of field %" PRIu64, field);
		len = varint(&p, end);
		if (field == 6 && d->nstrings < 64)
			snprintf(d->strings[d->nstrings++], 160, "%.*s", (int)len, p);
		d->nsample_types += field == 1;
		d->nsamples += field == 2;
		d->nmappings += field == 3;
		d->nlocations += field == 4;
		d->nfunctions += field == 5;
		if (field == 2)
			decode_sample(d, p, p + len);
		p += len;
	}
	CHECK(p == end, "profile ends on a field boundary");
}

static bool has_string(const struct decoded *d, const char *s)
{
	for (int i = 0; i < d->nstrings; i++)
		if (!strcmp(d->strings[i], s))
			return true;
	return false;
}

/* Renders p as pprof and decodes it into d. */
static void decode_pprof(const struct lp_profile *p, const struct lp_report_opts *o,
			 struct decoded *d)
{
	static uint8_t raw[1 << 16];
	size_t len;
	char *gz = render(p, LP_FORMAT_PPROF, o, &len);
	z_stream zs = {};

	CHECK(len > 18 && (uint8_t)gz[0] == 0x1f && (uint8_t)gz[1] == 0x8b, "gzip magic");
	CHECK_EQ_INT(inflateInit2(&zs, 15 + 16), Z_OK, "inflateInit2");
	zs.next_in = (Bytef *)gz;
	zs.avail_in = (uInt)len;
	zs.next_out = raw;
	zs.avail_out = sizeof(raw);
	CHECK_EQ_INT(inflate(&zs, Z_FINISH), Z_STREAM_END, "gunzip");
	decode(d, raw, raw + zs.total_out);
	inflateEnd(&zs);
	free(gz);
}

static void test_pprof(const struct lp_profile *p)
{
	static const char *const wanted[] = {
		"contentions", "count",	      "delay",		"nanoseconds", "lock name",
		"thread id",   "thread name", "worker-1",	"self._pool",  "0xb000",
		"101",	       "Pool.get",    "/srv/app/db.py", "<module>",
	};
	struct lp_report_opts o = { .pprof_role = LP_ROLE_WAITER };
	struct decoded d = {};

	decode_pprof(p, &o, &d);
	CHECK_EQ_INT(d.nsample_types, 2, "contentions and delay only, without -m full");
	CHECK_EQ_INT(d.nvalues, 2, "two values per sample");
	CHECK(!has_string(&d, "hold"), "no hold sample type without -m full");

	CHECK_EQ_STR(d.strings[0], "", "string_table[0]");
	/* a sample per (lock, stack, thread): A/WAITER (2 threads; SAME_LINE folded in), B/OTHER,
	 * B/LOST */
	CHECK_EQ_INT(d.nsamples, 4, "samples");
	CHECK_EQ_INT(d.sum[0], 10, "contentions sum to the waits");
	CHECK_EQ_INT(d.sum[1], 4001600, "delay sums to the wait ns");
	CHECK_EQ_INT(d.nmappings, 1, "mappings");
	/* 3 waiter frames, the odd frame, and the <truncated> and <stack lost> placeholders */
	CHECK_EQ_INT(d.nlocations, 6, "locations (deduplicated)");
	CHECK_EQ_INT(d.nfunctions, 6, "functions");
	CHECK_EQ_INT(d.time_nanos, 1700000000000000000ULL, "time_nanos");
	CHECK_EQ_INT(d.duration_nanos, 2000000000, "duration_nanos");
	CHECK_EQ_INT(d.period, 1, "period");
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++)
		CHECK(has_string(&d, wanted[i]), "string table lacks \"%s\"", wanted[i]);
}

#define STACK_ACQUIRER 0x66

/* -m full: hold stacks become samples of two more types, acquisitions and hold. */
static void test_pprof_full(struct lp_stacktab *st, struct lp_threadnames *names)
{
	static const struct lp_frame_sym acquirer_frames[] = {
		{ "Pool.take", "/srv/app/db.py", 30 },
	};
	struct lp_report_opts o = { .pprof_role = LP_ROLE_WAITER };
	struct lp_stat_key key = { .lock = LOCK_A, .stack_id = STACK_ACQUIRER, .tid = 101 };
	struct lp_stat_value val = { .count = 3, .total_ns = 900, .max_ns = 500 };
	struct decoded d = {};
	struct lp_profile p;

	stacktab__insert(st, STACK_ACQUIRER, acquirer_frames, 1, false);
	profile__init(&p, st, names);
	p.mode = "contention,full";
	p.full = (struct lp_full_info){ .measured = true,
					.capture_pct = 100,
					.duty_cycle = 1,
					.scale_sampled = 1,
					.scale_contended = 1 };
	add(&p, LOCK_A, STACK_WAITER, 102, 2, 4000);
	key.kind = LP_KIND_HOLD_SAMPLED;
	val.hist[10] = 3;
	CHECK_EQ_INT(profile__add_stat(&p, &key, &val), 0, "add_stat hold");
	profile__link(&p);
	profile__finish(&p);

	decode_pprof(&p, &o, &d);
	CHECK_EQ_INT(d.nsample_types, 4, "contentions, delay, acquisitions, hold");
	CHECK(has_string(&d, "acquisitions") && has_string(&d, "hold"), "hold sample types named");
	CHECK_EQ_INT(d.nsamples, 2, "one waiter sample, one hold sample");
	CHECK_EQ_INT(d.nvalues, 4, "four values per sample");
	CHECK_EQ_INT(d.sum[0], 2, "contentions: the waits only");
	CHECK_EQ_INT(d.sum[1], 4000, "delay: the wait ns only");
	CHECK_EQ_INT(d.sum[2], 3, "acquisitions: the holds");
	CHECK_EQ_INT(d.sum[3], 900, "hold: the hold ns");
	CHECK(has_string(&d, "Pool.take"), "the acquiring stack's function");
	profile__free(&p);
}

#define LOCK_IDLE 0xc000
#define LOCK_GIL 0xd000
#define STACK_HOLDER 0x55

static const struct lp_frame_sym holder_frames[] = {
	{ "Pool.put", "/srv/app/db.py", 50 },
};

static void add_kind(struct lp_profile *p, uint64_t lock, uint64_t stack, uint32_t tid,
		     uint16_t kind, uint64_t ns)
{
	struct lp_stat_key key = { .lock = lock, .stack_id = stack, .tid = tid, .kind = kind };
	struct lp_stat_value val = { .count = 1, .total_ns = ns, .max_ns = ns };

	val.hist[lp_hist_slot(ns)] = 1;
	CHECK_EQ_INT(profile__add_stat(p, &key, &val), 0, "add_stat");
}

static struct lp_lock *find_lock(struct lp_profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->nlocks; i++)
		if (p->locks[i].id == id)
			return &p->locks[i];
	return NULL;
}

/* Contention (with who held the lock), idle and GIL waits: which formats carry which. */
static void test_categories(struct lp_stacktab *st, struct lp_threadnames *names)
{
	struct lp_report_opts o = {};
	struct lp_profile p;
	struct lp_lock *lock;
	char *out;

	stacktab__insert(st, STACK_HOLDER, holder_frames, 1, false);
	profile__init(&p, st, names);
	p.mode = "contention,gil";
	p.gil_measured = true;
	add_kind(&p, LOCK_A, STACK_WAITER, 101, LP_KIND_WAIT, 3000);
	add_kind(&p, LOCK_A, STACK_HOLDER, 102, LP_KIND_HOLDER, 3000);
	add_kind(&p, LOCK_B, STACK_OTHER, 103, LP_KIND_WAIT, 1000);
	add_kind(&p, LOCK_IDLE, STACK_WAITER, 104, LP_KIND_WAIT, 900000);
	add_kind(&p, LOCK_GIL, STACK_OTHER, 105, LP_KIND_GIL, 70000);
	profile__link(&p);
	/* what annotate__locks would find from the sources */
	find_lock(&p, LOCK_IDLE)->category = LP_CATEGORY_IDLE;
	snprintf(find_lock(&p, LOCK_GIL)->name, sizeof(p.locks[0].name), "GIL");
	snprintf(find_lock(&p, LOCK_A)->name, sizeof(p.locks[0].name), "self._pool");
	profile__finish(&p);
	CHECK_EQ_INT(p.total_waits, 2, "contention waits: the holder entry counts none");
	CHECK_EQ_INT(p.idle_waits, 1, "idle waits apart");
	CHECK_EQ_INT(p.gil_waits, 1, "GIL waits apart");
	lock = find_lock(&p, LOCK_A);
	CHECK(lock && lock->nstacks == 2 && lock->stacks[1].role == LP_ROLE_HOLDER,
	      "holder stack after the waiter's");

	out = render(&p, LP_FORMAT_COLLAPSED, &o, NULL);
	CHECK_EQ_STR(out,
		     "<module> (/srv/app/main.py:1);handle (/srv/app/web.py:7);"
		     "Pool.get (/srv/app/db.py:42);lock self._pool 3000\n"
		     "<truncated>;odd_name_ (/srv/a b/x.py:3);lock 0xb000 1000\n"
		     "<truncated>;odd_name_ (/srv/a b/x.py:3);lock GIL 70000\n",
		     "collapsed: contention and GIL waits, no idle waits, no holders");
	free(out);
	o.show_idle = true;
	out = render(&p, LP_FORMAT_COLLAPSED, &o, NULL);
	CHECK(strstr(out, "lock 0xc000 900000\n"), "--show-idle: idle waits too\n%s", out);
	free(out);

	o = (struct lp_report_opts){ .top = 1 };
	out = render(&p, LP_FORMAT_TEXT, &o, NULL);
	CHECK(strstr(out, "HELD BY") && strstr(out, "db.py:50 in Pool.put"), "HELD BY column\n%s",
	      out);
	CHECK(strstr(out, "(1 more lock not listed: --top 1)"), "--top counts contention locks\n%s",
	      out);
	CHECK(strstr(out, "hidden: --show-idle to list"), "idle waits summed up\n%s", out);
	CHECK(strstr(out, "GIL: 1 waits"), "GIL section\n%s", out);
	free(out);

	out = render(&p, LP_FORMAT_JSON, NULL, NULL);
	CHECK(strstr(out, "\"role\": \"waiter\"") && strstr(out, "\"role\": \"holder\""),
	      "JSON roles\n%s", out);
	CHECK(strstr(out, "\"category\": \"idle\"") && strstr(out, "\"category\": \"gil\""),
	      "JSON categories\n%s", out);
	free(out);

	o = (struct lp_report_opts){ .pprof_role = LP_ROLE_HOLDER };
	out = render(&p, LP_FORMAT_PPROF, &o, NULL);
	CHECK(out != NULL, "pprof of holder stacks");
	free(out);
	profile__free(&p);
}

#define LOCK_OBJECT 0xe00a /* an object's ob_mutex */
#define LOCK_STW 0xf000	   /* a _stoptheworld_state */

/* Free-threaded builds: object contention and stop-the-world pauses are categories of their own,
 * in every format; the text report says whether the GIL is on. */
static void test_freethreaded(struct lp_stacktab *st, struct lp_threadnames *names)
{
	struct lp_stat_key key = {
		.lock = LOCK_OBJECT, .stack_id = STACK_WAITER, .tid = 101, .source = LP_WAIT_OBJECT
	};
	struct lp_stat_value val = { .count = 3, .total_ns = 300000000, .max_ns = 110000000 };
	struct lp_report_opts o = { .top = 10 };
	struct lp_profile p;
	struct lp_lock *obj;
	char *out;

	profile__init(&p, st, names);
	p.mode = "contention";
	p.free_threaded = true;
	p.gil_enabled = 0;
	p.duration_ns = 1000000000;
	CHECK_EQ_INT(profile__add_stat(&p, &key, &val), 0, "object wait");
	key.kind = LP_KIND_HOLDER;
	key.stack_id = STACK_HOLDER;
	CHECK_EQ_INT(profile__add_stat(&p, &key, &val), 0, "object holder");
	add_kind(&p, LOCK_STW, STACK_OTHER, 102, LP_KIND_STW, 2000000);
	add_kind(&p, LOCK_STW, STACK_OTHER, 102, LP_KIND_STW, 1000000);
	add_kind(&p, LOCK_A, STACK_WAITER, 103, LP_KIND_WAIT, 5000);
	p.counters.stw_threads = 8;
	profile__link(&p);
	obj = find_lock(&p, LOCK_OBJECT);
	CHECK(obj && obj->category == LP_CATEGORY_OBJECT, "object waits: their own category");
	CHECK(find_lock(&p, LOCK_STW) && find_lock(&p, LOCK_STW)->category == LP_CATEGORY_STW,
	      "pauses: their own category");
	snprintf(obj->name, sizeof(obj->name), "shared");
	snprintf(obj->type_name, sizeof(obj->type_name), "list");
	obj->site = &obj->stacks[0].stack->frames[0];
	profile__finish(&p);
	CHECK_EQ_INT(p.total_waits, 1, "lock contention apart from objects and pauses");
	CHECK_EQ_INT(p.object_waits, 3, "object waits");
	CHECK_EQ_INT(p.stw_pauses, 2, "pauses");
	CHECK_EQ_INT(p.stw_ns, 3000000, "pause total");
	CHECK_EQ_INT(p.stw_max_ns, 2000000, "longest pause");

	out = render(&p, LP_FORMAT_TEXT, &o, NULL);
	CHECK(strstr(out, "GIL disabled"), "GIL state\n%s", out);
	CHECK(strstr(out, "Object contention") && strstr(out, "app/db.py:42 shared (list)") &&
		      strstr(out, "db.py:50 in Pool.put"),
	      "object table with its holder\n%s", out);
	CHECK(strstr(out, "Stop-the-world pauses: 2, 3.00 ms total, max 2.00 ms; 4.0 threads"),
	      "pauses line\n%s", out);
	free(out);
	out = render(&p, LP_FORMAT_JSON, NULL, NULL);
	CHECK(strstr(out, "\"category\": \"object\", \"type\": \"list\"") &&
		      strstr(out, "\"primitive\": \"critical section\"") &&
		      strstr(out, "\"gil_enabled\": false") && strstr(out, "\"pauses\": 2") &&
		      strstr(out, "\"threads_paused\": 8") &&
		      strstr(out, "\"category\": \"stop-the-world\""),
	      "JSON: object type, pauses\n%s", out);
	free(out);
	out = render(&p, LP_FORMAT_COLLAPSED, &o, NULL);
	CHECK(strstr(out, "object shared (list) 300000000\n"), "collapsed: object waits\n%s", out);
	free(out);
	out = render(&p, LP_FORMAT_PPROF, &o, NULL);
	CHECK(out != NULL, "pprof with object waits");
	free(out);
	p.gil_enabled = 1;
	out = render(&p, LP_FORMAT_TEXT, &o, NULL);
	CHECK(strstr(out, "GIL enabled"), "GIL turned on\n%s", out);
	free(out);
	profile__free(&p);
}

/* The stack budget: waits whose stack was not captured (LP_STACK_UNSAMPLED) keep the lock's
 * totals exact; the captured stacks share them out by their weighted estimates; the reports say
 * so. */
static void test_sampled_stacks(struct lp_stacktab *st, struct lp_threadnames *names)
{
	struct lp_stat_key key = { .lock = LOCK_A, .tid = 101 };
	struct lp_stat_value v = {};
	struct lp_report_opts o = { .top = 10 };
	struct lp_profile p;
	const struct lp_lock *lock;
	uint64_t counts = 0, ns = 0;
	char *out;

	profile__init(&p, st, names);
	p.duration_ns = 1000000000;
	p.overhead = (struct lp_overhead){ .measured = true,
					   .waits = 100,
					   .waits_unsampled = 80,
					   .sample_ns = 50000,
					   .timing_duty = 1.0 };
	/* STACK_WAITER: 10 captured waits of 10 us, each standing for 5 (threshold 50 us) */
	key.stack_id = STACK_WAITER;
	v = (struct lp_stat_value){ .count = 10,
				    .total_ns = 100000,
				    .max_ns = 10000,
				    .est_count = 50 * LP_WEIGHT_ONE,
				    .est_ns = 500000 };
	CHECK_EQ_INT(profile__add_stat(&p, &key, &v), 0, "add captured");
	/* STACK_OTHER: 10 captured waits of 10 us, at three times the weight */
	key.stack_id = STACK_OTHER;
	v.est_count = 150 * LP_WEIGHT_ONE;
	v.est_ns = 1500000;
	CHECK_EQ_INT(profile__add_stat(&p, &key, &v), 0, "add captured 2");
	/* the rest: 180 waits, 1.8 ms, stack not captured */
	key.stack_id = LP_STACK_UNSAMPLED;
	v = (struct lp_stat_value){ .count = 180, .total_ns = 1800000, .max_ns = 10000 };
	CHECK_EQ_INT(profile__add_stat(&p, &key, &v), 0, "add unsampled");
	profile__link(&p);
	profile__finish(&p);

	CHECK_EQ_INT(p.nlocks, 1, "one lock");
	lock = &p.locks[0];
	CHECK_EQ_INT(lock->waits, 200, "lock totals exact: every wait");
	CHECK_EQ_INT(lock->wait_ns, 2000000, "lock wait exact");
	CHECK_EQ_INT(lock->nstacks, 2, "the unsampled entry shared out");
	for (size_t i = 0; i < lock->nstacks; i++) {
		counts += lock->stacks[i].count;
		ns += lock->stacks[i].wait_ns;
		CHECK(lock->stacks[i].stack_id != LP_STACK_UNSAMPLED, "no unsampled stack left");
	}
	CHECK_EQ_INT(counts, 200, "stacks add up to the exact count");
	CHECK_EQ_INT(ns, 2000000, "stacks add up to the exact wait");
	CHECK_EQ_INT(lock->stacks[0].stack_id, STACK_OTHER, "the heavier weight first");
	CHECK_EQ_INT(lock->stacks[0].count, 150, "3:1 by weight");
	CHECK_EQ_INT(lock->stacks[0].tids[0].count, 150, "thread share upscaled too");

	out = render(&p, LP_FORMAT_TEXT, &o, NULL);
	CHECK(out && strstr(out, "Stacks sampled: 20 of 100 waits captured"), "text says: %s", out);
	free(out);
	out = render(&p, LP_FORMAT_JSON, &o, NULL);
	CHECK(out && strstr(out, "\"stacks_upscaled\": true") &&
		      strstr(out, "\"totals_upscaled\": false") &&
		      strstr(out, "\"estimated\": false"),
	      "json says: %s", out);
	free(out);
	profile__free(&p);

	/* The duty cycle: attached a quarter of the time, totals upscaled 4x */
	profile__init(&p, st, names);
	p.duration_ns = 1000000000;
	p.overhead = (struct lp_overhead){ .measured = true, .waits = 10, .timing_duty = 0.25 };
	key.stack_id = STACK_WAITER;
	v = (struct lp_stat_value){ .count = 10, .total_ns = 100000, .max_ns = 10000 };
	CHECK_EQ_INT(profile__add_stat(&p, &key, &v), 0, "add under duty");
	profile__link(&p);
	profile__finish(&p);
	CHECK_EQ_INT(p.locks[0].waits, 40, "upscaled by 1 / duty");
	CHECK_EQ_INT(p.total_wait_ns, 400000, "wait upscaled by 1 / duty");
	out = render(&p, LP_FORMAT_JSON, &o, NULL);
	CHECK(out && strstr(out, "\"totals_upscaled\": true") && strstr(out, "\"estimated\": true"),
	      "json says: %s", out);
	free(out);
	out = render(&p, LP_FORMAT_TEXT, &o, NULL);
	CHECK(out && strstr(out, "Timing probes attached 25.0% of the time") &&
		      strstr(out, "upscaled x4.00"),
	      "text says: %s", out);
	free(out);
	profile__free(&p);

	/* The probes' own time taken off the attached time: the scale the budget computed wins */
	profile__init(&p, st, names);
	p.duration_ns = 1000000000;
	p.overhead = (struct lp_overhead){
		.measured = true, .waits = 10, .timing_duty = 0.25, .timing_scale = 5.0
	};
	v = (struct lp_stat_value){ .count = 10, .total_ns = 100000, .max_ns = 10000 };
	CHECK_EQ_INT(profile__add_stat(&p, &key, &v), 0, "add under duty, scale 5");
	profile__link(&p);
	profile__finish(&p);
	CHECK_EQ_INT(p.locks[0].waits, 50, "upscaled by the budget's scale");
	out = render(&p, LP_FORMAT_JSON, &o, NULL);
	CHECK(out && strstr(out, "\"timing_scale\": 5.0000"), "json says: %s", out);
	free(out);
	profile__free(&p);
}

/* profile__split_lock: two locks that lived at one address, one after the other; the holder
 * stack's threads go with the lock their waits' lifetime overlaps. */
static void test_split_lock(struct lp_stacktab *st, struct lp_threadnames *names)
{
	struct lp_stat_key key = { .lock = LOCK_A };
	struct lp_stat_value v;
	uint64_t first[2] = { 100, 1000 }, last[2] = { 200, 2000 };
	unsigned int group[3];
	struct lp_profile p;

	profile__init(&p, st, names);
	key.stack_id = STACK_WAITER;
	key.tid = 1;
	v = (struct lp_stat_value){
		.count = 3, .total_ns = 300, .max_ns = 100, .first_ns = 100, .last_ns = 200
	};
	v.hist[6] = 3;
	profile__add_stat(&p, &key, &v);
	key.stack_id = STACK_OTHER;
	v = (struct lp_stat_value){ .count = 5,
				    .total_ns = 5000,
				    .max_ns = 1000,
				    .timeouts = 1,
				    .first_ns = 1000,
				    .last_ns = 2000 };
	v.hist[9] = 5;
	profile__add_stat(&p, &key, &v);
	key.kind = LP_KIND_HOLDER;
	key.stack_id = STACK_SAME_LINE;
	key.tid = 7; /* released the first lock */
	v = (struct lp_stat_value){ .count = 3, .total_ns = 300, .first_ns = 150, .last_ns = 190 };
	profile__add_stat(&p, &key, &v);
	key.tid = 8; /* released the second */
	v = (struct lp_stat_value){
		.count = 5, .total_ns = 5000, .first_ns = 1500, .last_ns = 1900
	};
	profile__add_stat(&p, &key, &v);
	profile__link(&p);
	CHECK_EQ_INT(p.nlocks, 1, "one address");
	for (size_t j = 0; j < p.locks[0].nstacks; j++)
		group[j] = p.locks[0].stacks[j].role == LP_ROLE_HOLDER	   ? LP_GROUP_BY_TIME
			   : p.locks[0].stacks[j].stack_id == STACK_WAITER ? 0
									   : 1;
	CHECK_EQ_INT(profile__split_lock(&p, 0, group, 2, first, last), 0, "split");
	CHECK_EQ_INT(p.nlocks, 2, "two locks");
	CHECK_EQ_INT(p.locks[1].generation, 1, "the later one is generation 1");
	CHECK_EQ_INT(p.locks[1].id, LOCK_A, "same address");
	CHECK_EQ_INT(p.locks[0].waits, 3, "first lock's waits");
	CHECK_EQ_INT(p.locks[1].waits, 5, "second lock's waits");
	CHECK_EQ_INT(p.locks[1].timeouts, 1, "timeouts follow their stack");
	CHECK_EQ_INT(p.locks[1].hist[9], 5, "histogram follows its stack");
	CHECK_EQ_INT(p.locks[0].hist[9], 0, "and leaves the other");
	for (int l = 0; l < 2; l++) {
		const struct lp_lock_stack *h = profile__top_stack(&p.locks[l], LP_ROLE_HOLDER);

		CHECK(h && h->ntids == 1 && h->tids[0].tid == (l ? 8u : 7u),
		      "lock %d's holder: its own releasing thread", l);
		CHECK(h && h->count == (l ? 5u : 3u), "lock %d's holder count", l);
	}
	profile__finish(&p);
	profile__free(&p);
}

int main(void)
{
	struct lp_stacktab *st = stacktab__new();
	struct lp_threadnames *names = threadnames__new(getpid());
	struct lp_profile p;

	build(&p, st, names);
	CHECK_EQ_INT(p.nlocks, 2, "locks");
	CHECK_EQ_INT(p.locks[0].id, LOCK_A, "sorted by total wait");
	CHECK_EQ_INT(p.total_waits, 10, "total waits");
	CHECK(p.locks[0].stacks[0].stack && p.locks[0].stacks[0].stack->depth == 3,
	      "stacks linked from the table");
	test_collapsed(&p);
	test_text(&p);
	test_json(&p);
	test_pprof(&p);
	profile__free(&p);
	test_categories(st, names);
	test_freethreaded(st, names);
	test_pprof_full(st, names);
	test_sampled_stacks(st, names);
	test_split_lock(st, names);
	stacktab__free(st);
	threadnames__free(names);
	return testing_summary("reports");
}
