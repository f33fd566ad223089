"""mailtls.tui"""
