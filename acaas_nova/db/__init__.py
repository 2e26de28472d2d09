"""acaas-nova's own database: models, migrations and query functions."""
