// SPDX-License-Identifier: GPL-2.0
/* ELF reader over libelf's gelf API. The files come from inside untrusted containers, so every
 * index and offset taken from the file (sh_link, st_name, versym, verdef, notes, segments) is
 * checked before use; libelf itself bounds sections and headers by the file size. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/elf_syms.h"

/* .gnu.version entry bits (binutils' names; glibc's elf.h lacks them). */
#define VERSYM_HIDDEN 0x8000
#define VERSYM_VERSION 0x7fff

struct elf_file {
	Elf *elf;
	int fd;			  /* -1 for a memory image */
	const unsigned char *mem; /* the memory image, NULL for a file */
	uint64_t size;		  /* bytes in the file or image */
	GElf_Ehdr ehdr;
	GElf_Phdr *phdrs; /* the readable program headers, in file order */
	size_t nphdrs;
	Elf_Scn *symtab, *dynsym;
	Elf_Scn *versym, *verdef; /* only kept when they describe dynsym */
	Elf_Scn *dynamic;
};

static int libelf_init(void)
{
	static bool done;

	if (!done) {
		if (elf_version(EV_CURRENT) == EV_NONE)
			return -ENOSYS;
		done = true;
	}
	return 0;
}

static int load_phdrs(struct elf_file *ef)
{
	size_t i, phnum;

	if (elf_getphdrnum(ef->elf, &phnum))
		return 0; /* unreadable program headers: no segments, not fatal */
	if (!phnum)
		return 0;
	ef->phdrs = calloc(phnum, sizeof(*ef->phdrs));
	if (!ef->phdrs)
		return -ENOMEM;
	for (i = 0; i < phnum; i++) {
		if (gelf_getphdr(ef->elf, (int)i, &ef->phdrs[ef->nphdrs]))
			ef->nphdrs++;
	}
	return 0;
}

/* Remembers the sections the queries need; the first of each kind wins. */
static void index_sections(struct elf_file *ef)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(ef->elf, scn))) {
		Elf_Scn **slot = NULL;

		if (!gelf_getshdr(scn, &shdr))
			continue;
		switch (shdr.sh_type) {
		case SHT_SYMTAB:
			slot = &ef->symtab;
			break;
		case SHT_DYNSYM:
			slot = &ef->dynsym;
			break;
		case SHT_GNU_versym:
			slot = &ef->versym;
			break;
		case SHT_GNU_verdef:
			slot = &ef->verdef;
			break;
		case SHT_DYNAMIC:
			slot = &ef->dynamic;
			break;
		}
		if (slot && !*slot)
			*slot = scn;
	}
	/* .gnu.version is an array parallel to .dynsym: a versym for anything else is useless. */
	if (ef->versym && (!ef->dynsym || !gelf_getshdr(ef->versym, &shdr) ||
			   shdr.sh_link != elf_ndxscn(ef->dynsym)))
		ef->versym = NULL;
	if (!ef->versym)
		ef->verdef = NULL;
}

static struct elf_file *open_elf(Elf *elf, int fd, const void *mem, uint64_t size)
{
	struct elf_file *ef;
	int err;

	if (!elf) {
		errno = ENOEXEC;
		return NULL;
	}
	ef = calloc(1, sizeof(*ef));
	if (!ef) {
		elf_end(elf);
		errno = ENOMEM;
		return NULL;
	}
	ef->elf = elf;
	ef->fd = fd;
	ef->mem = mem;
	ef->size = size;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ef->ehdr)) {
		err = ENOEXEC;
		goto fail;
	}
	err = -load_phdrs(ef);
	if (err)
		goto fail;
	index_sections(ef);
	return ef;
fail:
	ef->fd = -1; /* the caller keeps fd on failure */
	elf_file__close(ef);
	errno = err;
	return NULL;
}

struct elf_file *elf_file__open_fd(int fd)
{
	struct stat st;
	int err;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (fstat(fd, &st))
		return NULL;
	/* A FIFO or device planted in the container would block or never end. */
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	err = libelf_init();
	if (err) {
		errno = -err;
		return NULL;
	}
	/* ELF_C_READ, not mmap: a file truncated under us gives short reads, not SIGBUS. */
	return open_elf(elf_begin(fd, ELF_C_READ, NULL), fd, NULL, (uint64_t)st.st_size);
}

struct elf_file *elf_file__open_mem(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t need;
	int err;

	if (!buf) {
		errno = EINVAL;
		return NULL;
	}
	/* Reject what is not even a whole ELF header before libelf sees it. */
	if (len < EI_NIDENT || memcmp(p, ELFMAG, SELFMAG)) {
		errno = ENOEXEC;
		return NULL;
	}
	need = p[EI_CLASS] == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	if (len < need) {
		errno = ENOEXEC;
		return NULL;
	}
	err = libelf_init();
	if (err) {
		errno = -err;
		return NULL;
	}
	/* elf_memory wants a char *; it only writes through it on elf_update, which we never do. */
	return open_elf(elf_memory((char *)(uintptr_t)buf, len), -1, buf, len);
}

void elf_file__close(struct elf_file *ef)
{
	if (!ef)
		return;
	elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	free(ef->phdrs);
	free(ef);
}

int elf_file__type(const struct elf_file *ef)
{
	return ef ? ef->ehdr.e_type : -EINVAL;
}

uint64_t elf_file__first_load_vaddr(const struct elf_file *ef)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t i;

	if (!ef)
		return 0;
	if (page <= 0 || (page & (page - 1)))
		page = 4096;
	for (i = 0; i < ef->nphdrs; i++) {
		const GElf_Phdr *ph = &ef->phdrs[i];

		if (ph->p_type == PT_LOAD)
			return (ph->p_vaddr - ph->p_offset) & ~((uint64_t)page - 1);
	}
	return 0;
}

/* The string at off in a table from strtab_data(), which ends in a NUL; or NULL. */
static const char *data_str(const Elf_Data *d, uint64_t off)
{
	return d && off < d->d_size ? (const char *)d->d_buf + off : NULL;
}

/* The data of section index ndx when it is a string table. Its last byte must be a NUL (as the
 * spec requires): then every offset inside is a terminated string, with no scan per lookup. */
static Elf_Data *strtab_data(const struct elf_file *ef, size_t ndx)
{
	Elf_Scn *scn;
	Elf_Data *d;
	GElf_Shdr shdr;

	if (ndx == SHN_UNDEF)
		return NULL;
	scn = elf_getscn(ef->elf, ndx);
	if (!scn || !gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_STRTAB)
		return NULL;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || !d->d_size || ((const char *)d->d_buf)[d->d_size - 1])
		return NULL;
	return d;
}

/* The string table a section's sh_link names (symbols, verdef, dynamic). */
static Elf_Data *linked_strtab(const struct elf_file *ef, Elf_Scn *scn)
{
	GElf_Shdr shdr;

	if (!scn || !gelf_getshdr(scn, &shdr))
		return NULL;
	return strtab_data(ef, shdr.sh_link);
}

/* Entries of type t that d holds: libelf's d_size is in memory representation. */
static size_t data_count(const struct elf_file *ef, const Elf_Data *d, Elf_Type t)
{
	size_t esz = gelf_fsize(ef->elf, t, 1, EV_CURRENT);
	size_t n;

	if (!d || !esz)
		return 0;
	n = d->d_size / esz;
	return n > INT_MAX ? INT_MAX : n; /* the gelf_get* index is an int */
}

/* ------------------------------------------------------------------ symbols and versions */

struct sym_query {
	const char *base;
	size_t base_len;
	const char *ver;   /* NULL for a plain name */
	bool need_default; /* "@@VER" */
};

/* Where a candidate came from and what kind of version it has; see pick_plain(). */
enum cand_kind {
	CAND_SYMTAB_DEFAULT, /* .symtab "name@@VER" */
	CAND_DYNSYM_DEFAULT, /* .dynsym, unversioned or a non-hidden version */
	CAND_SYMTAB_PLAIN,   /* .symtab "name" */
	CAND_SYMTAB_HIDDEN,  /* .symtab "name@VER" */
	CAND_DYNSYM_HIDDEN,  /* .dynsym, hidden (non-default) version */
	CAND_EXACT_SYMTAB,   /* versioned query: matched in .symtab */
	CAND_EXACT_DYNSYM,   /* versioned query: matched in .dynsym */
	CAND_NR,
};

struct cands {
	bool found[CAND_NR];
	GElf_Sym sym[CAND_NR];
};

static int parse_query(const char *name, struct sym_query *q)
{
	const char *at = strchr(name, '@');

	memset(q, 0, sizeof(*q));
	q->base = name;
	if (!at) {
		q->base_len = strlen(name);
		return 0;
	}
	q->base_len = (size_t)(at - name);
	q->need_default = at[1] == '@';
	q->ver = at + (q->need_default ? 2 : 1);
	if (!q->base_len || !*q->ver || strchr(q->ver, '@'))
		return -EINVAL;
	return 0;
}

static void add_cand(struct cands *c, enum cand_kind k, const GElf_Sym *s)
{
	/* Within a kind the first global wins over any local of the same name. */
	if (c->found[k] &&
	    (GELF_ST_BIND(c->sym[k].st_info) != STB_LOCAL || GELF_ST_BIND(s->st_info) == STB_LOCAL))
		return;
	c->found[k] = true;
	c->sym[k] = *s;
}

/* A definition with a name worth matching: not undefined, not a section or file symbol. */
static bool sym_usable(const GElf_Sym *s)
{
	int type = GELF_ST_TYPE(s->st_info);

	return s->st_shndx != SHN_UNDEF && type != STT_SECTION && type != STT_FILE;
}

/* ld writes .symver aliases into .symtab as literal "name@VER" / "name@@VER" strings. */
static void match_symtab_name(const struct sym_query *q, const char *n, const GElf_Sym *s,
			      struct cands *c)
{
	const char *rest;
	bool is_default;

	if (strncmp(n, q->base, q->base_len))
		return;
	rest = n + q->base_len;
	if (!*rest) {
		if (!q->ver)
			add_cand(c, CAND_SYMTAB_PLAIN, s);
		return;
	}
	if (*rest != '@')
		return;
	is_default = rest[1] == '@';
	rest += is_default ? 2 : 1;
	if (q->ver) {
		if (!strcmp(rest, q->ver) && (is_default || !q->need_default))
			add_cand(c, CAND_EXACT_SYMTAB, s);
		return;
	}
	add_cand(c, is_default ? CAND_SYMTAB_DEFAULT : CAND_SYMTAB_HIDDEN, s);
}

static void scan_symtab(const struct elf_file *ef, const struct sym_query *q, struct cands *c)
{
	Elf_Data *d, *str;
	size_t i, n;
	GElf_Sym s;

	if (!ef->symtab)
		return;
	d = elf_getdata(ef->symtab, NULL);
	str = linked_strtab(ef, ef->symtab);
	if (!d || !str)
		return;
	n = data_count(ef, d, ELF_T_SYM);
	for (i = 1; i < n; i++) {
		const char *name;

		if (!gelf_getsym(d, (int)i, &s) || !sym_usable(&s))
			continue;
		name = data_str(str, s.st_name);
		if (name)
			match_symtab_name(q, name, &s, c);
	}
}

/* The .gnu.version index that .gnu.version_d gives version `ver`, or -ENOENT. Looked up once per
 * query, so that a hostile file with many same-named symbols stays linear. */
static int verdef_ndx(const struct elf_file *ef, const char *ver)
{
	Elf_Data *d, *str;
	size_t off = 0, steps;

	if (!ef->verdef)
		return -ENOENT;
	d = elf_getdata(ef->verdef, NULL);
	str = linked_strtab(ef, ef->verdef);
	if (!d || !str)
		return -ENOENT;
	/* Each step moves forward by vd_next >= 1 and the entries are 20 bytes: a bounded walk. */
	for (steps = d->d_size / sizeof(GElf_Verdef) + 1; steps; steps--) {
		GElf_Verdef vd;
		GElf_Verdaux vda;
		const char *name;

		if (off > INT_MAX || !gelf_getverdef(d, (int)off, &vd))
			return -ENOENT;
		if (vd.vd_aux <= d->d_size - off && off + vd.vd_aux <= INT_MAX &&
		    gelf_getverdaux(d, (int)(off + vd.vd_aux), &vda)) {
			name = data_str(str, vda.vda_name);
			if (name && !strcmp(name, ver))
				return vd.vd_ndx & VERSYM_VERSION;
		}
		if (!vd.vd_next || vd.vd_next > d->d_size - off)
			return -ENOENT;
		off += vd.vd_next;
	}
	return -ENOENT;
}

static void scan_dynsym(const struct elf_file *ef, const struct sym_query *q, struct cands *c)
{
	Elf_Data *d, *str, *vs = NULL;
	size_t i, n, nvs = 0;
	int want = -ENOENT;
	GElf_Sym s;

	if (!ef->dynsym)
		return;
	d = elf_getdata(ef->dynsym, NULL);
	str = linked_strtab(ef, ef->dynsym);
	if (!d || !str)
		return;
	if (q->ver) {
		want = verdef_ndx(ef, q->ver);
		if (want < 0)
			return;
	}
	if (ef->versym) {
		vs = elf_getdata(ef->versym, NULL);
		nvs = data_count(ef, vs, ELF_T_HALF);
	}
	n = data_count(ef, d, ELF_T_SYM);
	for (i = 1; i < n; i++) {
		unsigned int ndx = VER_NDX_GLOBAL;
		bool hidden = false;
		GElf_Versym v;
		const char *name;

		if (!gelf_getsym(d, (int)i, &s) || !sym_usable(&s))
			continue;
		name = data_str(str, s.st_name);
		if (!name || strncmp(name, q->base, q->base_len) || name[q->base_len])
			continue;
		/* No .gnu.version entry for it (missing or short table): an unversioned symbol. */
		if (i < nvs && gelf_getversym(vs, (int)i, &v)) {
			ndx = v & VERSYM_VERSION;
			hidden = v & VERSYM_HIDDEN;
		}
		if (!q->ver) {
			add_cand(c, hidden ? CAND_DYNSYM_HIDDEN : CAND_DYNSYM_DEFAULT, &s);
		} else if (ndx == (unsigned int)want && (!hidden || !q->need_default)) {
			add_cand(c, CAND_EXACT_DYNSYM, &s);
		}
	}
}

/* A plain name: an explicit .symtab default first; then, when hidden versions exist (the
 * pthread_cond_timedwait@GLIBC_2.2.5 trap), the .dynsym default; then whatever defines the name,
 * .symtab before .dynsym, defaults before hidden versions. */
static int pick_plain(const struct cands *c)
{
	static const enum cand_kind order[] = {
		CAND_SYMTAB_DEFAULT, CAND_SYMTAB_PLAIN,	 CAND_DYNSYM_DEFAULT,
		CAND_SYMTAB_HIDDEN,  CAND_DYNSYM_HIDDEN,
	};
	size_t i;

	if (c->found[CAND_SYMTAB_DEFAULT])
		return CAND_SYMTAB_DEFAULT;
	if (c->found[CAND_DYNSYM_DEFAULT] &&
	    (c->found[CAND_SYMTAB_HIDDEN] || c->found[CAND_DYNSYM_HIDDEN]))
		return CAND_DYNSYM_DEFAULT;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (c->found[order[i]])
			return order[i];
	}
	return -1;
}

int elf_file__find_symbol(const struct elf_file *ef, const char *name, struct elf_symbol *sym)
{
	struct sym_query q;
	struct cands c;
	int k, err;

	if (!ef || !name || !sym)
		return -EINVAL;
	err = parse_query(name, &q);
	if (err)
		return err;
	memset(&c, 0, sizeof(c));
	scan_symtab(ef, &q, &c);
	scan_dynsym(ef, &q, &c);
	if (!q.ver)
		k = pick_plain(&c);
	else if (c.found[CAND_EXACT_SYMTAB])
		k = CAND_EXACT_SYMTAB;
	else if (c.found[CAND_EXACT_DYNSYM])
		k = CAND_EXACT_DYNSYM;
	else
		k = -1;
	if (k < 0)
		return -ENOENT;
	sym->value = c.sym[k].st_value;
	sym->size = c.sym[k].st_size;
	sym->type = GELF_ST_TYPE(c.sym[k].st_info);
	sym->defined = true;
	return 0;
}

/* ------------------------------------------------------------------ segments */

/* The PT_LOAD whose file-backed bytes hold [vaddr, vaddr + len), and the offset of vaddr. */
static int locate(const struct elf_file *ef, uint64_t vaddr, uint64_t len, uint64_t *offset)
{
	size_t i;

	for (i = 0; i < ef->nphdrs; i++) {
		const GElf_Phdr *ph = &ef->phdrs[i];
		uint64_t delta = vaddr - ph->p_vaddr;

		if (ph->p_type != PT_LOAD || vaddr < ph->p_vaddr || delta >= ph->p_filesz ||
		    len > ph->p_filesz - delta)
			continue;
		/* A segment claiming bytes past the end of the file has none of them. */
		if (ph->p_offset > ef->size || delta > ef->size - ph->p_offset ||
		    len > ef->size - ph->p_offset - delta)
			continue;
		*offset = ph->p_offset + delta;
		return 0;
	}
	return -ENOENT;
}

int elf_file__vaddr_to_offset(const struct elf_file *ef, uint64_t vaddr, uint64_t *offset)
{
	if (!ef || !offset)
		return -EINVAL;
	return locate(ef, vaddr, 1, offset);
}

int elf_file__read_vaddr(const struct elf_file *ef, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t off;
	size_t done = 0;
	int err;

	if (!ef || (!buf && len))
		return -EINVAL;
	err = locate(ef, vaddr, len, &off);
	if (err)
		return err;
	if (ef->mem) {
		memcpy(buf, ef->mem + off, len);
		return 0;
	}
	while (done < len) {
		ssize_t n = pread(ef->fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank since we opened it */
		done += (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------------------------ sections and notes */

bool elf_file__needs(const struct elf_file *ef, const char *prefix, char *out, size_t outlen)
{
	Elf_Data *d, *str;
	size_t i, n, plen;
	GElf_Dyn dyn;

	if (!ef || !prefix || !ef->dynamic)
		return false;
	d = elf_getdata(ef->dynamic, NULL);
	str = linked_strtab(ef, ef->dynamic);
	if (!d || !str)
		return false;
	plen = strlen(prefix);
	n = data_count(ef, d, ELF_T_DYN);
	for (i = 0; i < n; i++) {
		const char *name;

		if (!gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED)
			continue;
		name = data_str(str, dyn.d_un.d_val);
		if (!name || strncmp(name, prefix, plen))
			continue;
		if (out && outlen) {
			size_t l = strnlen(name, outlen - 1);

			memcpy(out, name, l);
			out[l] = '\0';
		}
		return true;
	}
	return false;
}

int elf_file__find_section(const struct elf_file *ef, const char *name, uint64_t *addr,
			   uint64_t *size)
{
	Elf_Scn *scn = NULL;
	Elf_Data *names;
	GElf_Shdr shdr;
	size_t shstrndx;

	if (!ef || !name)
		return -EINVAL;
	if (elf_getshdrstrndx(ef->elf, &shstrndx))
		return -ENOENT;
	names = strtab_data(ef, shstrndx);
	if (!names)
		return -ENOENT;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &shdr))
			continue;
		n = data_str(names, shdr.sh_name);
		if (n && !strcmp(n, name)) {
			if (addr)
				*addr = shdr.sh_addr;
			if (size)
				*size = shdr.sh_size;
			return 0;
		}
	}
	return -ENOENT;
}

/* Looks for the GNU build id note in d. 1 found, 0 not there, -ENOSPC out too small. */
static int note_build_id(Elf_Data *d, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t off = 0, next, name_off, desc_off, i;
	GElf_Nhdr nh;

	if (!d || !d->d_buf)
		return 0;
	/* gelf_getnote returns 0 at the end or on a bad note, and always moves forward. */
	while (off < d->d_size && (next = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > off) {
		const unsigned char *p = d->d_buf;

		off = next;
		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != sizeof(ELF_NOTE_GNU) ||
		    !nh.n_descsz || name_off > d->d_size || desc_off > d->d_size ||
		    d->d_size - name_off < nh.n_namesz || d->d_size - desc_off < nh.n_descsz ||
		    memcmp(p + name_off, ELF_NOTE_GNU, sizeof(ELF_NOTE_GNU)))
			continue;
		if (!outlen || nh.n_descsz > (outlen - 1) / 2)
			return -ENOSPC;
		for (i = 0; i < nh.n_descsz; i++) {
			out[2 * i] = hex[p[desc_off + i] >> 4];
			out[2 * i + 1] = hex[p[desc_off + i] & 0xf];
		}
		out[2 * i] = '\0';
		return 1;
	}
	return 0;
}

int elf_file__build_id(const struct elf_file *ef, char *out, size_t outlen)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	size_t i;
	int ret;

	if (!ef || !out)
		return -EINVAL;
	while ((scn = elf_nextscn(ef->elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		ret = note_build_id(elf_getdata(scn, NULL), out, outlen);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	/* No section headers (stripped by sstrip or hostile): the PT_NOTE segments. */
	for (i = 0; i < ef->nphdrs; i++) {
		const GElf_Phdr *ph = &ef->phdrs[i];
		Elf_Data *d;

		if (ph->p_type != PT_NOTE || ph->p_offset > ef->size ||
		    ph->p_filesz > ef->size - ph->p_offset)
			continue;
		d = elf_getdata_rawchunk(ef->elf, (int64_t)ph->p_offset, ph->p_filesz,
					 ph->p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR);
		ret = note_build_id(d, out, outlen);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	return -ENOENT;
}
