// SPDX-License-Identifier: GPL-2.0
/* Unit test of the ELF reader on fixture_syms.so and the system libc. Expected values come from
 * the dynamic linker (dlsym/dlvsym minus the load bias) and from nm/readelf, never constants. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixtures/fixture_syms.h"
#include "target/elf_syms.h"
#include "testing.h"

#define MAX_LOADS 16

struct load {
	uint64_t offset, vaddr, filesz, memsz;
};

/* Runs "LC_ALL=C <tool> '<path>'" and hands each line of its output to fn. */
static int popen_lines(const char *tool, const char *path, void (*fn)(const char *line, void *arg),
		       void *arg)
{
	char cmd[4096], line[4096];
	FILE *f;

	if (strchr(path, '\''))
		return -EINVAL;
	snprintf(cmd, sizeof(cmd), "LC_ALL=C %s '%s' 2>/dev/null", tool, path);
	f = popen(cmd, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		fn(line, arg);
	return pclose(f) == 0 ? 0 : -EIO;
}

struct loads {
	struct load l[MAX_LOADS];
	int n;
};

static void load_line(const char *line, void *arg)
{
	struct loads *ls = arg;
	struct load *l = &ls->l[ls->n];
	uint64_t paddr;

	if (ls->n < MAX_LOADS &&
	    sscanf(line, " LOAD %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64,
		   &l->offset, &l->vaddr, &paddr, &l->filesz, &l->memsz) == 5)
		ls->n++;
}

static int readelf_loads(const char *path, struct loads *ls)
{
	ls->n = 0;
	return popen_lines("readelf -lW", path, load_line, ls);
}

/* The file offset of vaddr according to readelf's program headers, or -1. */
static int64_t expected_offset(const struct loads *ls, uint64_t vaddr)
{
	int i;

	for (i = 0; i < ls->n; i++) {
		if (vaddr >= ls->l[i].vaddr && vaddr < ls->l[i].vaddr + ls->l[i].filesz)
			return (int64_t)(ls->l[i].offset + vaddr - ls->l[i].vaddr);
	}
	return -1;
}

struct nm_query {
	const char *name;
	uint64_t value, size;
	bool found;
};

static void nm_line(const char *line, void *arg)
{
	struct nm_query *q = arg;
	char type, name[512];
	uint64_t value, size;

	if (sscanf(line, "%" SCNx64 " %" SCNx64 " %c %511s", &value, &size, &type, name) == 4 &&
	    !strcmp(name, q->name) && !q->found) {
		q->value = value;
		q->size = size;
		q->found = true;
	}
}

struct text {
	char s[256];
	const char *key;
};

/* The rest of the first line holding key, up to the end of the word. */
static void key_line(const char *line, void *arg)
{
	struct text *t = arg;
	const char *p = strstr(line, t->key);

	if (p && !t->s[0])
		sscanf(p + strlen(t->key), "%255[^] \n]", t->s);
}

struct section {
	const char *name;
	uint64_t addr, size;
	bool found;
};

static void section_line(const char *line, void *arg)
{
	struct section *s = arg;
	const char *p = strchr(line, ']');
	char name[256], type[64];
	uint64_t addr, off, size;

	if (p &&
	    sscanf(p + 1, "%255s %63s %" SCNx64 " %" SCNx64 " %" SCNx64, name, type, &addr, &off,
		   &size) == 5 &&
	    !strcmp(name, s->name)) {
		s->addr = addr;
		s->size = size;
		s->found = true;
	}
}

struct needed {
	char names[8][256];
	int n;
};

static void needed_line(const char *line, void *arg)
{
	struct needed *nd = arg;
	const char *p = strstr(line, "(NEEDED)");

	if (p && nd->n < 8 && (p = strstr(p, "Shared library: [")) &&
	    sscanf(p + 17, "%255[^]]", nd->names[nd->n]) == 1)
		nd->n++;
}

static struct elf_file *open_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct elf_file *ef;

	if (fd < 0)
		return NULL;
	ef = elf_file__open_fd(fd);
	if (!ef)
		close(fd);
	return ef;
}

static void *read_whole(const char *path, size_t *len)
{
	struct stat st;
	void *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && st.st_size > 0 && (buf = malloc((size_t)st.st_size)) &&
	    pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		buf = NULL;
	}
	close(fd);
	*len = buf ? (size_t)st.st_size : 0;
	return buf;
}

static uint64_t load_bias(void *handle)
{
	struct link_map *lm = NULL;

	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) || !lm)
		return 0;
	return lm->l_addr;
}

/* Symbol lookup, value comparison with the dynamic linker's address, and type. */
static void check_dl_symbol(const struct elf_file *ef, const char *name, void *addr, uint64_t bias,
			    int type, const char *what)
{
	struct elf_symbol sym = { 0 };
	int err = elf_file__find_symbol(ef, name, &sym);

	CHECK(err == 0, "%s: find %s: %d", what, name, err);
	CHECK(addr != NULL, "%s: the dynamic linker has no %s", what, name);
	if (err || !addr)
		return;
	CHECK(sym.value == (uint64_t)(uintptr_t)addr - bias,
	      "%s: %s at 0x%" PRIx64 ", the dynamic linker says 0x%" PRIx64, what, name, sym.value,
	      (uint64_t)(uintptr_t)addr - bias);
	CHECK(sym.defined, "%s: %s not defined", what, name);
	if (type >= 0)
		CHECK_EQ_INT(sym.type, type, name);
}

static void check_offsets(const struct elf_file *ef, const char *path, uint64_t vaddr,
			  const char *what)
{
	struct loads ls;
	uint64_t off = 0;
	int64_t want;
	int err;

	CHECK(readelf_loads(path, &ls) == 0 && ls.n > 0, "%s: readelf -l %s", what, path);
	want = expected_offset(&ls, vaddr);
	err = elf_file__vaddr_to_offset(ef, vaddr, &off);
	if (want < 0) {
		CHECK_EQ_INT(err, -ENOENT, what);
		return;
	}
	CHECK_EQ_INT(err, 0, what);
	CHECK(off == (uint64_t)want,
	      "%s: offset of 0x%" PRIx64 " is 0x%" PRIx64 ", readelf: 0x%" PRIx64, what, vaddr, off,
	      (uint64_t)want);
}

static void check_build_id(const struct elf_file *ef, const char *path, const char *what)
{
	struct text t = { .key = "Build ID: " };
	char id[2 * 64 + 1] = "", small[40];

	CHECK(popen_lines("readelf -n", path, key_line, &t) == 0, "readelf -n %s", path);
	CHECK(t.s[0], "%s: readelf shows no build id (link with -Wl,--build-id)", what);
	CHECK_EQ_INT(elf_file__build_id(ef, id, sizeof(id)), 0, what);
	CHECK_EQ_STR(id, t.s, what);
	if (strlen(t.s) == 40)
		CHECK_EQ_INT(elf_file__build_id(ef, small, sizeof(small)), -ENOSPC, what);
}

static void check_needed(const struct elf_file *ef, const char *path, const char *must,
			 const char *what)
{
	struct needed nd = { .n = 0 };
	char out[256];
	int i;

	CHECK(popen_lines("readelf -dW", path, needed_line, &nd) == 0, "readelf -d");
	for (i = 0; i < nd.n; i++) {
		out[0] = '\0';
		CHECK(elf_file__needs(ef, nd.names[i], out, sizeof(out)), "%s: needs %s", what,
		      nd.names[i]);
		CHECK_EQ_STR(out, nd.names[i], what);
	}
	for (i = 0; must && i < nd.n && strcmp(nd.names[i], must); i++)
		;
	CHECK(!must || i < nd.n, "%s: readelf lists no NEEDED %s", what, must);
	CHECK(!elf_file__needs(ef, "libpython3", NULL, 0), "%s: needs libpython3", what);
}

/* The fixture as the dynamic linker loads it; `stripped` runs on a copy without .symtab. */
static void test_fixture(const char *path, bool stripped)
{
	const char *what = stripped ? "stripped fixture" : "fixture";
	struct elf_symbol sym = { 0 }, s1 = { 0 }, s2 = { 0 };
	struct nm_query nq = { .name = "fixture_local" };
	struct section sec = { .name = ".fixture_rt" };
	unsigned long long version = 0;
	unsigned char code[64];
	void *h, *v1, *v2, *addr;
	uint64_t bias, a, sz, off;
	Dl_info info;
	int err;
	struct elf_file *ef = open_path(path);

	CHECK(ef != NULL, "%s: open %s: %s", what, path, strerror(errno));
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	CHECK(h != NULL, "dlopen %s: %s", path, dlerror());
	if (!ef || !h)
		goto out;
	bias = load_bias(h);
	CHECK_EQ_INT(elf_file__type(ef), ET_DYN, what);

	addr = dlsym(h, "fixture_exported");
	CHECK(addr && dladdr(addr, &info), "dladdr fixture_exported");
	CHECK(elf_file__first_load_vaddr(ef) == (uint64_t)(uintptr_t)info.dli_fbase - bias,
	      "%s: first load vaddr 0x%" PRIx64 ", mapped base - bias 0x%" PRIx64, what,
	      elf_file__first_load_vaddr(ef), (uint64_t)(uintptr_t)info.dli_fbase - bias);

	check_dl_symbol(ef, "fixture_exported", addr, bias, STT_FUNC, what);
	check_dl_symbol(ef, "fixture_pid", dlsym(h, "fixture_pid"), bias, STT_FUNC, what);
	check_dl_symbol(ef, "fixture_version", dlsym(h, "fixture_version"), bias, STT_OBJECT, what);
	check_dl_symbol(ef, "fixture_rt", dlsym(h, "fixture_rt"), bias, STT_OBJECT, what);
	check_dl_symbol(ef, "fixture_bss", dlsym(h, "fixture_bss"), bias, STT_OBJECT, what);

	/* The version trap: two addresses, the plain name must be the default (@@) one. */
	v1 = dlvsym(h, "fixture_cond_wait", "VERS_1");
	v2 = dlvsym(h, "fixture_cond_wait", "VERS_2");
	CHECK(v1 && v2 && v1 != v2, "dlvsym fixture_cond_wait: %p %p", v1, v2);
	CHECK(dlsym(h, "fixture_cond_wait") == v2, "ld.so's plain fixture_cond_wait is not VERS_2");
	check_dl_symbol(ef, "fixture_cond_wait@VERS_1", v1, bias, STT_FUNC, what);
	check_dl_symbol(ef, "fixture_cond_wait@@VERS_2", v2, bias, STT_FUNC, what);
	check_dl_symbol(ef, "fixture_cond_wait@VERS_2", v2, bias, STT_FUNC, what);
	check_dl_symbol(ef, "fixture_cond_wait", v2, bias, STT_FUNC, what);
	CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_cond_wait@@VERS_1", &sym), -ENOENT,
		     "VERS_1 is not the default");
	CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_cond_wait@VERS_3", &sym), -ENOENT,
		     "no VERS_3");
	CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_exported@@VERS_1", &sym), 0,
		     "fixture_exported@@VERS_1");
	CHECK(!elf_file__find_symbol(ef, "fixture_cond_wait@VERS_1", &s1) &&
		      !elf_file__find_symbol(ef, "fixture_cond_wait@@VERS_2", &s2) &&
		      s1.value != s2.value,
	      "%s: the two versions must differ", what);

	/* Local function: only .symtab has it; nm tells where. */
	CHECK(dlsym(h, "fixture_local") == NULL, "fixture_local is exported");
	CHECK(popen_lines("nm -S --defined-only", path, nm_line, &nq) == 0 || stripped, "nm %s",
	      path);
	err = elf_file__find_symbol(ef, "fixture_local", &sym);
	if (stripped) {
		CHECK_EQ_INT(err, -ENOENT, "stripped fixture_local");
	} else {
		CHECK(nq.found, "nm has no fixture_local");
		CHECK_EQ_INT(err, 0, "fixture_local");
		CHECK(sym.value == nq.value && sym.size == nq.size,
		      "fixture_local 0x%" PRIx64 "/%" PRIu64 ", nm 0x%" PRIx64 "/%" PRIu64,
		      sym.value, sym.size, nq.value, nq.size);
		CHECK_EQ_INT(sym.type, STT_FUNC, "fixture_local type");
		check_offsets(ef, path, sym.value, "fixture_local offset");
	}

	/* read_vaddr: data and code bytes as the dynamic linker mapped them. */
	CHECK(!elf_file__find_symbol(ef, "fixture_version", &sym) && sym.size == 8,
	      "fixture_version size %" PRIu64, sym.size);
	CHECK_EQ_INT(elf_file__read_vaddr(ef, sym.value, &version, sizeof(version)), 0,
		     "read fixture_version");
	CHECK(version == 0x030b07f0ULL, "fixture_version read 0x%llx", version);
	addr = dlsym(h, "fixture_version");
	CHECK(addr && version == *(const unsigned long long *)addr, "fixture_version in memory");
	check_offsets(ef, path, sym.value, "fixture_version offset");

	CHECK(!elf_file__find_symbol(ef, "fixture_exported", &sym) && sym.size > 0 &&
		      sym.size <= sizeof(code),
	      "fixture_exported size %" PRIu64, sym.size);
	if (sym.size <= sizeof(code)) {
		CHECK_EQ_INT(elf_file__read_vaddr(ef, sym.value, code, sym.size), 0, "read code");
		CHECK(!memcmp(code, dlsym(h, "fixture_exported"), sym.size),
		      "fixture_exported's bytes differ from the mapped code");
		CHECK_EQ_INT(elf_file__vaddr_to_offset(ef, sym.value, &off), 0, "code offset");
		check_offsets(ef, path, sym.value, "fixture_exported offset");
	}

	/* .bss: a symbol, but no file bytes. */
	CHECK(!elf_file__find_symbol(ef, "fixture_bss", &sym) && sym.size == 512,
	      "fixture_bss size %" PRIu64, sym.size);
	CHECK_EQ_INT(elf_file__read_vaddr(ef, sym.value, code, 8), -ENOENT, "read .bss");
	CHECK_EQ_INT(elf_file__vaddr_to_offset(ef, sym.value, &off), -ENOENT, ".bss offset");
	check_offsets(ef, path, sym.value, "fixture_bss offset (readelf)");
	CHECK_EQ_INT(elf_file__read_vaddr(ef, 0xdead00000000ULL, code, 1), -ENOENT,
		     "read unmapped");

	/* The custom section: readelf's header and the mapped bytes. */
	CHECK(popen_lines("readelf -SW", path, section_line, &sec) == 0 && sec.found,
	      "readelf -S .fixture_rt");
	CHECK_EQ_INT(elf_file__find_section(ef, ".fixture_rt", &a, &sz), 0, ".fixture_rt");
	CHECK(a == sec.addr && sz == sec.size,
	      ".fixture_rt 0x%" PRIx64 "/%" PRIu64 ", readelf 0x%" PRIx64 "/%" PRIu64, a, sz,
	      sec.addr, sec.size);
	addr = dlsym(h, "fixture_rt");
	CHECK(addr && a == (uint64_t)(uintptr_t)addr - bias, ".fixture_rt vs fixture_rt");
	if (addr && sz <= sizeof(code)) {
		CHECK_EQ_INT(elf_file__read_vaddr(ef, a, code, sz), 0, "read .fixture_rt");
		CHECK(!memcmp(code, addr, sz), ".fixture_rt bytes differ from memory");
	}
	CHECK_EQ_INT(elf_file__find_section(ef, ".no_such_section", &a, &sz), -ENOENT,
		     "no section");

	check_needed(ef, path, "libc.so.6", what);
	check_build_id(ef, path, what);

	CHECK_EQ_INT(elf_file__find_symbol(ef, "no_such_symbol", &sym), -ENOENT, "no symbol");
	CHECK_EQ_INT(elf_file__find_symbol(ef, "@VERS_1", &sym), -EINVAL, "empty name");
	CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_cond_wait@", &sym), -EINVAL,
		     "empty version");
	CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_cond", &sym), -ENOENT, "prefix only");
out:
	if (h)
		dlclose(h);
	elf_file__close(ef);
}

/* glibc keeps pthread_cond_timedwait@GLIBC_2.2.5 (old condvar ABI) beside @@GLIBC_2.3.2. */
static void test_libc(void)
{
	struct elf_symbol s1 = { 0 }, s2 = { 0 };
	struct link_map *lm = NULL;
	struct elf_file *ef = NULL;
	const char *path;
	Dl_info info;
	uint64_t bias;
	void *h;

	/* By soname and link map, not dladdr(sem_wait): sanitizers interpose libc functions. */
	h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	CHECK(h != NULL, "dlopen libc.so.6: %s", dlerror());
	if (!h)
		return;
	CHECK(!dlinfo(h, RTLD_DI_LINKMAP, &lm) && lm && lm->l_name[0], "libc's link map");
	CHECK(dladdr(dlsym(h, "sem_wait"), &info), "dladdr sem_wait");
	if (!lm || !lm->l_name[0])
		goto out;
	path = lm->l_name;
	if (strcmp(path, "/lib/x86_64-linux-gnu/libc.so.6"))
		printf("elf_syms: note: libc is %s\n", path);
	ef = open_path(path);
	CHECK(ef != NULL, "open %s: %s", path, strerror(errno));
	if (!ef)
		goto out;
	bias = load_bias(h);
	CHECK(elf_file__first_load_vaddr(ef) == (uint64_t)(uintptr_t)info.dli_fbase - bias,
	      "libc first load vaddr 0x%" PRIx64, elf_file__first_load_vaddr(ef));
	check_dl_symbol(ef, "sem_wait", dlsym(h, "sem_wait"), bias, STT_FUNC, "libc");
	CHECK(!elf_file__find_symbol(ef, "sem_wait", &s1), "libc sem_wait");
	check_offsets(ef, path, s1.value, "libc sem_wait offset");
#ifdef __x86_64__
	check_dl_symbol(ef, "pthread_cond_timedwait@@GLIBC_2.3.2",
			dlvsym(h, "pthread_cond_timedwait", "GLIBC_2.3.2"), bias, STT_FUNC, "libc");
	check_dl_symbol(ef, "pthread_cond_timedwait@GLIBC_2.2.5",
			dlvsym(h, "pthread_cond_timedwait", "GLIBC_2.2.5"), bias, STT_FUNC, "libc");
	check_dl_symbol(ef, "pthread_cond_timedwait", dlsym(h, "pthread_cond_timedwait"), bias,
			STT_FUNC, "libc");
	CHECK(!elf_file__find_symbol(ef, "pthread_cond_timedwait@@GLIBC_2.3.2", &s1) &&
		      !elf_file__find_symbol(ef, "pthread_cond_timedwait@GLIBC_2.2.5", &s2) &&
		      s1.value != s2.value,
	      "libc: the two pthread_cond_timedwait versions must differ");
	CHECK(!elf_file__find_symbol(ef, "pthread_cond_timedwait", &s2) && s1.value == s2.value,
	      "libc: plain pthread_cond_timedwait is not @@GLIBC_2.3.2");
	CHECK_EQ_INT(elf_file__find_symbol(ef, "pthread_cond_timedwait@@GLIBC_2.2.5", &s2), -ENOENT,
		     "GLIBC_2.2.5 is not the default");
	check_needed(ef, path, "ld-linux-x86-64.so.2", "libc");
#else
	check_needed(ef, path, NULL, "libc");
#endif
	check_build_id(ef, path, "libc");
out:
	if (h)
		dlclose(h);
	elf_file__close(ef);
}

/* Every query on a possibly broken image; only the absence of a crash matters here. */
static void exercise(const struct elf_file *ef)
{
	static const char *const names[] = { FIXTURE_SYMBOL_NAMES };
	struct elf_symbol sym;
	char out[64];
	unsigned char buf[64];
	uint64_t a, sz;
	size_t i;

	elf_file__type(ef);
	elf_file__first_load_vaddr(ef);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (elf_file__find_symbol(ef, names[i], &sym))
			continue;
		elf_file__vaddr_to_offset(ef, sym.value, &a);
		elf_file__read_vaddr(ef, sym.value, buf, sym.size < sizeof(buf) ? sym.size : 8);
	}
	elf_file__needs(ef, "libc", out, sizeof(out));
	if (!elf_file__find_section(ef, ".fixture_rt", &a, &sz))
		elf_file__read_vaddr(ef, a, buf, sz < sizeof(buf) ? sz : sizeof(buf));
	elf_file__build_id(ef, out, sizeof(out));
}

/* Runs exercise() on a malloc'd copy of exactly len bytes (so that ASan sees overreads). */
static bool try_image(const void *src, size_t len)
{
	void *copy = malloc(len ? len : 1);
	struct elf_file *ef;

	if (!copy)
		return false;
	memcpy(copy, src, len);
	ef = elf_file__open_mem(copy, len);
	if (ef)
		exercise(ef);
	elf_file__close(ef);
	free(copy);
	return ef != NULL;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The section header of the first section of this type in an ELF64 image, or NULL. */
static Elf64_Shdr *shdr_of(unsigned char *img, size_t len, uint32_t type)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Shdr *sh;
	int i;

	if (len < sizeof(*eh) || eh->e_shoff > len ||
	    (uint64_t)eh->e_shnum * sizeof(*sh) > len - eh->e_shoff)
		return NULL;
	sh = (Elf64_Shdr *)(img + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == type)
			return &sh[i];
	}
	return NULL;
}

/* Ends the string `name` of string table section ndx at its '@': "sym@VER" becomes "sym". */
static bool cut_at(unsigned char *img, size_t len, uint32_t ndx, const char *name)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Shdr *str;
	char *p;

	if (ndx >= eh->e_shnum)
		return false;
	str = (Elf64_Shdr *)(img + eh->e_shoff) + ndx;
	if (str->sh_offset > len || str->sh_size > len - str->sh_offset)
		return false;
	p = memmem(img + str->sh_offset, str->sh_size, name, strlen(name) + 1);
	if (!p)
		return false;
	*strchr(p, '@') = '\0';
	return true;
}

/* Hand-made corruptions with a known right answer. */
static void test_hostile(const unsigned char *orig, size_t len, const unsigned char *stripped,
			 size_t slen)
{
	unsigned char *img = malloc(len), *simg = malloc(slen);
	struct elf_symbol sym;
	struct elf_file *ef;
	Elf64_Shdr *sh;
	Elf64_Ehdr *eh;
	uint64_t a, sz;

	if (!img || !simg)
		goto out;

	/* .symtab's sh_link out of range: its names are gone, .dynsym still answers. */
	memcpy(img, orig, len);
	sh = shdr_of(img, len, SHT_SYMTAB);
	CHECK(sh != NULL, "fixture has .symtab");
	if (sh) {
		sh->sh_link = 0xfff0;
		ef = elf_file__open_mem(img, len);
		CHECK(ef != NULL, "bad sh_link: open");
		CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_local", &sym), -ENOENT,
			     "bad sh_link: fixture_local");
		CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_exported", &sym), 0,
			     "bad sh_link: fixture_exported via .dynsym");
		elf_file__close(ef);
	}

	/* Every .symtab st_name far out of the string table. */
	memcpy(img, orig, len);
	sh = shdr_of(img, len, SHT_SYMTAB);
	if (sh && sh->sh_offset <= len && sh->sh_size <= len - sh->sh_offset) {
		Elf64_Sym *s = (Elf64_Sym *)(img + sh->sh_offset);
		size_t i;

		for (i = 0; i < sh->sh_size / sizeof(*s); i++)
			s[i].st_name = 0xfffffff0u - (uint32_t)i;
		ef = elf_file__open_mem(img, len);
		CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_local", &sym), -ENOENT,
			     "bad st_name: fixture_local");
		elf_file__close(ef);
	}

	/* Before binutils 2.35 .symtab named both versions plain "fixture_cond_wait": cut the
	 * "@VERS_1" / "@@VERS_2" off the .strtab names. The plain name must still be VERS_2. */
	memcpy(img, orig, len);
	sh = shdr_of(img, len, SHT_SYMTAB);
	if (sh) {
		struct elf_symbol v1 = { 0 }, v2 = { 0 };
		bool cut;

		ef = elf_file__open_mem(orig, len);
		CHECK(!elf_file__find_symbol(ef, "fixture_cond_wait@VERS_1", &v1) &&
			      !elf_file__find_symbol(ef, "fixture_cond_wait@@VERS_2", &v2),
		      "fixture versions");
		elf_file__close(ef);
		cut = cut_at(img, len, sh->sh_link, "fixture_cond_wait@VERS_1") &&
		      cut_at(img, len, sh->sh_link, "fixture_cond_wait@@VERS_2");
		CHECK(cut, "versioned names in .strtab");
		ef = elf_file__open_mem(img, len);
		CHECK(!elf_file__find_symbol(ef, "fixture_cond_wait", &sym) &&
			      sym.value == v2.value,
		      "old-style .symtab: plain name at 0x%" PRIx64 ", VERS_2 is 0x%" PRIx64,
		      sym.value, v2.value);
		CHECK(!elf_file__find_symbol(ef, "fixture_cond_wait@VERS_1", &sym) &&
			      sym.value == v1.value,
		      "old-style .symtab: fixture_cond_wait@VERS_1 via .gnu.version");
		elf_file__close(ef);
	}

	/* A .gnu.version linked to the wrong table is ignored: no version info at all. */
	memcpy(simg, stripped, slen);
	sh = shdr_of(simg, slen, SHT_GNU_versym);
	CHECK(sh != NULL, "fixture has .gnu.version");
	if (sh) {
		sh->sh_link = 0;
		ef = elf_file__open_mem(simg, slen);
		CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_cond_wait@VERS_1", &sym), -ENOENT,
			     "bad versym link: versioned name");
		CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_cond_wait", &sym), 0,
			     "bad versym link: plain name");
		elf_file__close(ef);
	}

	/* A .gnu.version shorter than .dynsym: the uncovered symbols count as unversioned. */
	memcpy(simg, stripped, slen);
	sh = shdr_of(simg, slen, SHT_GNU_versym);
	if (sh) {
		sh->sh_size = 4;
		ef = elf_file__open_mem(simg, slen);
		CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_cond_wait@@VERS_2", &sym), -ENOENT,
			     "short versym: versioned name");
		CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_exported", &sym), 0,
			     "short versym: plain name");
		elf_file__close(ef);
	}

	/* A verdef chain whose vd_next points past the table. */
	memcpy(simg, stripped, slen);
	sh = shdr_of(simg, slen, SHT_GNU_verdef);
	CHECK(sh != NULL, "fixture has .gnu.version_d");
	if (sh && sh->sh_offset + sizeof(Elf64_Verdef) <= slen) {
		((Elf64_Verdef *)(simg + sh->sh_offset))->vd_next = 0x7ffffff0;
		ef = elf_file__open_mem(simg, slen);
		CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_cond_wait@VERS_1", &sym), -ENOENT,
			     "bad vd_next");
		elf_file__close(ef);
	}

	/* A .dynstr without its final NUL is refused as a whole, never read past its end. */
	memcpy(simg, stripped, slen);
	sh = shdr_of(simg, slen, SHT_DYNSYM);
	eh = (Elf64_Ehdr *)simg;
	if (sh && sh->sh_link < eh->e_shnum) {
		Elf64_Shdr *str = (Elf64_Shdr *)(simg + eh->e_shoff) + sh->sh_link;

		if (str->sh_size && str->sh_offset + str->sh_size <= slen)
			simg[str->sh_offset + str->sh_size - 1] = 'x';
		ef = elf_file__open_mem(simg, slen);
		CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_exported", &sym), -ENOENT,
			     "unterminated .dynstr");
		elf_file__close(ef);
	}

	/* Section headers past the end; a huge section count. */
	memcpy(img, orig, len);
	eh = (Elf64_Ehdr *)img;
	eh->e_shoff = len - 8;
	ef = elf_file__open_mem(img, len);
	CHECK(!ef || elf_file__find_section(ef, ".text", &a, &sz) == -ENOENT, "e_shoff past end");
	elf_file__close(ef);
	memcpy(img, orig, len);
	eh->e_shnum = 0xffff;
	try_image(img, len);
	memcpy(img, orig, len);
	eh->e_shstrndx = 0xfffe;
	ef = elf_file__open_mem(img, len);
	CHECK(!ef || elf_file__find_section(ef, ".text", &a, &sz) == -ENOENT, "bad e_shstrndx");
	elf_file__close(ef);

	/* A PT_LOAD claiming more file bytes than the file has. */
	memcpy(img, orig, len);
	if (eh->e_phoff < len && eh->e_phnum * sizeof(Elf64_Phdr) <= len - eh->e_phoff) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(img + eh->e_phoff);
		int i;

		for (i = 0; i < eh->e_phnum && ph[i].p_type != PT_LOAD; i++)
			;
		if (i < eh->e_phnum) {
			uint64_t far = ph[i].p_vaddr + (1ULL << 39);

			ph[i].p_filesz = ph[i].p_memsz = 1ULL << 40;
			ef = elf_file__open_mem(img, len);
			CHECK_EQ_INT(elf_file__read_vaddr(ef, far, &a, 8), -ENOENT,
				     "read past the end of the file");
			CHECK_EQ_INT(elf_file__vaddr_to_offset(ef, far, &a), -ENOENT,
				     "offset past the end of the file");
			elf_file__close(ef);
		}
	}
out:
	free(img);
	free(simg);
}

static void test_garbage(const char *path, const char *stripped_path)
{
	size_t len = 0, slen = 0, n, i, opened = 0;
	unsigned char *orig = read_whole(path, &len), *stripped = read_whole(stripped_path, &slen);
	unsigned char *img;
	struct elf_symbol sym, sym2;
	struct elf_file *ef, *ef2;
	char id1[64], id2[64];

	CHECK(orig && stripped, "read %s and %s", path, stripped_path);
	if (!orig || !stripped)
		goto out;

	/* The memory image answers like the file. */
	ef = elf_file__open_mem(orig, len);
	ef2 = open_path(path);
	CHECK(ef && ef2, "open_mem and open_fd");
	CHECK(ef && ef2 && !elf_file__find_symbol(ef, "fixture_local", &sym) &&
		      !elf_file__find_symbol(ef2, "fixture_local", &sym2) &&
		      sym.value == sym2.value,
	      "open_mem and open_fd disagree on fixture_local");
	CHECK(ef && ef2 && !elf_file__build_id(ef, id1, sizeof(id1)) &&
		      !elf_file__build_id(ef2, id2, sizeof(id2)) && !strcmp(id1, id2),
	      "open_mem and open_fd disagree on the build id");
	elf_file__close(ef);
	elf_file__close(ef2);

	/* Every truncation of the header area, then coarser steps. */
	for (n = 0; n < len; n += n < 1024 ? 1 : 97) {
		bool ok = try_image(orig, n);

		opened += ok;
		if (n < sizeof(Elf64_Ehdr))
			CHECK(!ok, "a %zu byte image opened", n);
	}
	CHECK(opened > 0, "no truncated image opened at all");
	for (n = 0; n < slen; n += 1 + n / 8)
		try_image(stripped, n);

	/* Random bytes behind a valid ELF identification, and random byte flips. */
	img = malloc(len);
	if (!img)
		goto out;
	for (i = 0; i < 300; i++) {
		size_t j, size = 16 + rng() % 4096;

		for (j = 0; j < size; j++)
			img[j] = (unsigned char)rng();
		memcpy(img, orig, EI_NIDENT);
		try_image(img, size);
	}
	for (i = 0; i < 3000; i++) {
		const unsigned char *src = i & 1 ? stripped : orig;
		size_t j, size = i & 1 ? slen : len, flips = 1 + rng() % 16;

		memcpy(img, src, size);
		for (j = 0; j < flips; j++) {
			/* Mostly the headers and tables at the start, where it hurts. */
			size_t at = rng() % (j & 1 ? size : (size < 4096 ? size : 4096));

			img[at] = (unsigned char)rng();
		}
		try_image(img, size);
	}
	CHECK(true, "survived truncated, random and mutated images");
	free(img);
	test_hostile(orig, len, stripped, slen);
out:
	free(orig);
	free(stripped);
}

static void test_errors(void)
{
	static const char text[] = "not an ELF file, just text\n";
	char tmpl[] = "/tmp/lockprof-elf-XXXXXX";
	struct elf_file *ef;
	int fd;

	errno = 0;
	CHECK(elf_file__open_fd(-1) == NULL && errno == EBADF, "open_fd(-1): errno %d", errno);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	errno = 0;
	CHECK(fd >= 0 && elf_file__open_fd(fd) == NULL && errno == EINVAL,
	      "open_fd(/dev/null): errno %d", errno);
	CHECK(fd >= 0 && fcntl(fd, F_GETFD) >= 0, "a failed open_fd closed its fd");
	if (fd >= 0)
		close(fd);

	fd = mkstemp(tmpl);
	CHECK(fd >= 0, "mkstemp");
	if (fd >= 0) {
		CHECK(write(fd, text, sizeof(text)) == (ssize_t)sizeof(text), "write");
		errno = 0;
		ef = elf_file__open_fd(fd);
		CHECK(ef == NULL && errno == ENOEXEC, "open_fd(text): errno %d", errno);
		CHECK(fcntl(fd, F_GETFD) >= 0, "a failed open_fd closed its fd");
		elf_file__close(ef);
		close(fd);
		unlink(tmpl);
	}

	errno = 0;
	CHECK(elf_file__open_mem(NULL, 100) == NULL && errno == EINVAL, "open_mem(NULL)");
	CHECK(elf_file__open_mem(text, sizeof(text)) == NULL && errno == ENOEXEC, "open_mem(text)");
	CHECK(elf_file__open_mem(ELFMAG, 4) == NULL, "open_mem(magic only)");
	elf_file__close(NULL);
	CHECK_EQ_INT(elf_file__type(NULL), -EINVAL, "type(NULL)");
	CHECK(!elf_file__needs(NULL, "libc", NULL, 0), "needs(NULL)");
}

/* A file truncated after open (a container rewriting it) gives errors, not a crash or SIGBUS. */
static void test_shrinking_file(const char *path)
{
	char tmpl[] = "/tmp/lockprof-elf-XXXXXX";
	size_t len = 0;
	void *buf = read_whole(path, &len);
	struct elf_file *ef = NULL;
	struct elf_symbol sym;
	uint64_t v = 0;
	int fd = mkstemp(tmpl);

	CHECK(buf && fd >= 0, "copy %s", path);
	if (!buf || fd < 0)
		goto out;
	unlink(tmpl);
	CHECK(write(fd, buf, len) == (ssize_t)len, "write copy");
	ef = elf_file__open_fd(fd);
	CHECK(ef != NULL, "open copy");
	if (!ef) {
		close(fd);
		goto out;
	}
	CHECK_EQ_INT(elf_file__find_symbol(ef, "fixture_version", &sym), 0, "before truncation");
	CHECK(ftruncate(fd, 100) == 0, "ftruncate");
	CHECK(elf_file__read_vaddr(ef, sym.value, &v, sizeof(v)) < 0, "read after truncation");
	exercise(ef);
out:
	elf_file__close(ef);
	free(buf);
}

int main(void)
{
	const char *path = getenv("LOCKPROF_ELF_FIXTURE");
	char stripped[] = "/tmp/lockprof-elf-stripped-XXXXXX";
	int fd;

	if (!path || !*path)
		path = ".output/tests/fixture_syms.so";
	if (access(path, R_OK)) {
		fprintf(stderr, "elf_syms: fixture %s: %s (make %s)\n", path, strerror(errno),
			".output/tests/fixture_syms.so");
		return 1;
	}
	test_errors();
	test_fixture(path, false);

	/* A stripped copy: .dynsym and the version tables only. */
	fd = mkstemp(stripped);
	CHECK(fd >= 0, "mkstemp");
	if (fd >= 0) {
		char cmd[4096];

		close(fd);
		snprintf(cmd, sizeof(cmd), "strip --strip-all -o '%s' '%s'", stripped, path);
		CHECK(!strchr(path, '\'') && system(cmd) == 0, "%s", cmd);
		test_fixture(stripped, true);
		test_garbage(path, stripped);
		unlink(stripped);
	}
	test_shrinking_file(path);
	test_libc();
	return testing_summary("elf_syms");
}
