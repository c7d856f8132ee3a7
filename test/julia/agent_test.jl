# Tests of the Julia agent (server/julia/agent), driven like the server drives it: a unix socket, JSON-RPC with
# Content-Length framing, a real `julia` child process, SIGINT for interrupts.
# Run: LD_LIBRARY_PATH=.deps/libunwind/usr/lib/x86_64-linux-gnu julia --startup-file=no test/julia/agent_test.jl
using Test
using Sockets

const REPO = normpath(joinpath(@__DIR__, "..", ".."))
const AGENT_MAIN = joinpath(REPO, "server", "julia", "agent", "main.jl")

# The agent's own JSON and framing code, to talk to it (and to unit-test the JSON reader/writer).
module Wire
include(joinpath(Main.REPO, "server", "julia", "agent", "src", "json.jl"))
include(joinpath(Main.REPO, "server", "julia", "agent", "src", "rpc.jl"))
end

mutable struct Agent
    proc::Base.Process
    sock::Sockets.PipeEndpoint
    out::IOBuffer
    err::IOBuffer
    readers::Vector{Task}
    nextid::Int
end

function start_agent(extra::Vector{String} = String[])
    dir = mktempdir()
    path = joinpath(dir, "agent.sock")
    server = listen(path)
    out, err = Pipe(), Pipe()
    cmd = `$(Base.julia_cmd()) --startup-file=no --history-file=no --color=no -q $AGENT_MAIN $path $extra`
    proc = run(pipeline(cmd, stdout = out, stderr = err), wait = false)
    close(out.in); close(err.in)
    outbuf, errbuf = IOBuffer(), IOBuffer()
    pump(from, to) = @async while !eof(from)
        write(to, readavailable(from))
    end
    readers = [pump(out, outbuf), pump(err, errbuf)]
    sock = accept(server)
    close(server)
    return Agent(proc, sock, outbuf, errbuf, readers, 1)
end

function send_raw(a::Agent, body::String)
    write(a.sock, "Content-Length: $(ncodeunits(body))\r\n\r\n", body)
end

function receive(a::Agent)
    Wire.json_parse(Wire.read_message(a.sock))
end

function request(a::Agent, method::String, params = Dict{String,Any}())
    id = (a.nextid += 1)
    send_raw(a, Wire.json_string(Dict{String,Any}("jsonrpc" => "2.0", "id" => id, "method" => method, "params" => params)))
    reply = receive(a)
    @assert reply["id"] == id
    return reply
end

result(a::Agent, method::String, params = Dict{String,Any}()) = request(a, method, params)["result"]
evalcode(a::Agent, code::String; file = "/tmp/agent_test.jl", line = 1) =
    result(a, "eval", Dict{String,Any}("code" => code, "file" => file, "line" => line))

"Waits for `text` on the agent's stdout (or `stream`): the pump tasks copy output in their own time, so a test waits
for its arrival rather than sleeping; the limit only turns output that never arrives into a failure instead of a hang."
function saw_output(a::Agent, text::String; stream::IOBuffer = a.out)
    return timedwait(() -> occursin(text, String(stream.data[1:stream.size])), 120.0; pollint = 0.01) === :ok
end

function stop_agent(a::Agent)
    process_running(a.proc) && request(a, "shutdown")
    wait(a.proc)
    foreach(wait, a.readers)
    return a.proc.exitcode
end

@testset "JSON reader/writer" begin
    J = Wire
    v = J.json_parse("""{"a": [1, -2.5e3, true, false, null, "x\\"y\\\\z\\n\\u00e9\\ud83d\\ude00"], "b": {}, "c": []}""")
    @test v["a"] == Any[1, -2500.0, true, false, nothing, "x\"y\\z\né😀"]
    @test v["b"] == Dict{String,Any}() && v["c"] == Any[]
    @test v["a"][1] isa Int && v["a"][2] isa Float64
    for s in ["plain", "quote\" back\\ nl\n tab\t ctl\x01 snow☃ emoji😀", ""]
        @test J.json_parse(J.json_string(Dict{String,Any}("s" => s)))["s"] == s
    end
    @test J.json_string("\x01") == "\"\\u0001\""
    @test J.json_string(String([0x61, 0xff, 0x62])) == "\"a\\ufffdb\""        # invalid UTF-8 stays valid JSON
    @test J.json_string(Any[1, 2.5, nothing, NaN]) == "[1,2.5,null,null]"
    # What the capture worker writes: symbols as strings, named tuples as objects.
    @test J.json_parse(J.json_string((kind = :closure, n = 2))) == Dict{String,Any}("kind" => "closure", "n" => 2)
    # other containers are written as they are iterated, without a converted copy
    @test J.json_parse(J.json_string(Dict{String,Any}("k" => Dict("a" => 1), "v" => ["x", "y"], "t" => (1, "z"), "e" => Int[]))) ==
          Dict{String,Any}("k" => Dict{String,Any}("a" => 1), "v" => Any["x", "y"], "t" => Any[1, "z"], "e" => Any[])
    @test J.json_string(Dict(:s => 1.5)) == "{\"s\":1.5}"
    @test J.json_parse("12345678901234567890") isa Float64
    for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "01x", "[1] 2", "\"\\x\"", "-", "{1:2}"]
        @test_throws J.JSONError J.json_parse(bad)
    end
    @test_throws J.JSONError J.json_parse("["^1000 * "]"^1000)                # depth limit, no stack overflow
end

@testset "agent" begin
    a = start_agent()
    try
        @testset "initialize" begin
            r = result(a, "initialize")
            @test r["juliaVersion"] == string(VERSION)
            @test r["pid"] == getpid(a.proc)
            @test r["supported"] == (VERSION == v"1.5.3")
            id = r["identity"]
            @test id["cpuName"] == Sys.CPU_NAME
            @test occursin("+sse2", id["cpuFeatures"])
            @test id["tlsOffset"] isa Int && id["tlsOffset"] < 0
            @test isfile(id["libjulia"]) && occursin("libjulia", id["libjulia"])
            @test isfile(id["sysimage"]) && id["wordSize"] == 64
        end

        @testset "warmUp follows initialize" begin
            # initialize answers before the warm-up (the server opens the cache meanwhile); warmUp runs it, once.
            @test result(a, "warmUp") == Dict{String,Any}()
            @test result(a, "warmUp") == Dict{String,Any}()
        end

        @testset "value display" begin
            r = evalcode(a, "1+1")
            @test r["ok"] === true && r["display"] == "2"
            @test r["statements"][1]["kind"] == "expression" && length(r["statements"][1]["hash"]) == 40
            @test r["totalMs"] >= r["compileMs"] >= 0
            @test !haskey(evalcode(a, "3;"), "display")
            @test !haskey(evalcode(a, "x_semicolon = 3; # comment"), "display")
            @test !haskey(evalcode(a, "nothing"), "display")
            @test evalcode(a, "\"héllo ☃ 😀\"")["display"] == "\"héllo ☃ 😀\""
            big = evalcode(a, "collect(1:10^6)")["display"]
            @test occursin("⋮", big) && length(big) < 2000                         # :limit => true
            huge = evalcode(a, "repeat(\"x\", 10^6)")["display"]
            @test 60_000 < ncodeunits(huge) < 70_000 && occursin("truncated", huge)
            r = evalcode(a, "struct BadShow end; Base.show(io::IO, ::MIME\"text/plain\", ::BadShow) = error(\"no show\"); BadShow()")
            @test r["ok"] === true && occursin("Error showing value", r["display"]) && occursin("no show", r["display"])
        end

        @testset "statements, lines and stack traces" begin
            code = "f_t(x) = x + 1\n\n\"doc\"\nfunction g_t(y)\n    error(\"bad \$y\")\nend\n# comment\ng_t(1)\n"
            r = evalcode(a, code; file = "/tmp/lines.jl", line = 10)
            @test r["ok"] === false
            @test [s["kind"] for s in r["statements"]] == ["definition", "definition", "expression"]
            @test [s["line"] for s in r["statements"]] == [10, 12, 17]
            e = r["error"]
            @test e["kind"] == "exception" && e["message"] == "bad 1"
            frames = [(f["func"], f["file"], f["line"]) for f in e["stack"]]
            @test ("g_t", "/tmp/lines.jl", 14) in frames
            @test frames[end] == ("top-level scope", "/tmp/lines.jl", 17)           # cut at the agent's frames
            @test !any(f -> occursin("agent", f[2]), frames)
            @test evalcode(a, "m = first(methods(g_t)); (String(m.file), m.line)")["display"] == "(\"/tmp/lines.jl\", 13)"
            @test evalcode(a, "f_t(1)")["display"] == "2"
            # same text => same hash; other text => other hash
            h1 = evalcode(a, "f_t(x) = x + 1")["statements"][1]["hash"]
            @test h1 == r["statements"][1]["hash"]
            @test evalcode(a, "f_t(x) = x + 2")["statements"][1]["hash"] != h1
            kinds(c) = [s["kind"] for s in evalcode(a, c)["statements"]]
            @test kinds("const C_T = 1\nabstract type A_T end\nmutable struct M_T <: A_T; x::Int; end\n" *
                        "primitive type P_T 8 end\nmacro m_t(x) x end\nusing Printf\nimport Base: length\n" *
                        "export f_t\nmodule Mod_T end\nh_t(x::T) where {T} = x\nk_t(x)::Int = 1\n" *
                        "@inline i_t(x) = x\n@enum Color_T red_t blue_t\nBase.@kwdef struct K_T; a::Int = 1; end") ==
                  fill("definition", 14)
            @test kinds("x_t = 1\ninclude_string(Main, \"1\")\nbegin end\nf_t(2)\nprintln(\"\")") == fill("expression", 5)
        end

        @testset "syntax errors evaluate nothing" begin
            r = evalcode(a, "before_syntax = 1\ny = (1,\n\nz"; line = 5)
            @test r["ok"] === false && r["error"]["kind"] == "syntax"
            @test occursin("incomplete", r["error"]["message"])
            @test r["error"]["stack"][1]["line"] == 6
            @test evalcode(a, "isdefined(Main, :before_syntax)")["display"] == "false"
            r = evalcode(a, "1\na b")
            @test r["error"]["kind"] == "syntax" && occursin("extra token", r["error"]["message"])
            @test r["error"]["stack"][1]["line"] == 2
        end

        @testset "output goes to stdout/stderr, not the socket" begin
            evalcode(a, "println(\"hello from user\"); print(stderr, \"to stderr\"); ccall(:printf, Cint, (Cstring,), \"c-out\\n\")")
            @test saw_output(a, "hello from user")
            @test saw_output(a, "c-out")
            @test saw_output(a, "to stderr"; stream = a.err)
        end

        @testset "compile log" begin
            evalcode(a, "twice_t(x) = 2x")
            r = evalcode(a, "twice_t(3.5)")
            @test r["methodsCompiled"] >= 1 && r["compileMs"] > 0
            r2 = evalcode(a, "twice_t(4.5)")                                        # warm: nothing new
            @test r2["methodsCompiled"] == 0 && r2["compileMs"] == 0
            log = result(a, "sessionLog")
            sigs = [c["sig"] for c in log["compiled"]]
            @test "Tuple{typeof(Main.twice_t), Float64}" in sigs
            @test !any(s -> occursin("JLCacheAgent", s), sigs)
            evalcode(a, "cl_t = let k = 3; x -> x + k end; cl_t(1)")
            sigs = [c["sig"] for c in result(a, "sessionLog")["compiled"]]
            @test any(s -> occursin("Main.var\"#", s), sigs)                       # closures are logged too
        end

        @testset "sessionLog definitions" begin
            evalcode(a, "f_t(x) = x + 1")
            log = result(a, "sessionLog")
            defs = log["definitions"]
            codes = [d["code"] for d in defs]
            @test "f_t(x) = x + 1" in codes && "f_t(x) = x + 2" in codes
            @test !any(c -> occursin("error(\"bad", c) && !occursin("function", c), codes)
            @test !("x_t = 1" in codes)
            # f_t(x)=x+1 was re-evaluated after f_t(x)=x+2: kept twice in order, so a replay ends with +1 ...
            @test findlast(isequal("f_t(x) = x + 1"), codes) > findlast(isequal("f_t(x) = x + 2"), codes)
            @test count(isequal("f_t(x) = x + 1"), codes) == 2
            n = length(defs)
            evalcode(a, "function once_t() 1 end")
            evalcode(a, "function once_t() 1 end")                                 # ... but a plain repeat is dropped
            @test length(result(a, "sessionLog")["definitions"]) == n + 1
            d = result(a, "sessionLog")["definitions"][end]
            @test d["file"] == "/tmp/agent_test.jl" && d["line"] == 1 && length(d["hash"]) == 40
            @test log["loadPath"] isa Vector && !isempty(log["loadPath"])
        end

        @testset "sessionLog included: each file an include loaded, and the module it ran in" begin
            dir = mktempdir()
            write(joinpath(dir, "inc_t.jl"), "inc_f_t() = 1\n")
            @test evalcode(a, "module IncM_t\ninclude($(repr(joinpath(dir, "inc_t.jl"))))\nend")["ok"] === true
            @test Dict{String,Any}("file" => joinpath(dir, "inc_t.jl"), "module" => "Main.IncM_t") in result(a, "sessionLog")["included"]
        end

        @testset "interrupts" begin
            # SIGINT once the user's code runs (it said so), not after a guessed delay
            pending = @async evalcode(a, "println(\"sleeping_t\"); flush(stdout); sleep(30)")
            @test saw_output(a, "sleeping_t")
            kill(a.proc, Base.SIGINT)
            r = fetch(pending)
            @test r["ok"] === false && r["error"]["kind"] == "interrupted"
            # a loop without safepoints needs a burst of SIGINTs (Julia 1.5 forces the throw after ~5 quick ones),
            # as the server sends it (DESIGN.md "Interrupt")
            pending = @async evalcode(a, "println(\"looping_t\"); flush(stdout); while true end")
            @test saw_output(a, "looping_t")
            kill(a.proc, Base.SIGINT)
            timedwait(() -> istaskdone(pending), 1.0)
            for _ in 1:100
                istaskdone(pending) && break
                kill(a.proc, Base.SIGINT)
                sleep(0.1)
            end
            r = fetch(pending)
            @test r["error"]["kind"] == "interrupted"
            kill(a.proc, Base.SIGINT)                                               # while idle
            sleep(0.5)
            @test process_running(a.proc)
            @test evalcode(a, "1+2")["display"] == "3"
        end

        @testset "bad requests never kill the agent" begin
            send_raw(a, "{not json")
            @test receive(a)["error"]["code"] == -32700
            @test request(a, "no/such/method")["error"]["code"] == -32601
            @test request(a, "eval", Dict{String,Any}("file" => "x"))["error"]["code"] == -32602
            @test request(a, "eval", Dict{String,Any}("code" => 1))["error"]["code"] == -32602
            send_raw(a, "[1,2]")
            @test receive(a)["error"]["code"] == -32600
            write(a.sock, "X-Nonsense\r\n\r\n")                                      # no Content-Length
            @test receive(a)["error"]["code"] == -32700
            send_raw(a, Wire.json_string(Dict{String,Any}("jsonrpc" => "2.0", "method" => "eval",
                                                          "params" => Dict{String,Any}("code" => "notified_t = 1"))))
            @test evalcode(a, "notified_t")["display"] == "1"                       # notification ran, no reply
            @test evalcode(a, "throw(InterruptException())")["error"]["kind"] == "interrupted"
            @test evalcode(a, "1")["display"] == "1"
        end
    finally
        @test stop_agent(a) == 0
    end
end

@testset "extensions and after-statement hooks" begin
    ext = tempname() * ".jl"
    write(ext, """
    const SEEN = Tuple{String,String}[]
    push!(AFTER_STATEMENT_HOOKS, (h, k) -> push!(SEEN, (h, k)))
    push!(AFTER_STATEMENT_HOOKS, (h, k) -> error("hook failure is reported, not fatal"))
    register_handler("test/seen", p -> Any[Any[h, k] for (h, k) in SEEN])
    register_handler("test/fail", p -> throw(RPCError(-32001, "custom failure")))
    """)
    broken = tempname() * ".jl"
    write(broken, "this is not julia (")
    a = start_agent([ext, broken])
    try
        r = evalcode(a, "ext_f(x) = x\nusing NoSuchPackage_t\next_f(1)")
        @test r["error"]["kind"] == "exception"
        seen = result(a, "test/seen")
        @test seen == Any[Any[r["statements"][1]["hash"], "definition"], Any[r["statements"][2]["hash"], "definition"]]
        @test request(a, "test/fail")["error"] == Dict{String,Any}("code" => -32001, "message" => "custom failure")
    finally
        @test stop_agent(a) == 0
    end
    err = String(take!(a.err))
    @test occursin("hook failure is reported", err)
    @test occursin("failed to load", err)
end

@testset "the agent exits when the server goes away" begin
    a = start_agent()
    result(a, "initialize")
    close(a.sock)
    @test timedwait(() -> !process_running(a.proc), 60.0) === :ok   # the limit only guards against a hang
    @test a.proc.exitcode == 0
end
