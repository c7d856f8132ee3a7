# Stdlib workload: Dates formatting and arithmetic, Printf.
using Dates, Printf

function main()
    d = DateTime(2024, 2, 28, 13, 45, 10)
    later = d + Day(2) + Hour(5)
    s1 = Dates.format(later, "yyyy-mm-dd HH:MM:SS")
    s2 = @sprintf("%8.3f|%-5d|%s|%e", 3.14159, 42, "x", 12345.678)
    return (s1, s2, Dates.dayofweek(later), string(Date(later) - Date(d)))
end
