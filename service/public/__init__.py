"""The public warnings: CAP 1.2 documents, their Atom feed and the public page."""
