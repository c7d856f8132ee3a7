# What each cached entry depends on, as requirement strings the next session satisfies as it goes:
#   stmt:<hash>                     the statement (by its text) that defined a method, type or binding it uses
#   def:<file>:<hash>               the top-level statement of an `include`d file that defined such a method
#   const:<module>.<name>:<digest>  a constant whose value inference may have folded into the code
#   pkg:<name>:<digest>             a non-stdlib package, by the digest of its sources
# Editing one definition invalidates exactly its dependents. Each MethodInstance's own requirements are collected
# once and combined over the static call graph once (reach.jl), so the cost grows with the code, not per entry.

struct StatementIndex
    records::Vector{StatementRecord}       # in evaluation order, so world ranges ascend
    byname::Dict{Symbol,String}            # binding of Main -> hash of the statement that created it
    # file -> (first line, last line, requirements) of each statement evaluated from it, directly or by `include`
    byfile::Dict{String,Vector{Tuple{Int,Int,Vector{String}}}}
end
function StatementIndex(rs::Vector{StatementRecord})
    byname = Dict{Symbol,String}()
    byfile = Dict{String,Vector{Tuple{Int,Int,Vector{String}}}}()
    for r in rs
        for n in r.newnames
            get!(byname, n, r.hash)
        end
        push!(get!(byfile, r.file, Tuple{Int,Int,Vector{String}}[]), (r.line, r.lastline, ["stmt:" * r.hash]))
        for inc in r.included, (lo, hi, h) in inc.statements
            push!(get!(byfile, inc.path, Tuple{Int,Int,Vector{String}}[]), (lo, hi, ["stmt:" * r.hash, def_requirement(inc.path, h)]))
        end
    end
    return StatementIndex(rs, byname, byfile)
end

"Code inlined from `file:line` (a frame of an inferred linetable) needs the statement that was there, the last time."
function location_requires!(req, ix::StatementIndex, file::Symbol, line::Integer)
    spans = get(ix.byfile, String(file), nothing)
    spans === nothing && return
    k = findlast(s -> s[1] <= line <= s[2], spans)
    k === nothing || union!(req, spans[k][3])
end

"The statement during which the world counter reached `w`, or nothing."
function record_at_world(ix::StatementIndex, w::UInt)
    rs = ix.records
    k = searchsortedfirst(rs, w; by = r -> r isa StatementRecord ? r.world_hi : r)
    k <= length(rs) && rs[k].world_lo < w <= rs[k].world_hi && return rs[k]
    return nothing
end

"""
What a package's cache may carry (`keep` of a capture built from its tests): code that needs the package (its own
methods, and Base or dependency methods specialized on its types), and nothing but packages, like a package image.
"""
package_entries(name::AbstractString) =
    reqs -> any(r -> startswith(r, "pkg:$name:"), reqs) && all(r -> startswith(r, "pkg:"), reqs)

"""
Whether `mi` is the package's own method or is specialized on one of its types: the test before compiling, so that
a package's cache does not compile the test framework's code only to leave it out.
"""
function mentions_package(mi::Core.MethodInstance, pkg::Module)
    mi.def isa Method && Base.moduleroot(mi.def.module) === pkg && return true
    return type_mentions(mi.specTypes, pkg, IdDict{Any,Nothing}())
end

function type_mentions(@nospecialize(t), pkg::Module, seen::IdDict{Any,Nothing})
    haskey(seen, t) && return false
    seen[t] = nothing
    t isa DataType && return Base.moduleroot(t.name.module) === pkg || any(p -> type_mentions(p, pkg, seen), t.parameters)
    t isa UnionAll && return type_mentions(t.var.ub, pkg, seen) || type_mentions(t.body, pkg, seen)
    t isa Union && return type_mentions(t.a, pkg, seen) || type_mentions(t.b, pkg, seen)
    t isa TypeVar && return type_mentions(t.ub, pkg, seen)
    return false
end

"Requirement naming a definition that no completed statement made: such entries are skipped."
const UNKNOWN_PREFIX = "unknown:"

is_user_module(m::Module) = Base.moduleroot(m) === Main

add_stmt!(req, h) = h === nothing || push!(req, "stmt:" * h)

function module_requires!(req::Set{String}, ix::StatementIndex, m::Module)
    root = Base.moduleroot(m)
    if root === Main
        m === Main && return
        while parentmodule(m) !== Main
            m = parentmodule(m)
        end
        add_stmt!(req, get(ix.byname, nameof(m), nothing))
    elseif !(root === Base || root === Core)
        r = package_requirement_of(root)
        r === nothing || push!(req, r)
    end
end

function binding_requires!(req, ix::StatementIndex, m::Module, n::Symbol)
    module_requires!(req, ix, m)
    m === Main && add_stmt!(req, get(ix.byname, n, nothing))
    is_user_module(m) && (c = const_binding_requirement(m, n); c === nothing || push!(req, c))
end

function method_requires!(req, ix::StatementIndex, m::Method)
    module_requires!(req, ix, m.module)
    is_user_module(m.module) || return
    r = record_at_world(ix, m.primary_world)
    if r === nothing
        push!(req, UNKNOWN_PREFIX * "$(m.module).$(m.name) was not defined by a statement this session completed")
        return
    end
    add_stmt!(req, r.hash)
    file = String(m.file)
    for inc in r.included
        inc.path == file || continue
        k = findfirst(s -> s[1] <= m.line <= s[2], inc.statements)
        push!(req, k === nothing ? UNKNOWN_PREFIX * "$file:$(m.line) is in no statement of that file" :
                                   def_requirement(file, inc.statements[k][3]))
    end
    # Constants the method's source reads: inference may have folded their values into any code that holds it.
    src = try Base.uncompressed_ast(m) catch; nothing end
    src isa Core.CodeInfo && foreach(st -> const_refs!(req, st), src.code)
end

function const_refs!(req, @nospecialize(x))
    if x isa GlobalRef
        is_user_module(x.mod) && (c = const_binding_requirement(x.mod, x.name); c === nothing || push!(req, c))
    elseif x isa Expr
        foreach(a -> const_refs!(req, a), x.args)
    end
end

function type_requires!(req, ix::StatementIndex, x::DataType)
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
        # A struct's layout comes from its definition: its constructors say which statement (or included file) that was.
        if is_user_module(tn.module) && !x.abstract
            for m in methods(tn.wrapper)
                m.module === tn.module && method_requires!(req, ix, m)
            end
        end
    end
end

function object_requires!(req::Set{String}, ix::StatementIndex, @nospecialize(x), seen::IdDict{Any,Nothing})
    haskey(seen, x) && return
    seen[x] = nothing
    if x isa DataType
        type_requires!(req, ix, x)
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

# The optimized code inference kept for `mi` in `world`, or nothing (not a method, not inferred, not kept).
"""
Memos while one capture runs (`with_capture_memos`): the capture walks the same call graph several times (callees,
reachable methods, requirements, code reach), and uncompressing the IR is most of a walk; and every binding or method
of a package asks for the package's requirement, whose digest reads all of its sources (locating a package searches
the load path's directories, even for a stdlib). The capture's world, the sources it prepared and the packages'
files do not change during it.
"""
const SOURCE_MEMO = Ref{Union{Nothing,IdDict{Core.MethodInstance,Any}}}(nothing)
const PACKAGE_MEMO = Ref{Union{Nothing,IdDict{Module,Union{Nothing,String}}}}(nothing)

function with_capture_memos(f::Function)
    SOURCE_MEMO[] = IdDict{Core.MethodInstance,Any}()
    PACKAGE_MEMO[] = IdDict{Module,Union{Nothing,String}}()
    try
        return f()
    finally
        SOURCE_MEMO[] = nothing
        PACKAGE_MEMO[] = nothing
    end
end

"The requirement code of package `root` has, or nothing for a stdlib (the system image holds those)."
function package_requirement_of(root::Module)
    memo = PACKAGE_MEMO[]
    find() = is_stdlib(root) ? nothing : package_requirement(root)
    return memo === nothing ? find() : get!(find, memo, root)
end

function inferred_source(mi::Core.MethodInstance, world::UInt)
    memo = SOURCE_MEMO[]
    memo === nothing && return read_inferred_source(mi, world)
    return get!(() -> read_inferred_source(mi, world), memo, mi)
end

function read_inferred_source(mi::Core.MethodInstance, world::UInt)
    mi.def isa Method || return nothing
    ci = rettype_inferred(mi, world)
    ci isa Core.CodeInstance && isdefined(ci, :inferred) && ci.inferred !== nothing || return nothing
    src = try uncompressed_ir(mi.def, ci) catch; nothing end
    return src isa Core.CodeInfo ? src : nothing
end

"MethodInstances the code of `mi` invokes statically (the edges of the call graph codegen follows)."
function invoked_by(mi::Core.MethodInstance, world::UInt)
    out = Core.MethodInstance[]
    src = inferred_source(mi, world)
    src === nothing && return out
    for st in src.code
        st isa Expr && st.head === :invoke && st.args[1] isa Core.MethodInstance && push!(out, st.args[1])
    end
    return out
end

"What `mi`'s own code needs (its signature, method, inlined frames, global references), without its callees."
function own_requires(ix::StatementIndex, mi::Core.MethodInstance, world::UInt, seen::IdDict{Any,Nothing})
    req = Set{String}()
    empty!(seen)
    object_requires!(req, ix, mi, seen)
    src = inferred_source(mi, world)
    src === nothing && return req
    for li in src.linetable
        li isa Core.LineInfoNode || continue
        li.method isa Union{Method,Core.MethodInstance} && object_requires!(req, ix, li.method, seen)
        location_requires!(req, ix, li.file, li.line)
    end
    for st in src.code
        expr_requires!(req, ix, st, seen)
    end
    return req
end

function expr_requires!(req, ix, @nospecialize(x), seen)
    if x isa Expr
        for a in x.args
            expr_requires!(req, ix, a, seen)
        end
    elseif x isa GlobalRef
        binding_requires!(req, ix, x.mod, x.name)
    elseif x isa Type || x isa Function
        object_requires!(req, ix, x, seen)
    end
end

"Every method whose code `mis` (and what they invoke) hold: inlined frames count."
function reachable_methods(mis, world::UInt)
    methods_ = IdDict{Method,Nothing}()
    for mi in mis
        mi.def isa Method && (methods_[mi.def] = nothing)
        src = inferred_source(mi, world)
        src === nothing && continue
        for li in src.linetable
            li isa Core.LineInfoNode || continue
            li.method isa Method && (methods_[li.method] = nothing)
            li.method isa Core.MethodInstance && li.method.def isa Method && (methods_[li.method.def] = nothing)
        end
    end
    return collect(keys(methods_))
end
