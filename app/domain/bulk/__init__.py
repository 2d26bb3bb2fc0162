"""Bulk jobs: importing a CRM's customers and exporting Accord's records (issue 17)."""
