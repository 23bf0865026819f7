"""The one body base: unknown fields and non-finite numbers are refused, naming the field."""

import json

import pytest
from pydantic import ValidationError

from hajiri_common.strict import Strict


class Body(Strict):
    accuracy_m: float
    note: str | None = None


@pytest.mark.parametrize("raw", ['{"accuracy_m": NaN}', '{"accuracy_m": Infinity}', '{"accuracy_m": -Infinity}'])
def test_non_finite_numbers_from_json_are_refused_by_name(raw):
    parsed = json.loads(raw)  # Python's json reads these literals; a phone or a script can send them
    with pytest.raises(ValidationError) as e:
        Body.model_validate(parsed)
    assert e.value.errors()[0]["loc"] == ("accuracy_m",) and "finite" in str(e.value)
    with pytest.raises(ValidationError):
        Body.model_validate_json(raw)


def test_finite_numbers_and_known_fields_pass_unknown_ones_do_not():
    assert Body.model_validate({"accuracy_m": 12.5}).accuracy_m == 12.5
    with pytest.raises(ValidationError, match="salary_bonus"):
        Body.model_validate({"accuracy_m": 1, "salary_bonus": 1})
