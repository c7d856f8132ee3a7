# Form: a user module with exports and a nested module, brought in with `using .Geometry`.
using Printf

module Geometry

export Shape, Circle, Rect, Triangle, area, perimeter, describe

abstract type Shape end

struct Circle <: Shape
    r::Float64
end

struct Rect <: Shape
    w::Float64
    h::Float64
end

struct Triangle <: Shape
    a::Float64
    b::Float64
    c::Float64
end

area(c::Circle) = pi * c.r^2
area(r::Rect) = r.w * r.h
function area(t::Triangle)
    s = perimeter(t) / 2   # Heron's formula
    return sqrt(s * (s - t.a) * (s - t.b) * (s - t.c))
end

perimeter(c::Circle) = 2pi * c.r
perimeter(r::Rect) = 2 * (r.w + r.h)
perimeter(t::Triangle) = t.a + t.b + t.c

describe(s::Shape) = string(nameof(typeof(s)), " area=", round(area(s); digits = 3))

# Nested module: unit conversions kept separate, not exported from Geometry.
module Units
const CM_PER_INCH = 2.54
to_cm(inches) = inches * CM_PER_INCH
to_inches(cm) = cm / CM_PER_INCH
end # module Units

# An unexported helper, reached as Geometry.scale from outside.
scale(c::Circle, k) = Circle(c.r * k)
scale(r::Rect, k) = Rect(r.w * k, r.h * k)
scale(t::Triangle, k) = Triangle(t.a * k, t.b * k, t.c * k)

end # module Geometry

using .Geometry
using .Geometry.Units: to_cm
import .Geometry: scale

# Extending the module's function from Main with a new method for a new shape.
struct Square <: Shape
    side::Float64
end
Geometry.area(s::Square) = s.side^2
Geometry.perimeter(s::Square) = 4 * s.side

function main()
    shapes = Shape[Circle(1.0), Rect(2.0, 3.0), Triangle(3.0, 4.0, 5.0), Square(2.5)]
    lines = [describe(s) for s in shapes]
    total = sum(area, shapes)
    biggest = shapes[argmax(map(area, shapes))]
    bigger = [scale(s, 2) for s in shapes[1:3]]
    ratio = area(bigger[2]) / area(shapes[2])
    table = join([@sprintf("%-9s %8.3f", nameof(typeof(s)), perimeter(s)) for s in shapes], "\n")
    return (join(lines, "; "), round(total; digits = 4), string(nameof(typeof(biggest))),
            ratio, to_cm(10), round(Geometry.Units.to_inches(254); digits = 10), table)
end
