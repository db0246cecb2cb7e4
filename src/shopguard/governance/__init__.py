"""Governance: supply chain (SBOM, dependency and configuration audits), vendor risk,
regulator-ready records, and the people side of running the store's AI safely: staff
accounts with MFA, access reviews, training and drills, the risk register, incidents.

Each part lives in its own module; import what you use from it directly
(``shopguard.governance.sbom``, ``.depaudit``, ``.configaudit``, ``.vendors``,
``.records``, ``.staff``, ``.incidents``, ``.risks``...).
"""

from __future__ import annotations
