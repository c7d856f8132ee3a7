# Replays the session's definition statements in Main (see REPLAY.md for exactly what is replayed and why).
# Each statement gets the same file and line numbers it had in the session, so methods and closures carry the
# same source locations there and here (the loader finds closure types by them).

const DEFINITION_HEADS = (:function, :macro, :struct, :abstract, :primitive, :using, :import, :export, :module,
                          :baremodule, :const)

# Parse exactly like the agent: the statement's text parsed on its own, then every line number shifted so the
# statement's first line is `line` of `file`.
function parse_statement(code::String, file::String, line::Int)
    ex = Base.parse_input_line(code; filename = file)
    return shift_lines!(ex, Symbol(file), line - 1)
end

function shift_lines!(ex, file::Symbol, delta::Int)
    if ex isa LineNumberNode
        return LineNumberNode(ex.line + delta, file)
    elseif ex isa Expr
        for i in eachindex(ex.args)
            ex.args[i] = shift_lines!(ex.args[i], file, delta)
        end
    end
    return ex
end

is_shortdef(ex) = ex isa Expr && ex.head === :(=) && length(ex.args) == 2 &&
    (is_callsig(ex.args[1]))
is_callsig(x) = x isa Expr && (x.head === :call || (x.head in (:where, :(::)) && is_callsig(x.args[1])))

# A `const` right-hand side is replayed only when evaluating it cannot reach the outside world: literals,
# string macros, collections and type applications/constructor calls made of those.
function pure_rhs(x)
    x isa Union{Number,String,Char,Symbol,QuoteNode,Bool,Nothing,LineNumberNode} && return true
    x isa Expr || return false
    if x.head === :macrocall
        return x.args[1] in (Symbol("@r_str"), Symbol("@raw_str"), Symbol("@big_str"), Symbol("@v_str"), Symbol("@b_str"),
                             Symbol("@int128_str"), Symbol("@uint128_str"), Symbol("@s_str"))
    end
    x.head in (:tuple, :vect, :vcat, :hcat, :row, :string, :curly, :(=), :kw, :parameters, :(::), :., :call, :ref) || return false
    if x.head === :call
        f = x.args[1]
        f isa Symbol && f in (:+, :-, :*, :/, :^, :(=>), :Dict, :Set, :Regex, :Pair, :tuple, :string, :Symbol) || is_type_name(f) || return false
        return all(pure_rhs, x.args[2:end])
    end
    if x.head === :.
        return all(a -> a isa Union{Symbol,QuoteNode} || pure_rhs(a), x.args)
    end
    return all(pure_rhs, x.args)
end
# Calls `T(args...)` are constructor calls when `T` names a type already defined in Main.
function is_type_name(f)
    f isa Symbol || (f isa Expr && f.head === :curly && return is_type_name(f.args[1]))
    f isa Symbol || return false
    return isdefined(Main, f) && getfield(Main, f) isa Type
end

"A block is replayed only when every part would be: one impure `const` or expression refuses it all."
function block_kind(parts, kind::Symbol)
    for a in parts
        a isa LineNumberNode && continue
        k = definition_kind(a)
        (k === nothing || k === :impure_const) && return k
    end
    return kind
end

function definition_kind(ex)
    ex isa Expr || return nothing
    ex.head === :toplevel && return block_kind(ex.args, :toplevel)
    # A module body runs whatever it holds: only one made of definitions is replayed.
    ex.head in (:module, :baremodule) && return block_kind(ex.args[3].args, :module)
    # A package's `__init__` would run again in this process: only Julia's own standard libraries are loaded.
    ex.head in (:using, :import) && return all(stdlib_import, ex.args) ? ex.head : nothing
    ex.head === :macrocall && ex.args[1] === Symbol("@doc") && return definition_kind(ex.args[end])
    ex.head === :const && return pure_rhs(ex.args[1] isa Expr && ex.args[1].head === :(=) ? ex.args[1].args[2] : nothing) ? :const : :impure_const
    ex.head in DEFINITION_HEADS && return ex.head
    is_shortdef(ex) && return :function
    return nothing
end

"`using X`, `import X.y`, `using X: a`: X is a standard library or Base (a relative `.X` is a module of the session)."
function stdlib_import(@nospecialize(a))
    a isa Expr && a.head === :(:) && return stdlib_import(a.args[1])
    a isa Expr && a.head === :. && !isempty(a.args) || return false
    root = a.args[1]
    root === :. && return true
    root isa Symbol || return false
    root in (:Base, :Core) && return true
    return isdir(joinpath(Sys.STDLIB, String(root)))
end

"""
Evaluates the definition statements in Main, in session order. Returns the records of those that ran (with the
world range each covered) and, for the others, (hash, reason).
"""
function replay(definitions)
    done = StatementRecord[]
    failed = Any[]
    for d in definitions
        code = String(d["code"]); file = String(d["file"]); line = Int(d["line"]); hash = String(d["hash"])
        nlines = count(==('\n'), code)
        before = Set(names(Main; all = true, imported = true))
        world_lo = world_counter()
        ok, reason = try
            ex = parse_statement(code, file, line)
            kind = definition_kind(ex)
            if kind === nothing
                false, "not a definition statement: expressions are never replayed"
            elseif kind === :impure_const
                false, "const whose right-hand side may have side effects is not replayed"
            else
                Core.eval(Main, ex)
                true, ""
            end
        catch e
            false, "replay failed: " * first(split(sprint(showerror, e), '\n'))
        end
        if ok
            newnames = Symbol[n for n in names(Main; all = true, imported = true) if !(n in before)]
            push!(done, StatementRecord(hash, file, line, line + nlines, world_lo, world_counter(), newnames, IncludedFile[], String[]))
        else
            push!(failed, Dict("hash" => hash, "reason" => reason))
        end
    end
    return done, failed
end
