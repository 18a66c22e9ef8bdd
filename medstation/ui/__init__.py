"""Everything Qt lives here and only here (an import-linter contract enforces it)."""
