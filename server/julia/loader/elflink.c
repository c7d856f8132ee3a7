/* Links a cached object into this process without RuntimeDyld. Measured on parser.jl's entry (2,403 relocations):
 * LLVM 9's RuntimeDyld spent ~15 M instructions (~4.5 ms) loading it, most of it re-reading the ELF section table for
 * every symbol of every relocation; applying the same relocations directly takes well under a millisecond.
 *
 * What the object may contain is fixed by the codegen check (checkObject.ts) before it enters the cache, and
 * everything is checked again here against the bytes (every offset, index and size in bounds; any other relocation
 * type, TLS, common symbols or unresolved names refuse the object):
 *   R_X86_64_64, PC64   S + A          (checked: only against this object's symbols)
 *   R_X86_64_PC32        S + A - P      (must fit 32 bits; all sections share one mapping, so they do)
 *   R_X86_64_PLT32       L + A - P      L = S for this object's symbols, else a stub `jmp *GOT(%rip)`
 *   R_X86_64_GOTPCREL(X) GOT(S) + A - P the GOT holds full addresses, so any target is in reach
 * Layout: one private anonymous mapping, page-aligned parts for code (+ stubs), read-only data (+ GOT, .eh_frame with
 * the 4-byte terminator libgcc needs) and writable data; code and read-only parts are write-protected once relocated.
 * Undefined symbols resolve through `resolve` (the runtime by dlsym, plan imports by the loader). */
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "elflink.h"

#define PAGE 4096u
#define STUB_SIZE 8u
enum { SEG_X, SEG_R, SEG_W, NSEG };

typedef struct {
    const uint8_t *obj; size_t len;
    const Elf64_Shdr *sh; unsigned shnum;
    const char *shstr; size_t shstrsz;
    const Elf64_Sym *sym; size_t nsym; unsigned symsec;
    const char *str; size_t strsz;
} elf_t;

typedef struct {
    uintptr_t *addr;          /* per symbol: resolved address, 0 = not yet */
    int32_t *got, *stub;      /* per symbol: GOT / stub index, -1 = none */
    uintptr_t gotbase, stubbase;
} links_t;

static int fail(char *err, size_t n, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt); vsnprintf(err, n, fmt, ap); va_end(ap);
    return -1;
}
static int in_bounds(uint64_t off, uint64_t size, uint64_t len) { return off <= len && size <= len - off; }
static size_t align_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

static const char *sec_name(const elf_t *e, unsigned i)
{
    uint32_t n = e->sh[i].sh_name;
    return n < e->shstrsz ? e->shstr + n : "";
}

/* Which part of the mapping a section goes to, or -1 if it is not loaded (debug info, symbol tables, notes). */
static int segment_of(const elf_t *e, unsigned i)
{
    const Elf64_Shdr *s = &e->sh[i];
    int eh = strcmp(sec_name(e, i), ".eh_frame") == 0;
    if (!(s->sh_flags & SHF_ALLOC) && !eh) return -1;
    if (s->sh_flags & SHF_EXECINSTR) return SEG_X;
    return (s->sh_flags & SHF_WRITE) ? SEG_W : SEG_R;
}

static int parse(elf_t *e, const uint8_t *obj, size_t len, char *err, size_t n)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
    memset(e, 0, sizeof *e);
    e->obj = obj; e->len = len;
    if (len < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_type != ET_REL || eh->e_machine != EM_X86_64)
        return fail(err, n, "not a relocatable x86-64 ELF object");
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || !in_bounds(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), len) ||
        eh->e_shstrndx >= eh->e_shnum)
        return fail(err, n, "ELF section table out of bounds");
    e->sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
    e->shnum = eh->e_shnum;
    for (unsigned i = 0; i < e->shnum; i++)
        if (e->sh[i].sh_type != SHT_NOBITS && !in_bounds(e->sh[i].sh_offset, e->sh[i].sh_size, len))
            return fail(err, n, "ELF section %u out of bounds", i);
    const Elf64_Shdr *ss = &e->sh[eh->e_shstrndx];
    e->shstr = (const char *)obj + ss->sh_offset; e->shstrsz = ss->sh_size;
    if (e->shstrsz == 0 || e->shstr[e->shstrsz - 1] != 0) return fail(err, n, "ELF section names not terminated");
    for (unsigned i = 0; i < e->shnum; i++) {
        if (e->sh[i].sh_type != SHT_SYMTAB) continue;
        if (e->sym) return fail(err, n, "more than one ELF symbol table");
        const Elf64_Shdr *st = &e->sh[i];
        if (st->sh_entsize != sizeof(Elf64_Sym) || st->sh_link >= e->shnum) return fail(err, n, "bad ELF symbol table");
        e->sym = (const Elf64_Sym *)(obj + st->sh_offset); e->nsym = st->sh_size / sizeof(Elf64_Sym); e->symsec = i;
        e->str = (const char *)obj + e->sh[st->sh_link].sh_offset; e->strsz = e->sh[st->sh_link].sh_size;
    }
    if (!e->sym || e->strsz == 0 || e->str[e->strsz - 1] != 0) return fail(err, n, "no usable ELF symbol table");
    for (size_t i = 0; i < e->nsym; i++)
        if (e->sym[i].st_name >= e->strsz) return fail(err, n, "ELF symbol %zu has no name", i);
    return 0;
}

/* Places every loaded section; the GOT and stub counts are known, so their place is too. */
static int layout(const elf_t *e, struct jlc_image *im, size_t ngot, size_t nstub, uintptr_t *gotbase, uintptr_t *stubbase,
                  size_t segstart[NSEG], size_t segsize[NSEG], char *err, size_t n)
{
    size_t off[NSEG] = { 0 }, secoff[e->shnum];
    for (unsigned i = 0; i < e->shnum; i++) {
        int seg = segment_of(e, i);
        if (seg < 0 || e->sh[i].sh_size == 0) continue;
        uint64_t a = e->sh[i].sh_addralign ? e->sh[i].sh_addralign : 1;
        if ((a & (a - 1)) || a > PAGE) return fail(err, n, "section %s: alignment %llu", sec_name(e, i), (unsigned long long)a);
        if (e->sh[i].sh_flags & SHF_TLS) return fail(err, n, "section %s: thread-local data is not supported", sec_name(e, i));
        if (e->sh[i].sh_size > (1u << 30)) return fail(err, n, "section %s is too large", sec_name(e, i));
        off[seg] = align_up(off[seg], a);
        secoff[i] = off[seg];
        off[seg] += e->sh[i].sh_size + (strcmp(sec_name(e, i), ".eh_frame") == 0 ? 4 : 0);  /* zero terminator */
    }
    size_t stubs = align_up(off[SEG_X], 16);
    off[SEG_X] = stubs + nstub * STUB_SIZE;
    size_t got = align_up(off[SEG_R], 8);
    off[SEG_R] = got + ngot * 8;
    segstart[SEG_X] = 0;
    segstart[SEG_R] = align_up(off[SEG_X], PAGE);
    segstart[SEG_W] = segstart[SEG_R] + align_up(off[SEG_R], PAGE);
    im->size = segstart[SEG_W] + align_up(off[SEG_W] ? off[SEG_W] : 1, PAGE);
    for (int s = 0; s < NSEG; s++) segsize[s] = off[s];
    void *m = mmap(NULL, im->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return fail(err, n, "cannot map %zu bytes for the code", im->size);
    im->base = m;
    for (unsigned i = 0; i < e->shnum; i++) {
        int seg = segment_of(e, i);
        if (seg < 0 || e->sh[i].sh_size == 0) continue;
        im->secaddr[i] = (uintptr_t)im->base + segstart[seg] + secoff[i];
        if (e->sh[i].sh_type != SHT_NOBITS) memcpy((void *)im->secaddr[i], e->obj + e->sh[i].sh_offset, e->sh[i].sh_size);
    }
    *stubbase = (uintptr_t)im->base + segstart[SEG_X] + stubs;
    *gotbase = (uintptr_t)im->base + segstart[SEG_R] + got;
    return 0;
}

static int is_got(uint32_t t) { return t == R_X86_64_GOTPCREL || t == R_X86_64_GOTPCRELX || t == R_X86_64_REX_GOTPCRELX; }

/* The relocation sections that apply to loaded sections, checked; NULL-terminated walk via `next`. */
static const Elf64_Shdr *rela_for(const elf_t *e, unsigned i, const struct jlc_image *im, char *err, size_t n, int *bad)
{
    const Elf64_Shdr *r = &e->sh[i];
    if (r->sh_type != SHT_RELA && r->sh_type != SHT_REL) return NULL;
    if (r->sh_info >= e->shnum || !im->secaddr[r->sh_info]) return NULL;   /* relocates something not loaded */
    if (r->sh_type == SHT_REL || r->sh_entsize != sizeof(Elf64_Rela) || r->sh_link != e->symsec || e->sh[r->sh_info].sh_type == SHT_NOBITS) {
        *bad = fail(err, n, "unsupported relocation section %s", sec_name(e, i));
        return NULL;
    }
    return r;
}

static uintptr_t symbol_address(const elf_t *e, const struct jlc_image *im, links_t *l, uint32_t si,
                                const struct jlc_resolver *resolve, char *err, size_t n)
{
    if (l->addr[si]) return l->addr[si];
    const Elf64_Sym *s = &e->sym[si];
    const char *name = e->str + s->st_name;
    uintptr_t a = 0;
    if (s->st_shndx == SHN_UNDEF) {
        if (!name[0] || !(a = (uintptr_t)resolve->fn(resolve->ctx, name))) fail(err, n, "unresolved symbol %s", name[0] ? name : "(unnamed)");
    } else if (s->st_shndx == SHN_ABS) {
        a = s->st_value;
        if (!a) fail(err, n, "absolute symbol %s at 0", name);
    } else if (s->st_shndx >= e->shnum || !im->secaddr[s->st_shndx] || s->st_value > e->sh[s->st_shndx].sh_size) {
        fail(err, n, "symbol %s is not in a loaded section", name);
    } else a = im->secaddr[s->st_shndx] + s->st_value;
    return l->addr[si] = a;
}

static int put32(uint8_t *p, int64_t v, uint32_t type, char *err, size_t n)
{
    if (v != (int32_t)v) return fail(err, n, "relocation type %u out of 32-bit range", type);
    int32_t x = (int32_t)v; memcpy(p, &x, 4);
    return 0;
}

static int apply(const elf_t *e, struct jlc_image *im, links_t *l, const Elf64_Shdr *r,
                 const struct jlc_resolver *resolve, char *err, size_t n)
{
    const Elf64_Rela *rel = (const Elf64_Rela *)(e->obj + r->sh_offset);
    const Elf64_Shdr *t = &e->sh[r->sh_info];
    for (size_t k = 0; k < r->sh_size / sizeof *rel; k++) {
        uint32_t type = ELF64_R_TYPE(rel[k].r_info), si = ELF64_R_SYM(rel[k].r_info);
        if (type == R_X86_64_NONE) continue;
        int wide = type == R_X86_64_64 || type == R_X86_64_PC64;
        if (si >= e->nsym || !in_bounds(rel[k].r_offset, wide ? 8 : 4, t->sh_size)) return fail(err, n, "relocation %zu out of bounds", k);
        uint8_t *p = (uint8_t *)(im->secaddr[r->sh_info] + rel[k].r_offset);
        int64_t A = rel[k].r_addend, P = (int64_t)(uintptr_t)p;
        int undef = e->sym[si].st_shndx == SHN_UNDEF;
        uintptr_t S = symbol_address(e, im, l, si, resolve, err, n);
        if (!S) return -1;
        switch (type) {
        case R_X86_64_64: case R_X86_64_PC64: {
            if (undef) return fail(err, n, "absolute relocation against external symbol %s", e->str + e->sym[si].st_name);
            uint64_t v = (uint64_t)((int64_t)S + A - (type == R_X86_64_PC64 ? P : 0));
            memcpy(p, &v, 8);
            break;
        }
        case R_X86_64_PC32:
            if (undef) return fail(err, n, "PC32 relocation against external symbol %s", e->str + e->sym[si].st_name);
            if (put32(p, (int64_t)S + A - P, type, err, n)) return -1;
            break;
        case R_X86_64_PLT32: {
            uintptr_t L = undef ? l->stubbase + (uintptr_t)l->stub[si] * STUB_SIZE : S;
            if (put32(p, (int64_t)L + A - P, type, err, n)) return -1;
            break;
        }
        case R_X86_64_GOTPCREL: case R_X86_64_GOTPCRELX: case R_X86_64_REX_GOTPCRELX:
            if (put32(p, (int64_t)(l->gotbase + (uintptr_t)l->got[si] * 8) + A - P, type, err, n)) return -1;
            break;
        default:
            return fail(err, n, "relocation type %u is not supported", type);
        }
    }
    return 0;
}

/* GOT entries (GOTPCREL targets, external PLT32 targets) and stubs (external PLT32 targets), one per symbol. */
static int count_links(const elf_t *e, const struct jlc_image *im, links_t *l, size_t *ngot, size_t *nstub, char *err, size_t n)
{
    int bad = 0;
    for (unsigned i = 0; i < e->shnum; i++) {
        const Elf64_Shdr *r = rela_for(e, i, im, err, n, &bad);
        if (bad) return -1;
        if (!r) continue;
        const Elf64_Rela *rel = (const Elf64_Rela *)(e->obj + r->sh_offset);
        for (size_t k = 0; k < r->sh_size / sizeof *rel; k++) {
            uint32_t type = ELF64_R_TYPE(rel[k].r_info), si = ELF64_R_SYM(rel[k].r_info);
            if (si >= e->nsym) return fail(err, n, "relocation %zu names symbol %u of %zu", k, si, e->nsym);
            int stub = type == R_X86_64_PLT32 && e->sym[si].st_shndx == SHN_UNDEF;
            if ((stub || is_got(type)) && l->got[si] < 0) l->got[si] = (int32_t)(*ngot)++;
            if (stub && l->stub[si] < 0) l->stub[si] = (int32_t)(*nstub)++;
        }
    }
    return 0;
}

static int fill_links(const elf_t *e, struct jlc_image *im, links_t *l, const struct jlc_resolver *resolve, char *err, size_t n)
{
    for (size_t si = 0; si < e->nsym; si++) {
        if (l->got[si] < 0) continue;
        uintptr_t S = symbol_address(e, im, l, (uint32_t)si, resolve, err, n);
        if (!S) return -1;
        memcpy((void *)(l->gotbase + (uintptr_t)l->got[si] * 8), &S, 8);
        if (l->stub[si] < 0) continue;
        uint8_t *s = (uint8_t *)(l->stubbase + (uintptr_t)l->stub[si] * STUB_SIZE);
        int64_t rel = (int64_t)(l->gotbase + (uintptr_t)l->got[si] * 8) - (int64_t)((uintptr_t)s + 6);
        s[0] = 0xff; s[1] = 0x25;   /* jmp *rel32(%rip) */
        if (put32(s + 2, rel, R_X86_64_PLT32, err, n)) return -1;
        s[6] = s[7] = 0xcc;
    }
    return 0;
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static int index_symbols(const elf_t *e, struct jlc_image *im, char *err, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < e->nsym; i++)
        if (ELF64_ST_BIND(e->sym[i].st_info) != STB_LOCAL && e->sym[i].st_shndx != SHN_UNDEF) count++;
    im->cap = 16;
    while (im->cap < 2 * count) im->cap *= 2;
    im->syms = calloc(im->cap, sizeof *im->syms);
    im->names = malloc(e->strsz);
    if (!im->syms || !im->names) return fail(err, n, "out of memory");
    memcpy(im->names, e->str, e->strsz);
    for (size_t i = 0; i < e->nsym; i++) {
        const Elf64_Sym *s = &e->sym[i];
        if (ELF64_ST_BIND(s->st_info) == STB_LOCAL || s->st_shndx == SHN_UNDEF) continue;
        if (s->st_shndx == SHN_COMMON) return fail(err, n, "common symbol %s is not supported", e->str + s->st_name);
        if (s->st_shndx >= e->shnum || !im->secaddr[s->st_shndx]) continue;
        const char *name = im->names + s->st_name;
        size_t k = hash_name(name) & (im->cap - 1);
        while (im->syms[k].name) k = (k + 1) & (im->cap - 1);
        im->syms[k].name = name;
        im->syms[k].addr = im->secaddr[s->st_shndx] + s->st_value;
    }
    return 0;
}

void *jlc_image_symbol(const struct jlc_image *im, const char *name)
{
    if (!im->syms) return NULL;
    for (size_t k = hash_name(name) & (im->cap - 1); im->syms[k].name; k = (k + 1) & (im->cap - 1))
        if (strcmp(im->syms[k].name, name) == 0) return (void *)im->syms[k].addr;
    return NULL;
}

void jlc_image_register_frames(const struct jlc_image *im)
{
    void (*register_frame)(void *) = (void (*)(void *))dlsym(RTLD_DEFAULT, "__register_frame");
    for (unsigned i = 0; register_frame && i < im->neh_frames; i++) register_frame(im->eh_frames[i]);
}

void jlc_image_free(struct jlc_image *im)
{
    if (im->base) munmap(im->base, im->size);
    free(im->secaddr); free(im->syms); free(im->names); free(im->eh_frames);
    memset(im, 0, sizeof *im);
}

int jlc_link(const uint8_t *obj, size_t len, const struct jlc_resolver *resolve, struct jlc_image *im, char *err, size_t n)
{
    elf_t e;
    links_t l = { 0 };
    memset(im, 0, sizeof *im);
    if (parse(&e, obj, len, err, n)) return -1;
    im->nsec = e.shnum;
    im->secaddr = calloc(e.shnum + 1, sizeof *im->secaddr);
    l.addr = calloc(e.nsym + 1, sizeof *l.addr);
    l.got = malloc((e.nsym + 1) * sizeof *l.got);
    l.stub = malloc((e.nsym + 1) * sizeof *l.stub);
    int rc = -1;
    size_t ngot = 0, nstub = 0, segstart[NSEG], segsize[NSEG];
    if (!im->secaddr || !l.addr || !l.got || !l.stub) { fail(err, n, "out of memory"); goto done; }
    memset(l.got, 0xff, (e.nsym + 1) * sizeof *l.got);
    memset(l.stub, 0xff, (e.nsym + 1) * sizeof *l.stub);
    /* mark loaded sections before counting (rela_for looks at secaddr): provisional non-zero addresses */
    for (unsigned i = 0; i < e.shnum; i++) im->secaddr[i] = segment_of(&e, i) >= 0 && e.sh[i].sh_size ? 1 : 0;
    if (count_links(&e, im, &l, &ngot, &nstub, err, n)) goto done;
    if (layout(&e, im, ngot, nstub, &l.gotbase, &l.stubbase, segstart, segsize, err, n)) goto done;
    if (fill_links(&e, im, &l, resolve, err, n)) goto done;
    int bad = 0;
    for (unsigned i = 0; i < e.shnum; i++) {
        const Elf64_Shdr *r = rela_for(&e, i, im, err, n, &bad);
        if (bad || (r && apply(&e, im, &l, r, resolve, err, n))) goto done;
    }
    if (index_symbols(&e, im, err, n)) goto done;
    int prot[NSEG] = { PROT_READ | PROT_EXEC, PROT_READ, PROT_READ | PROT_WRITE };
    for (int s = 0; s < NSEG; s++)
        if (segsize[s] && mprotect(im->base + segstart[s], align_up(segsize[s], PAGE), prot[s]) != 0) {
            fail(err, n, "cannot protect the linked code");
            goto done;
        }
    im->eh_frames = calloc(e.shnum, sizeof *im->eh_frames);
    if (!im->eh_frames) { fail(err, n, "out of memory"); goto done; }
    for (unsigned i = 0; i < e.shnum; i++)
        if (im->secaddr[i] && strcmp(sec_name(&e, i), ".eh_frame") == 0) im->eh_frames[im->neh_frames++] = (void *)im->secaddr[i];
    rc = 0;
done:
    free(l.addr); free(l.got); free(l.stub);
    if (rc != 0) jlc_image_free(im);
    return rc;
}
