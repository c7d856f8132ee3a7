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
