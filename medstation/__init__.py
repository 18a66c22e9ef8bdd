"""MedStation: an offline clinical workstation.

Nothing heavy is imported here: models, Qt and the database load on demand.
"""

__version__ = "0.1.0"
