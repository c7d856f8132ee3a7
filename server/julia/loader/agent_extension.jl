# Agent extension (included into JLCacheAgent by `main.jl <socket> agent_extension.jl`): the `cache/load` and
# `cache/status` requests, and the hooks that install waiting user entries as their definitions are evaluated.
include(joinpath(@__DIR__, "glue.jl"))

function handle_cache_load(params::Dict{String,Any})
    t0 = time_ns()
    linked = 0
    failed = Any[]
    for e in params["entries"]
        id = String(e["id"])
        n, err = JLCache.load_entries(String(e["object"]), String(e["plan"]); name = id)
        if isempty(err)
            linked += 1
        else
            push!(failed, Dict{String,Any}("id" => id, "reason" => err))
        end
    end
    # Statements evaluated before the cache arrived count as satisfied too.
    for d in DEFINITIONS
        JLCache.statement_done(d.hash)
    end
    JLCache.packages_changed()
    st = JLCache.status()
    return Dict{String,Any}("linked" => linked, "installed" => st["installed"], "pending" => st["pending"],
                            "failed" => failed, "ms" => (time_ns() - t0) / 1e6)
end

register_handler("cache/load", handle_cache_load)
register_handler("cache/status", _ -> JLCache.status())

push!(AFTER_STATEMENT_HOOKS, function (hash::String, kind::String)
    JLCache.statement_done(hash)
    kind == "definition" && JLCache.packages_changed()
    nothing
end)
