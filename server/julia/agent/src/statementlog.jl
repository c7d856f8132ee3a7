# The statement log: one StatementRecord (capture/records.jl) per statement the user's code completed, with the
# world range it covered, the Main bindings it created, the files it `include`d (each split into its top-level
# statements, hashed as the agent hashes statements) and the requirements of cached code it fulfils. In-session
# capture reads it to tell which statement defined each method; the cache loader satisfies requirements from it.

const STATEMENT_LOG = StatementRecord[]

"Files included while the current statement runs (Base.include_callbacks calls us before each file's code runs)."
const INCLUDING = IncludedFile[]
const LOGGING = Ref(false)
"Module each file was last included into (path => module name), for the code lens of included files."
const INCLUDED_INTO = Dict{String,String}()

function note_include(mod::Module, path::String)
    LOGGING[] || return
    INCLUDED_INTO[path] = string(mod)
    code = try read(path, String) catch; return end
    stmts, _ = split_statements(code, path, 1, string(mod))
    lines = count(==('\n'), code) + 1
    spans = Tuple{Int,Int,String}[]
    for (k, st) in enumerate(stmts)
        last = k < length(stmts) ? stmts[k+1].line - 1 : lines
        push!(spans, (st.line, last, st.hash))
    end
    push!(INCLUDING, IncludedFile(path, spans))
    return
end

main_names() = names(Main; all = true, imported = true)

"Starts logging one statement; returns what `log_statement!` needs."
function begin_statement()
    empty!(INCLUDING)
    LOGGING[] = true
    return (world_counter(), Set{Symbol}(main_names()))
end

function end_statement!(started, st::Statement, file::String, ok::Bool)
    LOGGING[] = false
    ok || return
    world_lo, before = started
    newnames = Symbol[n for n in main_names() if !(n in before)]
    included = copy(INCLUDING)
    met = String["stmt:" * st.hash]
    for inc in included, (_, _, h) in inc.statements
        push!(met, def_requirement(inc.path, h))
    end
    const_requirements!(met, Main, newnames)
    push!(STATEMENT_LOG, StatementRecord(st.hash, file, st.line, st.line + count(==('\n'), st.text), world_lo,
                                         world_counter(), newnames, included, met))
    return
end
