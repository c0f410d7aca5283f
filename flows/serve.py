"""`python -m flows.serve`: register every deployment and serve it until interrupted."""

from __future__ import annotations

from prefect import serve

from flows.deployments import build_deployments


def main() -> None:
    # pause_on_shutdown=False: stopping `rueda up` must not pause every deployment (and their triggers).
    serve(*build_deployments(), pause_on_shutdown=False, limit=4)


if __name__ == "__main__":
    main()
