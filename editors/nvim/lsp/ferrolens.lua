-- ferrolens for Neovim 0.11+: `vim.lsp.enable('ferrolens')` picks this file up from the runtimepath.
-- Override any field with `vim.lsp.config('ferrolens', { ... })` (settings, cmd, ...).
local util = require('ferrolens')

---@type vim.lsp.Config
return {
  cmd = util.cmd(),
  filetypes = { 'rust', 'toml' },
  -- attach to Rust files anywhere under a Cargo project or git repo, and to Cargo.toml (not to every
  -- TOML file); the root is the nearest Cargo.toml or .git
  root_dir = function(bufnr, on_dir)
    local name = vim.api.nvim_buf_get_name(bufnr)
    if vim.bo[bufnr].filetype == 'toml' and vim.fs.basename(name) ~= 'Cargo.toml' then
      return
    end
    on_dir(vim.fs.root(bufnr, { 'Cargo.toml', '.git' }) or vim.fs.dirname(name))
  end,
  -- read by the server at start-up (initializationOptions) and on didChangeConfiguration / pull
  init_options = {},
  settings = { ferrolens = {} },
  on_init = function(client)
    -- forward the `settings.ferrolens` table live, like VS Code does
    client:notify('workspace/didChangeConfiguration', { settings = client.config.settings })
  end,
}
