/* jlcache: links cached native code (a relocatable ELF object from the capture worker + codegen) into the
 * running Julia 1.5.3 process and installs it as CodeInstances, with no Julia code compiled and no Julia text
 * parsed on the way. Called from glue.jl through ccall.
 *
 *   link:    elflink.c (the relocations the codegen check allows, applied directly); undefined symbols resolve
 *            against the process (dlsym), i.e. libjulia's runtime, and imports (`jlimport_<n>_spec`) to the system
 *            image's code for a MethodInstance, when it is valid in this session.
 *   fill:    each global slot `jlgv_<i>` an entry's code uses gets this process's pointer for the same Julia
 *            object, computed from the plan (PLAN-FORMAT.md): a table of nodes, each built from earlier ones.
 *   install: per entry whose requirements are met, jl_get_method_inferred + invoke/specptr/isspecsig, plus
 *            backedges from user callees so that redefinitions invalidate cached callers.
 * Every read of the plan is bounds-checked: a corrupted plan is an error, never a crash.
 */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../internals/julia-1.5.3.h"
#include "elflink.h"
#include "sha256.h"

#include "planformat.h"

#define NO_NODE 0xffffffffu
#define MAX_DEPTH 256
#define MAX_ARGS 64

enum { E_PENDING = 0, E_INSTALLED, E_FAILED, E_PRESENT, E_INVALIDATED };     /* entry states */

typedef struct { uint8_t op; uint32_t len; const uint8_t *p; } node_t;
typedef struct {
    uint32_t index, sig, rettype;
    uint8_t kind;
    uint32_t nreq; const uint8_t *req;      /* nreq x (u32 len, bytes) */
    uint32_t nslots; const uint8_t *slots;  /* u32 slot indices */
    uint32_t nback; const uint8_t *back;    /* u32 node indices (MethodInstances) */
    uint32_t nimp; const uint8_t *imp;      /* u32 import indices */
    int state;
    char reason[256];
    jl_method_instance_t *mi;   /* set once installed: what a redefinition must invalidate */
} entry_t;
/* A callee the system image holds (PLAN-FORMAT.md "imports"), linked to its code in this session. */
typedef struct {
    uint32_t sig, rettype;
    uint8_t kind;
    jl_method_instance_t *mi;
    jl_code_instance_t *ci;     /* NULL: not valid here; `reason` says why */
    char reason[200];
} import_t;
/* One function of a linked object, at its linked address (see "backtraces through linked code"). */
struct code_range { uintptr_t start, end; char *name; int32_t entry; /* index into entries, or -1 */ };
typedef struct {
    char name[64];
    uint8_t *plan; size_t planlen;
    uint32_t nnodes, nslots, nentries, nimports;
    node_t *nodes;
    jl_value_t **vals;      /* node values (rooted in `roots`); binding nodes hold a jl_binding_t* */
    uint8_t *state;         /* 1 once vals[i] is set; failures are retried (a definition may appear later) */
    const uint8_t *slottab; /* u32 node per slot, inside `plan` */
    uint8_t *filled;        /* per slot */
    entry_t *entries;
    import_t *imports;
    struct jlc_image img;     /* the linked code and data (elflink.h) */
    struct code_range *code;  /* the object's functions, sorted by start: what backtraces are told about */
    uint32_t ncode;
} cache_t;

static cache_t **caches; static int ncaches;

/* Where load time goes (jlc_step_ms): nanoseconds per step, summed over every call since the process started. */
enum { T_READ, T_PARSE, T_LINK, T_DESCRIBE, T_FILL, T_INSTALL, T_NSTEPS };
static uint64_t step_ns[T_NSTEPS];
static uint64_t now_ns(void)
{
    struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
/* Adds the time since *t to step k and restarts *t. */
static void lap(int k, uint64_t *t) { uint64_t n = now_ns(); step_ns[k] += n - *t; *t = n; }
static char **satisfied; static int nsatisfied, capsatisfied;
static jl_array_t *roots;   /* Vector{Any} owned by the glue: keeps every object we create alive */
static jl_value_t *loaded_modules;

/* ---- small helpers ---- */
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static void setmsg(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap; va_start(ap, fmt); vsnprintf(buf, n, fmt, ap); va_end(ap);
}
static void root(jl_value_t *v)
{
    if (v == NULL || roots == NULL) return;
    JL_GC_PUSH1(&v);
    jl_array_ptr_1d_push(roots, v);
    JL_GC_POP();
}
static jl_value_t *unwrap(jl_value_t *v)
{
    while (jl_is_unionall(v)) v = ((jl_unionall_t *)v)->body;
    return v;
}
static int has_req(const uint8_t *s, uint32_t len)
{
    for (int i = 0; i < nsatisfied; i++)
        if (strlen(satisfied[i]) == len && memcmp(satisfied[i], s, len) == 0) return 1;
    return 0;
}

/* ---- plan parsing: every count and offset checked against the buffer ---- */
typedef struct { const uint8_t *p, *end; int bad; } rd_t;
static const uint8_t *take(rd_t *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; return NULL; }
    const uint8_t *q = r->p; r->p += n; return q;
}
static uint32_t take32(rd_t *r) { const uint8_t *q = take(r, 4); return q ? rd32(q) : 0; }

/* Magic, version, the thread-local storage offset the code was compiled against, and the three table counts. */
static int parse_header(cache_t *c, rd_t *r, char *err, size_t errlen)
{
    const uint8_t *magic = take(r, 8);
    if (!magic || memcmp(magic, PLAN_MAGIC, sizeof PLAN_MAGIC) != 0) { setmsg(err, errlen, "not a plan file (bad magic)"); return -1; }
    uint32_t version = take32(r); take32(r);
    const uint8_t *tls = take(r, 8);
    c->nnodes = take32(r); c->nslots = take32(r); c->nentries = take32(r); c->nimports = take32(r);
    if (r->bad) { setmsg(err, errlen, "plan truncated in its header"); return -1; }
    if (version != PLAN_VERSION) { setmsg(err, errlen, "plan format %u, loader expects %u", version, PLAN_VERSION); return -1; }
    int64_t want; memcpy(&want, tls, 8);
    if (want != jlc_tls_offset()) {
        setmsg(err, errlen, "thread-local storage offset differs (cache %lld, this process %lld): code would read the wrong PTLS",
               (long long)want, (long long)jlc_tls_offset());
        return -1;
    }
    /* every node, slot and entry takes at least one byte: larger counts are corruption, not a huge allocation */
    if (c->nnodes > c->planlen || c->nslots > c->planlen || c->nentries > c->planlen || c->nimports > c->planlen) {
        setmsg(err, errlen, "plan counts exceed its size"); return -1;
    }
    return 0;
}

/* The per-node, per-slot and per-entry tables; one spare element each so that a count of 0 still allocates. */
static int alloc_tables(cache_t *c, char *err, size_t errlen)
{
    c->nodes = calloc(c->nnodes + 1, sizeof(node_t));
    c->vals = calloc(c->nnodes + 1, sizeof(jl_value_t *));
    c->state = calloc(c->nnodes + 1, 1);
    c->filled = calloc(c->nslots + 1, 1);
    c->entries = calloc(c->nentries + 1, sizeof(entry_t));
    c->imports = calloc(c->nimports + 1, sizeof(import_t));
    if (!c->nodes || !c->vals || !c->state || !c->filled || !c->entries || !c->imports) { setmsg(err, errlen, "out of memory"); return -1; }
    return 0;
}

/* Nodes are (u8 op, u32 len, len bytes); their operands are checked when they are built. */
static int parse_nodes(cache_t *c, rd_t *r, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < c->nnodes; i++) {
        const uint8_t *op = take(r, 1);
        uint32_t len = take32(r);
        const uint8_t *p = take(r, len);
        if (r->bad) { setmsg(err, errlen, "plan truncated in node %u", i); return -1; }
        if (*op < 1 || *op > OP_LAST) { setmsg(err, errlen, "node %u: unknown op %u", i, *op); return -1; }
        c->nodes[i].op = *op; c->nodes[i].len = len; c->nodes[i].p = p;
    }
    return 0;
}

/* One u32 node per global slot, or NO_NODE for a slot whose object has no stable identity. */
static int parse_slot_table(cache_t *c, rd_t *r, char *err, size_t errlen)
{
    const uint8_t *slots = take(r, (size_t)c->nslots * 4);
    if (r->bad) { setmsg(err, errlen, "plan truncated in the slot table"); return -1; }
    c->slottab = slots;
    for (uint32_t s = 0; s < c->nslots; s++) {
        uint32_t n = rd32(slots + 4 * s);
        if (n != NO_NODE && n >= c->nnodes) { setmsg(err, errlen, "slot %u refers to node %u of %u", s, n, c->nnodes); return -1; }
    }
    return 0;
}

/* Entry k's fields, pointing into the plan; the requirement strings are only skipped here (requirements_met reads them). */
static int read_entry(rd_t *r, entry_t *e, uint32_t k, char *err, size_t errlen)
{
    e->index = take32(r); e->sig = take32(r); e->rettype = take32(r);
    const uint8_t *kind = take(r, 1);
    e->kind = kind ? *kind : 0xff;
    e->nreq = take32(r); e->req = r->p;
    for (uint32_t j = 0; j < e->nreq && !r->bad; j++) take(r, take32(r));
    e->nslots = take32(r); e->slots = take(r, (size_t)e->nslots * 4);
    e->nback = take32(r); e->back = take(r, (size_t)e->nback * 4);
    e->nimp = take32(r); e->imp = take(r, (size_t)e->nimp * 4);
    if (r->bad) { setmsg(err, errlen, "plan truncated in entry %u", k); return -1; }
    return 0;
}

/* Every node and slot index an entry holds is in range, so installing it never reads outside the tables. */
static int check_entry(const cache_t *c, const entry_t *e, uint32_t k, char *err, size_t errlen)
{
    if (e->sig >= c->nnodes || e->rettype >= c->nnodes || e->kind > ENTRY_FPTR_SPARAM) {
        setmsg(err, errlen, "entry %u: bad signature/rettype node or kind", k); return -1;
    }
    for (uint32_t j = 0; j < e->nslots; j++)
        if (rd32(e->slots + 4 * j) >= c->nslots) { setmsg(err, errlen, "entry %u: slot out of range", k); return -1; }
    for (uint32_t j = 0; j < e->nback; j++)
        if (rd32(e->back + 4 * j) >= c->nnodes) { setmsg(err, errlen, "entry %u: backedge node out of range", k); return -1; }
    for (uint32_t j = 0; j < e->nimp; j++)
        if (rd32(e->imp + 4 * j) >= c->nimports) { setmsg(err, errlen, "entry %u: import out of range", k); return -1; }
    return 0;
}

/* Imports: (u32 sig node, u32 rettype node, u8 kind); NO_NODE nodes for an import no entry calls. */
static int parse_imports(cache_t *c, rd_t *r, char *err, size_t errlen)
{
    for (uint32_t n = 0; n < c->nimports; n++) {
        import_t *im = &c->imports[n];
        im->sig = take32(r); im->rettype = take32(r);
        const uint8_t *kind = take(r, 1);
        if (r->bad) { setmsg(err, errlen, "plan truncated in import %u", n); return -1; }
        im->kind = *kind;
        int named = im->sig != NO_NODE && im->rettype != NO_NODE;
        if (im->kind > ENTRY_FPTR_SPARAM || (named && (im->sig >= c->nnodes || im->rettype >= c->nnodes))) {
            setmsg(err, errlen, "import %u: bad signature/rettype node or kind", n); return -1;
        }
        if (!named) setmsg(im->reason, sizeof im->reason, "the capture could not name it");
    }
    return 0;
}

static int parse_plan(cache_t *c, char *err, size_t errlen)
{
    rd_t r = { c->plan, c->plan + c->planlen, 0 };
    if (parse_header(c, &r, err, errlen) != 0 || alloc_tables(c, err, errlen) != 0 || parse_nodes(c, &r, err, errlen) != 0 ||
        parse_slot_table(c, &r, err, errlen) != 0)
        return -1;
    for (uint32_t k = 0; k < c->nentries; k++)
        if (read_entry(&r, &c->entries[k], k, err, errlen) != 0 || check_entry(c, &c->entries[k], k, err, errlen) != 0) return -1;
    if (parse_imports(c, &r, err, errlen) != 0) return -1;
    if (r.p != r.end) { setmsg(err, errlen, "plan has %zu trailing bytes", (size_t)(r.end - r.p)); return -1; }
    return 0;
}

/* ---- node resolution ---- */
static jl_value_t *resolve(cache_t *c, uint32_t i, int depth, char *err, size_t errlen);

/* Operand j of node n: a reference to an earlier node, resolved to a Julia value. */
static jl_value_t *arg(cache_t *c, uint32_t self, const node_t *n, uint32_t j, int depth, char *err, size_t errlen)
{
    if ((size_t)(j + 1) * 4 > n->len) { setmsg(err, errlen, "node %u: missing operand %u", self, j); return NULL; }
    uint32_t ref = rd32(n->p + 4 * j);
    if (ref >= self) { setmsg(err, errlen, "node %u: operand refers forward (%u)", self, ref); return NULL; }
    if (c->nodes[ref].op == OP_BINDING) { setmsg(err, errlen, "node %u: a binding is not a value", self); return NULL; }
    return resolve(c, ref, depth + 1, err, errlen);
}

static jl_module_t *find_root_module(const uint8_t *name, uint32_t len)
{
    jl_module_t *fixed[3] = { jl_main_module, jl_base_module, jl_core_module };
    for (int i = 0; i < 3; i++) {
        const char *s = jl_symbol_name(fixed[i]->name);
        if (strlen(s) == len && memcmp(s, name, len) == 0) return fixed[i];
    }
    for (int pass = 0; pass < 2; pass++) {
        if (loaded_modules == NULL || pass == 1) {
            /* Base.loaded_modules_array() is compiled in the system image: no compilation here. */
            loaded_modules = jl_call0(jl_get_function(jl_base_module, "loaded_modules_array"));
            root(loaded_modules);
        }
        if (!loaded_modules || !jl_is_array(loaded_modules)) return NULL;
        size_t n = jl_array_len(loaded_modules);
        for (size_t i = 0; i < n; i++) {
            jl_value_t *m = jl_array_ptr_ref((jl_array_t *)loaded_modules, i);
            if (!m || !jl_is_module(m)) continue;
            const char *s = jl_symbol_name(((jl_module_t *)m)->name);
            if (strlen(s) == len && memcmp(s, name, len) == 0) return (jl_module_t *)m;
        }
    }
    return NULL;
}

static jl_method_t *method_for(jl_value_t *sig)
{
    jl_value_t *e = jl_gf_invoke_lookup(sig, jl_get_world_counter());
    if (e == NULL || e == jl_nothing || !jl_typeis(e, jl_typemap_entry_type)) return NULL;
    jl_value_t *m = ((jl_typemap_entry_t *)e)->func.value;
    return m && jl_is_method(m) ? (jl_method_t *)m : NULL;
}

/* The MethodInstance of `sig`, created if this process has none. Its sparam_vals must be the method's static
 * parameter values: a MethodInstance with fewer (e.g. svec()) is, to inference and codegen, the unspecialized
 * one, so when the session infers and compiles it itself (a caller it compiled did so while install left
 * `inferred` unset) it emits a body that reads its static parameters from mi->sparam_vals at run time, and
 * reading K of setindex!(::Dict{K,V}, v0, key0) out of an empty svec crashed (a cached callee entry called from
 * session-compiled code). The env comes from the pair
 * jl_type_intersection_with_env returns; the count is checked so no such MethodInstance is ever made. */
/* The MethodInstance of `sig` for method `m`, given the static parameter environment of `sig` against m->sig. */
static jl_method_instance_t *mi_with_env(jl_value_t *sig, jl_method_t *m, jl_value_t *ti, jl_svec_t *env, char *err, size_t errlen)
{
    jl_method_instance_t *mi = NULL;
    if (ti == jl_bottom_type) setmsg(err, errlen, "signature does not match its method");
    else if (jl_svec_len(env) != (size_t)jl_subtype_env_size(m->sig))
        setmsg(err, errlen, "static parameters of the method not determined by the signature");
    else mi = jl_specializations_get_linfo(m, sig, env);
    if (mi && jl_svec_len(mi->sparam_vals) != (size_t)jl_subtype_env_size(m->sig)) {
        setmsg(err, errlen, "the existing method instance has no static parameter values");
        mi = NULL;
    }
    return mi;
}

static jl_method_instance_t *mi_for(jl_value_t *sig, char *err, size_t errlen)
{
    if (!jl_is_type(sig)) { setmsg(err, errlen, "method instance signature is not a type"); return NULL; }
    jl_method_t *m = method_for(sig);
    if (!m) { setmsg(err, errlen, "no method matches a cached signature"); return NULL; }
    jl_svec_t *pair = jl_type_intersection_with_env(sig, m->sig);
    JL_GC_PUSH1(&pair);
    jl_method_instance_t *mi = mi_with_env(sig, m, jl_svecref(pair, 0), (jl_svec_t *)jl_svecref(pair, 1), err, errlen);
    JL_GC_POP();
    return mi;
}

/* Digits between '#' separators of a gensym name ("#3#4" -> 3,4): creation order. */
static int counters(const char *s, long out[4])
{
    int n = 0;
    while (*s && n < 4) {
        if (*s >= '0' && *s <= '9' && (s[-1] == '#')) {
            char *end; long v = strtol(s, &end, 10);
            if (*end == '#' || *end == 0) out[n++] = v;
            s = end;
        } else s++;
    }
    return n;
}
static int cmp_counters(const long *a, int na, const long *b, int nb)
{
    for (int i = 0; i < na && i < nb; i++) if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return na - nb;
}

/* Distinct gensym-named GlobalRefs of lowered code, in order of first appearance (describe.jl gensym_refs walks
   the same way): Expr arguments depth first, quoted data skipped. */
enum { MAX_REFS = 256 };
static void gensym_refs(jl_value_t *x, jl_value_t **refs, int *n, int depth)
{
    if (depth > MAX_DEPTH || *n == MAX_REFS) return;
    if (jl_is_expr(x)) {
        for (size_t k = 0; k < jl_expr_nargs(x); k++) gensym_refs(jl_exprarg(x, k), refs, n, depth + 1);
    } else if (jl_is_globalref(x) && jl_symbol_name(jl_globalref_name(x))[0] == '#') {
        for (int k = 0; k < *n; k++)
            if (jl_globalref_mod(refs[k]) == jl_globalref_mod(x) && jl_globalref_name(refs[k]) == jl_globalref_name(x)) return;
        refs[(*n)++] = x;
    }
}

/* A closure or keyword-body type named by its parent method: the `ordinal`-th gensym reference of the method's
   lowered code (a closure type, or a keyword-body function whose type is meant). Comprehension closures have no
   source location (none:0), so this is their only identity. */
static jl_value_t *find_closure(jl_method_t *m, uint32_t ordinal, uint32_t nfields, char *err, size_t errlen)
{
    if (!m->source || jl_is_nothing(m->source)) { setmsg(err, errlen, "method without lowered code"); return NULL; }
    jl_code_info_t *src = NULL;
    jl_value_t *refs[MAX_REFS];
    int n = 0;
    JL_GC_PUSH1(&src);
    src = jl_is_code_info(m->source) ? (jl_code_info_t *)m->source : jl_uncompress_ir(m, NULL, (jl_array_t *)m->source);
    for (size_t k = 0; k < jl_array_len(src->code); k++) gensym_refs(jl_array_ptr_ref(src->code, k), refs, &n, 0);
    jl_value_t *v = NULL;
    if (ordinal < (uint32_t)n) {
        jl_binding_t *b = jl_get_binding(jl_globalref_mod(refs[ordinal]), jl_globalref_name(refs[ordinal]));
        v = b ? b->value : NULL;
    }
    JL_GC_POP();
    if (!v) { setmsg(err, errlen, "closure %u of a method not found", ordinal); return NULL; }
    jl_value_t *t = jl_is_type(v) ? v : jl_typeof(v);
    jl_value_t *u = unwrap(t);
    if (!jl_is_datatype(u) || jl_symbol_name(((jl_datatype_t *)u)->name->name)[0] != '#' ||
        jl_svec_len(jl_field_names((jl_datatype_t *)u)) != nfields) {
        setmsg(err, errlen, "closure %u of a method has another shape", ordinal); return NULL;
    }
    return jl_is_type(v) ? v : ((jl_datatype_t *)u)->name->wrapper;
}

/* The type of a closure or keyword body: gensym-named, found by its method's file:line (see describe.jl). */
static jl_value_t *find_gensym(jl_module_t *m, jl_sym_t *file, uint32_t line, uint32_t ordinal, uint32_t count,
                               uint32_t nfields, char *err, size_t errlen)
{
    enum { MAXG = 64 };
    jl_value_t *found[MAXG]; long keys[MAXG][4]; int nkeys[MAXG]; int n = 0;
    void **table = m->bindings.table;
    for (size_t i = 1; i < m->bindings.size; i += 2) {
        jl_binding_t *b = (jl_binding_t *)table[i];
        if (b == JLC_HT_NOTFOUND || b == NULL || b->value == NULL) continue;
        const char *name = jl_symbol_name(b->name);
        if (name[0] != '#') continue;
        jl_value_t *v = b->value, *t;
        if (jl_is_type(v)) {
            t = unwrap(v);
            if (!jl_is_datatype(t) || ((jl_datatype_t *)t)->name->name != b->name) continue;
        } else {
            t = jl_typeof(v);
            if (!jl_is_datatype(t) || !jl_subtype(t, (jl_value_t *)jl_function_type)) continue;
        }
        jl_methtable_t *mt = ((jl_datatype_t *)t)->name->mt;
        if (!mt || !mt->defs || !jl_typeis(mt->defs, jl_typemap_entry_type)) continue;
        jl_typemap_entry_t *def = (jl_typemap_entry_t *)mt->defs;
        if ((jl_value_t *)def->next != jl_nothing || !jl_is_method(def->func.value)) continue;
        jl_method_t *meth = def->func.method;
        if (meth->file != file || (uint32_t)meth->line != line) continue;
        if (n == MAXG) { setmsg(err, errlen, "too many closures at one source line"); return NULL; }
        found[n] = ((jl_datatype_t *)t)->name->wrapper;
        nkeys[n] = counters(jl_symbol_name(((jl_datatype_t *)t)->name->name), keys[n]);
        n++;
    }
    /* oldest first (insertion sort: groups are tiny) */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && cmp_counters(keys[j], nkeys[j], keys[j - 1], nkeys[j - 1]) < 0; j--) {
            jl_value_t *tv = found[j]; found[j] = found[j - 1]; found[j - 1] = tv;
            long tk[4]; memcpy(tk, keys[j], sizeof tk); memcpy(keys[j], keys[j - 1], sizeof tk); memcpy(keys[j - 1], tk, sizeof tk);
            int tn = nkeys[j]; nkeys[j] = nkeys[j - 1]; nkeys[j - 1] = tn;
        }
    /* Re-evaluating a definition creates new closures: the newest `count` are the current ones. */
    if ((uint32_t)n < count || ordinal >= count) {
        setmsg(err, errlen, "closure at %s:%u not found (%d there, %u expected)", jl_symbol_name(file), line, n, count);
        return NULL;
    }
    jl_value_t *w = found[n - count + ordinal];
    jl_value_t *u = unwrap(w);
    /* field names, not the layout: a closure capturing a value is parametric, and its body has no layout */
    if (!jl_is_datatype(u) || jl_svec_len(jl_field_names((jl_datatype_t *)u)) != nfields) {
        setmsg(err, errlen, "closure at %s:%u has another shape", jl_symbol_name(file), line);
        return NULL;
    }
    return w;
}

#define ARG(j) arg(c, i, n, (j), depth, err, errlen)
#define NREFS (n->len / 4)

/* A node of the wrong size or with an operand that failed: the operand's own message is the more precise one. */
static jl_value_t *malformed(uint32_t i, const node_t *n, char *err, size_t errlen)
{
    if (!err[0]) setmsg(err, errlen, "node %u: malformed op %u", i, n->op);
    return NULL;
}

/* One builder per op: the node's value, or NULL with err saying why. */
static jl_value_t *build_sym(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    return (jl_value_t *)jl_symbol_n((const char *)n->p, n->len);
}
static jl_value_t *build_str(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    return jl_pchar_to_string((const char *)n->p, n->len);
}

static jl_value_t *build_rootmod(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_module_t *m = find_root_module(n->p, n->len);
    if (!m) setmsg(err, errlen, "module %.*s is not loaded", (int)n->len, n->p);
    return (jl_value_t *)m;
}

/* Operands 0 and 1 of a global or binding node: the module and the name in it. */
static int module_and_name(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen,
                           jl_module_t **m, jl_sym_t **s)
{
    jl_value_t *a, *b;
    if (n->len != 8 || !(a = ARG(0)) || !(b = ARG(1))) return 0;
    if (!jl_is_module(a) || !jl_is_symbol(b)) { setmsg(err, errlen, "node %u: expects a module and a symbol", i); return 0; }
    *m = (jl_module_t *)a; *s = (jl_sym_t *)b;
    return 1;
}

static jl_value_t *build_global(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_module_t *m; jl_sym_t *s;
    if (!module_and_name(c, i, n, depth, err, errlen, &m, &s)) return malformed(i, n, err, errlen);
    jl_value_t *v = jl_get_global(m, s);
    if (!v) setmsg(err, errlen, "%s.%s is not defined", jl_symbol_name(m->name), jl_symbol_name(s));
    return v;
}

/* The binding itself, for code that reads or assigns the global through it; never an operand (see arg). */
static jl_value_t *build_binding(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_module_t *m; jl_sym_t *s;
    if (!module_and_name(c, i, n, depth, err, errlen, &m, &s)) return malformed(i, n, err, errlen);
    return (jl_value_t *)jl_get_binding_wr(m, s, 1);
}

/* All operands of a node whose bytes are a list of node references, resolved into args; their count in *k. */
static int operands(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen,
                    jl_value_t **args, uint32_t *k)
{
    *k = NREFS;
    if (n->len % 4 || *k > MAX_ARGS) { setmsg(err, errlen, "node %u: bad operand list", i); return 0; }
    for (uint32_t j = 0; j < *k; j++) if (!(args[j] = ARG(j))) return 0;
    return 1;
}

/* As operands, for the nodes whose first operand is what the rest are applied to. */
static int head_and_operands(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen,
                             jl_value_t **args, uint32_t *k)
{
    if (!operands(c, i, n, depth, err, errlen, args, k)) return 0;
    if (*k < 1) { setmsg(err, errlen, "node %u: missing head operand", i); return 0; }
    return 1;
}

static jl_value_t *build_tupletype(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *args[MAX_ARGS]; uint32_t k;
    if (!operands(c, i, n, depth, err, errlen, args, &k)) return NULL;
    return (jl_value_t *)jl_apply_tuple_type_v(args, k);
}

static jl_value_t *build_union(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *args[MAX_ARGS]; uint32_t k;
    if (!operands(c, i, n, depth, err, errlen, args, &k)) return NULL;
    return jl_type_union(args, k);
}

static jl_value_t *build_svec(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *args[MAX_ARGS]; uint32_t k;
    if (!operands(c, i, n, depth, err, errlen, args, &k)) return NULL;
    jl_svec_t *s = jl_alloc_svec(k);
    for (uint32_t j = 0; j < k; j++) jl_svecset(s, j, args[j]);
    return (jl_value_t *)s;
}

static jl_value_t *build_apply(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *args[MAX_ARGS]; uint32_t k;
    if (!head_and_operands(c, i, n, depth, err, errlen, args, &k)) return NULL;
    if (!jl_is_type(args[0])) { setmsg(err, errlen, "node %u: applying a non-type", i); return NULL; }
    return jl_apply_type(args[0], args + 1, k - 1);
}

/* jl_call returns NULL when the call throws, leaving err empty: resolve then reports "no value". */
static jl_value_t *build_call(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *args[MAX_ARGS]; uint32_t k;
    if (!head_and_operands(c, i, n, depth, err, errlen, args, &k)) return NULL;
    return jl_call(args[0], args + 1, k - 1);
}

/* Immutable structs only: a new mutable object would not be the one the compiled code refers to. */
static jl_value_t *build_newstruct(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *args[MAX_ARGS]; uint32_t k;
    if (!head_and_operands(c, i, n, depth, err, errlen, args, &k)) return NULL;
    if (!jl_is_datatype(args[0]) || !((jl_datatype_t *)args[0])->layout || jl_datatype_nfields(args[0]) != k - 1 ||
        ((jl_datatype_t *)args[0])->mutabl) {
        setmsg(err, errlen, "node %u: bad struct construction", i); return NULL;
    }
    return jl_new_structv((jl_datatype_t *)args[0], args + 1, k - 1);
}

static jl_value_t *build_typevar(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a, *b, *d;
    if (n->len != 12 || !(a = ARG(0)) || !(b = ARG(1)) || !(d = ARG(2))) return malformed(i, n, err, errlen);
    if (!jl_is_symbol(a)) { setmsg(err, errlen, "node %u: typevar name is not a symbol", i); return NULL; }
    return (jl_value_t *)jl_new_typevar((jl_sym_t *)a, b, d);
}

static jl_value_t *build_unionall(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a, *b;
    if (n->len != 8 || !(a = ARG(0)) || !(b = ARG(1))) return malformed(i, n, err, errlen);
    if (!jl_is_typevar(a)) { setmsg(err, errlen, "node %u: UnionAll without a TypeVar", i); return NULL; }
    return jl_type_unionall((jl_tvar_t *)a, b);
}

/* A bits value: its type, then exactly that type's size of raw bytes. */
static jl_value_t *build_bits(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a;
    if (n->len < 4 || !(a = ARG(0))) return malformed(i, n, err, errlen);
    if (!jl_is_datatype(a) || !((jl_datatype_t *)a)->isbitstype || (uint32_t)jl_datatype_size(a) != n->len - 4) {
        setmsg(err, errlen, "node %u: bits do not fit their type", i); return NULL;
    }
    return jl_new_bits(a, (void *)(n->p + 4));
}

static jl_value_t *build_instance(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a;
    if (n->len != 4 || !(a = ARG(0))) return malformed(i, n, err, errlen);
    if (!jl_is_datatype(a) || !((jl_datatype_t *)a)->instance) { setmsg(err, errlen, "node %u: type has no singleton instance", i); return NULL; }
    return ((jl_datatype_t *)a)->instance;
}

static jl_value_t *build_mi(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a;
    if (n->len != 4 || !(a = ARG(0))) return malformed(i, n, err, errlen);
    return (jl_value_t *)mi_for(a, err, errlen);
}

/* The method whose signature is exactly the operand, not merely one that would be called with it. */
static jl_value_t *build_method(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a;
    if (n->len != 4 || !(a = ARG(0))) return malformed(i, n, err, errlen);
    jl_method_t *m = jl_is_type(a) ? method_for(a) : NULL;
    if (!m || !jl_types_equal((jl_value_t *)m->sig, a)) { setmsg(err, errlen, "node %u: method not found", i); return NULL; }
    return (jl_value_t *)m;
}

/* Entry k of a method's roots, checked against the type the plan recorded for it. */
static jl_value_t *build_methodroot(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a, *b, *d;
    if (n->len != 12 || !(a = ARG(0))) return malformed(i, n, err, errlen);
    if (!jl_is_method(a) || !(b = ARG(1))) { setmsg(err, errlen, "node %u: not a method", i); return NULL; }
    jl_array_t *rs = ((jl_method_t *)a)->roots;
    uint32_t k = rd32(n->p + 8);
    if (!rs || k >= jl_array_len(rs) || !(d = jl_array_ptr_ref(rs, k)) || jl_typeof(d) != b) {
        setmsg(err, errlen, "node %u: method root %u is not there", i, k); return NULL;
    }
    return d;
}

static jl_value_t *build_gensym(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a, *b;
    if (n->len != 24 || !(a = ARG(0)) || !(b = ARG(1))) return malformed(i, n, err, errlen);
    if (!jl_is_module(a) || !jl_is_symbol(b)) { setmsg(err, errlen, "node %u: bad closure location", i); return NULL; }
    return find_gensym((jl_module_t *)a, (jl_sym_t *)b, rd32(n->p + 8), rd32(n->p + 12), rd32(n->p + 16), rd32(n->p + 20), err, errlen);
}

static jl_value_t *build_closure(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a;
    if (n->len != 12 || !(a = ARG(0))) return malformed(i, n, err, errlen);
    if (!jl_is_method(a)) { setmsg(err, errlen, "node %u: closure of a non-method", i); return NULL; }
    return find_closure((jl_method_t *)a, rd32(n->p + 4), rd32(n->p + 8), err, errlen);
}

static jl_value_t *build_kwsorter(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a;
    if (n->len != 4 || !(a = ARG(0))) return malformed(i, n, err, errlen);
    if (!jl_is_datatype(a) || !((jl_datatype_t *)a)->name->mt) { setmsg(err, errlen, "node %u: not a function type", i); return NULL; }
    return jl_typeof(jl_get_kwsorter(a));
}

static jl_value_t *build_typename(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a;
    if (n->len != 4 || !(a = ARG(0))) return malformed(i, n, err, errlen);
    a = unwrap(a);
    if (!jl_is_datatype(a)) { setmsg(err, errlen, "node %u: not a data type", i); return NULL; }
    return (jl_value_t *)((jl_datatype_t *)a)->name;
}

static jl_value_t *build_typeof(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a;
    if (n->len != 4 || !(a = ARG(0))) return malformed(i, n, err, errlen);
    return jl_typeof(a);
}

/* Only pointer fields of immutable values: no allocation, and the object is the one the constant holds. */
static jl_value_t *build_field(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    jl_value_t *a, *b, *d;
    if (n->len != 12 || !(a = ARG(0)) || !(b = ARG(1))) return malformed(i, n, err, errlen);
    jl_datatype_t *t = (jl_datatype_t *)jl_typeof(a);
    uint32_t k = rd32(n->p + 8);
    if (t->mutabl || !t->layout || k >= jl_datatype_nfields(t) || !jl_field_isptr(t, k) ||
        !(d = jl_get_nth_field_noalloc(a, k)) || jl_typeof(d) != b) {
        setmsg(err, errlen, "node %u: field %u is not there", i, k); return NULL;
    }
    return d;
}

static jl_value_t *build(cache_t *c, uint32_t i, const node_t *n, int depth, char *err, size_t errlen)
{
    switch (n->op) {
    case OP_SYM: return build_sym(c, i, n, depth, err, errlen);
    case OP_STR: return build_str(c, i, n, depth, err, errlen);
    case OP_ROOTMOD: return build_rootmod(c, i, n, depth, err, errlen);
    case OP_GLOBAL: return build_global(c, i, n, depth, err, errlen);
    case OP_BINDING: return build_binding(c, i, n, depth, err, errlen);
    case OP_APPLY: return build_apply(c, i, n, depth, err, errlen);
    case OP_TUPLETYPE: return build_tupletype(c, i, n, depth, err, errlen);
    case OP_UNION: return build_union(c, i, n, depth, err, errlen);
    case OP_CALL: return build_call(c, i, n, depth, err, errlen);
    case OP_NEWSTRUCT: return build_newstruct(c, i, n, depth, err, errlen);
    case OP_SVEC: return build_svec(c, i, n, depth, err, errlen);
    case OP_TYPEVAR: return build_typevar(c, i, n, depth, err, errlen);
    case OP_UNIONALL: return build_unionall(c, i, n, depth, err, errlen);
    case OP_BITS: return build_bits(c, i, n, depth, err, errlen);
    case OP_INSTANCE: return build_instance(c, i, n, depth, err, errlen);
    case OP_MI: return build_mi(c, i, n, depth, err, errlen);
    case OP_METHOD: return build_method(c, i, n, depth, err, errlen);
    case OP_METHODROOT: return build_methodroot(c, i, n, depth, err, errlen);
    case OP_GENSYM: return build_gensym(c, i, n, depth, err, errlen);
    case OP_CLOSURE: return build_closure(c, i, n, depth, err, errlen);
    case OP_KWSORTER: return build_kwsorter(c, i, n, depth, err, errlen);
    case OP_TYPENAME: return build_typename(c, i, n, depth, err, errlen);
    case OP_TYPEOF: return build_typeof(c, i, n, depth, err, errlen);
    case OP_FIELD: return build_field(c, i, n, depth, err, errlen);
    }
    return malformed(i, n, err, errlen);
}

static jl_value_t *resolve(cache_t *c, uint32_t i, int depth, char *err, size_t errlen)
{
    if (i >= c->nnodes) { setmsg(err, errlen, "node %u out of range", i); return NULL; }
    if (c->state[i]) return c->vals[i];
    if (depth > MAX_DEPTH) { setmsg(err, errlen, "plan nesting too deep"); return NULL; }
    jl_value_t *v = NULL;
    err[0] = 0;
    JL_TRY {
        v = build(c, i, &c->nodes[i], depth, err, errlen);
    }
    JL_CATCH {
        jl_value_t *e = jl_current_exception();
        const char *msg = "";
        if (jl_typeis(e, jl_errorexception_type) || jl_typeis(e, jl_argumenterror_type))
            if (jl_is_string(jl_fieldref(e, 0))) msg = jl_string_data(jl_fieldref(e, 0));
        setmsg(err, errlen, "node %u: %s %s", i, jl_typeof_str(e), msg);
        jl_exception_clear();
        v = NULL;
    }
    if (!v) {
        if (!err[0]) setmsg(err, errlen, "node %u: no value", i);
        return NULL;
    }
    if (c->nodes[i].op != OP_BINDING) root(v);
    c->vals[i] = v;
    c->state[i] = 1;
    return v;
}

/* ---- linking ---- */

/* Where an import no valid code stands for is linked: never called, since no entry that calls it is installed. */
static void import_trap(void)
{
    jl_error("jlcache: cached code called a system-image method that is not valid in this session");
}

/* The CodeInstance of `mi` valid in this world whose code has the calling convention and return type the cached
 * callers were compiled against, or NULL. */
static jl_code_instance_t *valid_code(jl_method_instance_t *mi, jl_value_t *rt, uint8_t kind)
{
    size_t world = jl_get_world_counter();
    for (jl_code_instance_t *ci = mi->cache; ci; ci = ci->next) {
        if (ci->min_world > world || ci->max_world < world || !ci->specptr.fptr || !jl_egal(ci->rettype, rt)) continue;
        if (kind == ENTRY_SPECSIG ? jlc_code_is_specsig(ci)
                                  : ci->invoke == (kind == ENTRY_FPTR_ARGS ? (jl_callptr_t)jl_fptr_args : (jl_callptr_t)jl_fptr_sparam))
            return ci;
    }
    return NULL;
}

/* The MethodInstance of `sig` if exactly one method matches it in this world, as at capture: a method defined since
 * (a package's or the user's) that matches some of these calls would change what the cached callers dispatch to, and
 * Julia tells only the callers it knows about (backedges), not code linked after the definition. The match carries
 * the method and its static parameters, so no second method-table search is needed. */
static jl_method_instance_t *only_match_mi(jl_value_t *sig, char *err, size_t errlen)
{
    if (!jl_is_type(sig)) { setmsg(err, errlen, "method instance signature is not a type"); return NULL; }
    size_t min = 0, max = ~(size_t)0;
    jl_value_t *ms = jl_matching_methods((jl_tupletype_t *)sig, 1, 0, jl_get_world_counter(), &min, &max);
    if (!ms || !jl_is_array(ms) || jl_array_len(ms) != 1) {
        setmsg(err, errlen, ms && jl_is_array(ms) && jl_array_len(ms) == 0 ? "no method matches a cached signature"
                                                                            : "a method defined in this session also matches its calls");
        return NULL;
    }
    jl_value_t *match = jl_array_ptr_ref((jl_array_t *)ms, 0);
    if (!jl_is_svec(match) || jl_svec_len(match) < 3 || !jl_is_method(jl_svecref(match, 2))) {
        setmsg(err, errlen, "unexpected method match");
        return NULL;
    }
    JL_GC_PUSH1(&ms);
    jl_method_instance_t *mi = mi_with_env(sig, (jl_method_t *)jl_svecref(match, 2), jl_svecref(match, 0), (jl_svec_t *)jl_svecref(match, 1), err, errlen);
    JL_GC_POP();
    return mi;
}

/* Address `jlimport_<n>_spec` links to: the system image's code for import n, or the trap (reason set). */
static void *link_import(cache_t *c, uint32_t n)
{
    import_t *im = &c->imports[n];
    if (im->sig == NO_NODE) return (void *)import_trap;
    char err[160] = "";
    jl_value_t *sig = resolve(c, im->sig, 0, err, sizeof err);
    jl_value_t *rt = sig ? resolve(c, im->rettype, 0, err, sizeof err) : NULL;
    im->mi = rt ? only_match_mi(sig, err, sizeof err) : NULL;
    im->ci = im->mi ? valid_code(im->mi, rt, im->kind) : NULL;
    if (im->ci) return im->ci->specptr.fptr;
    if (!err[0]) setmsg(err, sizeof err, "no valid code of that return type and calling convention (a method it depends on was replaced)");
    setmsg(im->reason, sizeof im->reason, "calls a system-image method (import %u): %s", n, err);
    return (void *)import_trap;
}

static void *resolve_symbol(void *ctx, const char *name)
{
    unsigned n; int end = 0;
    if (sscanf(name, "jlimport_%u_spec%n", &n, &end) == 1 && name[end] == 0)
        return n < ((cache_t *)ctx)->nimports ? link_import(ctx, n) : NULL;
    return dlsym(RTLD_DEFAULT, name);
}

static void *symbol(cache_t *c, const char *name)
{
    return jlc_image_symbol(&c->img, name);
}

static int fill_slot(cache_t *c, uint32_t s, char *err, size_t errlen)
{
    if (c->filled[s]) return 0;
    uint32_t n = rd32(c->slottab + 4 * s);
    if (n == NO_NODE) { setmsg(err, errlen, "slot %u has no description", s); return -1; }
    jl_value_t *v = resolve(c, n, 0, err, errlen);
    if (!v) return -1;
    char name[32]; snprintf(name, sizeof name, "jlgv_%u", s);
    void **addr = symbol(c, name);
    if (!addr) { setmsg(err, errlen, "symbol %s missing from the object", name); return -1; }
    *addr = v;
    c->filled[s] = 1;
    return 0;
}

static int requirements_met(entry_t *e)
{
    const uint8_t *p = e->req;
    for (uint32_t j = 0; j < e->nreq; j++) {
        uint32_t len = rd32(p);
        if (!has_req(p + 4, len)) return 0;
        p += 4 + len;
    }
    return 1;
}

static void install_code(cache_t *c, entry_t *e);

/* Every import the entry's code calls is linked to code still valid now (a method may have been replaced since
 * the load linked it); else the entry's reason says which. */
static int imports_valid(cache_t *c, entry_t *e)
{
    size_t world = jl_get_world_counter();
    for (uint32_t j = 0; j < e->nimp; j++) {
        import_t *im = &c->imports[rd32(e->imp + 4 * j)];
        if (im->ci && im->ci->max_world >= world) continue;
        setmsg(e->reason, sizeof e->reason, "%s", im->ci ? "calls a system-image method this session replaced" : im->reason);
        return 0;
    }
    return 1;
}

/* The CodeInstance install fills in, or NULL if Julia refuses to make one (its own function: a longjmp out of the
 * JL_TRY must not clobber the caller's locals). */
static jl_code_instance_t *inferred_instance(jl_method_instance_t *mi, jl_value_t *rt)
{
    jl_code_instance_t *volatile ci = NULL;
    JL_TRY {
        ci = jl_get_method_inferred(mi, rt, jl_get_world_counter(), ~(size_t)0);
    }
    JL_CATCH {
        jl_exception_clear();
        ci = NULL;
    }
    return ci;
}

/* Installs one entry whose requirements are met: its slots first, then its code. */
static void install(cache_t *c, entry_t *e)
{
    uint64_t t = now_ns();
    if (!imports_valid(c, e)) { e->state = E_FAILED; lap(T_FILL, &t); return; }
    for (uint32_t j = 0; j < e->nslots; j++)
        if (fill_slot(c, rd32(e->slots + 4 * j), e->reason, sizeof e->reason) != 0) {
            e->state = E_FAILED;
            lap(T_FILL, &t);
            return;
        }
    lap(T_FILL, &t);
    install_code(c, e);
    lap(T_INSTALL, &t);
}

static void install_code(cache_t *c, entry_t *e)
{
    char err[256] = "";
    jl_value_t *sig = resolve(c, e->sig, 0, err, sizeof err);
    jl_value_t *rt = sig ? resolve(c, e->rettype, 0, err, sizeof err) : NULL;
    if (!rt) goto fail;
    jl_method_instance_t *mi = mi_for(sig, err, sizeof err);
    if (!mi) goto fail;
    char name[48];
    snprintf(name, sizeof name, "jlentry_%u_spec", e->index);
    void *spec = symbol(c, name);
    snprintf(name, sizeof name, "jlentry_%u_invoke", e->index);
    void *inv = e->kind == ENTRY_SPECSIG ? symbol(c, name) : NULL;
    if (!spec || (e->kind == ENTRY_SPECSIG && !inv)) { setmsg(err, sizeof err, "entry symbols missing from the object"); goto fail; }
    jl_code_instance_t *ci = inferred_instance(mi, rt);
    if (!ci) { setmsg(err, sizeof err, "cannot create a CodeInstance"); goto fail; }
    if (ci->invoke != NULL) { e->state = E_PRESENT; setmsg(e->reason, sizeof e->reason, "already compiled in this session"); return; }
    for (uint32_t j = 0; j < e->nback; j++) {
        char berr[128] = "";
        jl_value_t *callee = resolve(c, rd32(e->back + 4 * j), 0, berr, sizeof berr);
        if (callee && jl_is_method_instance(callee) && callee != (jl_value_t *)mi)
            jl_method_instance_add_backedge((jl_method_instance_t *)callee, mi);
    }
    for (uint32_t j = 0; j < e->nimp; j++) {   /* a later redefinition of an import must reach this entry */
        jl_method_instance_t *callee = c->imports[rd32(e->imp + 4 * j)].mi;
        if (callee != mi) jl_method_instance_add_backedge(callee, mi);
    }
    /* "Inferred, source not kept", as Julia's own cache_result records a method it will not inline. Left NULL,
     * jl_rettype_inferred skips the CodeInstance, so a caller the session compiles re-inferred and recompiled the
     * cached method instead of calling it (two.jl with a new main(): 65 ms of compilation instead of 3). */
    ci->inferred = jl_nothing;
    ci->specptr.fptr = spec;
    ci->isspecsig = e->kind == ENTRY_SPECSIG;
    /* invoke last: once set, other code may call through it */
    ci->invoke = e->kind == ENTRY_SPECSIG ? (jl_callptr_t)inv
               : e->kind == ENTRY_FPTR_ARGS ? (jl_callptr_t)jl_fptr_args : (jl_callptr_t)jl_fptr_sparam;
    e->mi = mi;
    e->state = E_INSTALLED;
    return;
fail:
    e->state = E_FAILED;
    setmsg(e->reason, sizeof e->reason, "%s", err);
}

static int install_ready(void)
{
    int installed = 0;
    for (int k = 0; k < ncaches; k++) {
        cache_t *c = caches[k];
        for (uint32_t j = 0; j < c->nentries; j++) {
            entry_t *e = &c->entries[j];
            if (e->state == E_PENDING && requirements_met(e)) {
                install(c, e);
                installed += e->state == E_INSTALLED;
            }
        }
    }
    return installed;
}

static void free_cache(cache_t *c)
{
    if (!c) return;
    free(c->plan); free(c->nodes); free(c->vals); free(c->state); free(c->filled); free(c->entries); free(c->imports);
    for (uint32_t i = 0; i < c->ncode; i++) free(c->code[i].name);
    free(c->code);
    jlc_image_free(&c->img);   /* only for entries that failed before their code was registered */
    free(c);
}

/* Reads a regular file (never through a symlink, never blocking on a FIFO) whole. NULL with errno set otherwise. */
static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (buf = malloc((size_t)st.st_size + 1)) != NULL) {
        size_t done = 0;
        while (done < (size_t)st.st_size) {
            ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);
            if (n <= 0) break;
            done += (size_t)n;
        }
        *len = done;
    }
    close(fd);
    return buf;
}

/* The file's bytes if their sha256 is `hex` (the digest in the entry's signed metadata); else NULL with `err` set to
 * the store's wording, and *damaged = 1 when the file is there but its bytes differ. Hashing the very buffer that is
 * linked leaves no window between the check and the use, so the loader needs no private copy of the file. */
static uint8_t *read_verified(const char *path, const char *hex, size_t *len, int *damaged, char *err, size_t errlen)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    uint8_t *buf = read_file(path, len);
    if (!buf) { setmsg(err, errlen, "cannot read %s", path); return NULL; }
    uint8_t md[32];
    char got[65];
    jlc_sha256(buf, *len, md);
    for (int i = 0; i < 32; i++) snprintf(got + 2 * i, 3, "%02x", md[i]);
    if (strlen(hex) != 64 || strcmp(got, hex) != 0) {
        setmsg(err, errlen, "%s is corrupted (sha256 mismatch)", name);
        *damaged = 1;
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- backtraces through linked code ----
 * Julia 1.5.3 unwinds with libunwind, which finds unwind info for code outside shared objects only in its dynamic
 * list (_U_dyn_register); RuntimeDyld hands the object's .eh_frame to libgcc's __register_frame instead. So after
 * linking, each function of the object (from its ELF symbol table) is looked up in libgcc's registry for its FDE and
 * the (start, FDE) table is registered with libunwind the way Julia registers its own JIT code. Names: Julia's frame
 * lookup only knows its own JIT's objects, so jlc_frame answers for these addresses (glue.jl turns it into a frame).
 * Any failure here leaves the code without unwind info, exactly as before; it never fails the load. */

static int cmp_range(const void *a, const void *b)
{
    uintptr_t x = ((const struct code_range *)a)->start, y = ((const struct code_range *)b)->start;
    return x < y ? -1 : x > y;
}

/* Index into c->entries of the entry a symbol "jlentry_<k>_<kind>" belongs to, or -1. */
static int32_t entry_of_symbol(cache_t *c, const char *name)
{
    if (strncmp(name, "jlentry_", 8) != 0) return -1;
    const char *p = name + 8;
    uint32_t k = 0;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) k = k * 10 + (uint32_t)(*p - '0');
    if (*p++ != '_' || *p < 'a' || *p > 'z') return -1;
    for (; *p; p++) if (*p < 'a' || *p > 'z') return -1;
    if (k < c->nentries && c->entries[k].index == k) return (int32_t)k;
    for (uint32_t j = 0; j < c->nentries; j++) if (c->entries[j].index == k) return (int32_t)j;
    return -1;
}

/* The object's function symbols at their linked addresses (functions of sections not loaded are left out). */
static void collect_functions(cache_t *c, const uint8_t *obj, size_t len)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)obj;
    if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > len || eh->e_shnum > (len - eh->e_shoff) / sizeof(Elf64_Shdr)) return;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(obj + eh->e_shoff);
    const Elf64_Shdr *symtab = NULL;
    for (unsigned i = 0; i < eh->e_shnum; i++) if (sh[i].sh_type == SHT_SYMTAB) symtab = &sh[i];
    if (!symtab || symtab->sh_link >= eh->e_shnum || symtab->sh_entsize != sizeof(Elf64_Sym)) return;
    const Elf64_Shdr *strtab = &sh[symtab->sh_link];
    if (symtab->sh_offset > len || symtab->sh_size > len - symtab->sh_offset ||
        strtab->sh_offset > len || strtab->sh_size > len - strtab->sh_offset || strtab->sh_size == 0) return;
    const Elf64_Sym *sym = (const Elf64_Sym *)(obj + symtab->sh_offset);
    size_t nsym = symtab->sh_size / sizeof(Elf64_Sym);
    const char *str = (const char *)(obj + strtab->sh_offset);
    if (str[strtab->sh_size - 1] != 0) return;
    const uintptr_t *base = c->img.secaddr;   /* section load addresses from the linker */
    c->code = calloc(nsym + 1, sizeof(struct code_range));
    if (!c->code || c->img.nsec != eh->e_shnum) return;
    for (size_t i = 0; i < nsym; i++) {
        unsigned sec = sym[i].st_shndx;
        if (ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC || sym[i].st_size == 0 || sec >= eh->e_shnum || !base[sec] ||
            sym[i].st_name >= strtab->sh_size) continue;
        struct code_range *r = &c->code[c->ncode];
        const char *name = str + sym[i].st_name;
        r->entry = entry_of_symbol(c, name);
        if (!(r->name = strdup(name))) continue;
        r->start = base[sec] + sym[i].st_value;
        r->end = r->start + sym[i].st_size;
        c->ncode++;
    }
    qsort(c->code, c->ncode, sizeof(struct code_range), cmp_range);
}

static void register_unwind_info(cache_t *c)
{
    typedef const void *(*find_fde_t)(void *pc, struct jlc_dwarf_eh_bases *bases);
    typedef void (*dyn_register_t)(jlc_unw_dyn_info *di);
    void *gcc = dlopen("libgcc_s.so.1", RTLD_LAZY | RTLD_NOLOAD);
    find_fde_t find_fde = gcc ? (find_fde_t)dlsym(gcc, "_Unwind_Find_FDE") : NULL;
    dyn_register_t dyn_register = (dyn_register_t)dlsym(RTLD_DEFAULT, "_U_dyn_register");
    if (gcc) dlclose(gcc);
    if (!find_fde || !dyn_register || c->ncode == 0) return;
    jlc_unw_table_entry *table = calloc(c->ncode, sizeof *table);
    jlc_unw_dyn_info *di = calloc(1, sizeof *di);
    uintptr_t *fdes = calloc(c->ncode, sizeof *fdes);
    if (!table || !di || !fdes) goto fail;
    uintptr_t segbase = c->code[0].start;
    for (uint32_t i = 0; i < c->ncode; i++) {
        struct jlc_dwarf_eh_bases bases = { 0 };
        const void *fde = find_fde((void *)c->code[i].start, &bases);
        fdes[i] = fde && (uintptr_t)bases.func == c->code[i].start ? (uintptr_t)fde : 0;
        if (fdes[i] && fdes[i] < segbase) segbase = fdes[i];
    }
    size_t n = 0;
    for (uint32_t i = 0; i < c->ncode; i++) {
        if (!fdes[i] || (i > 0 && c->code[i].start == c->code[i - 1].start)) continue;  /* aliases share an FDE */
        uintptr_t off_ip = c->code[i].start - segbase, off_fde = fdes[i] - segbase;
        if (off_ip > INT32_MAX || off_fde > INT32_MAX) goto fail;   /* libunwind's table holds 32-bit offsets */
        table[n].start_ip_offset = (int32_t)off_ip;
        table[n].fde_offset = (int32_t)off_fde;
        n++;
    }
    if (n == 0) goto fail;
    di->start_ip = c->code[0].start;
    di->end_ip = c->code[c->ncode - 1].end;
    di->format = JLC_UNW_INFO_FORMAT_REMOTE_TABLE;
    di->rti.segbase = segbase;
    di->rti.table_len = n * sizeof *table / sizeof(jlc_unw_word_t);
    di->rti.table_data = (jlc_unw_word_t)(uintptr_t)table;
    free(fdes);
    dyn_register(di);   /* table and di stay: libunwind keeps pointers to them, like the code they describe */
    return;
fail:
    free(table); free(di); free(fdes);
}

static void describe_code(cache_t *c, const uint8_t *obj, size_t len)
{
    collect_functions(c, obj, len);
    register_unwind_info(c);
}

/* A Julia function name from an object symbol: "julia_bt_inner_14376" -> "bt_inner" (prefixes of Julia's codegen,
 * its unique-number suffix and the capture's spelling of '#' and '!' undone). Other symbols stay as they are. */
static void plain_name(const char *sym, char *out, size_t len)
{
    static const char *prefixes[] = { "julia_", "japi1_", "japi3_", "jfptr_", "jlcapi_", "jlplt_" };
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(sym, prefixes[i], strlen(prefixes[i])) == 0) { sym += strlen(prefixes[i]); break; }
    size_t n = strlen(sym), k = n;
    while (k > 0 && sym[k - 1] >= '0' && sym[k - 1] <= '9') k--;
    if (k > 1 && k < n && sym[k - 1] == '_') n = k - 1;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < len; ) {
        if (strncmp(sym + i, "YY.", 3) == 0) { out[o++] = '#'; i += 3; }
        else if (strncmp(sym + i, "NOT.", 4) == 0) { out[o++] = '!'; i += 4; }
        else out[o++] = sym[i++];
    }
    if (len) out[o] = 0;
}

/* The MethodInstance an internal function of cache c was compiled for: among the user callees the plan names
 * (backedges), the only one whose method has this name; NULL if none or ambiguous. */
static jl_method_instance_t *callee_named(cache_t *c, const char *name)
{
    jl_method_instance_t *found = NULL;
    for (uint32_t j = 0; j < c->nentries; j++)
        for (uint32_t b = 0; b < c->entries[j].nback; b++) {
            uint32_t node = rd32(c->entries[j].back + 4 * b);
            jl_value_t *v = c->state[node] ? c->vals[node] : NULL;
            if (!v || !jl_is_method_instance(v) || !jl_is_method(((jl_method_instance_t *)v)->def.value)) continue;
            if (strcmp(jl_symbol_name(((jl_method_instance_t *)v)->def.method->name), name) != 0) continue;
            if (found && found != (jl_method_instance_t *)v) return NULL;
            found = (jl_method_instance_t *)v;
        }
    return found;
}

/* The function of linked code containing `ip`: its name and, when known, the MethodInstance it was compiled for
 * (an installed entry, or a user callee the plan names; rooted by its method). Returns 0; 1 for a calling-convention
 * wrapper (jfptr_*, jlentry_*_invoke: Julia's own traces show no frame for those); -1 if `ip` is not in any cache. */
JL_DLLEXPORT int jlc_frame(uintptr_t ip, char *name, size_t len, void **mi)
{
    *mi = NULL;
    for (int k = 0; k < ncaches; k++) {
        cache_t *c = caches[k];
        size_t lo = 0, hi = c->ncode;
        while (lo < hi) {   /* last range starting at or before ip */
            size_t mid = (lo + hi) / 2;
            if (c->code[mid].start <= ip) lo = mid + 1; else hi = mid;
        }
        if (lo == 0 || ip >= c->code[lo - 1].end) continue;
        const struct code_range *r = &c->code[lo - 1];
        size_t n = strlen(r->name);
        if (strncmp(r->name, "jfptr_", 6) == 0 || (r->entry >= 0 && n > 7 && strcmp(r->name + n - 7, "_invoke") == 0)) return 1;
        plain_name(r->name, name, len);
        *mi = r->entry >= 0 ? c->entries[r->entry].mi : callee_named(c, name);
        if (*mi && jl_is_method(((jl_method_instance_t *)*mi)->def.value))
            setmsg(name, len, "%s", jl_symbol_name(((jl_method_instance_t *)*mi)->def.method->name));
        return 0;
    }
    return -1;
}

/* ---- API for glue.jl ---- */

/* Once per process: the Vector{Any} that roots every object the loader creates. */
JL_DLLEXPORT void jlc_init(jl_value_t *rootvec)
{
    if (jl_is_array(rootvec)) roots = (jl_array_t *)rootvec;
}

/* Links one cache entry (object + plan, each checked against its sha256). Returns the number of entries, or -1 with
 * `err` set (-2: a file's bytes are not the ones its metadata names, the entry is damaged); nothing of the entry is
 * installed then. Entries with no requirements are installed right away. */
JL_DLLEXPORT int jlc_load(const char *name, const char *objpath, const char *objsha, const char *planpath,
                          const char *plansha, char *err, size_t errlen)
{
    if (!roots) { setmsg(err, errlen, "jlc_init was not called"); return -1; }
    cache_t *c = calloc(1, sizeof(cache_t));
    size_t objlen = 0;
    uint8_t *obj = NULL;
    if (!c) { setmsg(err, errlen, "out of memory"); return -1; }
    snprintf(c->name, sizeof c->name, "%s", name);
    uint64_t t = now_ns();
    int damaged = 0;
    if (!(c->plan = read_verified(planpath, plansha, &c->planlen, &damaged, err, errlen))) goto fail;
    if (!(obj = read_verified(objpath, objsha, &objlen, &damaged, err, errlen))) goto fail;
    lap(T_READ, &t);
    if (parse_plan(c, err, errlen) != 0) goto fail;
    if (objlen < 64 || memcmp(obj, "\177ELF\2\1\1", 7) != 0 || obj[16] != 1 /* ET_REL */ || obj[18] != 62 /* x86-64 */) {
        setmsg(err, errlen, "%s is not a relocatable x86-64 ELF object", objpath); goto fail;
    }
    lap(T_PARSE, &t);
    struct jlc_resolver resolver = { resolve_symbol, c };
    if (jlc_link(obj, objlen, &resolver, &c->img, err, errlen) != 0) goto fail;
    if (c->nentries > 0) {
        char sym[48]; snprintf(sym, sizeof sym, "jlentry_%u_spec", c->entries[0].index);
        if (!symbol(c, sym)) { setmsg(err, errlen, "link: entry symbols not found in the object"); goto fail; }
    }
    jlc_image_register_frames(&c->img);
    lap(T_LINK, &t);
    describe_code(c, obj, objlen);   /* best effort: without it only backtraces through this code lose frames */
    lap(T_DESCRIBE, &t);
    free(obj); obj = NULL;
    caches = realloc(caches, sizeof(cache_t *) * (ncaches + 1));
    caches[ncaches++] = c;
    install_ready();
    return (int)c->nentries;
fail:
    free(obj);
    free_cache(c);
    return damaged ? -2 : -1;
}

/* A requirement ("stmt:<hash>" or "pkg:<name>:<digest>") became true in this session. Returns the number of
 * entries installed because of it. */
JL_DLLEXPORT int jlc_satisfy(const char *req)
{
    size_t len = strlen(req);
    if (!has_req((const uint8_t *)req, (uint32_t)len)) {
        if (nsatisfied == capsatisfied) {
            capsatisfied = capsatisfied ? 2 * capsatisfied : 64;
            satisfied = realloc(satisfied, sizeof(char *) * capsatisfied);
        }
        satisfied[nsatisfied++] = strdup(req);
    }
    return install_ready();
}

/* What Julia's own invalidation does when a method is replaced (gf.c invalidate_method_instance, not exported in
 * 1.5): end the validity of every CodeInstance of `mi` at `max_world` and recurse into its callers (backedges),
 * so code compiled in the session that inlined or called cached code is recompiled too. */
static void invalidate(jl_method_instance_t *mi, size_t max_world, int depth)
{
    if (depth > 1000) return;
    for (jl_code_instance_t *ci = mi->cache; ci; ci = ci->next)
        if (ci->max_world > max_world) ci->max_world = max_world;
    jl_array_t *back = mi->backedges;
    if (back) {
        mi->backedges = NULL;
        for (size_t i = 0; i < jl_array_len(back); i++)
            invalidate((jl_method_instance_t *)jl_array_ptr_ref(back, i), max_world, depth + 1);
    }
}

static int needs(entry_t *e, const char *req, size_t len)
{
    const uint8_t *p = e->req;
    for (uint32_t j = 0; j < e->nreq; j++) {
        uint32_t n = rd32(p);
        if (n == len && memcmp(p + 4, req, len) == 0) return 1;
        p += 4 + n;
    }
    return 0;
}

/* A requirement stopped being true (its statement was replaced by a new definition of the same name): entries
 * that need it are never installed from now on, and installed ones stop at the current world minus one, so the
 * next call compiles the new code. Returns the number of installed entries invalidated. */
JL_DLLEXPORT int jlc_unsatisfy(const char *req)
{
    size_t len = strlen(req);
    for (int i = 0; i < nsatisfied; i++)
        if (strcmp(satisfied[i], req) == 0) { free(satisfied[i]); satisfied[i] = satisfied[--nsatisfied]; break; }
    size_t max_world = jl_get_world_counter() - 1;
    int n = 0;
    for (int k = 0; k < ncaches; k++)
        for (uint32_t j = 0; j < caches[k]->nentries; j++) {
            entry_t *e = &caches[k]->entries[j];
            if ((e->state != E_INSTALLED && e->state != E_PENDING) || !needs(e, req, len)) continue;
            if (e->state == E_INSTALLED) { invalidate(e->mi, max_world, 0); n++; }
            e->state = E_INVALIDATED;
            setmsg(e->reason, sizeof e->reason, "a definition it depends on was replaced in this session");
        }
    return n;
}

/* 1 if an entry not installed yet has a requirement starting with `prefix` (e.g. "pkg:Example:"), else 0: the glue
 * digests a package's sources only when some entry waits for it. */
JL_DLLEXPORT int jlc_wants(const char *prefix)
{
    size_t len = strlen(prefix);
    for (int k = 0; k < ncaches; k++)
        for (uint32_t j = 0; j < caches[k]->nentries; j++) {
            entry_t *e = &caches[k]->entries[j];
            if (e->state != E_PENDING) continue;
            const uint8_t *p = e->req;
            for (uint32_t r = 0; r < e->nreq; p += 4 + rd32(p), r++)
                if (rd32(p) >= len && memcmp(p + 4, prefix, len) == 0) return 1;
        }
    return 0;
}

/* Counts over all loaded caches. */
JL_DLLEXPORT void jlc_counts(int *installed, int *pending, int *failed)
{
    *installed = *pending = *failed = 0;
    for (int k = 0; k < ncaches; k++)
        for (uint32_t j = 0; j < caches[k]->nentries; j++) {
            int s = caches[k]->entries[j].state;
            if (s == E_INSTALLED) (*installed)++;
            else if (s == E_PENDING) (*pending)++;
            else if (s == E_FAILED) (*failed)++;
        }
}

/* Entry `j` of cache `k`: state (0 pending, 1 installed, 2 failed, 3 already compiled) and reason; -1 if none. */
JL_DLLEXPORT int jlc_entry(int k, int j, char *reason, size_t len)
{
    if (k < 0 || k >= ncaches || j < 0 || (uint32_t)j >= caches[k]->nentries) return -1;
    setmsg(reason, len, "%s", caches[k]->entries[j].reason);
    return caches[k]->entries[j].state;
}
/* Milliseconds spent per load step since the process started (T_* order): read (+ sha256), parse, link,
 * describe (unwind tables), fill, install. Fills at most n values; returns how many steps there are. */
JL_DLLEXPORT int jlc_step_ms(double *out, int n)
{
    for (int k = 0; k < T_NSTEPS && k < n; k++) out[k] = step_ns[k] / 1e6;
    return T_NSTEPS;
}
JL_DLLEXPORT int jlc_ncaches(void) { return ncaches; }
JL_DLLEXPORT const char *jlc_cache_name(int k) { return k >= 0 && k < ncaches ? caches[k]->name : ""; }
