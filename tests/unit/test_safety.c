// SPDX-License-Identifier: GPL-2.0
/* The pure parts of lockprof's container and file safety: NSpid parsing, maps names inside a
 * chrooted target's root, and the report file's refusals (planted symlink, hard link, FIFO). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile/profile.h"
#include "report/outfile.h"
#include "report/report.h"
#include "target/pidns.h"
#include "target/target.h"
#include "testing.h"

static void test_innermost(void)
{
	CHECK_EQ_INT(pidns__innermost("NSpid:\t4242\n"), 4242, "host only");
	CHECK_EQ_INT(pidns__innermost("NSpid:\t31342\t1\n"), 1, "pid 1 of a child namespace");
	CHECK_EQ_INT(pidns__innermost("NSpid:\t900\t77\t5\n"), 5, "two levels down");
	CHECK_EQ_INT(pidns__innermost("NSpid: 12 34"), 34, "spaces, no newline");
	CHECK_EQ_INT(pidns__innermost("NStgid:\t12\t34\n"), 0, "another line");
	CHECK_EQ_INT(pidns__innermost("NSpid:\n"), 0, "no ids");
	CHECK_EQ_INT(pidns__innermost("NSpid:\t99999999999\n"), 0, "out of range");
	CHECK_EQ_INT(pidns__innermost("NSpid:\t-3\n"), 0, "negative");
}

static void test_path_in_root(void)
{
	const char *root = "/var/cache/lockprof/rootfs/trixie";

	CHECK_EQ_STR(target__path_in_root(root,
					  "/var/cache/lockprof/rootfs/trixie/usr/bin/python3.13"),
		     "/usr/bin/python3.13", "chrooted target");
	CHECK_EQ_STR(target__path_in_root("/", "/usr/lib/libc.so.6"), "/usr/lib/libc.so.6",
		     "root /");
	CHECK_EQ_STR(target__path_in_root("", "/usr/lib/libc.so.6"), "/usr/lib/libc.so.6",
		     "root unknown");
	CHECK_EQ_STR(target__path_in_root(root, "/var/cache/lockprof/rootfs/trixie-old/lib.so"),
		     "/var/cache/lockprof/rootfs/trixie-old/lib.so", "prefix of a longer name");
	CHECK_EQ_STR(target__path_in_root(root, "/usr/lib/libc.so.6"), "/usr/lib/libc.so.6",
		     "outside the root");
}

/* outfile__open, with its explanation of a refusal kept off the test's output. */
static int quiet_open(const char *path)
{
	int saved = dup(2), null = open("/dev/null", O_WRONLY), fd;

	fflush(stderr);
	dup2(null, 2);
	fd = outfile__open(path);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(null);
	return fd;
}

/* A file's mode bits (the link's own for a symlink), or -1 when it does not exist. */
static int mode_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

static int read_back(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY), n;

	if (fd < 0)
		return -1;
	n = (int)read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			perror(path);
		close(fd);
	}
}

static void test_outfile(void)
{
	char dir[] = "/tmp/lockprof-outfile-XXXXXX", a[256], b[256], buf[64];
	mode_t old;
	int fd;

	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	/* new file: 0644 although the umask would take everything from group and others */
	snprintf(a, sizeof(a), "%s/new", dir);
	old = umask(077);
	fd = quiet_open(a);
	umask(old);
	CHECK(fd >= 0, "new file opened");
	CHECK_EQ_INT(mode_of(a), 0644, "new file mode");
	if (fd >= 0)
		close(fd);

	/* existing regular file: truncated */
	write_file(a, "old contents");
	fd = quiet_open(a);
	CHECK(fd >= 0, "existing file opened");
	if (fd >= 0) {
		CHECK(write(fd, "new", 3) == 3, "write");
		close(fd);
	}
	CHECK_EQ_INT(read_back(a, buf, sizeof(buf)), 3, "truncated before writing");

	/* symlink planted at the name, to an existing file and dangling: refused, untouched */
	snprintf(b, sizeof(b), "%s/link", dir);
	CHECK(!symlink(a, b), "symlink");
	CHECK_EQ_INT(quiet_open(b), -1, "through a symlink");
	CHECK_EQ_INT(read_back(a, buf, sizeof(buf)), 3, "symlink target untouched");
	unlink(b);
	snprintf(buf, sizeof(buf), "%s/dangling-target", dir);
	CHECK(!symlink(buf, b), "dangling symlink");
	CHECK_EQ_INT(quiet_open(b), -1, "through a dangling symlink");
	CHECK_EQ_INT(mode_of(buf), -1, "nothing created at the dangling symlink's target");
	unlink(b);

	/* hard link planted at the name: refused, the other name's data untouched */
	CHECK(!link(a, b), "link");
	CHECK_EQ_INT(quiet_open(b), -1, "hard link");
	CHECK_EQ_INT(read_back(a, buf, sizeof(buf)), 3, "hard-linked file untouched");
	unlink(b);

	/* FIFO without a reader: refused at once instead of blocking */
	CHECK(!mkfifo(b, 0600), "mkfifo");
	CHECK_EQ_INT(quiet_open(b), -1, "FIFO without reader");
	unlink(b);

	/* a directory */
	CHECK_EQ_INT(quiet_open(dir), -1, "directory");

	/* /dev/null stays usable */
	fd = quiet_open("/dev/null");
	CHECK(fd >= 0, "/dev/null");
	if (fd >= 0)
		close(fd);

	unlink(a);
	rmdir(dir);
}

/* A profile that lost data says so, and says what and why, in the text report. */
static void test_lost_in_text(void)
{
	struct lp_profile p;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	profile__init(&p, NULL, NULL);
	p.counters.stats_dropped = 3616;
	p.counters.lost_events = 508;
	p.counters.stacks_dropped = 2;
	p.counters.inflight_dropped = 1;
	f = open_memstream(&text, &len);
	if (!f) {
		CHECK(0, "open_memstream");
		return;
	}
	CHECK_EQ_INT(report__write(f, LP_FORMAT_TEXT, &p, NULL), 0, "text report");
	fclose(f);
	CHECK(text && strstr(text, "4,127 events lost") != NULL, "header total: %s", text);
	CHECK(text && strstr(text,
			     "Lost: 3616 waits (statistics map full), 508 stacks (ring buffer "
			     "full), 2 stacks (stack map full), 1 waits (no room for a wait in progress).") !=
			      NULL,
	      "what and why: %s", text);
	free(text);
	profile__free(&p);
	profile__init(&p, NULL, NULL);
	f = open_memstream(&text, &len);
	if (f) {
		report__write(f, LP_FORMAT_TEXT, &p, NULL);
		fclose(f);
		CHECK(text && !strstr(text, "Lost:"), "nothing lost, nothing said: %s", text);
		free(text);
	}
	profile__free(&p);
}

int main(void)
{
	test_innermost();
	test_path_in_root();
	test_outfile();
	test_lost_in_text();
	return testing_summary("safety");
}
