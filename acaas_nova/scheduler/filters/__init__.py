"""nova scheduler filters of acaas-nova."""
