# Describes the Julia object behind each global slot as plan nodes (see loader/PLAN-FORMAT.md): a stable identity
# the loader can resolve in another process (a binding by module path + name, a type by its structure, a closure
# by module + source location + ordinal, a literal by its bits...). Never a pointer.

struct Unsupported <: Exception
    msg::String
end
Base.showerror(io::IO, e::Unsupported) = print(io, e.msg)

mutable struct PlanWriter
    nodes::Vector{Vector{UInt8}}
    bytes_memo::Dict{Vector{UInt8},UInt32}
    obj_memo::IdDict{Any,UInt32}
    const_owner::IdDict{Any,Tuple{Module,Symbol,Vector{Int}}}
    const_scanned::Set{Module}   # root modules whose constants const_owner holds
    methods::Vector{Method}   # methods whose code is in the module: their roots hold literal objects
    root_owner::Union{Nothing,IdDict{Any,Tuple{Method,Int}}}
    enums::Union{Nothing,Vector{Any}}   # the session's @enum types (literal_getter)
end
PlanWriter(methods::Vector{Method}) = PlanWriter(Vector{UInt8}[], Dict{Vector{UInt8},UInt32}(), IdDict{Any,UInt32}(),
                                                 IdDict{Any,Tuple{Module,Symbol,Vector{Int}}}(), Set{Module}(), methods, nothing, nothing)

function node!(w::PlanWriter, op::UInt8, payload::Vector{UInt8})
    b = vcat(op, payload)
    get!(w.bytes_memo, b) do
        push!(w.nodes, b)
        UInt32(length(w.nodes) - 1)
    end
end
refs(xs::UInt32...) = (io = IOBuffer(); for x in xs; write(io, htol(x)); end; take!(io))
node!(w::PlanWriter, op::UInt8, xs::UInt32...) = node!(w, op, refs(xs...))
node_refs!(w::PlanWriter, op::UInt8, head::Vector{UInt32}, xs) = node!(w, op, refs(head..., UInt32[encode(w, x) for x in xs]...))

const MAX_CALL_ARGS = 64   # the loader's MAX_ARGS: operands of one node

is_gensym_name(s::Symbol) = startswith(String(s), '#')
is_kwsorter_name(s::Symbol) = endswith(String(s), "##kw")

function encode(w::PlanWriter, @nospecialize(x))
    x isa UnionAll && return encode_unionall(w, x)   # not memoized by `===`, which confuses two objects there
    haskey(w.obj_memo, x) && return w.obj_memo[x]
    r = encode_new(w, x)
    w.obj_memo[x] = r
    return r
end

function encode_new(w::PlanWriter, @nospecialize(x))
    x isa Symbol && return node!(w, OP_SYM, Vector{UInt8}(String(x)))
    x isa String && return node!(w, OP_STR, Vector{UInt8}(x))
    x isa Module && return encode_module(w, x)
    x isa TypeVar && return node!(w, OP_TYPEVAR, encode(w, x.name), encode(w, x.lb), encode(w, x.ub))
    x isa Union && return node!(w, OP_UNION, refs(encode(w, x.a), encode(w, x.b)))
    x isa UnionAll && return encode_unionall(w, x)
    x isa DataType && return encode_datatype(w, x)
    x isa Core.MethodInstance && return node!(w, OP_MI, encode(w, x.specTypes))
    x isa Method && return node!(w, OP_METHOD, encode(w, x.sig))
    x isa Core.TypeName && return node!(w, OP_TYPENAME, encode(w, x.wrapper))
    x isa Core.SimpleVector && return node_refs!(w, OP_SVEC, UInt32[], collect(x))
    T = typeof(x)
    if isdefined(T, :instance) && T.instance === x
        # A named function is found by its name; other singletons through their type.
        x isa Function && bound_function(T) === x && return node!(w, OP_GLOBAL, encode(w, T.name.module), encode(w, function_name(T)))
        return node!(w, OP_INSTANCE, encode(w, T))
    end
    owner = const_owner(w, x)
    if owner !== nothing
        mod, name, path = owner
        node = node!(w, OP_GLOBAL, encode(w, mod), encode(w, name))
        v = getfield(mod, name)
        for k in path
            v = getfield(v, k)
            node = node!(w, OP_FIELD, node, encode(w, typeof(v)), UInt32(k - 1))
        end
        return node
    end
    if x isa Regex
        # The compiled PCRE pattern is process memory: re-create the Regex from its source and flags.
        return node!(w, OP_CALL, refs(encode(w, Regex), encode(w, x.pattern), encode(w, x.compile_options), encode(w, x.match_options)))
    end
    isbitstype(T) && return node!(w, OP_BITS, vcat(refs(encode(w, T)), bits_of(x)))
    # A quoted expression in a method's code (e.g. an @assert message, added to the method's roots when that
    # code was compiled, so at an index that differs between processes) is rebuilt from its parts, as Julia
    # itself does when it loads a precompiled method's roots.
    if x isa Expr
        length(x.args) + 2 <= MAX_CALL_ARGS || throw(Unsupported("quoted expression with $(length(x.args)) arguments"))
        return node_refs!(w, OP_CALL, UInt32[encode(w, Core._expr), encode(w, x.head)], x.args)
    end
    # An immutable value (a tuple of symbols such as a keyword-argument name list, an exception with its message)
    # is identified by its value: rebuilt from its fields, it is `===` the original. Preferred over a method
    # root, whose index depends on what else the process compiled.
    if !T.mutable && T isa DataType && isconcretetype(T) && all(i -> isdefined(x, i), 1:nfields(x))
        return node_refs!(w, OP_NEWSTRUCT, UInt32[encode(w, T)], Any[getfield(x, i) for i in 1:nfields(x)])
    end
    call = literal_getter(w, x)
    call === nothing || return node_refs!(w, OP_CALL, UInt32[], call)
    root = root_owner(w, x)
    root === nothing || return node!(w, OP_METHODROOT, vcat(refs(encode(w, root[1]), encode(w, T)), refs(UInt32(root[2] - 1))))
    throw(Unsupported("no stable identity for a $(T) object (mutable, not reachable from a const global): " * first(repr(x), 60)))
end

function encode_module(w::PlanWriter, m::Module)
    p = parentmodule(m)
    p === m && return node!(w, OP_ROOTMOD, Vector{UInt8}(String(nameof(m))))
    return node!(w, OP_GLOBAL, encode(w, p), encode(w, nameof(m)))
end

function encode_unionall(w::PlanWriter, x::UnionAll)
    # The plain wrapper (Vector, Dict, Pair...) is found by its name, which also keeps its TypeVars identical.
    # jl_typetype_type is `===` Type's wrapper but not it (see internals): rebuilt, it finds dispatch's instance.
    base = Base.unwrap_unionall(x)
    if base isa DataType && base.name.wrapper === x && same_object(x, base.name.wrapper)
        return encode_typename_wrapper(w, base)
    end
    return node!(w, OP_UNIONALL, encode(w, x.var), encode(w, x.body))
end

function encode_typename_wrapper(w::PlanWriter, dt::DataType)
    tn = dt.name
    if is_gensym_name(tn.name)
        is_kwsorter_name(tn.name) && return encode_kwsorter_type(w, dt)
        f = bound_function(dt)
        f === nothing || return node!(w, OP_TYPEOF, encode(w, f))
        # Outside Main (system image, packages) gensym names come from the module's own counter while it
        # loads, the same in every process: the name is the stable identity there.
        mod = tn.module
        Base.moduleroot(mod) !== Main && isdefined(mod, tn.name) && getfield(mod, tn.name) === tn.wrapper &&
            return node!(w, OP_GLOBAL, encode(w, mod), encode(w, tn.name))
        return encode_gensym_type(w, dt)
    end
    isdefined(tn.module, tn.name) && getfield(tn.module, tn.name) === tn.wrapper ||
        throw(Unsupported("type $(tn.name) is not bound under its name in $(tn.module)"))
    return node!(w, OP_GLOBAL, encode(w, tn.module), encode(w, tn.name))
end

function encode_datatype(w::PlanWriter, x::DataType)
    x.name === Tuple.name && return node_refs!(w, OP_TUPLETYPE, UInt32[], collect(x.parameters))
    base = encode_typename_wrapper(w, x)
    isempty(x.parameters) && return base
    x.name.wrapper === x && return base
    return node_refs!(w, OP_APPLY, UInt32[base], collect(x.parameters))
end

# The type of a named generic function `f` is called `#f`; the function is bound as `f` in the same module.
function_name(dt::DataType) = Symbol(String(dt.name.name)[2:end])
function bound_function(dt::DataType)
    n = function_name(dt)
    is_gensym_name(n) && return nothing
    mod = dt.name.module
    isdefined(mod, n) || return nothing
    f = getfield(mod, n)
    return typeof(f) === dt ? f : nothing
end

# Keyword sorter types (`#f##kw`) have a deterministic name but no binding: found from the function's type.
function encode_kwsorter_type(w::PlanWriter, dt::DataType)
    fname = Symbol(String(dt.name.name)[2:end-4])
    mod = dt.name.module
    isdefined(mod, fname) || throw(Unsupported("keyword sorter $(dt.name.name) without its function"))
    ft = typeof(getfield(mod, fname))
    typeof(Core.kwfunc(getfield(mod, fname))) === dt || throw(Unsupported("keyword sorter $(dt.name.name) does not match"))
    return node!(w, OP_KWSORTER, encode(w, ft))
end

# Closures and keyword bodies: names (var"#3#4") depend on gensym counters. They are identified by the method
# whose lowered code names them (OP_CLOSURE: that method's signature and the name's ordinal there), else by
# module, the source location of their (only) method, and their ordinal among such types at that location.
function encode_gensym_type(w::PlanWriter, dt::DataType)
    parent = closure_parent(dt)
    parent === nothing || return node!(w, OP_CLOSURE, vcat(refs(encode(w, parent[1])), refs(UInt32(parent[2] - 1), UInt32(length(fieldnames(dt))))))
    m = gensym_method(dt)
    m === nothing && throw(Unsupported("closure type $(dt.name.name) has no unique method"))
    # Comprehension closures all sit at none:0: a location names none of them.
    m.file === :none && throw(Unsupported("closure type $(dt.name.name) has neither a source location nor a parent method"))
    mod = dt.name.module
    group = gensym_group(mod, m.file, m.line)
    k = findfirst(t -> t === dt.name.wrapper, group)
    k === nothing && throw(Unsupported("closure type $(dt.name.name) not found by its location"))
    payload = vcat(refs(encode(w, mod), encode(w, m.file)), refs(UInt32(m.line), UInt32(k - 1), UInt32(length(group)), UInt32(length(fieldnames(dt)))))
    base = node!(w, OP_GENSYM, payload)
    return base
end

function gensym_method(dt::DataType)
    ms = dt.name.mt.defs
    ms isa Core.TypeMapEntry || return nothing
    ms.next === nothing || return nothing
    return ms.func::Method
end

gensym_counters(s::Symbol) = Tuple(parse(Int, d) for d in split(String(s), '#') if !isempty(d) && all(isdigit, d))

# Every gensym type of `mod` whose method sits at file:line, oldest first (by their counters). The loader
# computes the same list in its process and takes the last `count` of them.
function gensym_group(mod::Module, file::Symbol, line::Int32)
    found = Any[]
    for n in names(mod; all = true)
        is_gensym_name(n) && isdefined(mod, n) || continue
        t = gensym_binding_type(getfield(mod, n), n)
        t === nothing && continue
        m = gensym_method(t)
        m === nothing && continue
        (m.file === file && m.line == line) && push!(found, t.name.wrapper)
    end
    sort!(found; by = t -> gensym_counters(Base.unwrap_unionall(t).name.name))
    return found
end

# A gensym binding holds either a closure type (named like the binding) or a function (keyword body).
function gensym_binding_type(@nospecialize(v), n::Symbol)
    if v isa Type
        t = Base.unwrap_unionall(v)
        return t isa DataType && t.name.name === n ? t : nothing
    end
    t = typeof(v)
    return v isa Function && t isa DataType ? t : nothing
end

# A user method whose whole body returns the object (`@enum`'s `namemap(::Type{E})` returns its Dict) gives it
# back in the next session when called with the singleton arguments of its signature: (f, args...), or nothing.
function literal_getter(w::PlanWriter, @nospecialize(x))
    for m in w.methods
        Base.moduleroot(m.module) === Main || continue
        src = try Base.uncompressed_ast(m) catch; continue end
        length(src.code) == 1 || continue
        st = src.code[1]
        st isa Expr && st.head === :return && !isempty(st.args) || continue
        v = st.args[1] isa QuoteNode ? st.args[1].value : st.args[1]
        v === x || continue
        sig = Base.unwrap_unionall(m.sig)
        sig isa DataType || continue
        call = Any[]
        for p in sig.parameters
            if p isa DataType && isdefined(p, :instance)
                push!(call, p.instance)
            elseif p isa DataType && p <: Type && length(p.parameters) == 1 && !(p.parameters[1] isa TypeVar)
                push!(call, p.parameters[1])
            else
                call = nothing; break
            end
        end
        call === nothing || return call
    end
    # `@enum E ...` defines `Base.Enums.namemap(::Type{E})` returning its Dict; inlined, only the Dict is left.
    w.enums === nothing && (w.enums = user_enum_types())
    for T in w.enums
        Base.Enums.namemap(T) === x && return Any[Base.Enums.namemap, T]
    end
    return nothing
end

function user_enum_types()
    out = Any[]
    for (mod, n) in module_consts(Main)
        v = getfield(mod, n)
        v isa DataType && v <: Base.Enums.Enum && isconcretetype(v) && push!(out, v)
    end
    return unique!(out)
end

# A literal object of a method's code (e.g. a lookup table) lives in the method's roots. A method defined by the
# session's own statement gets its literals as roots when it is defined, in source order, so the index is the same
# in the next session that evaluates the statement; a system-image method's roots grow with what the process has
# compiled (inlining adds the callee's literals), so its indices are a last resort. The loader checks the type.
function root_owner(w::PlanWriter, @nospecialize(x))
    if w.root_owner === nothing
        tab = IdDict{Any,Tuple{Method,Int}}()
        for user in (true, false), m in w.methods
            (Base.moduleroot(m.module) === Main) == user && isdefined(m, :roots) || continue
            for (i, r) in enumerate(m.roots)
                haskey(tab, r) || (tab[r] = (m, i))
            end
        end
        w.root_owner = tab
    end
    return get(w.root_owner, x, nothing)
end

# A mutable object is found through the constant that holds it: the constant itself, or a field (path) of an
# immutable constant, e.g. the month-name arrays inside `Dates.ENGLISH`, which inlined code reaches directly. The
# modules of the methods whose code is in the module are searched first (that code is what reaches the object);
# every loaded module's constants only when those do not hold it.
function const_owner(w::PlanWriter, @nospecialize(x))
    ismutable(x) || return nothing
    isempty(w.const_scanned) && foreach(m -> scan_consts!(w, Base.moduleroot(m.module)), w.methods)
    hit = get(w.const_owner, x, nothing)
    hit === nothing || return hit
    foreach(m -> scan_consts!(w, m), Base.loaded_modules_array())
    return get(w.const_owner, x, nothing)
end

function scan_consts!(w::PlanWriter, root::Module)
    root in w.const_scanned && return
    push!(w.const_scanned, root)
    for (mod, n) in module_consts(root)
        const_fields!(w.const_owner, getfield(mod, n), mod, n, Int[])
    end
end

const FIELD_DEPTH = 2

function const_fields!(tab, @nospecialize(v), mod::Module, n::Symbol, path::Vector{Int})
    v isa Module && return
    if ismutable(v)
        haskey(tab, v) || (tab[v] = (mod, n, path))
        return
    end
    T = typeof(v)
    # Only immutable containers: their fields cannot be reassigned, so the path names the same object later.
    (length(path) < FIELD_DEPTH && T isa DataType && !(v isa Type) && nfields(v) <= 64) || return
    for k in 1:nfields(v)
        isdefined(v, k) && const_fields!(tab, getfield(v, k), mod, n, vcat(path, k))
    end
end

function module_consts(root::Module)
    out = Tuple{Module,Symbol}[]
    todo = Module[root]; seen = Set{Module}()
    while !isempty(todo)
        m = pop!(todo); m in seen && continue; push!(seen, m)
        for n in names(m; all = true)
            isdefined(m, n) && isconst(m, n) || continue
            v = getfield(m, n)
            v isa Module && parentmodule(v) === m && v !== m && push!(todo, v)
            push!(out, (m, n))
        end
    end
    return out
end

# The distinct gensym-named GlobalRefs of a method's lowered code, in order of first appearance: Expr arguments
# depth first, quoted data skipped (the loader's find_closure walks the same way).
function gensym_refs(m::Method)
    out = GlobalRef[]
    src = try Base.uncompressed_ast(m) catch; return out end
    walk(@nospecialize(x)) = if x isa Expr
        foreach(walk, x.args)
    elseif x isa GlobalRef && is_gensym_name(x.name) && !any(r -> r.mod === x.mod && r.name === x.name, out)
        push!(out, x)
    end
    foreach(walk, src.code)
    return out
end

# Per module (emptied by each capture): gensym type -> (the first method of the module whose code names it, the
# name's 1-based ordinal there). Methods of the module's functions, closures and keyword bodies are searched.
const CLOSURE_PARENTS = IdDict{Module,IdDict{Any,Tuple{Method,Int}}}()

function closure_parent(dt::DataType)
    mod = dt.name.module
    Base.moduleroot(mod) === Main || return nothing   # elsewhere gensym names are stable (and modules large)
    tab = get!(CLOSURE_PARENTS, mod) do
        t = IdDict{Any,Tuple{Method,Int}}()
        for n in sort!(names(mod; all = true)), m in module_methods(mod, n)
            for (k, r) in enumerate(gensym_refs(m))
                isdefined(r.mod, r.name) || continue
                g = gensym_binding_type(getfield(r.mod, r.name), r.name)
                g === nothing || haskey(t, g.name) || (t[g.name] = (m, k))
            end
        end
        t
    end
    return get(tab, dt.name, nothing)
end

function module_methods(mod::Module, n::Symbol)
    isdefined(mod, n) || return Method[]
    v = getfield(mod, n)
    t = v isa Type ? Base.unwrap_unionall(v) : typeof(v)
    (t isa DataType && isdefined(t.name, :mt) && t.name.mt !== nothing) || return Method[]
    (v isa Function || (v isa Type && t.name.name === n && is_gensym_name(n))) || return Method[]
    return Method[m for m in Base.MethodList(t.name.mt) if m.module === mod]
end
