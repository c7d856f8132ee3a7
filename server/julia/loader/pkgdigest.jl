# Digest of a package's source files, the same in the capture worker and in the session (requirement
# "pkg:<name>:<digest>"): CRC-32c over the relative paths and contents of every .jl file under the package's
# directory, in sorted order. Any edit to the package changes it.
function package_digest(m::Module)
    root = pathof(m)
    root === nothing && return "nofile"
    dir = dirname(dirname(root))
    files = String[]
    for (d, _, fs) in walkdir(dir), f in fs
        endswith(f, ".jl") && push!(files, joinpath(d, f))
    end
    sort!(files)
    crc = UInt32(0)
    for f in files
        crc = Base._crc32c(relpath(f, dir), crc)
        crc = Base._crc32c(read(f), crc)
    end
    return string(crc; base = 16, pad = 8)
end
package_requirement(m::Module) = "pkg:" * String(nameof(m)) * ":" * package_digest(m)
# Stdlibs ship inside the system image: code depending only on them needs no requirement.
is_stdlib(m::Module) = (p = pathof(m); p === nothing || startswith(p, Sys.STDLIB))
