from acme_benefits import AcmeLedger
from benefits.testing import get_connector_tests

TestAcmeLedger = get_connector_tests(AcmeLedger, {"metric": "ledger.it_opex_weekly", "start": "2026-01-05", "values": [41250, 40980.5, 40410]})
