"""acaas-nova: trust-aware VM placement for OpenStack nova (ACaaS)."""
