"""Event ids of the compliance manager (docs/compliance.rst lists them)."""

FENCED = ("ACAAS-CMP-001", "warning")
UNFENCED = ("ACAAS-CMP-002", "info")
FENCE_FAILED = ("ACAAS-CMP-003", "error")
MOVE_PLANNED = ("ACAAS-CMP-010", "info")
MOVED = ("ACAAS-CMP-011", "info")
MOVE_FAILED = ("ACAAS-CMP-012", "warning")
STUCK = ("ACAAS-CMP-013", "error")
BREAKER_OPEN = ("ACAAS-CMP-020", "critical")
BAD_REQUIREMENTS = ("ACAAS-CMP-030", "error")
