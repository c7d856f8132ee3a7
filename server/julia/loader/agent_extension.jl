# Agent extension (included into JLCacheAgent by `main.jl <socket> agent_extension.jl`): the `cache/load` and
# `cache/status` requests, and the hooks that install waiting user entries as their definitions are evaluated.
include(joinpath(@__DIR__, "glue.jl"))

function handle_cache_load(params::Dict{String,Any})
    t0 = time_ns()
    linked = 0
    failed = Any[]
    for e in params["entries"]
        # Typed field reads, not String(x): the `String(::String)` method the conversion dispatched to was compiled on
        # the first load of every session (~1 ms), the warm-up having no entries to pass through it.
        id = e["id"]::String
        n, err, damaged = JLCache.load_entries(e["object"]::String, e["objectSha256"]::String, e["plan"]::String,
                                               e["planSha256"]::String, id)
        if isempty(err)
            linked += 1
        else
            push!(failed, Dict{String,Any}("id" => id, "reason" => err, "damaged" => damaged))
        end
    end
    t1 = time_ns()
    # Statements evaluated before the cache arrived count as satisfied too.
    for r in STATEMENT_LOG, req in r.satisfies
        JLCache.satisfy(req)
    end
    JLCache.packages_changed()
    t2 = time_ns()
    installed, pending = JLCache.counts()
    t3 = time_ns()
    steps = JLCache.step_ms()
    steps["entries"] = (t1 - t0) / 1e6      # jlc_load calls, the C steps included
    steps["satisfy"] = (t2 - t1) / 1e6
    steps["counts"] = (t3 - t2) / 1e6
    steps["handler"] = (time_ns() - t0) / 1e6   # the whole request in the agent: what the round trip adds is outside
    return Dict{String,Any}("linked" => linked, "installed" => installed, "pending" => pending,
                            "failed" => failed, "ms" => (time_ns() - t0) / 1e6, "steps" => steps)
end

register_handler("cache/load", handle_cache_load)
register_handler("cache/status", _ -> JLCache.status())
push!(FRAME_RESOLVERS, JLCache.cached_frame)     # names cached code in error stacks

# Methods each definition statement created, so that a later statement that replaces one of them (same signature)
# invalidates the cached code that depended on the old statement; adding methods to a function invalidates nothing.
const DEF_METHODS = Dict{String,Vector{Method}}()
const LAST_WORLD = Ref(ccall(:jl_get_world_counter, UInt, ()))

function track_replacements(hash::String)
    i = findlast(d -> d.hash == hash, DEFINITIONS)
    target = i === nothing ? nothing : DEFINITIONS[i].target
    if target !== nothing && isdefined(Main, target)
        f = getfield(Main, target)
        if f isa Function
            current = methods(f).ms
            DEF_METHODS[hash] = Method[m for m in current if m.primary_world > LAST_WORLD[]]
            for (h, ms) in collect(DEF_METHODS)
                h == hash && continue
                if any(m -> m.name === nameof(f) && m.module === parentmodule(f) && !any(c -> c === m, current), ms)
                    JLCache.statement_replaced(h)
                    delete!(DEF_METHODS, h)
                end
            end
        end
    end
end

push!(AFTER_STATEMENT_HOOKS, function (hash::String, kind::String)
    if kind == "definition"
        track_replacements(hash)
        JLCache.packages_changed()
    end
    if !isempty(STATEMENT_LOG) && STATEMENT_LOG[end].hash == hash
        foreach(JLCache.satisfy, STATEMENT_LOG[end].satisfies)
    end
    LAST_WORLD[] = ccall(:jl_get_world_counter, UInt, ())
    nothing
end)

# A package's cached entries install the moment it loads, also when a script's `include` or another package loads it
# (not only after a top-level `using` statement), so its first call is already cached. Never fails the `using`.
push!(Base.package_callbacks, function (_::Base.PkgId)
    try
        JLCache.packages_changed()
    catch e
        print(stderr, "julia-compiled-cache: installing package entries failed: ", error_text(e), "\n")
    end
    nothing
end)

# Compiled at agent start (WARMUP_HOOKS, see the agent's warmup.jl): no entries, so nothing is linked or installed.
push!(WARMUP_HOOKS, function ()
    handle_cache_load(Dict{String,Any}("entries" => Any[]))
    # What a load with entries calls besides (the first call of a function not compiled here pays its codegen).
    precompile(JLCache.load_entries, (String, String, String, String, String))
    precompile(JLCache.init, ())
    precompile(JLCache.satisfy, (String,))
    precompile(JLCache.is_stdlib, (Module,))
    precompile(JLCache.package_requirement, (Module,))
    precompile(JLCache.step_ms, ())
    precompile(JLCache.counts, ())
    nothing
end)
