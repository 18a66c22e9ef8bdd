"""Sign-in, first-run admin, idle lock and the audit trail view (widgets only; rules live in medstation.access)."""
