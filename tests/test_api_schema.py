"""schemathesis against the real daemon's own /api/v1/openapi.json: whatever a client sends,
valid by the description or not, there are no 500s and every answer matches the description."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from seenpapers.openapi import OPENAPI

from .conftest import with_samples

pytestmark = pytest.mark.slow

OPERATIONS = [(method.upper(), path) for path, ops in OPENAPI["paths"].items() for method in ops]
# Negative cases need something to break: a parameter or a body (health and openapi.json have none).
WITH_INPUT = [(m, p) for m, p in OPERATIONS if {"parameters", "requestBody"} & set(OPENAPI["paths"][p][m.lower()])]
# Size limits a schema cannot state (1 MB of JSON, 32 MB of capture) answer 413, as documented.
ACCEPTED = ["2xx", "401", "403", "404", "413"]
REJECTED = ["400", "401", "403", "404", "405", "413", "415", "422"]
EXAMPLES = 40  # per operation and mode: all of it well under a minute on two cores


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    yield from with_samples(tmp_path_factory.mktemp("schema"))


@pytest.fixture(scope="module")
def live_schema(live):
    """The description as the running daemon serves it, aimed at that daemon."""
    auth = {"Authorization": f"Bearer {live.token}"}
    config = schemathesis.Config.from_dict({
        "base-url": live.url,
        "headers": auth,
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ACCEPTED},
            "negative_data_rejection": {"expected-statuses": REJECTED},
        },
        "operations": [{
            # Any non-blank text is a capture (a number in a text/html body is text too): only
            # an empty body can be refused, and the positive cases show that much.
            "include-path": "/api/v1/digests",
            "checks": {"negative_data_rejection": {"enabled": False}},
        }],
    })
    return schemathesis.openapi.from_url(f"{live.url}/api/v1/openapi.json", config=config, headers=auth, timeout=10)


def check_operation(live_schema, method, path, mode):
    @given(case=live_schema[path][method].as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def answers_as_described(case):
        case.call_and_validate(timeout=30)

    answers_as_described()


@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_requests_the_description_allows_are_answered_as_described(live_schema, method, path):
    check_operation(live_schema, method, path, GenerationMode.POSITIVE)


@pytest.mark.parametrize("method,path", WITH_INPUT, ids=[f"{m} {p}" for m, p in WITH_INPUT])
def test_requests_it_does_not_allow_are_refused_with_a_json_error(live_schema, method, path):
    check_operation(live_schema, method, path, GenerationMode.NEGATIVE)
