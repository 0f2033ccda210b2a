"""services layer (see DESIGN.md, Layout)."""
