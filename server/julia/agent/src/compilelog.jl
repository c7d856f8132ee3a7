# Compile log: Julia 1.5 has no cumulative compile timer, but jl_dump_compiles makes codegen write one line per
# compiled MethodInstance, `<ns>\t"<specTypes>"`. We hand it a jl_uv_file_t around an fd of our own (a file,
# not the user's stderr, and not a pipe: a pipe could fill up mid-eval and block codegen), switch it on only
# while user code runs, and read what was appended after each statement.

mutable struct CompileLog
    path::String
    reader::IOStream       # our own read position in the log file
    stream::Ptr{Cvoid}     # malloc'ed jl_uv_file_t, never freed (the runtime may hold it)
    pending::String        # an incomplete last line, kept until its newline arrives
end

"Every (signature, ms) this session sent to codegen while user code ran, in order (for sessionLog)."
const COMPILED = Tuple{String,Float64}[]

const O_CLOEXEC = 0o2000000     # Linux; Base.Filesystem has no constant for it. Keeps the fd out of user subprocesses.

function open_compile_log()
    path = tempname() * "-jlagent-compiles.log"
    flags = Base.Filesystem.JL_O_WRONLY | Base.Filesystem.JL_O_CREAT | Base.Filesystem.JL_O_APPEND | O_CLOEXEC
    fd = ccall(:open, Cint, (Cstring, Cint, Cint), path, flags, 0o600)
    fd < 0 && error("cannot create the compile log $path: ", Libc.strerror(Libc.errno()))
    reader = open(path, "r")
    rm(path)               # the two fds keep it alive; nothing is left behind when the process ends
    stream = Libc.malloc(JL_UV_FILE_T_SIZE)
    stream == C_NULL && error("out of memory")
    ccall(:memset, Ptr{Cvoid}, (Ptr{Cvoid}, Cint, Csize_t), stream, 0, JL_UV_FILE_T_SIZE)
    unsafe_store!(Ptr{Cint}(stream + JL_UV_FILE_T_TYPE_OFFSET), UV_FILE)
    unsafe_store!(Ptr{Cint}(stream + JL_UV_FILE_T_FILE_OFFSET), fd)
    return CompileLog(path, reader, stream, "")
end

compile_log_on(log::CompileLog) = jl_dump_compiles(log.stream)
compile_log_off(::CompileLog) = jl_dump_compiles(C_NULL)

"One log line (`<ns>`, a tab, the quoted specTypes) -> (signature, ns), or nothing for anything else."
function parse_compile_line(line::AbstractString)
    tab = findfirst(isequal('\t'), line)
    tab === nothing && return nothing
    ns = tryparse(Int, line[1:prevind(line, tab)])
    ns === nothing && return nothing
    sig = line[nextind(line, tab):end]
    if startswith(sig, '"') && endswith(sig, '"') && ncodeunits(sig) >= 2
        sig = sig[2:prevind(sig, lastindex(sig))]
    end
    return (String(sig), ns)
end

"""
Reads the lines appended since the last call, appends them to COMPILED and returns (ms, count) for them.
Signatures of the agent's own methods are dropped: they are not the user's work and cannot be cached.
"""
function drain_compile_log!(log::CompileLog)
    text = log.pending * String(read(log.reader))
    log.pending = ""
    ms = 0.0
    n = 0
    start = 1
    while start <= ncodeunits(text)
        nl = findnext(isequal('\n'), text, start)
        if nl === nothing
            log.pending = text[start:end]
            break
        end
        parsed = parse_compile_line(SubString(text, start, prevind(text, nl)))
        start = nl + 1
        parsed === nothing && continue
        sig, ns = parsed
        occursin(AGENT_MODULE_PREFIX, sig) && continue
        t = ns / 1e6
        push!(COMPILED, (sig, t))
        ms += t
        n += 1
    end
    return ms, n
end
