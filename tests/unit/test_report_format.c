// SPDX-License-Identifier: GPL-2.0
/* Pure parts of the reports: JSON string escaping, units, short paths, lock names from source. */
#include <stdlib.h>

#include "profile/lockname.h"
#include "report/render.h"
#include "report/report.h"
#include "testing.h"
#include "util/units.h"

static char *json_of(const char *s)
{
	static char buf[256];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	json__write_string(f, s);
	fclose(f);
	return buf;
}

static char *object_of(const char *line)
{
	static char buf[128];

	lockname__object_on_line(line, buf, sizeof(buf));
	return buf;
}

static char *lockname_of(const char *line)
{
	static char buf[128];

	lockname__from_source(line, buf, sizeof(buf));
	return buf;
}

int main(void)
{
	char buf[64];

	CHECK_EQ_STR(json_of("plain"), "\"plain\"", "plain");
	CHECK_EQ_STR(json_of("a\"b\\c"), "\"a\\\"b\\\\c\"", "quote and backslash");
	CHECK_EQ_STR(json_of("l1\nl2\t\r"), "\"l1\\nl2\\t\\r\"", "newline tab cr");
	CHECK_EQ_STR(json_of("\x01\x1f"), "\"\\u0001\\u001f\"", "control characters");
	CHECK_EQ_STR(json_of("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"",
		     "valid UTF-8 kept");
	CHECK_EQ_STR(json_of("bad\xff"), "\"bad\\ufffd\"", "invalid byte replaced");
	CHECK_EQ_STR(json_of("\xc3"), "\"\\ufffd\"", "truncated sequence replaced");
	CHECK_EQ_STR(json_of("\xc0\xaf"), "\"\\ufffd\\ufffd\"", "overlong form replaced");
	CHECK_EQ_STR(json_of("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"", "surrogate replaced");
	CHECK_EQ_STR(json_of(NULL), "\"\"", "NULL is empty");

	CHECK_EQ_STR(units__duration(0, buf, sizeof(buf)), "0 ns", "0");
	CHECK_EQ_STR(units__duration(812, buf, sizeof(buf)), "812 ns", "ns");
	CHECK_EQ_STR(units__duration(3500, buf, sizeof(buf)), "3.50 us", "us");
	CHECK_EQ_STR(units__duration(41000000, buf, sizeof(buf)), "41.0 ms", "ms");
	CHECK_EQ_STR(units__duration(3900000000ULL, buf, sizeof(buf)), "3.90 s", "s");
	CHECK_EQ_STR(units__duration(250000000000ULL, buf, sizeof(buf)), "250 s", "long");
	CHECK_EQ_STR(units__count(0, buf, sizeof(buf)), "0", "count 0");
	CHECK_EQ_STR(units__count(999, buf, sizeof(buf)), "999", "count 999");
	CHECK_EQ_STR(units__count(1284, buf, sizeof(buf)), "1,284", "count 1,284");
	CHECK_EQ_STR(units__count(1234567890, buf, sizeof(buf)), "1,234,567,890", "count big");

	CHECK_EQ_STR(report__short_path("/usr/lib/python3.11/logging/__init__.py"),
		     "logging/__init__.py", "stdlib path");
	CHECK_EQ_STR(report__short_path("/x/lib/python3.12/site-packages/app/db.py"), "app/db.py",
		     "site-packages path");
	CHECK_EQ_STR(report__short_path("/srv/app/db.py"), "app/db.py", "last two components");
	CHECK_EQ_STR(report__short_path("db.py"), "db.py", "bare name");

	CHECK_EQ_STR(lockname_of("        with self._pool_lock:\n"), "self._pool_lock", "with");
	CHECK_EQ_STR(lockname_of("with lock as held:  # comment"), "lock", "with as");
	CHECK_EQ_STR(object_of("        shared.append(i)  # APPEND-LINE\n"), "shared",
		     "method call");
	CHECK_EQ_STR(object_of("    self.cache[key] = value"), "self.cache", "subscript");
	CHECK_EQ_STR(object_of("    x = self.pool.items.pop()"), "self.pool.items",
		     "attribute chain");
	CHECK_EQ_STR(object_of("    total = len(shared)"), "", "a plain call names nothing");
	CHECK_EQ_STR(object_of("    log('a.b(c)')"), "", "not inside a string");
	CHECK_EQ_STR(object_of("    for k in d.keys():"), "d", "after a keyword");
	CHECK_EQ_STR(lockname_of("with a[0], b:"), "a[0]", "first manager");
	CHECK_EQ_STR(lockname_of("with get_lock(x, y):"), "get_lock(x, y)", "call in brackets");
	CHECK_EQ_STR(lockname_of("async with self.sem:"), "self.sem", "async with");
	CHECK_EQ_STR(lockname_of("    ok = self.mutex.acquire(timeout=1)"), "self.mutex",
		     "acquire call");
	CHECK_EQ_STR(lockname_of("        return self._lock.__enter__()"), "self._lock",
		     "Condition.__enter__ takes its lock");
	CHECK_EQ_STR(lockname_of("    results.append(lock.acquire(timeout=0.1))"), "lock",
		     "not into the enclosing call");
	CHECK_EQ_STR(lockname_of("    ok = self._locks[key].acquire()"), "self._locks[key]",
		     "a subscript");
	CHECK_EQ_STR(lockname_of("    get_lock(name).acquire()"), "get_lock(name)",
		     "a call's result");
	CHECK_EQ_STR(lockname_of("    f(a[i], locks[k].acquire())"), "locks[k]",
		     "inside a call's arguments");
	CHECK_EQ_STR(lockname_of("x = compute()"), "", "no lock use");
	CHECK_EQ_STR(lockname_of(""), "", "empty line");
	return testing_summary("report_format");
}
