"""`python -m flows.deploy`: register every deployment on the process work pool, for workers.

The multi-machine alternative to `python -m flows.serve`. The deployments are the same objects
(`flows.deployments.build_deployments()`: names, triggers, schedules, concurrency limits); here they
are registered to a work pool instead of being served, so that any number of
`prefect worker start --pool rueda-process --type process` processes, on any machine with this
package installed, run them. There is no code to pull: each entrypoint is a module path
(`flows.lifecycle.create_event_flow`) that the worker's flow-run process imports from the
installed package, so every worker machine must have the same version of rueda installed.

The pool is created (type `process`) when it does not exist, and so is the zombie-detection
automation (`zombie_automation`). Registering again updates every
deployment in place; a deployment that `serve` registered before moves to the pool.
Each worker needs the application's settings in its environment (`RUEDA_DATABASE__URL`,
`RUEDA_SMTP__*`, `RUEDA_PORTAL__BASE_URL`...): the flow runs inherit it.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import timedelta

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.objects import StateType
from prefect.deployments.runner import RunnerDeployment
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
from prefect.exceptions import ObjectNotFound

from config import get_settings
from flows.deployments import build_deployments


async def ensure_work_pool(name: str) -> bool:
    """Create the process work pool `name` unless it exists; returns whether it was created."""
    async with get_client() as client:
        try:
            pool = await client.read_work_pool(name)
        except ObjectNotFound:
            await client.create_work_pool(WorkPoolCreate(name=name, type="process"))
            return True
        if pool.type != "process":
            raise SystemExit(f"work pool {name!r} exists with type {pool.type!r}; rueda needs a process pool")
        return False


ZOMBIE_AUTOMATION = "rueda: crash flow runs whose heartbeats stopped"
# Workers send a heartbeat every PREFECT_FLOWS_HEARTBEAT_FREQUENCY seconds (set it to 30 on the
# workers); a run silent for three of them is taken as dead with its machine.
ZOMBIE_AFTER = timedelta(seconds=90)


def zombie_automation() -> AutomationCore:
    """Prefect's zombie detection: a running flow run that stops sending heartbeats (its worker or
    machine died) is marked Crashed, which frees its deployment's concurrency slot. The work it
    left is finished by the outbox's lease recovery and by `reconcile-events`."""
    return AutomationCore(
        name=ZOMBIE_AUTOMATION,
        description="A flow run silent for 90 s (no heartbeat, no final state) is marked Crashed.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match={"prefect.resource.id": ["prefect.flow-run.*"]},
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=ZOMBIE_AFTER,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED, message="No heartbeat for 90 s: the worker or its machine died."
            )
        ],
    )


async def ensure_zombie_automation() -> None:
    """Create (or replace) the zombie automation; one of that name exists afterwards."""
    async with get_client() as client:
        for existing in await client.read_automations_by_name(ZOMBIE_AUTOMATION):
            await client.delete_automation(existing.id)
        await client.create_automation(zombie_automation())


async def register(pool: str, deployments: Sequence[RunnerDeployment]) -> list[str]:
    """Register `deployments` on `pool`; returns their full names (`flow/deployment`)."""
    await ensure_work_pool(pool)
    await ensure_zombie_automation()
    names = []
    for deployment in deployments:
        await deployment.aapply(work_pool_name=pool)
        names.append(f"{deployment.flow_name}/{deployment.name}")
    return names


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.deploy", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pool",
        default=None,
        help="Work pool name (default: the setting prefect.work_pool, rueda-process).",
    )
    args = parser.parse_args(argv)
    pool = args.pool or get_settings().prefect.work_pool
    # Built outside the event loop: inside one, `to_deployment` returns a coroutine.
    names = asyncio.run(register(pool, build_deployments()))
    print(f"{len(names)} deployments registered on work pool {pool!r}")  # noqa: T201


if __name__ == "__main__":
    main()
