"""notify layer (see DESIGN.md, Layout)."""
