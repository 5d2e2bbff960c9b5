"""The register in and out of Excel: a documented template, import of a workbook or CSV file into
``portfolio.yaml`` (every problem at once, by sheet and cell), and export of the loaded register.

- :mod:`.layout`: the sheets and their columns (field, header, required, allowed values).
- :mod:`.dates`: the date forms a register may use (ISO, day-first or month-first, Excel dates).
- :mod:`.reading`: workbook and CSV rows, with each cell's address.
- :mod:`.importing`: rows into the portfolio, checked by the register's own models.
- :mod:`.writing`: the template and the export workbook; :mod:`.portfolio_yaml` writes the YAML.
"""
