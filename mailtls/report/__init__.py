"""mailtls.report"""
