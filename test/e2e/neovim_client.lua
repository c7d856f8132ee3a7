-- Drives the language server from Neovim 0.7's built-in LSP client (a second, independent real editor): initialize,
-- start a session and evaluate through workspace/executeCommand, collect notifications, then save the compiled
-- work, restart and evaluate again when the server has the cache. Writes everything it saw as JSON to RESULT_FILE
-- for test/e2e/neovim.test.ts to check. Run: nvim --headless --clean -c 'luafile neovim_client.lua'.
local server_js = assert(os.getenv('SERVER_JS'), 'SERVER_JS')
local workspace = assert(os.getenv('WORKSPACE'), 'WORKSPACE')
local result_file = assert(os.getenv('RESULT_FILE'), 'RESULT_FILE')
local out = { steps = {}, outputs = {}, statuses = {}, finished = {} }
local function now_ms() return vim.loop.hrtime() / 1e6 end

local function run()
  local t0 = now_ms()
  local client_id = vim.lsp.start_client({
    name = 'julia-compiled-cache',
    cmd = { 'node', server_js, '--stdio' },
    root_dir = workspace,
    init_options = { autoStart = false, autoLoad = true, trusted = true, cacheDir = workspace .. '/.jlcache' },
    handlers = {
      ['julia/output'] = function(_, params) table.insert(out.outputs, params) end,
      ['julia/sessionStatus'] = function(_, params) table.insert(out.statuses, params) end,
      ['julia/evaluationFinished'] = function(_, params) table.insert(out.finished, params) end,
    },
  })
  assert(client_id, 'start_client failed')
  local ok = vim.wait(20000, function()
    local c = vim.lsp.get_client_by_id(client_id)
    return c ~= nil and c.initialized
  end, 20)
  out.initialized = ok
  out.initialize_ms = now_ms() - t0
  local client = assert(vim.lsp.get_client_by_id(client_id), 'client gone after start')
  out.commands = client.server_capabilities.executeCommandProvider and client.server_capabilities.executeCommandProvider.commands

  -- One workspace/executeCommand; records the answer (or error) and how long it took under `name`.
  local function command(name, cmd, arg, timeout)
    local t = now_ms()
    local resp, err = client.request_sync('workspace/executeCommand',
      { command = cmd, arguments = arg and { arg } or {} }, timeout or 120000, 0)
    local step = { name = name, ms = now_ms() - t }
    if err then step.error = tostring(err) end
    if resp then step.result = resp.result; step.error = resp.err and resp.err.message or step.error end
    table.insert(out.steps, step)
    return step
  end

  command('start', 'julia.server.startSession')
  command('one_plus_one', 'julia.server.evaluate', { code = '1 + 1', file = 'nvim', line = 1 })
  command('println', 'julia.server.evaluate', { code = 'println("hello from neovim")', file = 'nvim', line = 2 })
  command('syntax_error', 'julia.server.evaluate', { code = 'x = (1 + ))', file = 'nvim', line = 3 })
  command('define', 'julia.server.evaluate',
    { code = 'g(n) = sum(sqrt(i) + sin(i) for i in 1:n)', file = workspace .. '/work.jl', line = 1 })
  command('first_call', 'julia.server.evaluate', { code = 'g(1000)', file = workspace .. '/work.jl', line = 2 })
  command('second_call', 'julia.server.evaluate', { code = 'g(1000)', file = workspace .. '/work.jl', line = 3 })
  command('status', 'julia.server.sessionStatus')
  local save = command('save', 'julia.server.saveCompiledWork', nil, 300000)
  if not save.error then
    command('restart', 'julia.server.restartSession')
    command('define_again', 'julia.server.evaluate',
      { code = 'g(n) = sum(sqrt(i) + sin(i) for i in 1:n)', file = workspace .. '/work.jl', line = 1 })
    command('first_call_cached', 'julia.server.evaluate', { code = 'g(1000)', file = workspace .. '/work.jl', line = 2 })
    command('status_cached', 'julia.server.sessionStatus')
  end
  command('unknown_command', 'julia.server.noSuchThing')
  command('stop', 'julia.server.stopSession')

  client.stop()
  out.stopped = vim.wait(10000, function() return client.is_stopped() end, 50)
end

local ok, err = pcall(run)
if not ok then out.lua_error = tostring(err) end
vim.fn.writefile({ vim.fn.json_encode(out) }, result_file)
vim.cmd('qa!')
