"""web layer (see DESIGN.md, Layout)."""
