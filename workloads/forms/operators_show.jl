# Form: operator methods (+, -, *, ==, <, getindex, ...) on user types, and a custom show.
using Printf

# Money in integer cents, so arithmetic is exact.
struct Money
    cents::Int
    currency::Symbol
end
Money(amount::Float64, cur::Symbol) = Money(round(Int, amount * 100), cur)

function check_same(a::Money, b::Money)
    a.currency == b.currency || throw(ArgumentError("currency mismatch: $(a.currency) vs $(b.currency)"))
end

Base.:+(a::Money, b::Money) = (check_same(a, b); Money(a.cents + b.cents, a.currency))
Base.:-(a::Money, b::Money) = (check_same(a, b); Money(a.cents - b.cents, a.currency))
Base.:*(a::Money, k::Integer) = Money(a.cents * k, a.currency)
Base.:*(k::Integer, a::Money) = a * k
Base.:(==)(a::Money, b::Money) = a.cents == b.cents && a.currency == b.currency
Base.isless(a::Money, b::Money) = (check_same(a, b); a.cents < b.cents)
Base.zero(::Type{Money}) = Money(0, :USD)
Base.hash(a::Money, h::UInt) = hash(a.cents, hash(a.currency, h))

function Base.show(io::IO, m::Money)
    sign = m.cents < 0 ? "-" : ""
    print(io, sign, @sprintf("%d.%02d", abs(m.cents) ÷ 100, abs(m.cents) % 100), " ", m.currency)
end

# A small 2x2 matrix type with indexing and multiplication.
struct Mat2
    a::Float64; b::Float64
    c::Float64; d::Float64
end
Base.getindex(m::Mat2, i::Int, j::Int) = (m.a, m.b, m.c, m.d)[2(i - 1) + j]
Base.:*(m::Mat2, n::Mat2) = Mat2(m.a * n.a + m.b * n.c, m.a * n.b + m.b * n.d,
                                 m.c * n.a + m.d * n.c, m.c * n.b + m.d * n.d)
Base.:^(m::Mat2, p::Int) = p == 1 ? m : m * m^(p - 1)
Base.show(io::IO, m::Mat2) = print(io, "[", m.a, " ", m.b, "; ", m.c, " ", m.d, "]")

# A multi-line show for the REPL ("text/plain"), separate from the compact one.
function Base.show(io::IO, ::MIME"text/plain", m::Mat2)
    println(io, "Mat2:")
    @printf(io, " %6.1f %6.1f\n %6.1f %6.1f", m.a, m.b, m.c, m.d)
end

# ⊕ parses as an infix operator, so a user can give it a meaning of their own.
⊕(a::Money, b::Money) = a + b

function main()
    prices = [Money(4.99, :USD), Money(12.5, :USD), Money(0.75, :USD), Money(12.5, :USD)]
    total = sum(prices)
    doubled = 2 * prices[1]
    change = Money(20.0, :USD) - total
    sorted = sort(prices)
    unique_count = length(unique(prices))
    fib = Mat2(1, 1, 1, 0)^10
    err = try
        Money(1.0, :USD) + Money(1.0, :EUR)
        ""
    catch e
        sprint(showerror, e)
    end
    return (string(total), repr(doubled), string(change), join(string.(sorted), ", "),
            unique_count, prices[2] == prices[4], prices[3] < prices[1],
            string(prices[1] ⊕ prices[3]), string(fib), fib[1, 2],
            repr(MIME("text/plain"), fib), err)
end
