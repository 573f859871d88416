"""The human docs page: Swagger UI at /docs, reading /openapi.json.

Swagger UI's files come from the flask-swagger-ui package (its ``dist`` folder, served as the app's static folder
at /docs/assets), so the page works with no network and no CDN. The page needs no key, like /openapi.json.
"""

from __future__ import annotations

import os
from typing import Any

import flask_swagger_ui
from flask import Blueprint, Response

from api.operations import Answer, operation

bp = Blueprint("docs", __name__)

# Where the app serves Swagger UI's files from (``Flask(static_folder=..., static_url_path=...)``).
ASSETS_DIR = os.path.join(os.path.dirname(flask_swagger_ui.__file__), "dist")
ASSETS_URL = "/docs/assets"

# Relative URLs: the page keeps working behind a reverse proxy that mounts the API under a prefix.
_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Geulpi Tasks API</title>
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true, tryItOutEnabled: false,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout",
      persistAuthorization: false
    });
  </script>
</body>
</html>
"""


@bp.get("/docs")
@operation("docsPage", "This document as a page to read and try (Swagger UI)",
           answers={200: Answer("HTML page", {"type": "string"}, media_type="text/html")})
def docs_page() -> Any:
    return Response(_PAGE, mimetype="text/html")
