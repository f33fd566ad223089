"""Tests of mailtls.lab: the in-process servers, `mailtls lab` and `mailtls demo`."""
