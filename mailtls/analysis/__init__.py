"""mailtls.analysis"""
