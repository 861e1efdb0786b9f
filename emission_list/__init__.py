"""Pure domain core of Haze Response: AQI, warning levels and the emission-reduction list.

Imports only numpy and the standard library (enforced by tests/emission_list/test_purity.py).
"""
