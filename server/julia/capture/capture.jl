# The capture itself: signatures -> MethodInstances -> jl_create_native (imaging) -> slot descriptions, entry
# symbols, Julia's passes -> module.bc + plan.bin + the result that becomes capture.json.

ms(t) = round((time_ns() - t) / 1e6; digits = 1)

# static_alloc must stay on: without it codegen's static_eval may not build the `(:name, LIB)` tuple of a ccall
# like Base.PCRE's, and emits an always-throwing "ccall: first argument not a pointer" instead.
codegen_params() = Base.CodegenParams(track_allocations = false, code_coverage = false, static_alloc = true, prefer_specsig = true)

struct Entry
    signature::String
    mi::Core.MethodInstance
    rettype::Any
    kind::UInt8
    invoke::String
    spec::String
    callee::Bool   # not in the compile log: compiled with a logged method (see below)
end

"A callee whose code the loading session takes from its system image (see sysimage.jl)."
struct Import
    mi::Core.MethodInstance
    rettype::Any
    kind::UInt8
    name::String   # the declaration jlimport_<n>_spec
end

"""
Captures the MethodInstances `cand` (compile-log signature, instance) into `outdir`: module.bc, plan.bin, and the
result that becomes capture.json. `records` are the statements the session completed (requirements), `create`
runs jl_create_native (in imaging mode: the worker's process, or the session with the flag switched). `keep` says
from an entry's requirements whether it belongs in this cache (see `package_entries`); the rest are skipped.
"""
function capture(records::Vector{StatementRecord}, cand::Vector{Tuple{String,Core.MethodInstance}}, skipped::Vector{Any},
                 outdir::String, create::Function, timing::Dict{String,Any}; keep::Function = _ -> true)
    with_capture_memos(() -> capture_memoized(records, cand, skipped, outdir, create, timing, keep))
end

function capture_memoized(records::Vector{StatementRecord}, cand::Vector{Tuple{String,Core.MethodInstance}}, skipped::Vector{Any},
                          outdir::String, create::Function, timing::Dict{String,Any}, keep::Function)
    empty!(CLOSURE_PARENTS)
    ix = StatementIndex(records)
    world = world_counter()
    t = time_ns()
    nc = create(Core.MethodInstance[mi for (_, mi) in cand])
    mod = native_llvm_module(nc)
    timing["createNativeMs"] = ms(t)

    t = time_ns()
    entries, imports = native_entries(nc, cand, skipped, world)
    gvars = native_gvars(nc)
    pruned = prune!(mod, entries, gvars)
    timing["importMs"] = ms(t)

    t = time_ns()
    slots = describe_slots(nc, gvars, entries, world)
    timing["describeMs"] = ms(t)

    t = time_ns()
    llvm_run_julia_passes!(mod, 2)
    timing["passesMs"] = ms(t)
    dump = get(ENV, "JLC_DUMP_IR", "")
    isempty(dump) || ccall((:LLVMPrintModuleToFile, LIBLLVM_NAME), Cint, (Ptr{Cvoid}, Cstring, Ptr{Ptr{UInt8}}), mod, dump, C_NULL)

    t = time_ns()
    code = code_reach(mod, slots.gvars, imports)
    needs = instance_requirements(ix, [e.mi for e in entries], world)
    import_nodes = encode_imports(slots.writer, imports)
    final, plan_entries = entry_plans(ix, entries, slots, code, needs, import_nodes, skipped, keep)
    timing["analysisMs"] = ms(t)

    t = time_ns()
    llvm_write_bitcode(mod, joinpath(outdir, "module.bc"))
    write_plan(joinpath(outdir, "plan.bin"), slots.writer, slots.node, plan_entries, imports, import_nodes)
    timing["writeMs"] = ms(t)
    return Dict{String,Any}(
        "juliaVersion" => string(VERSION), "entries" => final, "skipped" => skipped, "slotCount" => length(slots.gvars),
        "functions" => code.ndefined, "imports" => length(imports), "pruned" => pruned, "slotKinds" => Dict{String,Any}(slots.kinds), "timing" => timing, "tlsOffset" => jl_tls_offset())
end

"Resolves compile-log signatures to MethodInstances: (candidates, skipped with reasons)."
function resolve_all(signatures::Vector{String}, world::UInt, resolve::Function)
    skipped = Any[]
    cand = Tuple{String,Core.MethodInstance}[]
    seen = IdDict{Any,Nothing}()
    for s in unique(signatures)
        mi, reason = try
            resolve(s, world)
        catch e
            nothing, "cannot resolve: " * first(split(sprint(showerror, e), '\n'))
        end
        if mi === nothing
            push!(skipped, Dict("signature" => s, "reason" => reason))
        elseif !haskey(seen, mi)
            seen[mi] = nothing; push!(cand, (s, mi))
        end
    end
    return cand, skipped
end

# Codegen compiles the methods a logged method invokes (and does not inline) together with it, and the compile log
# names only the logged one; the session's dispatch finds those callees' code too (markdown.jl calls
# `term(::IOContext, ::Vector{Any}, ::Int)` only so). Those whose code is in the module become entries (most are
# Base methods with static parameters whose MethodInstance the loader creates, see mi_for in jlcache.c), except
# the ones the system image holds: those become imports (sysimage.jl).
function native_entries(nc::Ptr{Cvoid}, cand, skipped::Vector{Any}, world::UInt)
    mod = native_llvm_module(nc)
    fvars = native_fvars(nc)
    logged = IdDict{Core.MethodInstance,Nothing}(mi => nothing for (_, mi) in cand)
    # A callee's signature is spelled only if it becomes an entry: most become imports, and printing a type is slow.
    callees = Tuple{String,Core.MethodInstance}[("", mi) for mi in invoked_closure([mi for (_, mi) in cand], world)
                                                if !haskey(logged, mi) && mi.def isa Method && uncacheable(mi.specTypes, mi.def) === nothing]
    entries = Entry[]
    imports = Import[]
    for (s, mi) in Iterators.flatten((cand, callees))
        callee = !haskey(logged, mi)
        ci = rettype_inferred(mi, world)
        if !(ci isa Core.CodeInstance)
            callee || push!(skipped, Dict("signature" => s, "reason" => "no inferred code")); continue
        end
        fid, sfid = native_function_id(nc, ci)
        if sfid <= 0 || (fid == 0)
            callee || push!(skipped, Dict("signature" => s, "reason" => "no native code (constant result or not compiled)")); continue
        end
        imported = callee ? system_image_kind(ci, fid) : nothing
        if imported !== nothing
            push!(imports, declare_import!(mod, fvars, fid, sfid, mi, ci.rettype, imported, length(imports)))
            continue
        end
        k = length(entries)
        callee && (s = string(mi.specTypes))
        kind = fid == -1 ? ENTRY_FPTR_ARGS : fid == -2 ? ENTRY_FPTR_SPARAM : ENTRY_SPECSIG
        inv = fid > 0 ? "jlentry_$(k)_invoke" : ""
        spec = "jlentry_$(k)_spec"
        fid > 0 && (llvm_setname!(fvars[fid], inv); llvm_export!(fvars[fid]))
        llvm_setname!(fvars[sfid], spec); llvm_export!(fvars[sfid])
        push!(entries, Entry(s, mi, ci.rettype, kind, inv, spec, callee))
    end
    return entries, imports
end

"A callee the system image holds: a declaration `jlimport_<n>_spec` instead of its code (its invoke wrapper goes)."
function declare_import!(mod::Ptr{Cvoid}, fvars, fid::Integer, sfid::Integer, mi::Core.MethodInstance, @nospecialize(rettype), kind::UInt8, n::Int)
    name = "jlimport_$(n)_spec"
    llvm_declaration!(mod, fvars[sfid], name)
    fid > 0 && llvm_delete_functions!([fvars[fid]])
    return Import(mi, rettype, kind, name)
end

"""
Deletes the code no entry reaches (mostly what only the imports' deleted bodies called) and the slots left
unused, so that neither is lowered, emitted, described or loaded. Functions used outside code (a global's
initializer) are kept with everything they reach. Deleted slots become C_NULL in `gvars`. Returns the count deleted.
"""
function prune!(mod::Ptr{Cvoid}, entries::Vector{Entry}, gvars::Vector{Ptr{Cvoid}})
    defined = filter(f -> !llvm_isdecl(f), llvm_functions(mod))
    byname = Dict(llvm_name(f) => f for f in defined)
    todo = Ptr{Cvoid}[byname[n] for e in entries for n in (e.invoke, e.spec) if !isempty(n)]
    append!(todo, filter(llvm_used_outside_code, defined))
    calls = Dict{Ptr{Cvoid},Vector{Ptr{Cvoid}}}()
    for f in defined, caller in llvm_user_functions!(Set{Ptr{Cvoid}}(), f)
        push!(get!(calls, caller, Ptr{Cvoid}[]), f)
    end
    live = Set{Ptr{Cvoid}}()
    while !isempty(todo)
        f = pop!(todo)
        f in live || (push!(live, f); append!(todo, get(calls, f, Ptr{Cvoid}[])))
    end
    dead = filter(f -> !(f in live), defined)
    llvm_delete_functions!(dead)
    for i in eachindex(gvars)
        has_uses(gvars[i]) || (llvm_delete_global!(gvars[i]); gvars[i] = C_NULL)
    end
    return length(dead)
end

"Every MethodInstance `mis` invoke statically, transitively (the roots included)."
function invoked_closure(mis, world::UInt)
    seen = IdDict{Core.MethodInstance,Nothing}()
    todo = Core.MethodInstance[mis...]
    while !isempty(todo)
        mi = pop!(todo)
        haskey(seen, mi) && continue
        seen[mi] = nothing
        append!(todo, invoked_by(mi, world))
    end
    return collect(keys(seen))
end

# Slots: describe each one code uses as plan nodes, then give it a stable external name.
function describe_slots(nc::Ptr{Cvoid}, gvars::Vector{Ptr{Cvoid}}, entries::Vector{Entry}, world::UInt)
    byindex = Dict(Int(v) => k for (k, v) in native_value_map(nc))
    w = PlanWriter(reachable_methods(invoked_closure([e.mi for e in entries], world), world))
    node = fill(typemax(UInt32), length(gvars))
    obj = Vector{Any}(nothing, length(gvars))
    err = Dict{Int,String}()
    kinds = Dict{String,Int}()
    for i in 1:length(gvars)
        g = gvars[i]
        # deleted by prune!, or only used by dead constant expressions: no entry reaches it
        (g == C_NULL || isempty(llvm_user_functions!(Set{Ptr{Cvoid}}(), g))) && continue
        p = byindex[i]
        try
            if startswith(llvm_name(g), GVAR_BINDING_PREFIX)
                owner, name = binding_owner(p), binding_name(p)
                obj[i] = (owner, name)
                node[i] = node!(w, OP_BINDING, encode(w, owner), encode(w, name))
                kinds["binding"] = get(kinds, "binding", 0) + 1
            else
                x = unsafe_pointer_to_objref(p)
                obj[i] = x
                node[i] = encode(w, x)
                k = x isa Type ? "type" : string(nameof(typeof(x)))
                kinds[k] = get(kinds, k, 0) + 1
            end
        catch e
            err[i] = sprint(showerror, e)
        end
        llvm_setname!(g, "jlgv_$(i - 1)"); llvm_export!(g)
    end
    return (gvars = gvars, writer = w, node = node, obj = obj, err = err, kinds = kinds)
end

# Imaging codegen sometimes cannot fold a ccall's (name, library) tuple (seen in Base.PCRE) and emits a run-time
# check that always throws "ccall: first argument not a pointer". Such code must never be cached.
const BROKEN_CCALL = 0   # a pseudo slot index: the function reaches such a check

"""
Per defined function of the module: the slots (1-based) and imports (-1-based, negated) its code reaches through
calls inside the module.
"""
function code_reach(mod::Ptr{Cvoid}, gvars::Vector{Ptr{Cvoid}}, imports::Vector{Import})
    fn_slots = Dict{Ptr{Cvoid},Vector{Int}}()
    for (i, g) in enumerate(gvars), f in (g == C_NULL ? () : llvm_user_functions!(Set{Ptr{Cvoid}}(), g))
        push!(get!(fn_slots, f, Int[]), i)
    end
    for (j, imp) in enumerate(imports)
        d = llvm_named_function(mod, imp.name)
        d == C_NULL && continue    # no call to it survived the passes
        for f in llvm_user_functions!(Set{Ptr{Cvoid}}(), d)
            push!(get!(fn_slots, f, Int[]), -j)
        end
    end
    for g in llvm_globals(mod)
        occursin("ccall: first argument not a pointer", llvm_string_global(g)) || continue
        for f in llvm_user_functions!(Set{Ptr{Cvoid}}(), g)
            push!(get!(fn_slots, f, Int[]), BROKEN_CCALL)
        end
    end
    byname = Dict{String,Ptr{Cvoid}}()
    callees = Dict{Ptr{Cvoid},Vector{Ptr{Cvoid}}}()
    for f in llvm_functions(mod)
        llvm_isdecl(f) && continue
        byname[llvm_name(f)] = f
        for caller in llvm_user_functions!(Set{Ptr{Cvoid}}(), f)
            push!(get!(callees, caller, Ptr{Cvoid}[]), f)
        end
    end
    reach = reach_unions(values(byname), f -> get(callees, f, Ptr{Cvoid}[]), f -> get(fn_slots, f, Int[]), Ptr{Cvoid}, Int)
    return (byname = byname, reach = reach, ndefined = length(byname))
end

# A statement or package requirement, or a user method called (a backedge). A Union, not Any: the sets' key
# comparisons then dispatch statically and come with the capture code's cache instead of compiling per session.
const Requirement = Union{String,Core.MethodInstance}

"Per MethodInstance: what its code and everything it invokes require, and the user methods it calls (backedges)."
function instance_requirements(ix::StatementIndex, roots::Vector{Core.MethodInstance}, world::UInt)
    seen = IdDict{Any,Nothing}()
    own(mi) = (s = Set{Requirement}(own_requires(ix, mi, world, seen)); user_callee(mi) && push!(s, mi); s)
    return reach_unions(roots, mi -> invoked_by(mi, world), own, Core.MethodInstance, Requirement)
end

# Backedges go from user-defined callees (whose redefinition must reset the cached caller) to the entry.
user_callee(mi::Core.MethodInstance) = mi.def isa Method && is_user_module(mi.def.module)

"Per import, its (signature, return type) plan nodes, or nothing where the plan cannot name them."
encode_imports(w::PlanWriter, imports::Vector{Import}) =
    Union{Nothing,Tuple{UInt32,UInt32}}[try (encode(w, imp.mi.specTypes), encode(w, imp.rettype)) catch err
                                            err isa Unsupported ? nothing : rethrow() end for imp in imports]

function entry_plans(ix::StatementIndex, entries::Vector{Entry}, slots, code, needs, import_nodes, skipped::Vector{Any}, keep::Function)
    final = Any[]
    plan_entries = Any[]
    slot_reqs = Dict{Int,Set{String}}()
    # A callee entry the module cannot carry is left out silently: nobody asked for it, its caller still has it.
    skip!(e::Entry, reason::String) = (e.callee || push!(skipped, Dict("signature" => e.signature, "reason" => reason)); nothing)
    for e in entries
        reached = Set{Int}()
        for n in (e.invoke, e.spec)
            isempty(n) || union!(reached, code.reach[code.byname[n]])
        end
        if BROKEN_CCALL in reached
            skip!(e, "reaches a ccall whose library imaging codegen left to run time (Julia 1.5 limitation)"); continue
        end
        used = sort!(filter(>(0), collect(reached)))
        imported = sort!(UInt32[-i - 1 for i in reached if i < 0])
        if any(j -> import_nodes[j + 1] === nothing, imported)
            skip!(e, "calls a system-image method the plan cannot name"); continue
        end
        bad = findfirst(i -> haskey(slots.err, i), used)
        if bad !== nothing
            skip!(e, "slot $(used[bad] - 1): " * slots.err[used[bad]]); continue
        end
        req = Set{String}()
        callees = Core.MethodInstance[]
        for x in needs[e.mi]
            x isa String ? push!(req, x) : x !== e.mi && push!(callees, x)
        end
        for i in used
            union!(req, get!(() -> slot_requires(ix, slots.obj[i]), slot_reqs, i))
        end
        unknown = findfirst(r -> startswith(r, UNKNOWN_PREFIX), collect(req))
        if unknown !== nothing
            skip!(e, "depends on code no completed statement defined: " * collect(req)[unknown][length(UNKNOWN_PREFIX)+1:end]); continue
        end
        reqs = sort!(collect(req))
        if !keep(reqs)
            skip!(e, "not this cache's code (it needs " * (isempty(reqs) ? "no package" : join(reqs, ", ")) * ")"); continue
        end
        w = slots.writer
        sig, rettype, backedges = try
            encode(w, e.mi.specTypes), encode(w, e.rettype), UInt32[encode(w, mi) for mi in callees]
        catch err
            err isa Unsupported || rethrow()
            skip!(e, err.msg); continue
        end
        # The code was emitted under entry index of `entries`; keep its symbol names.
        push!(plan_entries, (entry = e, slots = [UInt32(i - 1) for i in used], requires = reqs,
                             sig = sig, rettype = rettype, backedges = backedges, imports = imported))
        push!(final, Dict("signature" => e.signature, "symbol" => Dict("invoke" => e.invoke, "specptr" => e.spec),
                          "requires" => reqs, "slots" => length(used)))
    end
    return final, plan_entries
end

slot_requires(ix::StatementIndex, @nospecialize(x)) =
    (req = Set{String}(); object_requires!(req, ix, x, IdDict{Any,Nothing}()); req)

function write_plan(path::String, w::PlanWriter, slot_node::Vector{UInt32}, entries, imports::Vector{Import}, import_nodes)
    io = IOBuffer()
    write(io, PLAN_MAGIC, htol(PLAN_VERSION), htol(UInt32(0)), htol(Int64(jl_tls_offset())))
    write(io, htol(UInt32(length(w.nodes))), htol(UInt32(length(slot_node))), htol(UInt32(length(entries))), htol(UInt32(length(imports))))
    for b in w.nodes
        write(io, b[1], htol(UInt32(length(b) - 1)), b[2:end])
    end
    for n in slot_node
        write(io, htol(n))
    end
    for (k, pe) in enumerate(entries)
        e = pe.entry
        idx = parse(UInt32, split(e.spec, '_')[2])
        write(io, htol(idx), htol(pe.sig), htol(pe.rettype), e.kind)
        write(io, htol(UInt32(length(pe.requires))))
        for r in pe.requires
            write(io, htol(UInt32(sizeof(r))), r)
        end
        write(io, htol(UInt32(length(pe.slots))), htol.(pe.slots))
        write(io, htol(UInt32(length(pe.backedges))), htol.(pe.backedges))
        write(io, htol(UInt32(length(pe.imports))), htol.(pe.imports))
    end
    for (imp, nodes) in zip(imports, import_nodes)
        sig, rettype = something(nodes, (typemax(UInt32), typemax(UInt32)))   # no entry reaches it (see entry_plans)
        write(io, htol(sig), htol(rettype), imp.kind)
    end
    tmp = path * ".tmp"
    write(tmp, take!(io))
    mv(tmp, path; force = true)
end
