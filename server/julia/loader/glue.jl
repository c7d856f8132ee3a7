# Thin Julia glue over the C loader (.deps/libjlcache.so). Included by the agent (as an extension file) or by
# prove.jl. Only ccalls: the loader itself compiles no Julia code and parses no Julia text.
module JLCache

const LIB = normpath(joinpath(@__DIR__, "..", "..", "..", ".deps", "libjlcache.so"))
const ROOTS = Any[]                 # every object the loader creates stays reachable from here
const INITIALIZED = Ref(false)
const KNOWN_MODULES = Set{Module}()  # modules already checked for package requirements

include(joinpath(@__DIR__, "pkgdigest.jl"))

function init()
    INITIALIZED[] && return
    isfile(LIB) || error("native cache loader not built: run scripts/build-loader.sh ($LIB missing)")
    ccall((:jlc_init, LIB), Cvoid, (Any,), ROOTS)
    INITIALIZED[] = true
end

"""
Links one cache entry whose files must have the given sha256 digests (the loader hashes the bytes it links); entries
without requirements are installed at once. Returns (entries, error, damaged): damaged when a file's bytes are not the
ones its digest names. (Positional arguments only: a keyword call's body is compiled on its first call, not by the
warm-up's `precompile`.)
"""
function load_entries(object::String, object_sha256::String, plan::String, plan_sha256::String,
                      name::String = basename(dirname(object)))
    init()
    err = zeros(UInt8, 512)
    n = ccall((:jlc_load, LIB), Cint, (Cstring, Cstring, Cstring, Cstring, Cstring, Ptr{UInt8}, Csize_t),
              name, object, object_sha256, plan, plan_sha256, err, length(err))
    return n < 0 ? (0, unsafe_string(pointer(err)), n == -2) : (Int(n), "", false)
end

const STEP_NAMES = ("read", "parse", "link", "unwind", "fill", "install")

"""Milliseconds the C loader spent per step since this process started (see jlc_step_ms)."""
function step_ms()
    out = zeros(Float64, length(STEP_NAMES))
    INITIALIZED[] && ccall((:jlc_step_ms, LIB), Cint, (Ptr{Float64}, Cint), out, length(out))
    return Dict{String,Any}(STEP_NAMES[k] => out[k] for k in eachindex(out))
end

"""A requirement became true in this session (see capture/requires.jl): installs the entries waiting only for it."""
satisfy(req::AbstractString) = INITIALIZED[] ? Int(ccall((:jlc_satisfy, LIB), Cint, (Cstring,), req)) : 0

"""A definition statement replaced this one (same name): entries depending on it are invalidated."""
statement_replaced(hash::AbstractString) = INITIALIZED[] ? Int(ccall((:jlc_unsatisfy, LIB), Cint, (Cstring,), "stmt:" * hash)) : 0

"""After `using`/`import`: every newly loaded non-stdlib package satisfies its pkg:<name>:<digest> requirement."""
function packages_changed()
    INITIALIZED[] || return 0
    n = 0
    for m in Base.loaded_modules_array()
        m in KNOWN_MODULES && continue
        # Digesting a package reads all its sources: only for packages an entry waits for. Others stay unchecked and
        # are looked at again on the next call (a later cache/load may bring entries that need them).
        ccall((:jlc_wants, LIB), Cint, (Cstring,), "pkg:" * String(nameof(m)) * ":") == 0 && continue
        push!(KNOWN_MODULES, m)
        is_stdlib(m) && continue
        n += ccall((:jlc_satisfy, LIB), Cint, (Cstring,), package_requirement(m))
    end
    return n
end

"""
The backtrace frame for a return address `ip` in cached code; `nothing` if `ip` is not in cached code or is in a
calling-convention wrapper. Julia's
own lookup knows only code its JIT emitted (cached code comes back as an unnamed C frame), so the loader answers:
the function's name and, when the plan names its MethodInstance, the method's file and first line (the linked
code carries no line table).
"""
function cached_frame(ip::UInt64)
    INITIALIZED[] || return nothing
    name = zeros(UInt8, 256)
    mi = Ref{Ptr{Cvoid}}(C_NULL)
    found = ccall((:jlc_frame, LIB), Cint, (UInt, Ptr{UInt8}, Csize_t, Ref{Ptr{Cvoid}}), ip - 1, name, length(name), mi)
    found != 0 && return nothing     # not cached code, or a wrapper Julia's own traces leave out
    func = Symbol(unsafe_string(pointer(name)))
    linfo = mi[] == C_NULL ? nothing : unsafe_pointer_to_objref(mi[])::Core.MethodInstance
    m = linfo === nothing ? nothing : linfo.def
    m isa Method || return Base.StackTraces.StackFrame(func, Symbol(""), 0, linfo, false, false, ip)
    return Base.StackTraces.StackFrame(func, m.file, m.line, linfo, false, false, ip)
end

const STATE_NAMES = ("pending", "installed", "failed", "present", "invalidated")

"""(installed, pending) over every loaded cache, counted by the loader (jlc_counts): what a load answers, without
building the per-entry records of `status`."""
function counts()
    INITIALIZED[] || return (0, 0)
    installed, pending, failed = Ref{Cint}(0), Ref{Cint}(0), Ref{Cint}(0)
    ccall((:jlc_counts, LIB), Cvoid, (Ref{Cint}, Ref{Cint}, Ref{Cint}), installed, pending, failed)
    return (Int(installed[]), Int(pending[]))
end

"""
(installed, present, pending, failed, the first failure's reason) over every loaded cache: the proof's verdict,
typed, so the proving process compiles little besides it (`status` builds a Dict per entry).
"""
function state_counts()
    n = zeros(Int, length(STATE_NAMES))
    why = ""
    buf = zeros(UInt8, 300)
    for k in 0:(INITIALIZED[] ? ccall((:jlc_ncaches, LIB), Cint, ()) - 1 : -1)
        j = 0
        while (st = ccall((:jlc_entry, LIB), Cint, (Cint, Cint, Ptr{UInt8}, Csize_t), k, j, buf, length(buf))) >= 0
            n[st + 1] += 1
            STATE_NAMES[st + 1] == "failed" && isempty(why) && (why = unsafe_string(pointer(buf)))
            j += 1
        end
    end
    return (n[2], n[4], n[1], n[3], why)
end

"""{installed, pending, failed, present, entries: [{cache, index, state, reason}]}"""
function status()
    INITIALIZED[] || return Dict{String,Any}("installed" => 0, "pending" => 0, "failed" => Any[], "entries" => Any[])
    counts = Dict{String,Int}(s => 0 for s in STATE_NAMES)
    entries = Any[]
    failed = Any[]
    buf = zeros(UInt8, 300)
    for k in 0:ccall((:jlc_ncaches, LIB), Cint, ()) - 1
        name = unsafe_string(ccall((:jlc_cache_name, LIB), Cstring, (Cint,), k))
        j = 0
        while true
            st = ccall((:jlc_entry, LIB), Cint, (Cint, Cint, Ptr{UInt8}, Csize_t), k, j, buf, length(buf))
            st < 0 && break
            s = STATE_NAMES[st + 1]
            counts[s] += 1
            e = Dict{String,Any}("cache" => name, "index" => j, "state" => s, "reason" => unsafe_string(pointer(buf)))
            push!(entries, e)
            s == "failed" && push!(failed, Dict{String,Any}("id" => name, "index" => j, "reason" => e["reason"]))
            j += 1
        end
    end
    return Dict{String,Any}("installed" => counts["installed"], "pending" => counts["pending"], "present" => counts["present"],
                            "failed" => failed, "entries" => entries)
end

end
