"""Command line tools of acaas-nova (``acaas-manage``)."""
