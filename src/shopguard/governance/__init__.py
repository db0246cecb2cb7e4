"""Governance: risk register, staff accounts, access reviews, training, incidents, supply chain."""
