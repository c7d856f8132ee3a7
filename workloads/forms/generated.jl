# Form: @generated functions that unroll over tuple lengths, plus ordinary callers.
using Printf

# Sum of an NTuple, unrolled at compile time: the body is built per tuple length N.
# NTuple{N,Any} rather than NTuple{N,T}: for the empty tuple T would be unbound.
@generated function unrolled_sum(t::NTuple{N,Any}) where {N}
    N == 0 && return :(0)
    ex = :(t[1])
    for i in 2:N
        ex = :($ex + t[$i])
    end
    return ex
end

# Dot product of two equal-length tuples, also unrolled.
@generated function tdot(a::NTuple{N,Any}, b::NTuple{N,Any}) where {N}
    terms = [:(a[$i] * b[$i]) for i in 1:N]
    return N == 0 ? :(0) : Expr(:call, :+, terms...)
end

# A generated function that reads field names of a struct type at compile time.
@generated function fields_to_string(x)
    parts = Any[]
    for (i, f) in enumerate(fieldnames(x))
        i > 1 && push!(parts, ", ")
        push!(parts, string(f, "="))
        push!(parts, :(repr(getfield(x, $(QuoteNode(f))))))
    end
    return :(string($(string(nameof(x))), "(", $(parts...), ")"))
end

struct Vec3
    x::Float64
    y::Float64
    z::Float64
end

struct Person
    name::String
    age::Int
end

totuple(v::Vec3) = (v.x, v.y, v.z)
norm3(v::Vec3) = sqrt(tdot(totuple(v), totuple(v)))

function mean_of_tuples(ts::Vector{<:NTuple})
    return [unrolled_sum(t) / length(t) for t in ts]
end

function main()
    a = unrolled_sum((1, 2, 3, 4, 5))
    b = unrolled_sum((1.5, 2.5))
    c = unrolled_sum(())
    d = tdot((1, 2, 3), (4, 5, 6))
    v = Vec3(1.0, 2.0, 2.0)
    means = mean_of_tuples([(1.0, 2.0, 3.0), (10.0, 20.0, 30.0, 40.0)])
    s1 = fields_to_string(v)
    s2 = fields_to_string(Person("Ada", 36))
    return (a, b, c, d, norm3(v), @sprintf("%.2f %.2f", means...), s1, s2)
end
