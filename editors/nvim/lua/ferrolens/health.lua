-- :checkhealth ferrolens
local M = {}

function M.check()
  local health = vim.health
  health.start('ferrolens')
  if vim.fn.has('nvim-0.11') == 0 then
    health.error('Neovim 0.11 or newer is needed (vim.lsp.config / vim.lsp.enable)')
  else
    health.ok('Neovim ' .. tostring(vim.version()))
  end
  local cmd = require('ferrolens').cmd()
  health.info('server command: ' .. table.concat(cmd, ' '))
  if vim.fn.executable(cmd[1]) == 0 then
    health.error(cmd[1] .. ' is not executable', {
      'pip install ferrolens (or `pip install -e .` in a ferrolens checkout)',
      'or set vim.g.ferrolens_cmd = { "/path/to/ferrolens", "serve" }',
    })
    return
  end
  local version_cmd = vim.list_slice(cmd, 1, #cmd - 1)
  table.insert(version_cmd, '--version')
  local out = vim.system(version_cmd, { text = true }):wait(10000)
  if out.code == 0 then
    health.ok('server found: ' .. vim.trim(out.stdout))
  else
    health.error('`' .. table.concat(version_cmd, ' ') .. '` failed: ' .. vim.trim(out.stderr or ''))
    return
  end
  -- the Python side: which interpreter runs the server, and its dependencies
  local py = cmd[1] == 'ferrolens' and vim.fn.exepath('ferrolens') or nil
  local interpreter = cmd[1] ~= 'ferrolens' and cmd[1] or nil
  if py then
    local first = io.open(py, 'r')
    local shebang = first and first:read('*l') or ''
    if first then first:close() end
    interpreter = shebang:match('^#!(%S+)')
  end
  if interpreter then
    local deps = vim.system({ interpreter, '-c',
      'import pygls, lsprotocol, tree_sitter, tree_sitter_rust, importlib.metadata as m; '
        .. 'print(", ".join(f"{p} {m.version(p)}" for p in ("pygls", "lsprotocol", "tree-sitter", "tree-sitter-rust")))' },
      { text = true }):wait(10000)
    if deps.code == 0 then
      health.ok('Python dependencies: ' .. vim.trim(deps.stdout))
    else
      health.error('Python dependencies missing in ' .. interpreter .. ': ' .. vim.trim(deps.stderr or ''))
    end
  end
  local clients = require('ferrolens').clients()
  if #clients > 0 then
    health.ok(#clients .. ' ferrolens client(s) running')
  else
    health.info('no ferrolens client running (open a Rust file after vim.lsp.enable("ferrolens"))')
  end
end

return M
