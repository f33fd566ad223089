"""mailtls.probe"""
