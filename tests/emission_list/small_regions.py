"""A small region tree shared by tests: province > city > district > two subdistricts, and a
sibling city."""

SMALL_REGIONS = [
    ("150000", None),
    ("150200", "150000"),
    ("150203", "150200"),
    ("150203001", "150203"),
    ("150203002", "150203"),
    ("150100", "150000"),
]
