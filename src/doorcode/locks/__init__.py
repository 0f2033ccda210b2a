"""locks layer (see DESIGN.md, Layout)."""
