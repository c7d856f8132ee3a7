# Switches the live session's codegen into imaging mode for one jl_create_native call, so the session's own
# MethodInstances come out as relocatable code (every Julia object through a global slot), as in `--output-o`.
# Only for a libjulia listed in internals/verified-builds.jl, after checking every fact about it in this process.

"Base address and file of the libjulia that defines jl_create_native in this process."
function libjulia_image()
    info = Ref{DlInfo}()
    ccall(:dladdr, Cint, (Ptr{Cvoid}, Ref{DlInfo}), cglobal(:jl_create_native), info) != 0 || error("dladdr failed")
    return UInt(info[].fbase), unsafe_string(info[].fname)
end

file_sha256(path::String) = bytes2hex(open(io -> sha256(io), path))

"Why `b` does not describe the loaded library at `base`, or nothing when every fact holds."
function build_mismatch(b::VerifiedBuild, base::UInt, path::String)
    lib = Libdl.dlopen(path)
    for (sym, off) in b.exported
        UInt(Libdl.dlsym(lib, sym)) - base == off || return "$sym is not at its verified offset"
    end
    for (off, opcode, dispat, len) in b.anchors
        code = Ptr{UInt8}(base + off)
        all(i -> unsafe_load(code, i) == opcode[i], 1:length(opcode)) || return "instruction bytes differ at $(repr(off))"
        target = base + off + len + unsafe_load(Ptr{Int32}(code + dispat))
        target == base + b.imaging_mode || return "the instruction at $(repr(off)) addresses another variable"
    end
    unsafe_load(Ptr{UInt8}(base + b.imaging_mode)) <= 1 || return "imaging_mode does not hold a bool"
    return nothing
end

const IMAGING_FLAG = Ref{Ptr{UInt8}}(C_NULL)
const IMAGING_REFUSAL = Ref{Union{Nothing,String}}(nothing)

"""
Why this session cannot capture in process (nothing when it can). The library checks run once; the per-session
conditions every time, since options cannot change but a refusal must name its reason. `known` is the server's
sha256 of a libjulia file (its digest cache has it from the cache identity), used if it names the file this
process loaded, so the first save does not hash the library again; the checks in memory run either way.
"""
function inprocess_refusal(known::Union{Nothing,Tuple{String,String}} = nothing)
    Threads.nthreads() == 1 || return "Julia runs $(Threads.nthreads()) threads: the codegen flag is process-wide and its lock is not exported"
    opts = Base.JLOptions()
    opts.code_coverage != 0 && return "--code-coverage is on: Julia aborts if it compiles while the flag is switched"
    opts.malloc_log != 0 && return "--track-allocation is on: Julia aborts if it compiles while the flag is switched"
    get(ENV, "JLC_FORCE_WORKER", "") != "" && return "JLC_FORCE_WORKER is set"
    IMAGING_FLAG[] == C_NULL && IMAGING_REFUSAL[] === nothing && locate_imaging_flag!(known)
    return IMAGING_REFUSAL[]
end

function locate_imaging_flag!(known::Union{Nothing,Tuple{String,String}})
    base, path = libjulia_image()
    digest = known !== nothing && isfile(known[1]) && realpath(known[1]) == realpath(path) ? known[2] : file_sha256(path)
    i = findfirst(b -> b.sha256 == digest, VERIFIED_BUILDS)
    if i === nothing
        IMAGING_REFUSAL[] = "$(path) (sha256 $(digest[1:12])…) is not a libjulia build verified for in-session capture"
        return
    end
    b = VERIFIED_BUILDS[i]
    why = build_mismatch(b, base, path)
    if why !== nothing
        IMAGING_REFUSAL[] = "$(b.name): $why"
        return
    end
    IMAGING_FLAG[] = Ptr{UInt8}(base + b.imaging_mode)
end

"""
`jl_create_native(mis)` with the imaging flag set, finalizers held off (nothing a finalizer runs may be compiled
while the flag is on) and everything restored in `finally`. The caller has compiled this path with `flip = false`
and made sure no MethodInstance needs inference (see `prepare_sources!`), so nothing is JIT-compiled inside.
"""
function create_native_imaging(mis::Vector{Core.MethodInstance}, params::Base.CodegenParams, flip::Bool)
    p = IMAGING_FLAG[]
    old = unsafe_load(p)
    ptls = Core.getptls()
    ccall(:jl_gc_enable_finalizers, Cvoid, (Ptr{Cvoid}, Cint), ptls, 0)
    flip && unsafe_store!(p, 0x01)
    try
        return create_native(mis, params)
    finally
        unsafe_store!(p, old)
        ccall(:jl_gc_enable_finalizers, Cvoid, (Ptr{Cvoid}, Cint), ptls, 1)
    end
end
