"""sync layer (see DESIGN.md, Layout)."""
