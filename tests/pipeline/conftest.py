from __future__ import annotations

import pytest

from pipeline.models import Stage
from pipeline.services.stages import stages_install_defaults
from tests.conftest import World


@pytest.fixture
def stages(world: World, in_tenant) -> list[Stage]:
    """The tenant's default stages, in order."""
    with in_tenant(world.tenant):
        stages_install_defaults(tenant=world.tenant)
        return list(Stage.objects.for_tenant(world.tenant))
