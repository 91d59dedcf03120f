-- Drives a real headless Neovim 0.11 through ferrolens: diagnostics, a quick fix, edits, a second
-- server beside it, and :checkhealth. Inputs and the JSON result path come from the environment.
local env = vim.env
local result = { steps = {} }

local function finish(err)
  result.ok = err == nil
  result.error = err
  local f = assert(io.open(env.RESULT_FILE, 'w'))
  f:write(vim.json.encode(result))
  f:close()
  vim.cmd('qall!')
end

local function step(name, fn)
  local t0 = vim.uv.hrtime()
  local ok, err = pcall(fn)
  result.steps[#result.steps + 1] = { name = name, ms = (vim.uv.hrtime() - t0) / 1e6, ok = ok }
  if not ok then
    error(name .. ': ' .. tostring(err), 0)
  end
end

local function run()
  vim.opt.runtimepath:prepend(env.PLUGIN_DIR)
  vim.cmd('filetype on')
  vim.cmd('runtime plugin/ferrolens.lua')
  vim.g.ferrolens_cmd = vim.json.decode(env.FERROLENS_CMD)
  vim.lsp.config('stub', { cmd = vim.json.decode(env.STUB_CMD), filetypes = { 'rust' }, root_markers = { 'Cargo.toml' } })
  vim.lsp.enable({ 'stub', 'ferrolens' })

  vim.cmd.edit(env.TARGET_FILE)
  local buf = vim.api.nvim_get_current_buf()
  local function diags(source, code)
    return vim.tbl_filter(function(d)
      return d.source == source and (code == nil or (d.user_data and d.user_data.lsp and d.user_data.lsp.code == code))
    end, vim.diagnostic.get(buf))
  end

  step('diagnostics arrive', function()
    assert(vim.wait(30000, function() return #diags('ferrolens') > 0 and #diags('stub-ra') > 0 end, 50),
      'no diagnostics from both servers')
    result.codes = vim.tbl_map(function(d) return d.user_data.lsp.code end, diags('ferrolens'))
  end)

  step('the workspace index finds the copy in report.rs', function()
    assert(vim.wait(30000, function() return #diags('ferrolens', 'duplicate_code') > 0 end, 50), 'no duplicate_code diagnostic')
    local d = diags('ferrolens', 'duplicate_code')[1]
    result.duplicate = d.message
    local related = d.user_data.lsp.relatedInformation or {}
    result.related = related[1] and related[1].location.uri or ''
  end)

  local client = vim.lsp.get_clients({ name = 'ferrolens', bufnr = buf })[1]
  step('quick fix applies', function()
    local d = assert(diags('ferrolens', 'format_literal')[1], 'no format_literal diagnostic')
    local lspd = d.user_data.lsp
    local resp = client:request_sync('textDocument/codeAction', {
      textDocument = { uri = vim.uri_from_bufnr(buf) },
      range = lspd.range,
      context = { diagnostics = { lspd }, only = { 'quickfix' } },
    }, 10000, buf)
    assert(resp and resp.result, 'no code action answer')
    local preferred
    for _, a in ipairs(resp.result) do
      if a.isPreferred then preferred = a end
    end
    assert(preferred, 'no preferred action')
    result.fix_title = preferred.title
    vim.lsp.util.apply_workspace_edit(preferred.edit, client.offset_encoding)
    local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
    assert(text:find('"== statistics ==".to_string()', 1, true), 'the buffer was not fixed')
    assert(vim.wait(10000, function() return #diags('ferrolens', 'format_literal') == 0 end, 50),
      'the fixed finding did not go away')
  end)

  step('diagnostics follow edits', function()
    local n = vim.api.nvim_buf_line_count(buf)
    vim.api.nvim_buf_set_lines(buf, n, n, false, { 'pub fn extra() -> String {', '    format!("extra")', '}' })
    assert(vim.wait(10000, function()
      for _, d in ipairs(diags('ferrolens', 'format_literal')) do
        if d.lnum == n + 1 then return true end
      end
      return false
    end, 50), 'no diagnostic for the new line')
    assert(#diags('stub-ra') > 0, 'the other server lost its diagnostics')
  end)

  step('checkhealth', function()
    vim.cmd('checkhealth ferrolens')
    local lines = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
    result.health = lines
    assert(lines:find('server found', 1, true), 'checkhealth did not find the server')
  end)
end

vim.schedule(function()
  local ok, err = pcall(run)
  if ok then finish(nil) else finish(tostring(err)) end
end)
