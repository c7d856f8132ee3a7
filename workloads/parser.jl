# User-code workload: a small INI/key-value config parser with Dict/Vector/String work, a user struct,
# a parametric type, closures, keyword arguments, a Regex, exceptions thrown and caught inside compiled
# code, and dynamic dispatch over an abstract field type. `main()` returns a value that is compared
# with and without the cache.

abstract type Value end
struct Num <: Value
    x::Float64
end
struct Str <: Value
    s::String
end
struct Flag <: Value
    on::Bool
end

struct Section{T<:Value}
    name::String
    items::Vector{Pair{String,T}}
end

mutable struct Stats
    lines::Int
    errors::Vector{String}
end

const KEY_RE = r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$"
const SECTION_RE = r"^\s*\[([^\]]+)\]\s*$"

struct ParseError <: Exception
    line::Int
    msg::String
end
Base.showerror(io::IO, e::ParseError) = print(io, "line ", e.line, ": ", e.msg)

function parse_value(raw::AbstractString)::Value
    raw == "true" && return Flag(true)
    raw == "false" && return Flag(false)
    n = tryparse(Float64, raw)
    n === nothing || return Num(n)
    if startswith(raw, '"')
        endswith(raw, '"') && length(raw) >= 2 || throw(ArgumentError("unterminated string $raw"))
        return Str(raw[2:end-1])
    end
    return Str(raw)
end

function parse_config(text::String; strict::Bool = false, stats::Stats = Stats(0, String[]))
    sections = Dict{String,Vector{Pair{String,Value}}}()
    current = "global"
    for (i, line) in enumerate(split(text, '\n'))
        stats.lines += 1
        s = strip(line)
        (isempty(s) || startswith(s, '#')) && continue
        m = match(SECTION_RE, s)
        if m !== nothing
            current = String(m.captures[1])
            continue
        end
        m = match(KEY_RE, s)
        try
            m === nothing && throw(ParseError(i, "expected key = value, got \"$s\""))
            push!(get!(() -> Pair{String,Value}[], sections, current), String(m.captures[1]) => parse_value(m.captures[2]))
        catch e
            strict && rethrow()
            push!(stats.errors, sprint(showerror, e))
        end
    end
    return sections, stats
end

describe(v::Num) = string(round(v.x; digits = 3))
describe(v::Str) = repr(v.s)
describe(v::Flag) = v.on ? "on" : "off"

function summarize(sections; sep::String = ", ")
    names = sort!(collect(keys(sections)))
    out = String[]
    for name in names
        items = sections[name]
        nums = Float64[v.x for (_, v) in items if v isa Num]
        total = isempty(nums) ? 0.0 : sum(nums)
        shown = join(map(p -> p.first * "=" * describe(p.second), items), sep)  # dynamic dispatch on Value
        push!(out, "[$name] n=$(length(items)) sum=$(total) $shown")
    end
    return out
end

typed_section(name, items, ::Type{T}) where {T<:Value} =
    Section{T}(name, Pair{String,T}[k => v for (k, v) in items if v isa T])

const SAMPLE = """
# sample configuration
name = "demo"
[server]
port = 8080
host = "localhost"
debug = true
timeout = 2.5
[limits]
max_users = 100
ratio = 0.75
bad line here
quota = "unterminated
"""

function main()
    sections, st = parse_config(SAMPLE)
    lines = summarize(sections; sep = "; ")
    nums = typed_section("limits", sections["limits"], Num)
    strict_error = try
        parse_config(SAMPLE; strict = true)
        "none"
    catch e
        sprint(showerror, e)
    end
    words = Dict{String,Int}()
    for m in eachmatch(r"[a-z]+", lowercase(SAMPLE))
        words[m.match] = get(words, m.match, 0) + 1
    end
    top = sort!(collect(words); by = kv -> (-kv[2], kv[1]))[1:3]
    return (lines, length(nums.items), st.lines, st.errors, strict_error, top)
end
