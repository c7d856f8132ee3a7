/* Julia-1.5.3-specific internals used by the C loader: unexported-in-julia.h entry points of libjulia and
 * layout facts checked at compile time. Shared file: keep it flat, grouped by topic. */
#ifndef JLCACHE_JULIA_153_H
#define JLCACHE_JULIA_153_H
#include <stddef.h>
#include <stdint.h>
#include <julia.h>

#if JULIA_VERSION_MAJOR != 1 || JULIA_VERSION_MINOR != 5
#error "built against the wrong julia.h: Julia 1.5 is required"
#endif

/* ---- libjulia entry points exported (JL_DLLEXPORT) but not declared in julia.h ---- */
/* Most specific method for a signature: a jl_typemap_entry_t (->func.method), or jl_nothing. */
jl_value_t *jl_gf_invoke_lookup(jl_value_t *types, size_t world);
/* svec(intersection, env): env holds the values of b's static parameters, outermost first. Two arguments and a pair
 * (src/subtype.c); the three-argument form is julia_internal.h's jl_type_intersection_env, not exported. */
jl_svec_t *jl_type_intersection_with_env(jl_value_t *a, jl_value_t *b);
jl_method_instance_t *jl_specializations_get_linfo(jl_method_t *m, jl_value_t *type, jl_svec_t *sparams);
/* The CodeInstance of mi for rettype valid in [min_world, max_world], created if missing. */
jl_code_instance_t *jl_get_method_inferred(jl_method_instance_t *mi, jl_value_t *rettype, size_t min_world, size_t max_world);
/* The methods matching `types` in `world`: an Array of svec(intersection, env, method), or jl_false when more than
 * `lim` match (src/gf.c; Base._methods_by_ftype's ccall). */
jl_value_t *jl_matching_methods(jl_tupletype_t *types, int lim, int include_ambiguous, size_t world, size_t *min_valid, size_t *max_valid);
/* Record that `caller` was compiled against `callee`: redefining callee's method invalidates caller. */
void jl_method_instance_add_backedge(jl_method_instance_t *callee, jl_method_instance_t *caller);

/* ---- jl_code_instance_t (julia.h 1.5.3): the fields the loader sets; offsets as FINDINGS measured ---- */
/* Whether ci's code has the specsig convention. The 1.5.3 system image marks every CodeInstance it holds code for
 * isspecsig, jlcall-convention code too (jl_update_all_fptrs), so the invoke pointer decides. */
static inline int jlc_code_is_specsig(const jl_code_instance_t *ci)
{
    jl_callptr_t inv = ci->invoke;
    return ci->isspecsig && inv && inv != (jl_callptr_t)jl_fptr_args && inv != (jl_callptr_t)jl_fptr_sparam;
}
_Static_assert(offsetof(jl_code_instance_t, rettype) == 32, "jl_code_instance_t layout");
_Static_assert(offsetof(jl_code_instance_t, isspecsig) == 56, "jl_code_instance_t layout");
_Static_assert(offsetof(jl_code_instance_t, invoke) == 64, "jl_code_instance_t layout");
_Static_assert(offsetof(jl_code_instance_t, specptr) == 72, "jl_code_instance_t layout");

/* ---- jl_module_t bindings: an htable_t of (jl_sym_t*, jl_binding_t*) pairs; empty slots hold HT_NOTFOUND ---- */
#define JLC_HT_NOTFOUND ((void *)1)

/* ---- thread-local state: lowered code reads the PTLS at %fs:0 + this offset ---- */
#include <pthread.h>
static inline int64_t jlc_tls_offset(void) { return (int64_t)((uintptr_t)jl_get_ptls_states() - (uintptr_t)pthread_self()); }

/* ---- unwinding JIT-linked code: what Julia 1.5.3's backtraces consult (src/debuginfo.cpp register_eh_frames) ----
 * Julia 1.5.3 on Linux walks frames with libunwind (the bullseye 1.3.2 the session runs with), which finds code
 * outside shared objects only through `_U_dyn_register`; RuntimeDyld registers an object's .eh_frame with libgcc's
 * `__register_frame` only, which libunwind never reads. Layouts from libunwind 1.3.2 (libunwind-dynamic.h, x86-64). */
typedef uint64_t jlc_unw_word_t;
typedef struct jlc_unw_dyn_info {
    struct jlc_unw_dyn_info *next, *prev;
    jlc_unw_word_t start_ip, end_ip;    /* [start_ip, end_ip): code this table describes */
    jlc_unw_word_t gp;
    int32_t format;                     /* JLC_UNW_INFO_FORMAT_REMOTE_TABLE */
    int32_t pad;
    struct {
        jlc_unw_word_t name_ptr;
        jlc_unw_word_t segbase;         /* table offsets are relative to this */
        jlc_unw_word_t table_len;       /* in unw_word_t units */
        jlc_unw_word_t table_data;      /* jlc_unw_table_entry[], sorted by start_ip_offset */
    } rti;
} jlc_unw_dyn_info;
typedef struct { int32_t start_ip_offset, fde_offset; } jlc_unw_table_entry;
#define JLC_UNW_INFO_FORMAT_REMOTE_TABLE 2
/* libgcc's lookup of what __register_frame registered: the FDE covering pc, with bases.func its function start. */
struct jlc_dwarf_eh_bases { void *tbase, *dbase, *func; };

#endif
