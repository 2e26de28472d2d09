"""DC-S: the server agent on the controller (acaas-dcs)."""
