# Splitting code into top-level statements, with exact source text, line numbers, a stable hash and a kind.
#
# A statement is what `Meta.parse(code, pos)` returns in one call: `a; b` on one line is one statement (the
# parser returns them as one :toplevel expression). Its source text is the code from its first token up to
# where the parser stopped, trimmed (a comment on the same line after it is part of the text).
#
# kind = "definition" for statements the capture worker may replay in a fresh process: function and method
# definitions (long and short form, `where` clauses, return type annotations), `macro`, `struct`,
# `mutable struct`, `abstract type`, `primitive type`, `const` assignments, `using`, `import`, `export`,
# `module ... end`, the same wrapped in a docstring or in @inline/@noinline/@generated/@nospecialize,
# `@kwdef struct` and `@enum`; and `a; b` when every part is one of these.
# Everything else is "expression", including plain global assignments and `include(...)`: replaying an
# include would run whatever top-level code the file holds (files, processes, network), so included files
# are not replayed; evaluate their contents statement by statement instead if they should be cached.

using SHA: sha1

struct Statement
    ex::Any                # parsed expression, line numbers already rewritten to the real file/line
    text::String           # exact source text, trimmed
    line::Int              # line of the first token in the file
    hash::String
    kind::String           # "definition" | "expression"
    target::Union{Symbol,Nothing}   # what a definition defines (see definition_target), nothing = unknown
end

struct SyntaxProblem
    message::String
    line::Int
end

const DEFINITION_HEADS = (:function, :macro, :struct, :abstract, :primitive, :const, :using, :import, :export, :module)
const TRANSPARENT_MACROS = (Symbol("@doc"), Symbol("@inline"), Symbol("@noinline"), Symbol("@generated"), Symbol("@nospecialize"))
const DEFINING_MACROS = (Symbol("@kwdef"), Symbol("@enum"))

statement_hash(text::String, mod::String) = bytes2hex(sha1(Vector{UInt8}(string(mod, '\n', text))))

"Index of the first byte at or after `i` that is not whitespace or a comment (# line, nested #= block =#)."
function skip_blank(code::String, i::Int)
    n = ncodeunits(code)
    while i <= n
        b = codeunit(code, i)
        if b == UInt8(' ') || b == UInt8('\t') || b == UInt8('\n') || b == UInt8('\r') || b == UInt8(';')
            i += 1
        elseif b == UInt8('#')
            if i < n && codeunit(code, i + 1) == UInt8('=')
                depth = 1
                i += 2
                while i <= n && depth > 0
                    if codeunit(code, i) == UInt8('#') && i < n && codeunit(code, i + 1) == UInt8('=')
                        depth += 1; i += 2
                    elseif codeunit(code, i) == UInt8('=') && i < n && codeunit(code, i + 1) == UInt8('#')
                        depth -= 1; i += 2
                    else
                        i += 1
                    end
                end
            else
                while i <= n && codeunit(code, i) != UInt8('\n')
                    i += 1
                end
            end
        else
            break
        end
    end
    return i
end

count_newlines(code::String, from::Int, to::Int) = count(i -> codeunit(code, i) == UInt8('\n'), from:min(to, ncodeunits(code)))

"Rewrites the parser's `none:<relative line>` line numbers to `file:<absolute line>` (in place)."
function relocate_lines!(@nospecialize(ex), file::Symbol, offset::Int)
    ex isa Expr || return ex
    args = ex.args
    for k in 1:length(args)
        a = args[k]
        if a isa LineNumberNode
            args[k] = LineNumberNode(a.line + offset, file)
        elseif a isa Expr
            relocate_lines!(a, file, offset)
        end
    end
    return ex
end

"""
    split_statements(code, file, line0, mod) -> (statements, nothing) or (statements so far, SyntaxProblem)

`line0` is the line of the first line of `code` in `file`.
"""
function split_statements(code::String, file::String, line0::Int, mod::String)
    stmts = Statement[]
    filesym = Symbol(file)
    n = ncodeunits(code)
    pos = 1
    line_at_pos = line0                          # line in the file where `pos` lies
    while true
        start = skip_blank(code, pos)
        start > n && break
        line_at_pos += count_newlines(code, pos, start - 1)
        pos = start
        ex, next = Meta.parse(code, pos; raise = false)
        if ex isa Expr && (ex.head === :error || ex.head === :incomplete)
            msg = ex.args[1] isa String ? ex.args[1]::String : string(ex.args[1])
            # an unfinished construct is reported where it begins; other errors where the parser stopped
            errline = ex.head === :incomplete ? line_at_pos : line_at_pos + count_newlines(code, pos, prevind(code, next) - 1)
            return stmts, SyntaxProblem(startswith(msg, "syntax:") || startswith(msg, "incomplete:") ? msg : "syntax: " * msg, errline)
        end
        ex === nothing && break
        text = String(rstrip(SubString(code, pos, prevind(code, next))))
        relocate_lines!(ex, filesym, line_at_pos - 1)
        kind = is_definition(ex) ? "definition" : "expression"
        target = kind == "definition" ? definition_target(ex) : nothing
        push!(stmts, Statement(ex, text, line_at_pos, statement_hash(text, mod), kind, target))
        line_at_pos += count_newlines(code, pos, next - 1)
        pos = next
    end
    return stmts, nothing
end

"The last name of a qualified name `M.x` (`x`), nothing for anything else."
function qualified_last(@nospecialize(x))
    if x isa Expr && x.head === :. && length(x.args) == 2 && x.args[2] isa QuoteNode
        q = (x.args[2]::QuoteNode).value
        return q isa Symbol ? q : nothing
    end
    return nothing
end

"The macro's bare name: `@m`, `M.@m` and `Core.@doc` (GlobalRef) all give Symbol(\"@m\")."
function macro_name(@nospecialize(m))
    m isa Symbol && return m
    m isa GlobalRef && return m.name
    return qualified_last(m)
end

last_arg(ex::Expr) = isempty(ex.args) ? nothing : ex.args[end]

"The call in a method signature, under `where` and return-type annotations (`f(x)::T where T`)."
function signature_call(@nospecialize(lhs))
    while lhs isa Expr && (lhs.head === :where || lhs.head === :(::)) && !isempty(lhs.args)
        lhs.head === :(::) && length(lhs.args) == 1 && return nothing
        lhs = lhs.args[1]
    end
    return lhs isa Expr && lhs.head === :call ? lhs : nothing
end

function is_definition(@nospecialize(ex))
    ex isa Expr || return false
    h = ex.head
    h in DEFINITION_HEADS && return true
    if h === :(=)
        return length(ex.args) == 2 && signature_call(ex.args[1]) !== nothing
    elseif h === :toplevel
        parts = filter(a -> !(a isa LineNumberNode), ex.args)
        return !isempty(parts) && all(is_definition, parts)
    elseif h === :macrocall && !isempty(ex.args)
        name = macro_name(ex.args[1])
        name in DEFINING_MACROS && return true
        name in TRANSPARENT_MACROS && return is_definition(last_arg(ex))
    end
    return false
end

"Bare name of a function/type name expression: f, M.f, S{T}, S <: A."
function bare_name(@nospecialize(x))
    while x isa Expr && (x.head === :curly || x.head === :(<:)) && !isempty(x.args)
        x = x.args[1]
    end
    x isa Symbol && return x
    return qualified_last(x)
end

"""
What a definition statement defines, used to drop exact re-evaluations from the replay list: a Symbol (the
function, type, const, macro or module name), Symbol(\"\") for using/import/export (idempotent), nothing when
unknown (such statements are always kept).
"""
function definition_target(@nospecialize(ex))
    ex isa Expr || return nothing
    h = ex.head
    (h === :using || h === :import || h === :export) && return Symbol("")
    if h === :function || h === :(=)
        isempty(ex.args) && return nothing
        sig = ex.args[1]
        sig isa Symbol && return sig                      # `function f end`
        call = signature_call(sig)
        return call === nothing ? nothing : bare_name(call.args[1])
    elseif h === :macro
        call = ex.args[1]
        name = call isa Expr && call.head === :call ? bare_name(call.args[1]) : nothing
        return name === nothing ? nothing : Symbol("@", name)
    elseif h === :struct || h === :module
        return length(ex.args) >= 2 ? bare_name(ex.args[2]) : nothing
    elseif h === :abstract || h === :primitive
        return isempty(ex.args) ? nothing : bare_name(ex.args[1])
    elseif h === :const
        a = ex.args[1]
        return a isa Expr && a.head === :(=) ? bare_name(a.args[1]) : nothing
    elseif h === :macrocall && !isempty(ex.args)
        name = macro_name(ex.args[1])
        if name === Symbol("@enum")
            return length(ex.args) >= 3 ? bare_name(ex.args[3] isa Expr && ex.args[3].head === :(::) ? ex.args[3].args[1] : ex.args[3]) : nothing
        end
        return definition_target(last_arg(ex))
    end
    return nothing
end

"REPL rule: no display when the statement's text ends with `;` (a comment may follow it)."
function ends_with_semicolon(text::String)
    k = findlast(isequal(';'), text)
    k === nothing && return false
    rest = lstrip(SubString(text, nextind(text, k)))
    return isempty(rest) || (startswith(rest, '#') && !occursin('\n', rest))
end
