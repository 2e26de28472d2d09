"""DC-C: the agent on every compute node (acaas-dcc)."""
