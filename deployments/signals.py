"""Signals other parts listen to (the site server's cache, the nginx edge).

``live_deployment_changed(sender=Site, site_id, deployment_id)`` is sent after the transaction
that switched a site's live deployment commits.
"""

from django.dispatch import Signal

live_deployment_changed = Signal()
