# Minimal JSON reader/writer for the capture worker's job and result files (Julia 1.5 has no JSON stdlib).
# Objects -> Dict{String,Any}, arrays -> Vector{Any}, numbers -> Int64 or Float64, null -> nothing.
module MiniJSON

function parse(s::String)
    pos, v = value(s, skipws(s, 1))
    skipws(s, pos) <= ncodeunits(s) && error("JSON: trailing data at byte $pos")
    return v
end

function skipws(s, i)
    while i <= ncodeunits(s) && codeunit(s, i) in (0x20, 0x09, 0x0a, 0x0d)
        i += 1
    end
    return i
end

function value(s, i)
    i > ncodeunits(s) && error("JSON: unexpected end")
    c = s[i]
    c == '{' && return object(s, i + 1)
    c == '[' && return array(s, i + 1)
    c == '"' && return str(s, i + 1)
    startswith(SubString(s, i), "true") && return i + 4, true
    startswith(SubString(s, i), "false") && return i + 5, false
    startswith(SubString(s, i), "null") && return i + 4, nothing
    return number(s, i)
end

function object(s, i)
    d = Dict{String,Any}()
    i = skipws(s, i)
    s[i] == '}' && return i + 1, d
    while true
        s[i] == '"' || error("JSON: expected a key at byte $i")
        i, k = str(s, i + 1)
        i = skipws(s, i)
        s[i] == ':' || error("JSON: expected ':' at byte $i")
        i, v = value(s, skipws(s, i + 1))
        d[k] = v
        i = skipws(s, i)
        s[i] == '}' && return i + 1, d
        s[i] == ',' || error("JSON: expected ',' or '}' at byte $i")
        i = skipws(s, i + 1)
    end
end

function array(s, i)
    a = Any[]
    i = skipws(s, i)
    s[i] == ']' && return i + 1, a
    while true
        i, v = value(s, skipws(s, i))
        push!(a, v)
        i = skipws(s, i)
        s[i] == ']' && return i + 1, a
        s[i] == ',' || error("JSON: expected ',' or ']' at byte $i")
        i += 1
    end
end

function str(s, i)
    io = IOBuffer()
    while true
        i > ncodeunits(s) && error("JSON: unterminated string")
        c = s[i]
        if c == '"'
            return nextind(s, i), String(take!(io))
        elseif c == '\\'
            e = s[i + 1]
            if e == 'u'
                u = Base.parse(UInt16, s[i+2:i+5]; base = 16)
                i += 6
                if 0xd800 <= u < 0xdc00 && i + 5 <= ncodeunits(s) && s[i] == '\\' && s[i+1] == 'u'
                    lo = Base.parse(UInt16, s[i+2:i+5]; base = 16)
                    print(io, Char(0x10000 + ((UInt32(u) - 0xd800) << 10) + (lo - 0xdc00)))
                    i += 6
                else
                    print(io, Char(u))
                end
                continue
            end
            print(io, e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b' : e == 'f' ? '\f' : e)
            i += 2
        else
            print(io, c)
            i = nextind(s, i)
        end
    end
end

function number(s, i)
    j = i
    while j <= ncodeunits(s) && s[j] in "+-0123456789.eE"
        j += 1
    end
    j == i && error("JSON: unexpected character at byte $i")
    t = SubString(s, i, j - 1)
    v = tryparse(Int64, t)
    return j, v === nothing ? Base.parse(Float64, t) : v
end

write(io::IO, x::AbstractString) = (Base.write(io, '"'); escape(io, x); Base.write(io, '"'))
write(io::IO, x::Union{Integer,AbstractFloat}) = print(io, isfinite(x) ? x : "null")
write(io::IO, x::Bool) = print(io, x ? "true" : "false")
write(io::IO, ::Nothing) = print(io, "null")
write(io::IO, x::Symbol) = write(io, String(x))
function write(io::IO, x::AbstractVector)
    Base.write(io, '[')
    for (k, v) in enumerate(x)
        k > 1 && Base.write(io, ',')
        write(io, v)
    end
    Base.write(io, ']')
end
function write(io::IO, x::Union{AbstractDict,NamedTuple})
    Base.write(io, '{')
    for (k, (key, v)) in enumerate(pairs(x))
        k > 1 && Base.write(io, ',')
        write(io, string(key)); Base.write(io, ':'); write(io, v)
    end
    Base.write(io, '}')
end
function escape(io, s)
    for c in s
        if c == '"' || c == '\\'
            Base.write(io, '\\', c)
        elseif c < ' '
            print(io, "\\u", string(UInt32(c); base = 16, pad = 4))
        else
            Base.write(io, c)
        end
    end
end
json(x) = (io = IOBuffer(); write(io, x); String(take!(io)))

end
