# JSON-RPC 2.0 over a byte stream with LSP-style framing ("Content-Length: N\r\n\r\n" + N bytes of JSON), the
# format vscode-jsonrpc's StreamMessageReader/Writer speak. Requests are dispatched through HANDLERS, a table
# other agent files (and the cache loader glue) register into with `register_handler`.

const MAX_MESSAGE_BYTES = 256 * 1024 * 1024

# JSON-RPC error codes
const PARSE_ERROR = -32700
const INVALID_REQUEST = -32600
const METHOD_NOT_FOUND = -32601
const INVALID_PARAMS = -32602
const INTERNAL_ERROR = -32603

"A handler throws this to answer with a specific JSON-RPC error instead of INTERNAL_ERROR."
struct RPCError <: Exception
    code::Int
    msg::String
end
Base.showerror(io::IO, e::RPCError) = print(io, e.msg)

struct FramingError <: Exception
    msg::String
end
Base.showerror(io::IO, e::FramingError) = print(io, "bad message framing: ", e.msg)

"name => handler(params::Dict{String,Any}) returning a JSON-writable value (see json.jl)."
const HANDLERS = Dict{String,Function}()

"""
    register_handler(name::String, f)

Adds a JSON-RPC method. `f(params::Dict{String,Any})` returns the result (Dict{String,Any}, Vector{Any}, String,
number, Bool or nothing); throwing `RPCError(code, msg)` answers with that error, any other exception becomes an
internal error carrying `showerror`'s text. Handlers run on the agent's task, between evaluations.
"""
register_handler(name::String, f) = (HANDLERS[name] = f; nothing)

"""
Reads one framed message; throws EOFError when the peer closed the stream, FramingError on a bad header (after
consuming the header up to its blank line, or the oversized body, so the next message is read cleanly).
"""
function read_message(io::IO)
    len = -1
    problem = ""
    nheaders = 0
    while true
        eof(io) && throw(EOFError())
        line = readline(io)
        line = endswith(line, '\r') ? chop(line) : line
        isempty(line) && break
        (nheaders += 1) > 32 && throw(FramingError("too many header lines"))
        k = findfirst(isequal(':'), line)
        if k === nothing
            problem = "header line without ':'"
        elseif lowercase(strip(line[1:prevind(line, k)])) == "content-length"
            n = tryparse(Int, strip(line[nextind(line, k):end]))
            (n === nothing || n < 0) ? (problem = "bad Content-Length") : (len = n)
        end
    end
    isempty(problem) || throw(FramingError(problem))
    len < 0 && throw(FramingError("missing Content-Length"))
    if len > MAX_MESSAGE_BYTES
        while len > 0 && !eof(io)
            len -= length(read(io, min(len, 1 << 20)))
        end
        throw(FramingError("message too large (limit $(MAX_MESSAGE_BYTES >> 20) MB)"))
    end
    body = read(io, len)
    length(body) < len && throw(EOFError())
    return body
end

"Writes one framed message in a single write, with SIGINT deferred so a reply is never cut in half."
function write_message(io::IO, body::String)
    buf = IOBuffer()
    write(buf, "Content-Length: ", string(ncodeunits(body)), "\r\n\r\n", body)
    bytes = take!(buf)
    disable_sigint() do
        write(io, bytes)
        flush(io)
    end
    return nothing
end

function rpc_error(id, code::Int, msg::String)
    err = Dict{String,Any}("code" => code, "message" => msg)
    return json_string(Dict{String,Any}("jsonrpc" => "2.0", "id" => id, "error" => err))
end

"Handles one raw message; returns the reply text, or nothing for a notification."
function handle_message(bytes::Vector{UInt8})
    msg = try
        json_parse(bytes)
    catch e
        e isa InterruptException && rethrow()
        return rpc_error(nothing, PARSE_ERROR, sprint(showerror, e))
    end
    msg isa Dict{String,Any} || return rpc_error(nothing, INVALID_REQUEST, "a request must be a JSON object")
    id = get(msg, "id", nothing)
    isnotification = !haskey(msg, "id")
    (id === nothing || id isa Int || id isa String) || return rpc_error(nothing, INVALID_REQUEST, "bad id")
    method = get(msg, "method", nothing)
    if !(method isa String)
        return isnotification ? nothing : rpc_error(id, INVALID_REQUEST, "missing method")
    end
    params = get(msg, "params", nothing)
    params === nothing && (params = Dict{String,Any}())
    if !(params isa Dict{String,Any})
        return isnotification ? nothing : rpc_error(id, INVALID_PARAMS, "params must be an object")
    end
    handler = get(HANDLERS, method, nothing)
    if handler === nothing
        return isnotification ? nothing : rpc_error(id, METHOD_NOT_FOUND, "unknown method: " * method)
    end
    result = try
        Base.invokelatest(handler, params)   # extensions register after the loop started (newer world)
    catch e
        isnotification && return nothing
        e isa RPCError && return rpc_error(id, e.code, e.msg)
        return rpc_error(id, INTERNAL_ERROR, string(method, " failed: ", sprint(showerror, e)))
    end
    isnotification && return nothing
    return json_string(Dict{String,Any}("jsonrpc" => "2.0", "id" => id, "result" => result))
end

# Typed access to request params: a missing or mistyped field is the client's error (INVALID_PARAMS).
function param(params::Dict{String,Any}, name::String, ::Type{T}, default) where {T}
    v = get(params, name, nothing)
    v === nothing && return default
    v isa T || throw(RPCError(INVALID_PARAMS, "param '$name' must be a $(T === Int ? "integer" : lowercase(string(T)))"))
    return v
end
