"""mailtls.remedy"""
