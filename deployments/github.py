"""A small GitHub REST client (requests): the signed-in user, repositories, branches, pull
requests and commit statuses.

``GITHUB_API_URL`` points it elsewhere (GitHub Enterprise; the tests' local server).
"""

from __future__ import annotations

import re

import requests
from django.conf import settings

TIMEOUT = 10
MAX_PAGES = 10  # 1,000 repositories is plenty for a picker
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubError(Exception):
    def __init__(self, message: str, status: int = 502):
        super().__init__(message)
        self.status = status


class GitHubClient:
    def __init__(self, token: str, *, base_url: str = "", session: requests.Session | None = None):
        self.base_url = (base_url or settings.GITHUB_API_URL).rstrip("/")
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {token}",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "Berth",
            }
        )

    def _get(self, url: str, params: dict | None = None) -> requests.Response:
        return self._request("GET", url, params=params)

    def _request(
        self, method: str, url: str, *, params: dict | None = None, json: dict | None = None
    ) -> requests.Response:
        if not url.startswith(("http://", "https://")):
            url = f"{self.base_url}{url}"
        try:
            response = self.session.request(method, url, params=params, json=json, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise GitHubError("GitHub could not be reached. Try again in a moment.") from exc
        if response.status_code == 401:
            raise GitHubError("GitHub refused the token; connect GitHub again.", 401)
        if response.status_code == 404:
            raise GitHubError("GitHub has no such repository, or the token cannot see it.", 404)
        if response.status_code == 403 and response.headers.get("X-RateLimit-Remaining") == "0":
            raise GitHubError("GitHub's rate limit is exhausted; try again later.", 429)
        if response.status_code >= 400:
            raise GitHubError(f"GitHub answered {response.status_code}.")
        return response

    def _pages(self, path: str, params: dict) -> list[dict]:
        items: list[dict] = []
        url, query = path, {**params, "per_page": 100}
        for _ in range(MAX_PAGES):
            response = self._get(url, query)
            items.extend(response.json())
            match = _NEXT.search(response.headers.get("Link", ""))
            if not match:
                break
            url, query = match.group(1), None
        return items

    def user(self) -> dict:
        return self._get("/user").json()

    def repos(self) -> list[dict]:
        """Repositories the user can push to, most recently pushed first."""
        return self._pages("/user/repos", {"sort": "pushed", "affiliation": "owner,collaborator"})

    def repo(self, full_name: str) -> dict:
        return self._get(f"/repos/{full_name}").json()

    def branches(self, full_name: str) -> list[dict]:
        return self._pages(f"/repos/{full_name}/branches", {})

    def pull(self, full_name: str, number: int) -> dict:
        return self._get(f"/repos/{full_name}/pulls/{number}").json()

    def commit_status_create(
        self,
        full_name: str,
        sha: str,
        *,
        state: str,
        target_url: str,
        description: str,
        context: str,
    ) -> dict:
        """A commit status (pending, success, failure, error) shown on the pull request."""
        body = {
            "state": state,
            "target_url": target_url,
            "description": description[:140],
            "context": context,
        }
        return self._request("POST", f"/repos/{full_name}/statuses/{sha}", json=body).json()


def repo_summary(repo: dict) -> dict:
    """The fields the wizard shows, in the API's camelCase."""
    return {
        "id": str(repo.get("id", "")),
        "name": repo.get("name", ""),
        "fullName": repo.get("full_name", ""),
        "private": bool(repo.get("private")),
        "defaultBranch": repo.get("default_branch") or "main",
        "description": repo.get("description") or "",
        "cloneUrl": repo.get("clone_url", ""),
        "htmlUrl": repo.get("html_url", ""),
        "updatedAt": repo.get("pushed_at") or repo.get("updated_at"),
    }
