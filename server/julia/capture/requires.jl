# What each cached entry depends on, as requirement strings: "stmt:<hash>" for the session's definition
# statements (methods it calls statically or inlined, types/functions/consts it references) and
# "pkg:<name>:<digest>" for non-stdlib packages. Editing one definition invalidates exactly its dependents.

struct DefIndex
    replayed::Vector{Replayed}
    byname::Dict{Symbol,String}   # binding of Main -> hash of the statement that created it
end
function DefIndex(rs::Vector{Replayed})
    byname = Dict{Symbol,String}()
    for r in rs, n in r.newnames
        get!(byname, n, r.hash)
    end
    return DefIndex(rs, byname)
end

function stmt_at(ix::DefIndex, file::Symbol, line::Integer)
    f = String(file)
    for r in ix.replayed
        r.file == f && r.line <= line <= r.lastline && return r.hash
    end
    return nothing
end

add_stmt!(req, h) = h === nothing || push!(req, "stmt:" * h)

function module_requires!(req::Set{String}, ix::DefIndex, m::Module)
    root = Base.moduleroot(m)
    if root === Main
        m === Main && return
        while parentmodule(m) !== Main
            m = parentmodule(m)
        end
        add_stmt!(req, get(ix.byname, nameof(m), nothing))
    elseif !(root === Base || root === Core) && !is_stdlib(root)
        push!(req, package_requirement(root))
    end
end

binding_requires!(req, ix, m::Module, n::Symbol) =
    (module_requires!(req, ix, m); m === Main && add_stmt!(req, get(ix.byname, n, nothing)))

method_requires!(req, ix, m::Method) = (module_requires!(req, ix, m.module); add_stmt!(req, stmt_at(ix, m.file, m.line)))

function object_requires!(req::Set{String}, ix::DefIndex, @nospecialize(x), seen::IdDict{Any,Nothing} = IdDict{Any,Nothing}())
    haskey(seen, x) && return
    seen[x] = nothing
    if x isa DataType
        tn = x.name
        if is_gensym_name(tn.name) && bound_function(x) !== nothing
            binding_requires!(req, ix, tn.module, function_name(x))   # `typeof(f)` needs `f`
        elseif is_gensym_name(tn.name)
            m = gensym_method(x)
            m === nothing || method_requires!(req, ix, m)
            p = closure_parent(x)   # the loader finds the type through this method
            p === nothing || method_requires!(req, ix, p[1])
        else
            binding_requires!(req, ix, tn.module, tn.name)
        end
        for p in x.parameters
            object_requires!(req, ix, p, seen)
        end
    elseif x isa UnionAll
        object_requires!(req, ix, x.var.ub, seen); object_requires!(req, ix, x.body, seen)
    elseif x isa Union
        object_requires!(req, ix, x.a, seen); object_requires!(req, ix, x.b, seen)
    elseif x isa TypeVar
        object_requires!(req, ix, x.ub, seen)
    elseif x isa Module
        module_requires!(req, ix, x)
    elseif x isa Core.MethodInstance
        object_requires!(req, ix, x.specTypes, seen)
        x.def isa Method && method_requires!(req, ix, x.def)
    elseif x isa Method
        method_requires!(req, ix, x)
    elseif x isa Tuple{Module,Symbol}   # a binding slot
        binding_requires!(req, ix, x[1], x[2])
    elseif !(x isa Union{Symbol,String,Number,Char})
        object_requires!(req, ix, typeof(x), seen)
    end
end

const MAX_WALK = 5000

# The optimized code inference kept for `mi` in `world`, or nothing (not a method, not inferred, not kept).
function inferred_source(mi::Core.MethodInstance, world::UInt)
    mi.def isa Method || return nothing
    ci = rettype_inferred(mi, world)
    ci isa Core.CodeInstance && isdefined(ci, :inferred) && ci.inferred !== nothing || return nothing
    src = try uncompressed_ir(mi.def, ci) catch; nothing end
    return src isa Core.CodeInfo ? src : nothing
end

# Walk the inferred code of `mi` and of everything it invokes statically: inlined frames (linetable), :invoke
# targets and global references all count.
function code_requires!(req::Set{String}, ix::DefIndex, root::Core.MethodInstance, world::UInt, visited::IdDict{Any,Nothing})
    todo = Core.MethodInstance[root]
    while !isempty(todo) && length(visited) < MAX_WALK
        mi = pop!(todo)
        haskey(visited, mi) && continue
        visited[mi] = nothing
        object_requires!(req, ix, mi)
        src = inferred_source(mi, world)
        src === nothing && continue
        for li in src.linetable
            li isa Core.LineInfoNode || continue
            add_stmt!(req, stmt_at(ix, li.file, li.line))
            li.method isa Union{Method,Core.MethodInstance} && object_requires!(req, ix, li.method)
        end
        for st in src.code
            expr_requires!(req, ix, st, todo)
        end
    end
end

function expr_requires!(req, ix, @nospecialize(x), todo)
    if x isa Expr
        if x.head === :invoke && x.args[1] isa Core.MethodInstance
            push!(todo, x.args[1])
        end
        for a in x.args
            expr_requires!(req, ix, a, todo)
        end
    elseif x isa GlobalRef
        binding_requires!(req, ix, x.mod, x.name)
    elseif x isa Type || x isa Function
        object_requires!(req, ix, x)
    end
end

# The MethodInstances `mis` invoke statically, transitively (the roots included), and every method whose code
# they hold (inlined frames count).
function invoked_instances(mis, world::UInt)
    methods = IdDict{Method,Nothing}()
    visited = IdDict{Any,Nothing}()
    todo = Core.MethodInstance[mis...]
    while !isempty(todo) && length(visited) < MAX_WALK
        mi = pop!(todo)
        haskey(visited, mi) && continue
        visited[mi] = nothing
        mi.def isa Method || continue
        methods[mi.def] = nothing
        src = inferred_source(mi, world)
        src === nothing && continue
        for li in src.linetable
            li isa Core.LineInfoNode || continue
            li.method isa Method && (methods[li.method] = nothing)
            li.method isa Core.MethodInstance && li.method.def isa Method && (methods[li.method.def] = nothing)
        end
        for st in src.code
            st isa Expr && st.head === :invoke && st.args[1] isa Core.MethodInstance && push!(todo, st.args[1])
        end
    end
    return Core.MethodInstance[mi for mi in keys(visited) if mi isa Core.MethodInstance], collect(keys(methods))
end

"Methods whose code the module holds (entries and everything they invoke or inline)."
reachable_methods(mis, world::UInt) = invoked_instances(mis, world)[2]
