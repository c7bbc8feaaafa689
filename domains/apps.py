from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"
    verbose_name = "Domains"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Its deliverers of paid registrations and renewals register with billing on import.
        import domains.services  # noqa: F401
        from domains.certificates import challenge_response
        from domains.hostnames import provider
        from hosting.hostnames import register_challenge_responder, register_provider

        register_provider(provider)
        register_challenge_responder(challenge_response)
