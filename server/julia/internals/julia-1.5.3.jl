# Julia 1.5.3 internals: struct offsets, unexported layouts and ccall signatures that only hold for this
# exact build. Every Julia file of the project that touches runtime internals includes this file (into its own
# module) instead of writing offsets or ccalls inline, so a port to another Julia version changes one place.
# Keep it flat: constants and small ccall wrappers, grouped by topic. Verified against /usr/include/julia
# (libjulia-dev 1.5.3) and the running libjulia.so.1.5.

# ---------------------------------------------------------------------------------------------------------
# Streams: jl_uv_file_t (julia.h) lets jl_printf/jl_uv_puts write synchronously to a plain fd.
#   typedef struct { void *data; uv_loop_t *loop; uv_handle_type type; uv_os_fd_t file; } jl_uv_file_t;
const JL_UV_FILE_T_SIZE = 24
const JL_UV_FILE_T_TYPE_OFFSET = 16     # uv_handle_type (C int)
const JL_UV_FILE_T_FILE_OFFSET = 20     # uv_os_fd_t (C int)
const UV_FILE = Cint(17)                # uv_handle_type enum value of UV_FILE in Julia's bundled libuv

# ---------------------------------------------------------------------------------------------------------
# Compile log. jl_dump_compiles(stream) makes codegen print one line per MethodInstance it compiles:
#   "<nanoseconds>\t\"<specTypes shown by jl_static_show>\"\n"; C_NULL turns it off.
jl_dump_compiles(stream::Ptr{Cvoid}) = ccall(:jl_dump_compiles, Cvoid, (Ptr{Cvoid},), stream)

# ---------------------------------------------------------------------------------------------------------
# Threads / TLS. Code compiled for this build reaches the thread state at %fs:0 + this offset (negative);
# cached native code is only valid where the offset is the same.
jl_tls_offset() = reinterpret(Int, ccall(:jl_get_ptls_states, UInt, ()) - ccall(:pthread_self, UInt, ()))

# ---------------------------------------------------------------------------------------------------------
# CPU. Julia 1.5.3 exports jl_get_cpu_name (same as Sys.CPU_NAME) but no feature query; LLVM's host feature
# string ("+sse2,-avx512er,...") comes from the libLLVM that libjulia is linked against.
const LIBLLVM_NAME = "libLLVM-9.so.1"
function llvm_host_cpu_features()
    p = ccall((:LLVMGetHostCPUFeatures, LIBLLVM_NAME), Ptr{UInt8}, ())
    s = unsafe_string(p)
    ccall((:LLVMDisposeMessage, LIBLLVM_NAME), Cvoid, (Ptr{UInt8},), p)
    return s
end

# ---------------------------------------------------------------------------------------------------------
# Native code capture (capture worker). LLVM C API constants for the module jl_create_native returns.
const LLVM_EXTERNAL_LINKAGE = 0
const LLVM_DEFAULT_VISIBILITY = 0

# jl_native_code_desc_t (aotcompile.cpp), returned by jl_create_native:
#   +0 llvm::Module*, +8 std::vector<GlobalValue*> jl_sysimg_fvars, +32 std::vector<GlobalValue*> jl_sysimg_gvars,
#   +56 std::map<jl_code_instance_t*, ...> (unused here), +104 std::map<void*, int32_t> jl_value_to_llvm
#   (Julia object or jl_binding_t* -> 1-based index into gvars).
const NATIVE_FVARS_OFFSET = 8
const NATIVE_GVARS_OFFSET = 32
const NATIVE_VALUE_TO_LLVM_OFFSET = 104
# libstdc++ std::map<K,V> (_Rb_tree): header node at +8 (root = +16), node count at +40;
# each node: left +16, right +24, key +32, value +40.
const STDMAP_ROOT = 16
const STDMAP_COUNT = 40
const RBNODE_LEFT = 16
const RBNODE_RIGHT = 24
const RBNODE_KEY = 32
const RBNODE_VALUE = 40
# Name prefix of a gvar that holds a jl_binding_t* (not a jl_value_t*): codegen names it "*" + path, LLVM mangles "*" to "MUL."
const GVAR_BINDING_PREFIX = "MUL."
# jl_binding_t: name +0, value +8, globalref +16, owner +24
const BINDING_NAME_OFFSET = 0
const BINDING_OWNER_OFFSET = 24

# jl_create_native(methods::Vector{MethodInstance}, params, policy); policy 1 = imaging (relocatable slots).
const NATIVE_POLICY_IMAGING = Cint(1)
create_native(mis::Vector{Core.MethodInstance}, params::Base.CodegenParams) =
    ccall(:jl_create_native, Ptr{Cvoid}, (Vector{Core.MethodInstance}, Base.CodegenParams, Cint), mis, params, NATIVE_POLICY_IMAGING)
native_llvm_module(nc::Ptr{Cvoid}) = ccall(:jl_get_llvm_module, Ptr{Cvoid}, (Ptr{Cvoid},), nc)
# jl_get_function_id: fid > 0 = index into fvars (1-based) of the jlcall wrapper, -1 = jl_fptr_args, -2 = jl_fptr_sparam;
# sfid > 0 = the specsig function.
function native_function_id(nc::Ptr{Cvoid}, ci::Core.CodeInstance)
    fid = Ref{Int32}(0); sfid = Ref{Int32}(0)
    ccall(:jl_get_function_id, Cvoid, (Ptr{Cvoid}, Any, Ptr{Int32}, Ptr{Int32}), nc, ci, fid, sfid)
    return fid[], sfid[]
end
# Julia's own optimization pipeline incl. lowering of its intrinsics (GC frames, PTLS, write barriers).
add_julia_passes(pm::Ptr{Cvoid}, opt::Integer) = ccall(:jl_add_optimization_passes, Cvoid, (Ptr{Cvoid}, Cint, Cint), pm, opt, 1)

# Code instances and the compile log
rettype_inferred(mi::Core.MethodInstance, world::UInt) =
    ccall(:jl_rettype_inferred, Any, (Any, UInt, UInt), mi, world, world)
world_counter() = ccall(:jl_get_world_counter, UInt, ())
# Whether ci's code has the specsig convention. The 1.5.3 system image marks every CodeInstance it holds code for
# isspecsig, jlcall-convention code too (jl_update_all_fptrs), so the invoke pointer decides (as jlc_code_is_specsig
# in julia-1.5.3.h).
code_is_specsig(ci::Core.CodeInstance) =
    ci.isspecsig && ci.invoke != C_NULL && ci.invoke != cglobal(:jl_fptr_args) && ci.invoke != cglobal(:jl_fptr_sparam)
# Dispatch widens an argument it does not specialize on to jl_typetype_type (`Type{T} where T`), an object of its
# own, not the `Type` wrapper, though the two are `===` (UnionAll is immutable). MethodInstances are cached by
# object: code installed on a signature holding the wrapper is never found by dispatch, so identity is compared.
typetype_type() = unsafe_pointer_to_objref(unsafe_load(Ptr{Ptr{Cvoid}}(cglobal(:jl_typetype_type))))
same_object(@nospecialize(a), @nospecialize(b)) =
    ccall(:jl_value_ptr, Ptr{Cvoid}, (Any,), a) == ccall(:jl_value_ptr, Ptr{Cvoid}, (Any,), b)
# jl_gf_invoke_lookup returns the TypeMapEntry of the most specific method (or nothing).
function method_for_signature(sig::Type, world::UInt)
    e = ccall(:jl_gf_invoke_lookup, Any, (Any, UInt), sig, world)
    e === nothing ? nothing : (e::Core.TypeMapEntry).func::Method
end
# Whether `sig` is a signature dispatch itself compiles for `m` (e.g. `Tuple{typeof(sprint), Function, T}`:
# arguments Julia does not specialize on are widened), so a MethodInstance for it is found again by dispatch.
isa_compileable_sig(sig::Type, m::Method) = ccall(:jl_isa_compileable_sig, Cint, (Any, Any), sig, m) != 0
uncompressed_ir(m::Method, ci::Core.CodeInstance) =
    ci.inferred isa Vector{UInt8} ? ccall(:jl_uncompress_ir, Any, (Any, Ptr{Cvoid}, Any), m, C_NULL, ci.inferred)::Core.CodeInfo : ci.inferred

# libstdc++ containers inside jl_native_code_desc_t
function read_ptr_vector(p::Ptr{UInt8})
    b = unsafe_load(Ptr{Ptr{Ptr{Cvoid}}}(p)); e = unsafe_load(Ptr{Ptr{Ptr{Cvoid}}}(p + 8))
    return Ptr{Cvoid}[unsafe_load(b, i) for i in 1:div(Int(e - b), 8)]
end
# std::map<void*, int32_t> -> Dict(key => value)
function read_ptr_int32_map(p::Ptr{UInt8})
    out = Dict{Ptr{Cvoid},Int32}()
    todo = Ptr{UInt8}[]
    root = unsafe_load(Ptr{Ptr{UInt8}}(p + STDMAP_ROOT))
    root != C_NULL && push!(todo, root)
    while !isempty(todo)
        n = pop!(todo)
        out[unsafe_load(Ptr{Ptr{Cvoid}}(n + RBNODE_KEY))] = unsafe_load(Ptr{Int32}(n + RBNODE_VALUE))
        for off in (RBNODE_LEFT, RBNODE_RIGHT)
            c = unsafe_load(Ptr{Ptr{UInt8}}(n + off)); c != C_NULL && push!(todo, c)
        end
    end
    length(out) == unsafe_load(Ptr{Csize_t}(p + STDMAP_COUNT)) || error("jl_value_to_llvm walk mismatch (layout changed?)")
    return out
end
native_gvars(nc::Ptr{Cvoid}) = read_ptr_vector(Ptr{UInt8}(nc) + NATIVE_GVARS_OFFSET)
native_fvars(nc::Ptr{Cvoid}) = read_ptr_vector(Ptr{UInt8}(nc) + NATIVE_FVARS_OFFSET)
native_value_map(nc::Ptr{Cvoid}) = read_ptr_int32_map(Ptr{UInt8}(nc) + NATIVE_VALUE_TO_LLVM_OFFSET)
binding_name(b::Ptr{Cvoid}) = unsafe_pointer_to_objref(unsafe_load(Ptr{Ptr{Cvoid}}(b + BINDING_NAME_OFFSET)))::Symbol
binding_owner(b::Ptr{Cvoid}) = unsafe_pointer_to_objref(unsafe_load(Ptr{Ptr{Cvoid}}(b + BINDING_OWNER_OFFSET)))::Module
