# Form: user-defined macros that expand to function definitions, and their use.
using Printf

struct Point
    x::Float64
    y::Float64
end

mutable struct Account
    owner::String
    balance::Float64
    currency::String
end

# `@make_getters T a b` defines `get_a(v::T) = v.a` and `get_b(v::T) = v.b`.
macro make_getters(T, fields...)
    defs = map(fields) do f
        fname = Symbol("get_", f)
        :($(esc(fname))(v::$(esc(T))) = v.$f)
    end
    return Expr(:block, defs...)
end

# `@make_setters T a` defines `set_a!(v::T, val)` for mutable structs.
macro make_setters(T, fields...)
    defs = [:(function $(esc(Symbol("set_", f, "!")))(v::$(esc(T)), val)
                  v.$f = val
                  return v
              end) for f in fields]
    return Expr(:block, defs...)
end

# `@unit name factor` defines a conversion function and its inverse.
macro unit(name, factor)
    to = esc(Symbol("to_", name))
    from = esc(Symbol("from_", name))
    return quote
        $to(x::Real) = x * $(esc(factor))
        $from(x::Real) = x / $(esc(factor))
    end
end

# A macro that is not a definition: evaluates an expression n times and sums the results.
macro repeat(n, body)
    return quote
        local acc = 0
        for _ in 1:$(esc(n))
            acc += $(esc(body))
        end
        acc
    end
end

# `@memo function f(n) ... end` defines f plus a Dict cache that f consults first.
macro memo(fdef)
    fdef.head == :function || error("@memo expects a long-form function definition")
    call, body = fdef.args
    name = call.args[1]
    arg = call.args[2]
    cache = Symbol(name, "_cache")
    return esc(quote
        const $cache = Dict{Any,Any}()
        function $name($arg)
            haskey($cache, $arg) && return $cache[$arg]
            result = $body
            $cache[$arg] = result
            return result
        end
    end)
end

@make_getters Point x y
@make_getters Account owner balance currency
@make_setters Account balance currency
@unit inch 2.54
@unit mile 1.609344

@memo function fib(n)
    n <= 2 ? big(1) : fib(n - 1) + fib(n - 2)
end

@memo function collatz_steps(n)
    n == 1 ? 0 : 1 + collatz_steps(iseven(n) ? n ÷ 2 : 3n + 1)
end

describe(a::Account) = @sprintf("%s: %.2f %s", get_owner(a), get_balance(a), get_currency(a))

function main()
    p = Point(3.0, 4.0)
    r = hypot(get_x(p), get_y(p))
    acct = Account("Grace", 100.0, "USD")
    set_balance!(acct, get_balance(acct) * 1.05)
    set_currency!(acct, "EUR")
    k = 0
    total = @repeat 4 (k += 1; k^2)
    # use the generated getters the way ordinary accessors are used
    pts = [Point(cos(t), sin(2t)) for t in 0:0.5:3]
    rightmost = sort(pts, by = get_x, rev = true)[1]
    table = join([@sprintf("(%+.3f, %+.3f)", get_x(q), get_y(q)) for q in pts], " ")
    accounts = [Account(n, b, "USD") for (n, b) in zip(["Ann", "Ben", "Cy"], [50.0, 20.0, 75.5])]
    foreach(a -> set_balance!(a, round(get_balance(a) * 1.1; digits = 2)), accounts)
    richest = get_owner(accounts[argmax(map(get_balance, accounts))])
    longest = argmax(map(collatz_steps, 1:200))
    expanded = string(Base.remove_linenums!(@macroexpand @make_getters Point x))
    return (r, describe(acct), string(fib(90)), longest, collatz_steps(longest), table,
            @sprintf("%.3f", get_x(rightmost)), join(describe.(accounts), "; "), richest,
            to_inch(10), round(from_mile(to_mile(3)); digits = 10), total,
            occursin("get_x", expanded))
end
