"""Commands of the ``mailtls`` CLI; see mailtls.cli for the contract."""
