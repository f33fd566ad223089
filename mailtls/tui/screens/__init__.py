"""Screens of the mailtls TUI: start, progress, overview, chain, finding, export, help."""
