-- User commands; the server itself is started by vim.lsp.enable('ferrolens') (see lsp/ferrolens.lua).
if vim.g.loaded_ferrolens then
  return
end
vim.g.loaded_ferrolens = true

vim.api.nvim_create_user_command('FerrolensRestart', function()
  require('ferrolens').restart()
end, { desc = 'Restart the ferrolens language server' })

vim.api.nvim_create_user_command('FerrolensRuleDocs', function()
  require('ferrolens').rule_docs()
end, { desc = 'Open the docs of the ferrolens rule on this line' })
