"""Small reusable widgets of the mailtls TUI (each keeps its own DEFAULT_CSS)."""
