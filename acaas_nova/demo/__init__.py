"""acaas-demo: acaas-nova end to end (glue, not a pure core)."""
