# The capture itself: signatures -> MethodInstances -> jl_create_native (imaging) -> slot descriptions, entry
# symbols, Julia's passes -> module.bc + plan.bin + the result that becomes capture.json.

ms(t) = round((time_ns() - t) / 1e6; digits = 1)
debug(xs...) = get(ENV, "JLC_DEBUG", "") != "" && (println(stderr, xs...); flush(stderr))

struct Entry
    signature::String
    mi::Core.MethodInstance
    rettype::Any
    kind::UInt8
    invoke::String
    spec::String
    callee::Bool   # not in the compile log: compiled with a logged method (see below)
end

function capture(definitions, signatures::Vector{String}, outdir::String)
    timing = Dict{String,Any}()
    empty!(CLOSURE_PARENTS)
    t = time_ns()
    replayed = replay(definitions)
    ix = DefIndex(replayed)
    failed_stmts = Dict(r.hash => r.reason for r in replayed if !r.ok)
    timing["replayMs"] = ms(t)

    t = time_ns()
    world = world_counter()
    skipped = Any[]
    cand = Tuple{String,Core.MethodInstance}[]
    seen = Set{Any}()
    for s in unique(signatures)
        mi, reason = try
            resolve_signature(s, world)
        catch e
            nothing, "cannot resolve: " * first(split(sprint(showerror, e), '\n'))
        end
        if mi === nothing
            push!(skipped, Dict("signature" => s, "reason" => reason))
        elseif !(mi in seen)
            push!(seen, mi); push!(cand, (s, mi))
        end
    end
    timing["resolveMs"] = ms(t)

    t = time_ns()
    # static_alloc must stay on: without it codegen's static_eval may not build the `(:name, LIB)` tuple of a
    # ccall like Base.PCRE's, and emits an always-throwing "ccall: first argument not a pointer" instead.
    params = Base.CodegenParams(track_allocations = false, code_coverage = false, static_alloc = true, prefer_specsig = true)
    nc = create_native(Core.MethodInstance[mi for (_, mi) in cand], params)
    mod = native_llvm_module(nc)
    timing["createNativeMs"] = ms(t)

    t = time_ns()
    fvars = native_fvars(nc)
    entries = Entry[]
    world = world_counter()
    # Codegen compiles the methods a logged method invokes (and does not inline) together with it, and the compile
    # log names only the logged one; the session's dispatch finds those callees' code too (markdown.jl calls
    # `term(::IOContext, ::Vector{Any}, ::Int)` only so). Those whose code is in the module become entries. Most are
    # Base methods with static parameters whose MethodInstance the loader creates (see mi_for in jlcache.c: with
    # wrong sparam_vals, a session that compiled a caller of one crashed).
    logged = Set{Core.MethodInstance}(mi for (_, mi) in cand)
    callees = Tuple{String,Core.MethodInstance}[(string(mi.specTypes), mi) for mi in invoked_instances([mi for (_, mi) in cand], world)[1]
                                                if !(mi in logged) && mi.def isa Method && uncacheable(mi.specTypes, mi.def) === nothing]
    for (s, mi) in Iterators.flatten((cand, callees))
        callee = !(mi in logged)
        ci = rettype_inferred(mi, world)
        if !(ci isa Core.CodeInstance)
            callee || push!(skipped, Dict("signature" => s, "reason" => "no inferred code")); continue
        end
        fid, sfid = native_function_id(nc, ci)
        if sfid <= 0 || (fid == 0)
            callee || push!(skipped, Dict("signature" => s, "reason" => "no native code (constant result or not compiled)")); continue
        end
        k = length(entries)
        kind = fid == -1 ? ENTRY_FPTR_ARGS : fid == -2 ? ENTRY_FPTR_SPARAM : ENTRY_SPECSIG
        inv = fid > 0 ? "jlentry_$(k)_invoke" : ""
        spec = "jlentry_$(k)_spec"
        fid > 0 && (llvm_setname!(fvars[fid], inv); llvm_export!(fvars[fid]))
        llvm_setname!(fvars[sfid], spec); llvm_export!(fvars[sfid])
        push!(entries, Entry(s, mi, ci.rettype, kind, inv, spec, callee))
    end

    # Slots: describe each, then give it a stable external name.
    gvars = native_gvars(nc)
    byindex = Dict(Int(v) => k for (k, v) in native_value_map(nc))
    w = PlanWriter(reachable_methods([e.mi for e in entries], world))
    slot_node = fill(typemax(UInt32), length(gvars))
    slot_obj = Vector{Any}(undef, length(gvars))
    slot_err = Dict{Int,String}()
    kinds = Dict{String,Int}()
    for i in 1:length(gvars)
        g = gvars[i]
        p = byindex[i]
        try
            if startswith(llvm_name(g), GVAR_BINDING_PREFIX)
                owner, name = binding_owner(p), binding_name(p)
                slot_obj[i] = (owner, name)
                slot_node[i] = node!(w, OP_BINDING, encode(w, owner), encode(w, name))
                kinds["binding"] = get(kinds, "binding", 0) + 1
            else
                x = unsafe_pointer_to_objref(p)
                slot_obj[i] = x
                slot_node[i] = encode(w, x)
                k = x isa Type ? "type" : string(nameof(typeof(x)))
                kinds[k] = get(kinds, k, 0) + 1
            end
        catch e
            slot_err[i] = sprint(showerror, e)
            isassigned(slot_obj, i) || (slot_obj[i] = nothing)
        end
        llvm_setname!(g, "jlgv_$(i - 1)"); llvm_export!(g)
    end
    timing["describeMs"] = ms(t)
    debug("timing ", timing)

    t = time_ns()
    llvm_run_julia_passes!(mod, 2)
    timing["passesMs"] = ms(t)
    dump = get(ENV, "JLC_DUMP_IR", "")
    isempty(dump) || ccall((:LLVMPrintModuleToFile, LIBLLVM_NAME), Cint, (Ptr{Cvoid}, Cstring, Ptr{Ptr{UInt8}}), mod, dump, C_NULL)

    t = time_ns()
    # Which slots each entry's code reaches, through calls between functions of this module.
    gidx = Dict(g => i for (i, g) in enumerate(gvars))
    fn_slots = Dict{Ptr{Cvoid},Vector{Int}}()
    for (i, g) in enumerate(gvars), f in llvm_user_functions!(Set{Ptr{Cvoid}}(), g)
        push!(get!(fn_slots, f, Int[]), i)
    end
    fns = llvm_functions(mod)
    byname = Dict{String,Ptr{Cvoid}}()
    callees = Dict{Ptr{Cvoid},Vector{Ptr{Cvoid}}}()
    ndefined = 0
    for f in fns
        llvm_isdecl(f) && continue
        ndefined += 1
        byname[llvm_name(f)] = f
        for caller in llvm_user_functions!(Set{Ptr{Cvoid}}(), f)
            push!(get!(callees, caller, Ptr{Cvoid}[]), f)
        end
    end
    # Imaging codegen sometimes cannot fold a ccall's (name, library) tuple (seen in Base.PCRE) and emits a
    # run-time check that always throws "ccall: first argument not a pointer". Such code must never be cached.
    broken = Set{Ptr{Cvoid}}()
    for g in llvm_globals(mod)
        occursin("ccall: first argument not a pointer", llvm_string_global(g)) && llvm_user_functions!(broken, g)
    end
    final = Any[]
    plan_entries = Any[]
    visited = IdDict{Any,Nothing}()
    # A callee entry the module cannot carry is left out silently: nobody asked for it, its caller still has it.
    skip!(e::Entry, reason::String) = (e.callee || push!(skipped, Dict("signature" => e.signature, "reason" => reason)); nothing)
    for e in entries
        reach = Set{Ptr{Cvoid}}()
        todo = Ptr{Cvoid}[byname[n] for n in (e.invoke, e.spec) if !isempty(n)]
        while !isempty(todo)
            f = pop!(todo); f in reach && continue; push!(reach, f)
            append!(todo, get(callees, f, Ptr{Cvoid}[]))
        end
        if any(f -> f in broken, reach)
            skip!(e, "reaches a ccall whose library imaging codegen left to run time (Julia 1.5 limitation)"); continue
        end
        slots = sort!(unique!(Int[i for f in reach for i in get(fn_slots, f, Int[])]))
        bad = [i for i in slots if haskey(slot_err, i)]
        if !isempty(bad)
            skip!(e, "slot $(bad[1] - 1): " * slot_err[bad[1]]); continue
        end
        req = Set{String}()
        empty!(visited)
        code_requires!(req, ix, e.mi, world, visited)
        for i in slots
            object_requires!(req, ix, slot_obj[i])
        end
        bad_req = [r for r in req if startswith(r, "stmt:") && haskey(failed_stmts, r[6:end])]
        if !isempty(bad_req)
            skip!(e, "depends on a definition that failed to replay: " * failed_stmts[bad_req[1][6:end]]); continue
        end
        reqs = sort!(collect(req))
        sig, rettype, backedges = try
            encode(w, e.mi.specTypes), encode(w, e.rettype),
            UInt32[encode(w, mi) for mi in keys(visited) if mi isa Core.MethodInstance && mi !== e.mi && user_callee(ix, mi)]
        catch err
            err isa Unsupported || rethrow()
            skip!(e, err.msg); continue
        end
        # The code was emitted under entry index of `entries`; keep its symbol names.
        push!(plan_entries, (entry = e, slots = [UInt32(i - 1) for i in slots], requires = reqs,
                             sig = sig, rettype = rettype, backedges = backedges))
        push!(final, Dict("signature" => e.signature, "symbol" => Dict("invoke" => e.invoke, "specptr" => e.spec),
                          "requires" => reqs, "slots" => length(slots)))
    end
    timing["analysisMs"] = ms(t)

    t = time_ns()
    llvm_write_bitcode(mod, joinpath(outdir, "module.bc"))
    write_plan(joinpath(outdir, "plan.bin"), w, slot_node, plan_entries)
    timing["writeMs"] = ms(t)

    return Dict{String,Any}(
        "juliaVersion" => string(VERSION), "entries" => final, "skipped" => skipped, "slotCount" => length(gvars),
        "functions" => ndefined, "slotKinds" => kinds, "timing" => timing, "tlsOffset" => jl_tls_offset(),
        "replay" => [Dict("hash" => r.hash, "ok" => r.ok, "reason" => r.reason) for r in replayed])
end

# Backedges go from user-defined callees (whose redefinition must reset the cached caller) to the entry.
user_callee(ix::DefIndex, mi::Core.MethodInstance) = mi.def isa Method && stmt_at(ix, mi.def.file, mi.def.line) !== nothing

function write_plan(path::String, w::PlanWriter, slot_node::Vector{UInt32}, entries)
    io = IOBuffer()
    write(io, PLAN_MAGIC, htol(PLAN_VERSION), htol(UInt32(0)), htol(Int64(jl_tls_offset())))
    write(io, htol(UInt32(length(w.nodes))), htol(UInt32(length(slot_node))), htol(UInt32(length(entries))), htol(UInt32(0)))
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
    end
    tmp = path * ".tmp"
    write(tmp, take!(io))
    mv(tmp, path; force = true)
end
