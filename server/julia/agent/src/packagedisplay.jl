# Package caches (Build Package Cache from Tests) also hold the display of the package's values. A user who types a
# call sees its value shown (display.jl), but a test suite seldom shows what it computes, so without this that
# `show` compiles in the first call of every session. After the tests, the display is compiled (`precompile`:
# inference and code generation, nothing is called) for the package's own concrete types that the package methods
# the tests compiled take or return. The compile log then names those specializations, and the package's save
# captures them like the tests' own code: they are specialized on the package's types.

"""
Compiles `display_text`'s `show` for the value types of the package named `name`, the most used first, until
`budget_ms` have passed (a collection package's tests produce dozens of element types, and showing each costs
~100 ms to compile); returns how many types were compiled.
"""
function compile_package_displays(name::String, budget_ms::Real)
    t0 = time_ns()
    n = 0
    for T in package_value_types(loaded_package(name), world_counter())
        (time_ns() - t0) / 1e6 > budget_ms && break
        precompile(display_signature(T))
        n += 1
    end
    return n
end

"""
Concrete types of `pkg` (functions and closures left out: users call them, they do not display them) that appear,
also as type parameters, in the arguments or return types of `pkg`'s methods the session compiled; those that
appear in the most methods first.
"""
function package_value_types(pkg::Module, world::UInt)
    found = IdDict{Any,Int}()
    prefix = string(nameof(pkg), ".")
    for (sig, _) in COMPILED
        occursin(prefix, sig) || continue            # cheap: a package method's signature names the package
        mi, _ = resolve_signature(sig, world)        # type construction only, nothing of the package runs
        mi isa Core.MethodInstance && Base.moduleroot(mi.def.module) === pkg || continue
        mine = IdDict{Any,Int}()
        foreach(t -> value_types!(mine, t, pkg, 0), mi.specTypes.parameters)
        foreach(t -> value_types!(mine, t, pkg, 0), return_types(mi))
        foreach(t -> found[t] = get(found, t, 0) + 1, keys(mine))
    end
    return sort!(Any[t for t in keys(found)]; by = t -> (-found[t], string(t)))
end

"The return types inference found for `mi` (one per CodeInstance)."
function return_types(mi::Core.MethodInstance)
    types = Any[]
    ci = isdefined(mi, :cache) ? mi.cache : nothing
    while ci isa Core.CodeInstance
        push!(types, ci.rettype)
        ci = isdefined(ci, :next) ? ci.next : nothing
    end
    return types
end

# Depth bound: parameters of parameters are enough to reach the elements of a Vector{Tuple{T,Int}}.
const VALUE_TYPE_DEPTH = 3

function value_types!(found::IdDict{Any,Int}, @nospecialize(t), pkg::Module, depth::Int)
    depth > VALUE_TYPE_DEPTH && return
    if t isa Union
        value_types!(found, t.a, pkg, depth)
        value_types!(found, t.b, pkg, depth)
    elseif t isa DataType
        isconcretetype(t) && !(t <: Function) && Base.moduleroot(t.name.module) === pkg && (found[t] = 1)
        foreach(p -> value_types!(found, p, pkg, depth + 1), t.parameters)
    end
    return
end
