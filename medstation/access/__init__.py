"""Who may do what: user accounts, roles, permissions and tokens (Qt-free)."""
