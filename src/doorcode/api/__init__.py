"""api layer (see DESIGN.md, Layout)."""
