"""Who may use the operators' admin API: staff, and through an API token only with its scope.

A browser session or an API sign-in of an operator acts with the operator's full rights. A
personal API token needs ``admin:read`` to read and ``admin:write`` to act (which includes
reading), so an integration can watch without being able to suspend anyone.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

ADMIN_READ = "admin:read"
ADMIN_WRITE = "admin:write"


class OperatorOnly(BasePermission):
    message = "Operators only."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        allows = getattr(request.auth, "allows", None)
        if allows is None:  # a browser session
            return True
        needed = ADMIN_READ if request.method in SAFE_METHODS else ADMIN_WRITE
        if not allows(needed):
            self.message = f"This API token lacks the {needed} scope."
            return False
        return True
