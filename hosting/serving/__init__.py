"""Serving sites: the embedded site server (ASGI, before Django) and the nginx edge.

Both follow one contract (docs/serving.md): ``resolve`` decides what a path answers, ``http``
holds the header rules nginx applies, ``rules`` parses ``_redirects`` and ``_headers``, and the
edge renders the same decisions into nginx configuration.
"""
