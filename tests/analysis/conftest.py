from __future__ import annotations

import pytest

from tests.analysis.factory import Keys, Lab, make_keys


@pytest.fixture(scope="session")
def keys() -> Keys:
    return make_keys()


@pytest.fixture(scope="session")
def lab(keys: Keys) -> Lab:
    return Lab(keys)
