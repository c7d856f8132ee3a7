# Compile-log signatures (text like `Tuple{typeof(Main.f), Float64}`) -> MethodInstances of this worker.
# Anything that cannot be cached safely goes to `skipped` with a reason; one bad signature never fails the save.

const GENSYM_RE = r"var\"#|\#\d"

function resolve_signature(s::String, world::UInt)
    # Closure and keyword-body type names (var"#3#4") come from counters that differ between the session and
    # this worker, so the same name may mean another closure here. Their code is still cached: it is compiled
    # into the object as part of the methods that call them.
    occursin(GENSYM_RE, s) && return nothing, "names a closure/gensym type (compiled as part of its callers instead)"
    sig = try
        Core.eval(Main, Meta.parse(s; raise = true))
    catch e
        return nothing, "signature does not resolve here: " * first(split(sprint(showerror, e), '\n'))
    end
    sig isa DataType && sig <: Tuple || return nothing, "not a tuple type"
    Base.isdispatchtuple(sig) || return nothing, "not a concrete signature (free type variables or abstract arguments)"
    m = method_for_signature(sig, world)
    m === nothing && return nothing, "no method matches"
    (m.module === Core.Compiler || parentmodule(m.module) === Core.Compiler) && return nothing, "Core.Compiler internals"
    isdefined(m, :generator) && return nothing, "generated function"
    env = ccall(:jl_type_intersection_with_env, Any, (Any, Any), sig, m.sig)::Core.SimpleVector
    mi = Core.Compiler.specialize_method(m, sig, env[2])
    return mi, ""
end
