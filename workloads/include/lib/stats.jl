# Statistics helpers of the include workload (report.jl). `spread` is the function the tests edit.
mean(xs) = sum(xs) / length(xs)

function spread(xs)
    m = mean(xs)
    return sqrt(sum(x -> (x - m)^2, xs) / (length(xs) - 1))
end

scaled(xs, k) = [x * k for x in xs]
