"""store layer (see DESIGN.md, Layout)."""
