# Form: docstrings ("""...""") on functions, structs and constants, no module.
# A small documented temperature-log API, the way a user would write one.
using Printf, Statistics

"""
    Reading(station, celsius)

One temperature reading from a weather `station`, in degrees Celsius.
"""
struct Reading
    station::String
    celsius::Float64
end

"""
The freezing point of water in Celsius; readings below it count as frost.
"""
const FREEZING = 0.0

"""
    fahrenheit(c)

Convert `c` degrees Celsius to Fahrenheit.

# Examples
```julia
julia> fahrenheit(100)
212.0
```
"""
fahrenheit(c::Real) = c * 9 / 5 + 32

"""
    fahrenheit(r::Reading)

The reading's temperature in Fahrenheit.
"""
fahrenheit(r::Reading) = fahrenheit(r.celsius)

"""
    is_frost(r::Reading) -> Bool

`true` when the reading is below [`FREEZING`](@ref).
"""
is_frost(r::Reading) = r.celsius < FREEZING

"""
    by_station(readings)

Group readings by station name; returns a `Dict{String,Vector{Float64}}`.
"""
function by_station(readings::Vector{Reading})
    groups = Dict{String,Vector{Float64}}()
    for r in readings
        push!(get!(groups, r.station, Float64[]), r.celsius)
    end
    return groups
end

"""
    summary_line(name, temps)

One formatted line: station name, mean, spread and frost count.
"""
function summary_line(name::AbstractString, temps::Vector{Float64})
    frost = count(t -> t < FREEZING, temps)
    return @sprintf("%-8s mean=%6.2f std=%5.2f min=%6.1f max=%6.1f frost=%d",
                    name, mean(temps), std(temps), minimum(temps), maximum(temps), frost)
end

"""
    report(readings)

A multi-line report, one line per station in alphabetical order.
"""
function report(readings::Vector{Reading})
    groups = by_station(readings)
    lines = [summary_line(name, groups[name]) for name in sort(collect(keys(groups)))]
    return join(lines, "\n")
end

"""
    sample_readings()

A fixed data set so the result is the same in every process.
"""
function sample_readings()
    stations = ["Oslo", "Madrid", "Quito", "Nuuk"]
    base = [2.0, 15.0, 13.5, -8.0]
    readings = Reading[]
    for day in 1:14, (i, s) in enumerate(stations)
        # a deterministic wobble instead of random noise
        push!(readings, Reading(s, base[i] + 3 * sin(day + i) - 0.5 * cos(2day)))
    end
    return readings
end

"""
    main()

Build the sample data and return the report plus a few derived numbers.
"""
function main()
    readings = sample_readings()
    text = report(readings)
    frosty = count(is_frost, readings)
    hottest = maximum(fahrenheit, readings)
    # the docstrings themselves are part of the program's state: read one back
    doc = string(@doc fahrenheit)
    return (text, frosty, round(hottest; digits = 3), occursin("Fahrenheit", doc))
end
