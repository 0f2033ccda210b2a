"""sources layer (see DESIGN.md, Layout)."""
