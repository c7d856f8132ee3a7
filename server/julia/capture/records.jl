# What the session evaluated, as the capture needs it to say which statement defined each method: one record per
# top-level statement that completed (the agent's eval, or the worker's replay). A method belongs to the statement
# during whose evaluation the world counter reached its `primary_world`, whatever macro, `include` or `eval`
# produced it.

"A file `include`d while a statement ran: its top-level statements as (first line, last line, hash)."
struct IncludedFile
    path::String
    statements::Vector{Tuple{Int,Int,String}}
end

struct StatementRecord
    hash::String
    file::String
    line::Int
    lastline::Int
    world_lo::UInt              # world counter before the statement ran
    world_hi::UInt              # and after
    newnames::Vector{Symbol}    # bindings of Main it created
    included::Vector{IncludedFile}
    satisfies::Vector{String}   # requirements of cached code it fulfils (see capture/requires.jl)
end

"Requirement satisfied by loading `path` with this content: `def:<path>:<statement hash>`."
def_requirement(path::AbstractString, hash::AbstractString) = string("def:", path, ":", hash)
