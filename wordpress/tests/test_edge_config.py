"""The edge's configuration of a WordPress site on a custom domain with a certificate: its
HTTPS server passes PHP to the pool and tells WordPress the request was secure."""

from __future__ import annotations

import uuid
from pathlib import Path

from hosting.serving.nginx import EdgeOptions, EdgeSite, PhpSite, render


def test_a_custom_domain_with_a_certificate_serves_wordpress_over_https(tmp_path):
    php = PhpSite(
        htdocs="/srv/wp/htdocs", socket="/srv/wp/php-fpm.sock", upload_mb=32, timeout_seconds=60
    )
    site = EdgeSite(uuid.uuid4(), "online", None, php=php)
    site.hostnames = ["blog.localhost"]
    site.secure = [("blog.example.com", ("/srv/certs/blog.pem", "/srv/certs/blog.key"))]
    text = render([site], [], EdgeOptions(root=Path(tmp_path)))
    servers = text.split("server {")[1:]
    https = next(s for s in servers if "server_name blog.example.com" in s and " ssl;" in s)
    assert 'fastcgi_pass "unix:/srv/wp/php-fpm.sock";' in https
    assert 'fastcgi_param HTTPS "$https" if_not_empty;' in https
    assert (
        "limit_req zone=berth_wp_login" in https
        and "location = /xmlrpc.php { return 403; }" in https
    )
    plain = next(s for s in servers if "server_name blog.example.com" in s and " ssl;" not in s)
    assert "return 301 https://$host$request_uri;" in plain  # HTTP goes to HTTPS
    assert "limit_req_zone $binary_remote_addr zone=berth_wp_login" in text
