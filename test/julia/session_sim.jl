# A stand-in for the agent in Julia-side tests: evaluates a workload file statement by statement in Main
# the way the agent does (same statement split, file/line, definition classification), then times main().
#   cold:   julia --trace-compile=<log> session_sim.jl cold <workload.jl> <out.json>
#           writes {definitions, signatures (from the compile log), firstMs, secondMs, result}
#   cached: julia session_sim.jl cached <workload.jl> <out.json> <cachedir>...   (each cachedir: object.o + plan.bin)
#           loads the cache through the glue before evaluating, notifies each statement, then times main().
module Sim
const ROOT = normpath(joinpath(@__DIR__, "..", ".."))
include(joinpath(ROOT, "server", "julia", "agent", "src", "json.jl"))
include(joinpath(ROOT, "server", "julia", "capture", "replay.jl"))   # same parse + classification as replay

function statements(code::String)
    out = Tuple{String,Int}[]
    pos = 1
    while true
        # skip whitespace and comments to find where the statement's text starts
        start = pos
        while start <= ncodeunits(code)
            c = code[start]
            if isspace(c)
                start = nextind(code, start)
            elseif c == '#'
                e = findnext('\n', code, start); start = e === nothing ? ncodeunits(code) + 1 : e + 1
            else
                break
            end
        end
        start > ncodeunits(code) && break
        ex, pos = Meta.parse(code, start)
        ex === nothing && break
        push!(out, (strip(code[start:prevind(code, pos)]), count(==('\n'), code[1:prevind(code, start)]) + 1))
    end
    return out
end

stmt_hash(text) = string(hash(text * "\0Main"); base = 16)
end
using .Sim: statements, stmt_hash, parse_statement, definition_kind, json_write, ROOT

const MODE = ARGS[1]
const FILE = abspath(ARGS[2])
const OUT = ARGS[3]
defs = Any[]
hashes = String[]

if MODE == "cached"
    include(joinpath(ROOT, "server", "julia", "loader", "glue.jl"))
    using SHA: sha256
    digest(file) = bytes2hex(sha256(read(file)))
    t = time_ns()
    for dir in ARGS[4:end]
        object, plan = joinpath(dir, "object.o"), joinpath(dir, "plan.bin")
        JLCache.load_entries(object, digest(object), plan, digest(plan))
    end
    global LOAD_MS = (time_ns() - t) / 1e6
end

# Marks the start of the workload in the --trace-compile log: the test keeps only signatures after it.
workload_begins() = println(devnull, "workload begins")
workload_begins()
for (text, line) in statements(read(FILE, String))
    ex = parse_statement(String(text), FILE, line)
    Core.eval(Main, ex)
    h = stmt_hash(text)
    kind = definition_kind(ex) === nothing ? "expression" : "definition"
    kind == "definition" && push!(defs, Dict("code" => text, "file" => FILE, "line" => line, "hash" => h))
    MODE == "cached" && JLCache.statement_done(h)
end
t1 = time_ns()
r1 = Main.main()
t2 = time_ns()
r2 = Main.main()
t3 = time_ns()
res = Dict{String,Any}("definitions" => defs, "firstMs" => (t2 - t1) / 1e6, "secondMs" => (t3 - t2) / 1e6, "result" => repr(r1))
if MODE == "cached"
    res["loadMs"] = LOAD_MS
    res["status"] = JLCache.status()
end
open(io -> json_write(io, res), OUT, "w")
