-- Helpers shared by lsp/ferrolens.lua, the user commands and :checkhealth ferrolens.
local M = {}

--- How to start the server: `vim.g.ferrolens_cmd` (a list) if set, else `ferrolens serve` when the
--- executable is on PATH, else `<python> -m ferrolens serve` with `vim.g.ferrolens_python` or python3.
---@return string[]
function M.cmd()
  if type(vim.g.ferrolens_cmd) == 'table' then
    return vim.g.ferrolens_cmd
  end
  if vim.fn.executable('ferrolens') == 1 then
    return { 'ferrolens', 'serve' }
  end
  return { vim.g.ferrolens_python or 'python3', '-m', 'ferrolens', 'serve' }
end

--- The running ferrolens clients (for the current buffer if `bufnr` is given).
---@param bufnr integer?
---@return vim.lsp.Client[]
function M.clients(bufnr)
  return vim.lsp.get_clients({ name = 'ferrolens', bufnr = bufnr })
end

--- Restart the server: stop the clients, and let vim.lsp.enable re-attach open buffers.
function M.restart()
  local buffers = {}
  for _, client in ipairs(M.clients()) do
    for bufnr in pairs(client.attached_buffers) do
      buffers[#buffers + 1] = bufnr
    end
    client:stop(true)
  end
  vim.defer_fn(function()
    for _, bufnr in ipairs(buffers) do
      if vim.api.nvim_buf_is_valid(bufnr) then
        vim.api.nvim_exec_autocmds('FileType', { buffer = bufnr })
      end
    end
  end, 200)
end

--- Open the docs of the ferrolens rule under the cursor (from the diagnostic's codeDescription).
function M.rule_docs()
  local lnum = vim.api.nvim_win_get_cursor(0)[1] - 1
  for _, d in ipairs(vim.diagnostic.get(0, { lnum = lnum })) do
    local lsp = d.user_data and d.user_data.lsp
    if d.source == 'ferrolens' and lsp and lsp.codeDescription then
      vim.cmd.split(vim.uri_to_fname(lsp.codeDescription.href))
      return
    end
  end
  vim.notify('ferrolens: no ferrolens diagnostic on this line', vim.log.levels.INFO)
end

return M
