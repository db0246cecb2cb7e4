"""Attacks against a running deployment: each capability's red-team suite lives in a module here."""
