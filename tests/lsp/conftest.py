from lsp_support import client, crashing_client  # noqa: F401  (pytest fixtures)
