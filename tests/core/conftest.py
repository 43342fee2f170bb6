import pytest

from tests.core.driver import EngineChat


@pytest.fixture
def chat(engine) -> EngineChat:
    return EngineChat(engine)
