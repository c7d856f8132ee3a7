# Save Compiled Work inside the user's session (the agent's `capture` request): the MethodInstances the compile
# log names are compiled again by jl_create_native with the imaging flag switched on for that one call
# (imaging.jl), so the session's own code, as it compiled it, comes out relocatable. No user statement, constant
# initializer or `__init__` runs: signatures are resolved without calls (signatures.jl), inference results already
# exist or are recomputed before the switch (prepare_sources!), and the module goes to bitcode before the request
# returns; object emission, checks and the store happen in the server.

const CODEGEN_PARAMS = Ref{Base.CodegenParams}()
const WINDOW_READY = Ref(false)


"""
jl_create_native reuses the inference result each CodeInstance holds and otherwise runs inference itself, which
inside the switched window could compile Julia code in imaging mode. The JIT drops results it will not inline
(`inferred === nothing`), so those are recomputed here first, for the roots and everything they invoke, and
attached. Returns the CodeInstances changed, for `restore_sources!` (the session keeps what it had).
"""
function prepare_sources!(roots::Vector{Core.MethodInstance}, world::UInt)
    changed = Core.CodeInstance[]
    seen = IdDict{Core.MethodInstance,Nothing}()
    todo = copy(roots)
    while !isempty(todo)
        mi = pop!(todo)
        (haskey(seen, mi) || !(mi.def isa Method)) && continue
        seen[mi] = nothing
        ci = rettype_inferred(mi, world)
        if !(ci isa Core.CodeInstance) || ci.inferred === nothing
            src = Core.Compiler.typeinf_ext(mi, world)
            src isa Core.CodeInfo || continue
            ci = rettype_inferred(mi, world)
            if ci isa Core.CodeInstance && ci.inferred === nothing
                ci.inferred = ccall(:jl_compress_ir, Any, (Any, Any), mi.def, src)
                push!(changed, ci)
            end
        end
        append!(todo, invoked_by(mi, world))
    end
    return changed
end

restore_sources!(changed::Vector{Core.CodeInstance}) = foreach(ci -> ci.inferred = nothing, changed)

"""
The `capture` request. params: outDir, signatures, and optionally onlyPackage (a package's cache: only its code is
kept, see `package_entries`) and libjulia (`{path, sha256}`, see `inprocess_refusal`). Result: capture.json's fields, or `{refused}` with the reason when this session cannot
capture in process (the server then uses the worker).
"""
function handle_capture(params::Dict{String,Any})
    lib = param(params, "libjulia", Dict{String,Any}, nothing)
    why = inprocess_refusal(lib === nothing ? nothing : (param(lib, "path", String, ""), param(lib, "sha256", String, "")))
    why === nothing || return Dict{String,Any}("refused" => why)
    outdir = param(params, "outDir", String, nothing)
    outdir === nothing && throw(RPCError(INVALID_PARAMS, "capture needs 'outDir'"))
    signatures = String[]
    for s in param(params, "signatures", Vector{Any}, Any[])
        s isa String || throw(RPCError(INVALID_PARAMS, "capture's signatures must be strings"))
        push!(signatures, s)
    end
    pkg = param(params, "onlyPackage", String, nothing)
    keep = pkg === nothing ? (_ -> true) : package_entries(pkg)
    pkgmod = pkg === nothing ? nothing : loaded_package(pkg)
    watch = CaptureWatch(0, IOBuffer())
    log = COMPILE_LOG[]
    read(log.reader)                     # the user's lines were drained after their eval; start clean
    compile_log_on(log)
    try
        result = capture_in_session(signatures, outdir, watch, keep, pkgmod)
        result["agentCompiled"] = own_signatures(watch)
        return result
    finally
        compile_log_off(log)
    end
end

function capture_in_session(signatures::Vector{String}, outdir::String, watch, keep::Function, pkg::Union{Module,Nothing})
    t0 = time_ns()
    timing = Dict{String,Any}()
    world = world_counter()
    cand, skipped = resolve_all(signatures, world, (s, w) -> resolve_signature(s, w))
    if pkg !== nothing
        mine = BitVector([mentions_package(mi, pkg) for (_, mi) in cand])
        append!(skipped, Any[Dict("signature" => s, "reason" => "not $(pkg)'s code") for (s, _) in cand[.!mine]])
        cand = cand[mine]
    end
    timing["resolveMs"] = ms(t0)
    t = time_ns()
    changed = prepare_sources!(Core.MethodInstance[mi for (_, mi) in cand], world)
    timing["inferMs"] = ms(t)
    result = try
        prepare_window!(watch)
        capture(STATEMENT_LOG, cand, skipped, outdir, mis -> create_watched!(watch, mis, true), timing; keep = keep)
    finally
        restore_sources!(changed)
        write(watch.own, read(COMPILE_LOG[].reader))
    end
    result["path"] = "session"
    result["compiledInWindow"] = watch.compiled
    result["captureMs"] = ms(t0)
    return result
end

"The loaded package named `name`; a package cache is built in a session that loaded it."
function loaded_package(name::String)
    for m in Base.loaded_modules_array()
        String(nameof(m)) == name && return m
    end
    throw(RPCError(INVALID_PARAMS, "package $name is not loaded in this session"))
end

"""
What the compile log showed during a capture request: JIT compilations while the imaging flag was on (each would be
JIT code made in imaging mode; must be 0), and the rest, the agent's own compilation of its capture code.
"""
mutable struct CaptureWatch
    compiled::Int
    own::IOBuffer
end

"""
The roots the capture code compiled for itself in this request. The server captures them once into the agent-code
cache (server/src/capture/agentCode.ts), which later saves load before capturing, so they compile nothing of their
own. Only signatures made of Base, Core and the agent's own types are kept: the rest were specialized on the user's
or a package's types, and depend on that code. The request handler itself compiled before the log was switched on,
so it is named here: its static callees come with it.
"""
function own_signatures(w::CaptureWatch)
    sigs = String[string(Tuple{typeof(handle_capture),Dict{String,Any}})]
    for line in split(String(take!(w.own)), '\n'; keepempty = false)
        parsed = parse_compile_line(line)
        parsed === nothing || !agent_code_signature(parsed[1]) || push!(sigs, parsed[1])
    end
    return unique!(sigs)
end

const AGENT_CODE_MODULES = ("Base", "Core", string(nameof(@__MODULE__)))

"Every module a signature names (the first part of each dotted path) is Base, Core or the agent."
agent_code_signature(sig::AbstractString) =
    all(m -> m.captures[1] in AGENT_CODE_MODULES, eachmatch(r"(?<![\w.\"])([A-Za-z_]\w*)\.", sig))

"Compiles the switching path with the flag left off (an empty jl_create_native), so the real call compiles nothing."
function prepare_window!(w::CaptureWatch)
    WINDOW_READY[] && return
    CODEGEN_PARAMS[] = codegen_params()
    create_watched!(w, Core.MethodInstance[], false)
    WINDOW_READY[] = true
end

"Runs jl_create_native with the compile log on (the caller switched it on), counting what compiled inside."
function create_watched!(w::CaptureWatch, mis::Vector{Core.MethodInstance}, flip::Bool)
    log = COMPILE_LOG[]
    write(w.own, read(log.reader))
    try
        return create_native_imaging(mis, CODEGEN_PARAMS[], flip)
    finally
        text = read(log.reader)
        flip && (w.compiled = count(==(UInt8('\n')), text))
        get(ENV, "JLC_DEBUG", "") != "" && write(stderr, text)
    end
end

register_handler("capture", handle_capture)
