# Form: many closures, generators and comprehensions inside ONE function, plus
# functions that return closures.
using Printf, Statistics

# Closure factories: each returns a function capturing its arguments.
make_adder(n) = x -> x + n
make_scaler(k::Float64) = x -> k * x
function make_counter()
    count = 0                     # captured and mutated: becomes a Core.Box
    return () -> (count += 1)
end
compose_all(fs...) = x -> foldl((acc, f) -> f(acc), fs; init = x)

function main()
    xs = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
    words = ["apple", "Banana", "cherry", "date", "Elderberry", "fig", "grape"]
    threshold = 4
    prefix = "item"

    # map / filter with anonymous functions that capture locals
    doubled = map(x -> 2x, xs)
    big = filter(x -> x > threshold, xs)
    labels = map(i -> "$prefix-$i", 1:3)
    lens = map(length, words)
    caps = filter(w -> isuppercase(first(w)), words)

    # generators fed straight into reductions
    sumsq = sum(x^2 for x in xs)
    maxlen = maximum(length(w) for w in words)
    evens = count(iseven(x) for x in xs)
    avg_long = mean(length(w) for w in words if length(w) > threshold)

    # comprehensions, including a 2-D one and a Dict comprehension
    squares = [x^2 for x in 1:6]
    table = [i * j for i in 1:4, j in 1:3]
    first_letters = Dict(lowercase(w[1]) => w for w in words)
    pairs = [(a, b) for a in 1:4 for b in a:4 if a + b == 5]

    # sort/reduce with closure arguments
    by_len = sort(words, by = w -> (length(w), lowercase(w)))
    joined = reduce((a, b) -> a * "|" * b, map(lowercase, words[1:3]))
    weighted = mapreduce(((i, x),) -> i * x, +, enumerate(xs))

    # closures returned from functions
    add10 = make_adder(10)
    half = make_scaler(0.5)
    pipeline = compose_all(add10, half, x -> x^2, round)
    counter = make_counter()
    foreach(_ -> counter(), 1:4)
    last_count = counter()

    # a closure that captures another closure
    apply_twice = f -> (x -> f(f(x)))
    add20 = apply_twice(add10)

    # any/all with predicates
    has_fig = any(w -> w == "fig", words)
    all_pos = all(>(0), xs)

    summary = @sprintf("sumsq=%d maxlen=%d evens=%d avg_long=%.3f", sumsq, maxlen, evens, avg_long)
    return (summary, sum(doubled), join(big, ","), join(labels, ","), sum(lens),
            join(caps, ","), sum(squares), sum(table), first_letters['c'],
            string(pairs), join(by_len, ","), joined, weighted,
            pipeline(6), last_count, add20(1), has_fig, all_pos)
end
