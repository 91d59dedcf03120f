"""Pure analysis: source bytes + tree in, findings with byte-range edits out. No LSP types here."""
