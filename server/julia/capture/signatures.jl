# Compile-log signatures (text like `Tuple{typeof(Main.f), Float64}`) -> MethodInstances of this worker.
# Anything that cannot be cached safely goes to `skipped` with a reason; one bad signature never fails the save.

const GENSYM_RE = r"var\"#|\#\d"
const QUALIFIED_GENSYM_RE = r"((?:[A-Za-z_][A-Za-z_0-9!]*\.)+)var\"(#[^\"]*)\""
const CHAR_BITS_RE = r"\bChar\((0x[0-9a-f]{8})\)"

"""
The MethodInstance a compile-log signature names in this process, or (nothing, reason). `replayed`: this is the
capture worker, whose Main gensym counters differ from the session's (see eval_gensym_signature) and which must
not expand generated functions (their generators are user code the worker would run).
"""
function resolve_signature(s::String, world::UInt; replayed::Bool = false)
    # The compile log prints a Char type parameter by its raw bits, `Char(0x79000000)` ('y'); evaluated as is,
    # that would be a code point and throw.
    s = replace(s, CHAR_BITS_RE => s"reinterpret(Char, \1)")
    sig = try
        replayed && occursin(GENSYM_RE, s) ? eval_gensym_signature(s) : eval_type(Meta.parse(s; raise = true))
    catch e
        e isa Unsupported && return nothing, e.msg
        return nothing, "signature does not resolve here: " * first(split(sprint(showerror, e), '\n'))
    end
    sig isa DataType && sig <: Tuple || return nothing, "not a tuple type"
    sig = widened_type_arguments(sig)
    Base.has_free_typevars(sig) && return nothing, "free type variables"
    m = method_for_signature(sig, world)
    m === nothing && return nothing, "no method matches"
    reason = uncacheable(sig, m)
    reason === nothing || return nothing, reason
    replayed && isdefined(m, :generator) && return nothing, "generated function (the worker would run its generator)"
    env = ccall(:jl_type_intersection_with_env, Any, (Any, Any), sig, m.sig)::Core.SimpleVector
    mi = Core.Compiler.specialize_method(m, sig, env[2])
    return mi, ""
end

function uncacheable(@nospecialize(sig), m::Method)
    # Abstract arguments are fine when they are Julia's own widening for this method (the session compiled and
    # dispatches to exactly that specialization); any other abstract signature would never be called.
    Base.isdispatchtuple(sig) || isa_compileable_sig(sig, m) || return "not a signature dispatch compiles (abstract arguments)"
    (m.module === Core.Compiler || parentmodule(m.module) === Core.Compiler) && return "Core.Compiler internals"
    return nothing
end

"""
Evaluates a type as the compile log prints it without calling anything but type construction: names and
`M.x` lookups, `T{...}`, `typeof(f)`, `Union{...}`, `... where T`, literals, `reinterpret(Char, bits)`. A signature
that would need any other call (a value of a user type as a parameter) is refused: resolving a signature must not
run user code.
"""
eval_type(@nospecialize(ex)) = eval_type(ex, Dict{Symbol,TypeVar}())
function eval_type(@nospecialize(ex), env::Dict{Symbol,TypeVar})
    ex isa Symbol && return haskey(env, ex) ? env[ex] : lookup_global(Main, ex)
    ex isa QuoteNode && return ex.value
    ex isa Type && return ex   # put there by eval_gensym_signature
    ex isa Union{Number,String,Char,Bool,Nothing} && return ex
    ex isa Expr || throw(Unsupported("signature holds a $(typeof(ex))"))
    h, a = ex.head, ex.args
    if h === :. && length(a) == 2 && a[2] isa QuoteNode
        m = eval_type(a[1], env)
        m isa Module || throw(Unsupported("signature names a field of a non-module"))
        return lookup_global(m, a[2].value)
    elseif h === :curly
        return Core.apply_type(eval_type(a[1], env), Any[eval_type(x, env) for x in a[2:end]]...)
    elseif h === :where
        return eval_where(a[1], a[2:end], env)
    elseif h === :tuple
        return (Any[eval_type(x, env) for x in a]...,)   # no generator: its code would depend on the element types
    elseif h === :call && length(a) == 2 && a[1] === :typeof
        return typeof(eval_type(a[2], env))
    elseif h === :call && length(a) == 3 && a[1] === :reinterpret && a[2] === :Char && a[3] isa Unsigned
        return reinterpret(Char, UInt32(a[3]))
    elseif h === :call && length(a) == 2 && a[1] === :Symbol && a[2] isa String
        return Symbol(a[2])
    elseif h === :call && length(a) == 2 && a[1] === :- && a[2] isa Number
        return -a[2]
    end
    throw(Unsupported("signature would need code to run to be built: " * first(string(ex), 80)))
end

function lookup_global(m::Module, n::Symbol)
    isdefined(m, n) && return getfield(m, n)
    # The log names a loaded package or stdlib by its own name even where Main never imported it (`Markdown.MD`).
    if m === Main
        for r in Base.loaded_modules_array()
            nameof(r) === n && parentmodule(r) === r && return r
        end
    end
    throw(Unsupported("$(m).$(n) is not defined here"))
end

function eval_where(@nospecialize(body), vars, env::Dict{Symbol,TypeVar})
    inner = copy(env)
    tvs = TypeVar[]
    for v in vars
        tv = if v isa Symbol
            TypeVar(v)
        elseif v isa Expr && v.head === :<: && v.args[1] isa Symbol
            TypeVar(v.args[1], eval_type(v.args[2], inner))
        elseif v isa Expr && v.head === :>: && v.args[1] isa Symbol
            TypeVar(v.args[1], eval_type(v.args[2], inner), Any)
        elseif v isa Expr && v.head === :comparison && length(v.args) == 5 && v.args[3] isa Symbol
            TypeVar(v.args[3], eval_type(v.args[1], inner), eval_type(v.args[5], inner))
        else
            throw(Unsupported("unexpected type variable form in a signature"))
        end
        inner[tv.name] = tv
        push!(tvs, tv)
    end
    t = eval_type(body, inner)
    for tv in reverse(tvs)
        t = UnionAll(tv, t)
    end
    return type_wrapper(t)
end

"""
An argument written `Type{T} where T` is one dispatch widened: jl_typetype_type (see internals), whose
MethodInstance is the one dispatch calls. Inside parameters (`Type{Array{T,N} where N where T}`) a wrapper written
out is the wrapper itself, the value passed (`type_wrapper`).
"""
function widened_type_arguments(sig::DataType)
    any(p -> same_object(p, Type), sig.parameters) || return sig
    return Tuple{Any[same_object(p, Type) ? typetype_type() : p for p in sig.parameters]...}
end

"""
A type's own wrapper when `t` is it written out (`Type{T} where T` is `Type`, `Array{T,N} where N where T` is
`Array`). Equal but not `===`, a rebuilt UnionAll makes a signature, and so a MethodInstance, of its own that the
session's dispatch never calls: code cached for it would never run.
"""
function type_wrapper(@nospecialize(t))
    b = Base.unwrap_unionall(t)
    return t isa UnionAll && b isa DataType && b.name.wrapper == t ? b.name.wrapper : t
end

# Closure and keyword-body type names (var"#3#4", var"##f#12") come from per-module counters. Outside Main (the
# system image, packages) a module's counter runs the same way in every process that loads it, so the name is the
# identity (encode writes it as a GLOBAL). Inside Main the session's counter and this worker's differ (the worker
# replays definitions only), so a name is matched to the one gensym type of the same module whose name is equal
# once its counters are removed (`##scale#` for var"##scale#3"), never by the name itself; not exactly one such
# type: skipped. A wrong match could only cost a useless entry: the plan names Main's gensym types by their
# method's location (OP_GENSYM), never by the session's name.
function eval_gensym_signature(s::String)
    subst = Any[]
    text = replace(s, QUALIFIED_GENSYM_RE => function (m)
        c = match(QUALIFIED_GENSYM_RE, m)
        mod = eval_type(Meta.parse(c.captures[1][1:end-1]; raise = true))
        mod isa Module || throw(Unsupported("gensym type outside a module: $m"))
        Base.moduleroot(mod) === Main || return m
        push!(subst, main_gensym_type(mod, String(c.captures[2])))
        return "__jlc_gensym_$(length(subst))__"
    end)
    ex = substitute_placeholders(Meta.parse(text; raise = true), subst)
    sig = eval_type(ex)
    for t in gensym_datatypes!(Any[], sig)
        mod = t.name.module
        ok = Base.moduleroot(mod) === Main ? any(x -> Base.unwrap_unionall(x).name === t.name, subst) :
             isdefined(mod, t.name.name) && getfield(mod, t.name.name) === t.name.wrapper
        ok || throw(Unsupported("names a gensym type $(t.name.name) with no stable identity here"))
    end
    return sig
end

strip_counters(name::AbstractString) = replace(name, r"[0-9]+" => "")

function main_gensym_type(mod::Module, name::String)
    key = strip_counters(name)
    found = Any[]
    for n in names(mod; all = true)
        is_gensym_name(n) && strip_counters(String(n)) == key && isdefined(mod, n) || continue
        v = getfield(mod, n)
        v isa Type && push!(found, v)
    end
    length(found) == 1 || throw(Unsupported("names a gensym type of $(mod) (var\"$name\") that $(length(found)) types here could be"))
    return found[1]
end

function substitute_placeholders(@nospecialize(ex), subst::Vector{Any})
    if ex isa Symbol
        m = match(r"^__jlc_gensym_([0-9]+)__$", String(ex))
        return m === nothing ? ex : subst[parse(Int, m.captures[1])]
    end
    ex isa Expr || return ex
    return Expr(ex.head, Any[substitute_placeholders(a, subst) for a in ex.args]...)
end

# Every gensym-named DataType inside a type (parameters, unions, UnionAll bodies), except named functions'
# types (`#f` is `typeof(f)`, found by the function's name).
function gensym_datatypes!(out::Vector{Any}, @nospecialize(t))
    if t isa UnionAll
        gensym_datatypes!(out, t.var.ub); gensym_datatypes!(out, t.body)
    elseif t isa Union
        gensym_datatypes!(out, t.a); gensym_datatypes!(out, t.b)
    elseif t isa DataType
        is_gensym_name(t.name.name) && bound_function(t) === nothing && push!(out, t)
        for p in t.parameters
            gensym_datatypes!(out, p)
        end
    end
    return out
end
