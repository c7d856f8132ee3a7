# Measures of the nested include workload (included by geo/geo.jl). `area(::Rect)` is the method the tests edit.
area(c::Circle) = pi * c.r^2
area(r::Rect) = r.w * r.h

total_area(shapes) = sum(area, shapes)

function largest(shapes)
    k = argmax(map(area, shapes))
    return describe(shapes[k])
end
