"""The file manager: one site's working files in the "sitefiles" storage, keyed ``<site-id>/``.

``paths`` cleans every user-supplied path, ``backends`` adapts local disk and S3, and
``operations`` / ``uploads`` are the actions the HTML views and the API share.
"""
