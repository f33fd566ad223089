"""mailtls.lab"""
