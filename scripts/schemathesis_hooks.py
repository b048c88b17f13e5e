"""Schemathesis hooks for scripts/schemathesis (loaded through SCHEMATHESIS_HOOKS).

Each generated request carries a fresh Idempotency-Key when it carries a well-formed one, as a
real client does: the generator repeats values such as "0" across different bodies, and the
service rightly answers a key reused for another request 422 idempotency-key-reused (README,
"Safe retries"). Malformed keys are left alone, so negative cases stay negative.

Schema-valid (positive) cases whose If-Match does not match the declared pattern are a
limitation of the generator for header patterns; the header is dropped from such cases only.
"""
import re
import uuid

import schemathesis
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import CoverageScenario

IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,255}$")
IF_MATCH = re.compile(r'^(\*|(W/)?"[0-9]+")$')


def _positive(case):
    generation = getattr(getattr(case, "meta", None), "generation", None)
    return getattr(generation, "mode", None) == GenerationMode.POSITIVE


def _drops_a_parameter(case):
    # A case that leaves out a required parameter (Authorization among them) is sent untouched:
    # editing it makes schemathesis rebuild its headers, and the left-out one comes back.
    data = getattr(getattr(getattr(case, "meta", None), "phase", None), "data", None)
    return getattr(data, "scenario", None) == CoverageScenario.MISSING_PARAMETER


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers
    if not headers or _drops_a_parameter(case):
        return
    key = headers.get("Idempotency-Key")
    if isinstance(key, str) and IDEMPOTENCY_KEY.match(key):
        headers["Idempotency-Key"] = "st-" + uuid.uuid4().hex
    if_match = headers.get("If-Match")
    if isinstance(if_match, str) and not IF_MATCH.match(if_match) and _positive(case):
        del headers["If-Match"]
