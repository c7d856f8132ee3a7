# Text for the client: the value of an evaluation as the REPL shows it, and error messages. Everything is
# bounded: `:limit => true` keeps `show` itself short for big arrays and dicts, and the IOBuffer's maxsize stops a
# runaway `show` method from growing the reply beyond what an editor can display.

const DISPLAY_LIMIT = 64 * 1024
const MESSAGE_LIMIT = 16 * 1024

function truncated(buf::IOBuffer, limit::Int)
    bytes = take!(buf)
    length(bytes) <= limit && return String(bytes)
    cut = limit
    while cut > 0 && (bytes[cut+1] & 0xc0) == 0x80      # do not split a UTF-8 sequence
        cut -= 1
    end
    return string(String(bytes[1:cut]), "\n… (output truncated at ", limit ÷ 1024, " KB)")
end

"The stream values are shown on: the REPL's limits, into a bounded buffer."
display_io(buf::IOBuffer) = IOContext(buf, :limit => true, :displaysize => (24, 100))

"""
The `show` specialization `display_text` dispatches to for a value of type `T`: package caches compile it ahead
(packagedisplay.jl), so it must be exactly the call below.
"""
display_signature(@nospecialize(T)) = Tuple{typeof(show), typeof(display_io(IOBuffer())), MIME"text/plain", T}

"The value as the REPL would display it; show errors are reported in the text instead of failing the eval."
function display_text(@nospecialize(value))
    buf = IOBuffer(maxsize = DISPLAY_LIMIT + 1)
    io = display_io(buf)
    try
        # invokelatest: the code just evaluated may have added `show` methods for its own types.
        Base.invokelatest(show, io, MIME"text/plain"(), value)
    catch e
        e isa InterruptException && rethrow()
        take!(buf)
        return string("Error showing value of type ", typeof(value), ":\n", error_text(e))
    end
    return truncated(buf, DISPLAY_LIMIT)
end

"showerror's text for an exception, bounded; a failing showerror does not hide the original error."
function error_text(@nospecialize(e))
    buf = IOBuffer(maxsize = MESSAGE_LIMIT + 1)
    try
        Base.invokelatest(showerror, buf, e)
    catch err
        err isa InterruptException && rethrow()
        take!(buf)
        print(buf, typeof(e), " (showerror failed: ", typeof(err), ")")
    end
    return truncated(buf, MESSAGE_LIMIT)
end

include("packagedisplay.jl")
