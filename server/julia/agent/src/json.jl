# Minimal JSON (RFC 8259) reader and writer: Julia 1.5 ships no JSON stdlib and the agent must not load packages.
# Also included by the capture worker, the proving process and test/julia/session_sim.jl: one JSON for all Julia code.
# Values map to: object => Dict{String,Any}, array => Vector{Any}, string => String, integer => Int64
# (Float64 if it does not fit), other numbers => Float64, true/false => Bool, null => nothing.
# Written as a few non-generic functions over Any so the agent compiles each once (startup cost).

struct JSONError <: Exception
    msg::String
end
Base.showerror(io::IO, e::JSONError) = print(io, "invalid JSON: ", e.msg)

const JSON_MAX_DEPTH = 256

mutable struct JSONReader
    s::Vector{UInt8}
    i::Int
end

json_parse(s::AbstractString) = json_parse(Vector{UInt8}(String(s)))
function json_parse(bytes::Vector{UInt8})
    r = JSONReader(bytes, 1)
    v = read_value(r, 0)
    skip_ws(r)
    r.i <= length(r.s) && json_fail(r, "trailing characters")
    return v
end

json_fail(r::JSONReader, what::String) = throw(JSONError(string(what, " at byte ", r.i)))

function skip_ws(r::JSONReader)
    s = r.s
    while r.i <= length(s)
        b = s[r.i]
        (b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09) || break
        r.i += 1
    end
end

function expect_literal(r::JSONReader, lit::String, v)
    n = ncodeunits(lit)
    r.i + n - 1 <= length(r.s) || json_fail(r, "unexpected end")
    for k in 1:n
        r.s[r.i+k-1] == codeunit(lit, k) || json_fail(r, "invalid literal")
    end
    r.i += n
    return v
end

function read_value(r::JSONReader, depth::Int)
    depth > JSON_MAX_DEPTH && json_fail(r, "nesting too deep")
    skip_ws(r)
    r.i <= length(r.s) || json_fail(r, "unexpected end")
    b = r.s[r.i]
    if b == UInt8('{')
        return read_object(r, depth)
    elseif b == UInt8('[')
        return read_array(r, depth)
    elseif b == UInt8('"')
        return read_string(r)
    elseif b == UInt8('t')
        return expect_literal(r, "true", true)
    elseif b == UInt8('f')
        return expect_literal(r, "false", false)
    elseif b == UInt8('n')
        return expect_literal(r, "null", nothing)
    elseif b == UInt8('-') || UInt8('0') <= b <= UInt8('9')
        return read_number(r)
    end
    json_fail(r, "unexpected character")
end

function read_object(r::JSONReader, depth::Int)
    d = Dict{String,Any}()
    r.i += 1
    skip_ws(r)
    if r.i <= length(r.s) && r.s[r.i] == UInt8('}')
        r.i += 1
        return d
    end
    while true
        skip_ws(r)
        (r.i <= length(r.s) && r.s[r.i] == UInt8('"')) || json_fail(r, "expected a string key")
        k = read_string(r)
        skip_ws(r)
        (r.i <= length(r.s) && r.s[r.i] == UInt8(':')) || json_fail(r, "expected ':'")
        r.i += 1
        d[k] = read_value(r, depth + 1)
        skip_ws(r)
        r.i <= length(r.s) || json_fail(r, "unexpected end")
        c = r.s[r.i]
        r.i += 1
        c == UInt8('}') && return d
        c == UInt8(',') || (r.i -= 1; json_fail(r, "expected ',' or '}'"))
    end
end

function read_array(r::JSONReader, depth::Int)
    a = Any[]
    r.i += 1
    skip_ws(r)
    if r.i <= length(r.s) && r.s[r.i] == UInt8(']')
        r.i += 1
        return a
    end
    while true
        push!(a, read_value(r, depth + 1))
        skip_ws(r)
        r.i <= length(r.s) || json_fail(r, "unexpected end")
        c = r.s[r.i]
        r.i += 1
        c == UInt8(']') && return a
        c == UInt8(',') || (r.i -= 1; json_fail(r, "expected ',' or ']'"))
    end
end

function read_hex4(r::JSONReader)
    r.i + 3 <= length(r.s) || json_fail(r, "short \\u escape")
    v = UInt32(0)
    for k in 0:3
        b = r.s[r.i+k]
        d = UInt8('0') <= b <= UInt8('9') ? b - UInt8('0') :
            UInt8('a') <= b <= UInt8('f') ? b - UInt8('a') + 0x0a :
            UInt8('A') <= b <= UInt8('F') ? b - UInt8('A') + 0x0a : json_fail(r, "bad \\u escape")
        v = (v << 4) | d
    end
    r.i += 4
    return v
end

function read_string(r::JSONReader)
    s = r.s
    r.i += 1                       # opening quote
    out = IOBuffer()
    while true
        r.i <= length(s) || json_fail(r, "unterminated string")
        b = s[r.i]
        if b == UInt8('"')
            r.i += 1
            return String(take!(out))
        elseif b == UInt8('\\')
            r.i + 1 <= length(s) || json_fail(r, "unterminated string")
            e = s[r.i+1]
            r.i += 2
            if e == UInt8('"') || e == UInt8('\\') || e == UInt8('/')
                write(out, e)
            elseif e == UInt8('n'); write(out, 0x0a)
            elseif e == UInt8('t'); write(out, 0x09)
            elseif e == UInt8('r'); write(out, 0x0d)
            elseif e == UInt8('b'); write(out, 0x08)
            elseif e == UInt8('f'); write(out, 0x0c)
            elseif e == UInt8('u')
                u = read_hex4(r)
                if 0xd800 <= u <= 0xdbff &&
                   r.i + 1 <= length(s) && s[r.i] == UInt8('\\') && s[r.i+1] == UInt8('u')
                    r.i += 2
                    lo = read_hex4(r)
                    if 0xdc00 <= lo <= 0xdfff
                        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00)
                    else                       # lone high surrogate followed by another escape
                        print(out, '\ufffd')
                        u = lo
                    end
                end
                print(out, (0xd800 <= u <= 0xdfff) ? '\ufffd' : Char(u))
            else
                r.i -= 1
                json_fail(r, "bad escape")
            end
        elseif b < 0x20
            json_fail(r, "control character in string")
        else
            write(out, b)
            r.i += 1
        end
    end
end

function read_number(r::JSONReader)
    s = r.s
    start = r.i
    isfloat = false
    r.i <= length(s) && s[r.i] == UInt8('-') && (r.i += 1)
    ndig = 0
    while r.i <= length(s)
        b = s[r.i]
        if UInt8('0') <= b <= UInt8('9')
            ndig += 1
        elseif b == UInt8('.') || b == UInt8('e') || b == UInt8('E') || b == UInt8('+') || b == UInt8('-')
            isfloat = true
        else
            break
        end
        r.i += 1
    end
    ndig == 0 && json_fail(r, "bad number")
    text = String(s[start:r.i-1])
    if !isfloat
        v = tryparse(Int64, text)
        v === nothing || return v
    end
    f = tryparse(Float64, text)
    f === nothing && (r.i = start; json_fail(r, "bad number"))
    return f
end

# ---- writer ------------------------------------------------------------------------------------------------

json_string(@nospecialize(v)) = (io = IOBuffer(); json_write(io, v); String(take!(io)))

function json_write(io::IO, @nospecialize(v))
    if v === nothing
        write(io, "null")
    elseif v isa Bool
        write(io, v ? "true" : "false")
    elseif v isa String
        json_write_string(io, v)
    elseif v isa Int
        print(io, v::Int)
    elseif v isa Float64
        isfinite(v::Float64) ? print(io, v::Float64) : write(io, "null")
    elseif v isa Dict{String,Any}
        write(io, UInt8('{'))
        first = true
        for (k, x) in v::Dict{String,Any}
            first || write(io, UInt8(','))
            first = false
            json_write_string(io, k)
            write(io, UInt8(':'))
            json_write(io, x)
        end
        write(io, UInt8('}'))
    elseif v isa Vector{Any}
        write(io, UInt8('['))
        for (k, x) in enumerate(v::Vector{Any})
            k > 1 && write(io, UInt8(','))
            json_write(io, x)
        end
        write(io, UInt8(']'))
    elseif v isa Integer
        json_write(io, typemin(Int) <= v <= typemax(Int) ? Int(v) : Float64(v))
    elseif v isa Real
        json_write(io, Float64(v))
    elseif v isa AbstractString || v isa Symbol
        json_write_string(io, String(v))
    elseif v isa AbstractDict || v isa NamedTuple
        # Iterated as they are: a converted copy (a generator per container type) would compile code for every
        # new type of dict a reply holds, after the request, where no compile log sees it.
        write(io, UInt8('{'))
        first = true
        for (k, x) in (v isa NamedTuple ? pairs(v) : v)
            first || write(io, UInt8(','))
            first = false
            json_write_string(io, string(k))
            write(io, UInt8(':'))
            json_write(io, x)
        end
        write(io, UInt8('}'))
    elseif v isa AbstractVector || v isa Tuple
        write(io, UInt8('['))
        first = true
        for x in v
            first || write(io, UInt8(','))
            first = false
            json_write(io, x)
        end
        write(io, UInt8(']'))
    else
        throw(ArgumentError("cannot write a $(typeof(v)) as JSON"))
    end
    return nothing
end

const HEXDIGITS = b"0123456789abcdef"

# Escapes quotes, backslashes and control characters; invalid UTF-8 becomes U+FFFD so the output is always
# valid JSON text (user output and displays can hold arbitrary bytes).
function json_write_string(io::IO, s::String)
    write(io, UInt8('"'))
    for c in s
        if !isvalid(c)
            write(io, "\\ufffd")
            continue
        end
        u = UInt32(c)
        if u == 0x22
            write(io, "\\\"")
        elseif u == 0x5c
            write(io, "\\\\")
        elseif u == 0x0a
            write(io, "\\n")
        elseif u == 0x0d
            write(io, "\\r")
        elseif u == 0x09
            write(io, "\\t")
        elseif u < 0x20 || u == 0x2028 || u == 0x2029
            write(io, "\\u")
            for shift in (12, 8, 4, 0)
                write(io, HEXDIGITS[((u >> shift) & 0xf) + 1])
            end
        else
            print(io, c)
        end
    end
    write(io, UInt8('"'))
    return nothing
end
