"""The sync stage, one module per job.

- :mod:`benefits.sync.config`: connectors.yaml (the schema of each connector instance, building the connectors);
- :mod:`benefits.sync.runner`: the stage itself, :func:`~benefits.sync.runner.sync_all` (read, validate, write);
- :mod:`benefits.sync.lock`: one sync of a connector at a time; runs left ``running`` marked ``abandoned``;
- :mod:`benefits.sync.reading`: a connector's ``check``/``records``/``claims`` in a child process, within its time-out;
- :mod:`benefits.sync.writer`: one sync run's accepted, quarantined and warned rows, in one transaction;
- :mod:`benefits.sync.claims`: claims a connector delivers, recorded with its sync run;
- :mod:`benefits.sync.quarantine`: list, show, retry and resolve the rows held in quarantine.
"""
