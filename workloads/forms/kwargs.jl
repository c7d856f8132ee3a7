# Form: keyword arguments: defaults, required keywords, splatted keywords,
# forwarding, keywords that depend on earlier ones, and NamedTuple splatting.
using Printf

# Defaults, and a default that depends on another keyword.
function format_number(x::Real; digits::Int = 2, width::Int = digits + 6, sep::Char = ',')
    # work in integer units of 10^-digits so no float formatting is involved
    scaled = round(Int, abs(x) * 10^digits)
    body = string(scaled ÷ 10^digits)
    frac = digits == 0 ? "" : lpad(string(scaled % 10^digits), digits, '0')
    neg = x < 0
    # group thousands with the separator
    groups = String[]
    while length(body) > 3
        pushfirst!(groups, body[end-2:end])
        body = body[1:end-3]
    end
    pushfirst!(groups, body)
    out = (neg ? "-" : "") * join(groups, sep) * (isempty(frac) ? "" : "." * frac)
    return lpad(out, width)
end

# A required keyword argument (no default): calling without it is an error.
function greet(name::AbstractString; greeting::AbstractString, punct = "!")
    return string(greeting, ", ", name, punct)
end

# Splatted keywords collected in `opts`, inspected and forwarded.
function draw(shape::Symbol; color = :black, opts...)
    extras = join(sort!(["$k=$v" for (k, v) in opts]), " ")
    return string(shape, " color=", color, isempty(extras) ? "" : " " * extras)
end

# Forwarding keywords to another function unchanged.
styled(shape; kw...) = draw(shape; linewidth = 2, kw...)

# Positional varargs and keywords together.
function stats(xs::Real...; skip_negative::Bool = false, scale = 1)
    v = [x * scale for x in xs if !(skip_negative && x < 0)]
    return isempty(v) ? (n = 0, mean = 0.0) : (n = length(v), mean = sum(v) / length(v))
end

# Keyword type annotations with a parametric type.
function window(xs::Vector{T}; start::Integer = 1, len::Integer = length(xs) - start + 1) where {T}
    return xs[start:start+len-1]
end

function main()
    a = format_number(1234567.891)
    b = format_number(-9876.5; digits = 1, sep = '_')
    c = format_number(42; width = 4)
    g1 = greet("Ada"; greeting = "Hello")
    g2 = greet("Bob", greeting = "Hi", punct = "?")
    missing_kw = try
        greet("Eve")
        "no error"
    catch e
        e isa UndefKeywordError ? "missing $(e.var)" : "other"
    end
    d1 = draw(:circle)
    d2 = draw(:square; color = :red, fill = true, alpha = 0.5)
    d3 = styled(:line; color = :blue, dash = :dot)
    opts = (color = :green, size = 3)
    d4 = draw(:star; opts...)           # NamedTuple splatted into keywords
    color = :purple
    d5 = draw(:dot; color)              # Julia 1.5: implicit keyword name from a variable
    s1 = stats(1, -2, 3, 4)
    s2 = stats(1, -2, 3, 4; skip_negative = true, scale = 10)
    w = window(collect(10:20); start = 3, len = 4)
    w2 = window(["a", "b", "c"]; start = 2)
    return (a, b, c, g1, g2, missing_kw, d1, d2, d3, d4, d5,
            @sprintf("%d %.2f %d %.2f", s1.n, s1.mean, s2.n, s2.mean), join(w, ","), join(w2, ","))
end
