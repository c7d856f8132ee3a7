# Which native code the system image already holds. A capture compiles every method its entries call, Base's
# included, because imaging codegen cannot call an address; most of those callees are compiled in the system image
# every session loads. They are left out of the object and linked to the system image's own code at load time
# (plan imports; jlcache.c checks there that the code is still valid in the loading session).

struct DlInfo
    fname::Ptr{UInt8}
    fbase::Ptr{Cvoid}
    sname::Ptr{UInt8}
    saddr::Ptr{Cvoid}
end

const SYSIMAGE_BASE = Ref{Ptr{Cvoid}}(C_NULL)

"Base address of the shared object that holds the code at `p` (C_NULL when `p` is in none)."
function object_base(p::Ptr{Cvoid})
    info = Ref{DlInfo}()
    ccall(:dladdr, Cint, (Ptr{Cvoid}, Ref{DlInfo}), p, info) == 0 ? C_NULL : info[].fbase
end

function system_image_base()
    if SYSIMAGE_BASE[] == C_NULL
        image = realpath(unsafe_string(Base.JLOptions().image_file))
        lib = Libdl.dlopen(image, Libdl.RTLD_NOLOAD)
        SYSIMAGE_BASE[] = object_base(Libdl.dlsym(lib, :jl_sysimg_fvars_base))
    end
    return SYSIMAGE_BASE[]
end

"""
The `ENTRY_*` calling convention under which `ci`'s system-image code can stand in for the function codegen made
for it (`fid` from `native_function_id`: > 0 specsig, -1 jl_fptr_args, -2 jl_fptr_sparam), or nothing: the code is
not in the system image, or the image compiled it with another convention than this module's callers use, or
another method matches some of its calls too (the loader requires the one method, see only_method in jlcache.c).
"""
function system_image_kind(ci::Core.CodeInstance, fid::Integer)
    (ci.specptr == C_NULL || object_base(ci.specptr) != system_image_base()) && return nothing
    ms = Base._methods_by_ftype(ci.def.specTypes, 1, world_counter())
    (ms isa Vector && length(ms) == 1) || return nothing
    fid > 0 && return code_is_specsig(ci) ? ENTRY_SPECSIG : nothing
    fid == -1 && return ci.invoke == cglobal(:jl_fptr_args) ? ENTRY_FPTR_ARGS : nothing
    fid == -2 && return ci.invoke == cglobal(:jl_fptr_sparam) ? ENTRY_FPTR_SPARAM : nothing
    return nothing
end
