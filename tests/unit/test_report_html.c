// SPDX-License-Identifier: GPL-2.0
/* The HTML report's writer: names from the target (functions, files, lock names) reach the page
 * only as JSON strings inside its data <script>, where no '<', '>' or '&' may appear raw (a
 * "</script>" in a function name would end the element and run markup); controls and invalid
 * UTF-8 stay JSON-escaped; every string is stored once. */
#include <stdlib.h>
#include <unistd.h>

#include "report/report.h"
#include "testing.h"

#define STACK_EVIL 0x11
#define STACK_PLAIN 0x22
#define LOCK_A 0xa000

static const struct lp_frame_sym evil_frames[] = {
	{ "</script><img src=x onerror=alert(1)>", "/srv/a&b/\"q'.py", 42 },
	{ "caf\xc3\xa9.\xe4\xb8\xad\x01\n\t\x7f", "/srv/bad\xff.py", 7 },
	{ "<!--", "/srv/app/web.py", 1 },
};
static const struct lp_frame_sym plain_frames[] = {
	{ "handle", "/srv/app/web.py", 9 },
	{ "<!--", "/srv/app/web.py", 1 },
};

static void add(struct lp_profile *p, uint64_t stack, uint64_t count, uint64_t ns)
{
	struct lp_stat_key key = { .lock = LOCK_A, .stack_id = stack, .tid = 101 };
	struct lp_stat_value val = { .count = count, .total_ns = ns, .max_ns = ns / count };

	CHECK_EQ_INT(profile__add_stat(p, &key, &val), 0, "add_stat");
}

static char *render(const struct lp_profile *p)
{
	struct lp_report_opts o = { .histogram = true };
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	CHECK_EQ_INT(report__write(f, LP_FORMAT_HTML, p, &o), 0, "html");
	fclose(f);
	CHECK_EQ_INT(strlen(buf), n, "no NUL in the page");
	return buf;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/* The data <script>'s content, or NULL. */
static char *data_of(const char *page)
{
	const char *start = strstr(page, "id=\"data\">"), *end;

	if (!start)
		return NULL;
	start += strlen("id=\"data\">");
	end = strstr(start, "</script>");
	return end ? strndup(start, (size_t)(end - start)) : NULL;
}

static void test_escaping(void)
{
	struct lp_stacktab *st = stacktab__new();
	struct lp_profile p;
	char *page, *data;

	stacktab__insert(st, STACK_EVIL, evil_frames, 3, true);
	stacktab__insert(st, STACK_PLAIN, plain_frames, 2, false);
	profile__init(&p, st, NULL);
	p.pid = 4242;
	snprintf(p.python, sizeof(p.python), "3.12.1");
	snprintf(p.interpreter, sizeof(p.interpreter), "/opt/<py>&/libpython3.12.so");
	p.mode = "contention";
	p.duration_ns = 1000000000;
	add(&p, STACK_EVIL, 3, 3000000);
	add(&p, STACK_PLAIN, 1, 1000000);
	profile__link(&p);
	profile__finish(&p);
	snprintf(p.locks[0].name, sizeof(p.locks[0].name), "self.<lock>&\"x\"");

	page = render(&p);
	data = data_of(page);
	CHECK(data != NULL, "the page has its data element\n%.400s", page);
	if (!data)
		goto out;
	CHECK_EQ_INT(count(page, "</script>"), 2, "only the data and the code elements end");
	CHECK(!strpbrk(data, "<>&"), "no raw < > & in the data\n%s", data);
	CHECK(!strstr(page, "<img"), "no markup from a function name");
	CHECK(strstr(data, "\"\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e\""),
	      "a function name's markup as \\u escapes\n%s", data);
	CHECK(strstr(data, "\"/srv/a\\u0026b/\\\"q'.py\""), "& and quotes in a path\n%s", data);
	CHECK(strstr(data, "\"caf\xc3\xa9.\xe4\xb8\xad\\u0001\\n\\t\\u007f\"") ||
		      strstr(data, "\"caf\xc3\xa9.\xe4\xb8\xad\\u0001\\n\\t\x7f\""),
	      "non-ASCII kept, controls escaped\n%s", data);
	CHECK(!strstr(data, "\xff"), "invalid UTF-8 replaced\n%s", data);
	CHECK(strstr(data, "\"\\u003c!--\""), "no comment opener\n%s", data);
	CHECK(strstr(data, "self.\\u003clock\\u003e\\u0026\\\"x\\\""), "lock name escaped\n%s",
	      data);
	CHECK(strstr(data, "\"/opt/\\u003cpy\\u003e\\u0026/libpython3.12.so\""),
	      "interpreter path escaped\n%s", data);
	CHECK_EQ_INT(count(data, "\"/srv/app/web.py\""), 1, "a string is stored once");
	CHECK_EQ_INT(count(data, "\"\\u003c!--\""), 1, "a function is stored once");
	CHECK(strstr(data, "\"waits\":4,\"wait_ns\":4000000"), "the lock's totals\n%s", data);
	CHECK(strstr(data, "[0,3,3000000,1000000,1,["),
	      "the stack: role, count, ns, max, truncated\n%s", data);
	free(data);
out:
	free(page);
	profile__free(&p);
	stacktab__free(st);
}

/* No locks (an idle target): a page with an empty table, not an error. */
static void test_empty(void)
{
	struct lp_stacktab *st = stacktab__new();
	struct lp_profile p;
	char *page, *data;

	profile__init(&p, st, NULL);
	profile__link(&p);
	profile__finish(&p);
	page = render(&p);
	data = data_of(page);
	CHECK(data && strstr(data, "\"locks\":[]") && strstr(data, "\"strings\":[]}"),
	      "empty profile\n%s", data ? data : page);
	CHECK(strstr(page, "</html>"), "the page is complete");
	free(data);
	free(page);
	profile__free(&p);
	stacktab__free(st);
}

int main(void)
{
	test_escaping();
	test_empty();
	return testing_summary("report_html");
}
