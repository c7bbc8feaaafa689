"""Time from "Deploy" to live for a trivial repository: the panel's own overhead.

The repository has one HTML file, no install step and no build command, so every millisecond
is Berth's: the API request, the queue, the worker's claim, the shallow clone, publishing the
blobs and switching the site live. Run: ``python benchmarks/deploy.py [runs]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from _builds import make_repo, setup, start_worker, summary, user_and_token

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def main() -> None:
    var = setup()
    from rest_framework.test import APIClient

    from deployments.models import Deployment, DeploymentStage
    from hosting.models import Site

    _, token = user_and_token("deploy-bench@example.com")
    repo = make_repo(Path(var) / "trivial", {"index.html": "<h1>Hello</h1>\n"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    worker = start_worker(var)
    totals, queued, building, publishing = [], [], [], []
    try:
        for run in range(RUNS + 1):
            start = time.perf_counter()
            response = client.post(
                "/api/deployments",
                {"repository": repo.as_uri(), "buildCommand": "", "outputDir": "."},
                format="json",
            )
            assert response.status_code == 201, response.content
            pk = response.json()["id"]
            site_id = response.json()["siteId"]
            while not Site.objects.filter(pk=site_id, live_deployment_id=pk).exists():
                time.sleep(0.002)
            elapsed = time.perf_counter() - start
            deployment = Deployment.objects.get(pk=pk)
            if deployment.status != "success":
                raise SystemExit(f"run {run} failed: {deployment.error}")
            if run == 0:
                continue  # the first run warms up the worker's imports and connections
            stages = {s.name: s for s in deployment.stages.all()}
            totals.append(elapsed)
            queued.append((deployment.started_at - deployment.created_at).total_seconds())
            building.append(
                (
                    stages[DeploymentStage.Name.DEPLOYING].started_at
                    - stages[DeploymentStage.Name.BUILDING].started_at
                ).total_seconds()
            )
            publishing.append(
                (
                    deployment.finished_at - stages[DeploymentStage.Name.DEPLOYING].started_at
                ).total_seconds()
            )
    finally:
        worker.stop()
    print(f"Deploy to live, trivial repository, {RUNS} runs: {summary(totals)}")
    print(f"  queued -> claimed:          {summary(queued)}")
    print(f"  clone (no install/build):   {summary(building)}")
    print(f"  publish + switch live:      {summary(publishing)}")


if __name__ == "__main__":
    main()
