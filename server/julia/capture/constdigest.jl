# Constants computed at run time (`const SEED = rand(Int)`, `const T0 = time()`): inference folds their values into
# the code, so cached code is only valid where the constant has the same value. The capture records the value's
# digest as a requirement `const:<module path>.<name>:<digest>`; the agent satisfies it after a statement creates
# the constant with that value. Mutable values are not folded (code reaches them through their binding): no digest.

const DIGEST_DEPTH = 4

"Digest of a constant's value, or nothing when code cannot have folded it (types, functions, modules, mutables)."
function const_digest(@nospecialize(x))
    io = IOBuffer()
    digest_into!(io, x, 0) || return nothing
    return bytes2hex(sha1(take!(io)))[1:20]
end

function digest_into!(io::IOBuffer, @nospecialize(x), depth::Int)
    (x isa Type || x isa Function || x isa Module || depth > DIGEST_DEPTH) && return false
    T = typeof(x)
    print(io, T, '|')
    if x isa String
        write(io, x)
    elseif x isa Symbol
        write(io, String(x))
    elseif T.mutable
        return false
    elseif nfields(x) == 0
        isbitstype(T) || return false
        write(io, bits_of(x))
    else
        for i in 1:nfields(x)
            isdefined(x, i) || return false
            digest_into!(io, getfield(x, i), depth + 1) || return false
            write(io, UInt8(0))
        end
    end
    return true
end

"The bytes of an isbits value, read from its box (no specialization per type: each would be compiled in imaging mode)."
function bits_of(@nospecialize(x))
    n = sizeof(x)::Int   # typed, so the calls below are static and come with this method's code
    return GC.@preserve x copy(unsafe_wrap(Array, Ptr{UInt8}(ccall(:jl_value_ptr, Ptr{Cvoid}, (Any,), x)), n))
end

module_path(m::Module) = join(fullname(m), '.')
const_requirement(m::Module, name::Symbol, digest::String) = string("const:", module_path(m), ".", name, ":", digest)

"The requirement for reading constant `m.name` in compiled code, or nothing if its value cannot have been folded."
function const_binding_requirement(m::Module, name::Symbol)
    # Only the module's own constants: `Main.nothing` is Core's.
    isdefined(m, name) && isconst(m, name) && Base.binding_module(m, name) === m || return nothing
    d = const_digest(getfield(m, name))
    return d === nothing ? nothing : const_requirement(m, name, d)
end

"Every requirement the constants of `m` (and of modules it defines) satisfy, for the names given."
function const_requirements!(out::Vector{String}, m::Module, names_::Vector{Symbol}, depth::Int = 0)
    for n in names_
        r = const_binding_requirement(m, n)
        r === nothing || push!(out, r)
        if depth < 8 && isdefined(m, n) && isconst(m, n)
            v = getfield(m, n)
            v isa Module && parentmodule(v) === m && v !== m && const_requirements!(out, v, names(v; all = true), depth + 1)
        end
    end
    return out
end
