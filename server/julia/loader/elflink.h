/* A linker for the one kind of object the cache holds: a relocatable x86-64 ELF file whose relocations the codegen
 * check (server/src/codegen/checkObject.ts) restricts to R_X86_64_64 / PC32 against its own symbols, PLT32 and
 * GOTPCREL(X). See elflink.c for why it replaces RuntimeDyld. */
#ifndef JLCACHE_ELFLINK_H
#define JLCACHE_ELFLINK_H
#include <stddef.h>
#include <stdint.h>

struct jlc_symbol { const char *name; uintptr_t addr; };
/* Address of an undefined symbol the object uses (NULL: unresolved), asked once per symbol. */
struct jlc_resolver { void *(*fn)(void *ctx, const char *name); void *ctx; };

struct jlc_image {
    uint8_t *base; size_t size;    /* one private mapping: code | read-only data, GOT | writable data */
    uintptr_t *secaddr;            /* load address per section index, 0 for sections not loaded */
    unsigned nsec;
    struct jlc_symbol *syms;       /* defined global symbols, open-addressing table of `cap` slots */
    size_t cap;
    char *names;                   /* copy of the string table the names point into */
    void **eh_frames;              /* the relocated .eh_frame sections (each with its terminator): one per part of a */
    unsigned neh_frames;           /* module emitted in parts (mergeObjects.ts) */
};

/* Lays out, copies and relocates `obj` (left untouched), resolving undefined symbols with `resolve`. Returns 0, or -1
 * with `err` set and nothing left mapped. */
int jlc_link(const uint8_t *obj, size_t len, const struct jlc_resolver *resolve, struct jlc_image *im, char *err, size_t errlen);
/* Address of a defined global symbol of the image, or NULL. */
void *jlc_image_symbol(const struct jlc_image *im, const char *name);
/* Hands the image's .eh_frame sections to libgcc's unwinder (as RuntimeDyld did); after this the image is never
 * unmapped. */
void jlc_image_register_frames(const struct jlc_image *im);
/* Unmaps an image that was never registered and frees its tables. */
void jlc_image_free(struct jlc_image *im);
#endif
