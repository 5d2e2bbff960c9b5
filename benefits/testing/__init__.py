"""The connector conformance kit: the standard tests every connector must pass, as a pytest plugin.

A connector author's whole test file:

    from benefits.testing import get_connector_tests
    from acme_benefits import AcmeConnector

    TestAcme = get_connector_tests(AcmeConnector, {"metric": "ledger.it_opex"})

The pytest plugin (``benefits.testing.plugin``, loaded automatically through the ``pytest11``
entry point once benefits is installed) adds the ``benefits_register`` and ``benefits_connector``
fixtures for tests of your own.
"""

from benefits.testing.restatement import RestatementTests
from benefits.testing.suite import (
    ClaimsConnectorTests,
    ConnectorTests,
    SecretSettingsTests,
    build_connector,
    get_connector_tests,
    load_test_register,
    records_batch,
)

__all__ = [
    "ClaimsConnectorTests",
    "ConnectorTests",
    "RestatementTests",
    "SecretSettingsTests",
    "build_connector",
    "get_connector_tests",
    "load_test_register",
    "records_batch",
]
