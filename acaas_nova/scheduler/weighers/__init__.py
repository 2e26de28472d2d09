"""nova scheduler weighers of acaas-nova."""
