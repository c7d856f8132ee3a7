# Compile-log signatures (text like `Tuple{typeof(Main.f), Float64}`) -> MethodInstances of this worker.
# Anything that cannot be cached safely goes to `skipped` with a reason; one bad signature never fails the save.

const GENSYM_RE = r"var\"#|\#\d"
const CHAR_BITS_RE = r"\bChar\((0x[0-9a-f]{8})\)"

function resolve_signature(s::String, world::UInt)
    # Closure and keyword-body type names (var"#3#4") come from counters that differ between the session and
    # this worker, so the same name may mean another closure here. Their code is still cached: it is compiled
    # into the object as part of the methods that call them.
    occursin(GENSYM_RE, s) && return nothing, "names a closure/gensym type (compiled as part of its callers instead)"
    # The compile log prints a Char type parameter by its raw bits, `Char(0x79000000)` ('y'); evaluated as is,
    # that would be a code point and throw.
    s = replace(s, CHAR_BITS_RE => s"reinterpret(Char, \1)")
    sig = try
        Core.eval(Main, Meta.parse(s; raise = true))
    catch e
        return nothing, "signature does not resolve here: " * first(split(sprint(showerror, e), '\n'))
    end
    sig isa DataType && sig <: Tuple || return nothing, "not a tuple type"
    Base.has_free_typevars(sig) && return nothing, "free type variables"
    m = method_for_signature(sig, world)
    m === nothing && return nothing, "no method matches"
    # Abstract arguments are fine when they are Julia's own widening for this method (the session compiled and
    # dispatches to exactly that specialization); any other abstract signature would never be called.
    Base.isdispatchtuple(sig) || isa_compileable_sig(sig, m) || return nothing, "not a signature dispatch compiles (abstract arguments)"
    (m.module === Core.Compiler || parentmodule(m.module) === Core.Compiler) && return nothing, "Core.Compiler internals"
    isdefined(m, :generator) && return nothing, "generated function"
    env = ccall(:jl_type_intersection_with_env, Any, (Any, Any), sig, m.sig)::Core.SimpleVector
    mi = Core.Compiler.specialize_method(m, sig, env[2])
    return mi, ""
end
