"""The OpenAPI 3 description served at /api/v1/openapi.json (kept beside api.py; a test
checks every route here exists there and back)."""

from . import __version__

_ERROR = {"$ref": "#/components/responses/Error"}
_JSON = "application/json"


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {_JSON: {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_NULLABLE_STR = {"type": "string", "nullable": True}
_ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}
_PAPER_ID = {"name": "paper_id", "in": "path", "required": True, "schema": _ID}
_ERRORS = {code: _ERROR for code in ("400", "401", "403", "413", "415", "422")}

OPENAPI = {
    "openapi": "3.0.3",
    "info": {
        "title": "seenpapers",
        "version": __version__,
        "description": "Which papers on a page you have already seen, read, or met under another title. "
        "Listens on 127.0.0.1 only; every route but health needs `Authorization: Bearer <token>` "
        "(`seenpapers token` prints it). Browser requests must come from an allowed extension origin.",
    },
    "servers": [{"url": "http://127.0.0.1:7341"}],
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/health": {
            "get": {
                "summary": "Is the daemon up, and how much does it know",
                "security": [],
                "responses": {"200": _json(_ref("Health")), "403": _ERROR},
            }
        },
        "/api/v1/lookup": {
            "post": {
                "summary": "Status of up to 500 papers, in input order; never writes",
                "requestBody": {
                    "required": True,
                    "content": {_JSON: {"schema": _ref("LookupRequest")}},
                },
                "responses": {
                    "200": _json({"type": "object", "required": ["results"],
                                  "properties": {"results": {"type": "array", "items": _ref("LookupResult")}}}),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/read": {
            "post": {
                "summary": "Mark papers read (known ids only; the first read time is kept)",
                "requestBody": {
                    "required": True,
                    "content": {_JSON: {"schema": {
                        "type": "object", "required": ["paper_ids"],
                        "properties": {"paper_ids": {"type": "array", "minItems": 1, "maxItems": 500,
                                                     "items": _ID}},
                    }}},
                },
                "responses": {
                    "200": _json({"type": "object", "properties": {"marked": {"type": "integer"}}}),
                    **_ERRORS,
                },
            }
        },
        "/api/v1/read/{paper_id}": {
            "delete": {
                "summary": "Mark a paper unread again",
                "parameters": [_PAPER_ID],
                "responses": {
                    "200": _json({"type": "object", "properties": {"unmarked": {"type": "integer", "enum": [0, 1]}}}),
                    "401": _ERROR, "403": _ERROR, "422": _ERROR,
                },
            }
        },
        "/api/v1/papers/{paper_id}": {
            "get": {
                "summary": "One paper with its sightings and duplicate links",
                "parameters": [_PAPER_ID],
                "responses": {"200": _json(_ref("Paper")), "401": _ERROR, "403": _ERROR, "404": _ERROR, "422": _ERROR},
            }
        },
        "/api/v1/digests": {
            "post": {
                "summary": "Capture a page: the body is written whole into the inbox and ingested by the watcher",
                "description": ("Any digest: a page's text or HTML, an API download, a feed, an e-mail, or a "
                                "visit (the extension's record of the papers that were on screen: JSON whose "
                                "first key is \"seenpapers\": \"visit\", read by formats/visit.py)."),
                "parameters": [{"name": "name", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "file name to use (made safe; never replaces a file)"}],
                "requestBody": {
                    "required": True,
                    "content": {
                        # the JSON as downloaded (any JSON document); other types are text, not blank
                        _JSON: {"schema": {}},
                        **{t: {"schema": {"type": "string", "pattern": r"\S"}} for t in (
                            "text/plain", "text/html", "application/xml",
                            "application/atom+xml", "application/rss+xml", "message/rfc822")},
                    },
                },
                "responses": {
                    "202": _json({"type": "object", "properties": {"name": {"type": "string"}}}, "Accepted"),
                    "401": _ERROR, "403": _ERROR, "413": _ERROR, "415": _ERROR, "422": _ERROR,
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {"summary": "This description", "responses": {"200": _json({"type": "object"})}}
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "responses": {
            "Error": _json({"type": "object", "required": ["error"], "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }}}, "Error")
        },
        "schemas": {
            "Health": {
                "type": "object",
                "required": ["status", "version", "papers", "digests", "last_ingest"],
                "properties": {
                    "status": {"type": "string", "enum": ["ok"]},
                    "version": {"type": "string"},
                    "papers": {"type": "integer"},
                    "digests": {"type": "integer"},
                    "last_ingest": {**_NULLABLE_STR, "format": "date-time"},
                },
            },
            "LookupRequest": {
                "type": "object",
                "required": ["papers"],
                "properties": {"papers": {"type": "array", "minItems": 1, "maxItems": 500, "items": {
                    "type": "object", "required": ["title"],
                    "properties": {
                        "title": {"type": "string", "maxLength": 20000},
                        # null is taken as absent, as a page without an abstract sends it
                        "abstract": {**_NULLABLE_STR, "maxLength": 20000},
                        "arxiv_id": {**_NULLABLE_STR, "maxLength": 20000},
                        "url": {**_NULLABLE_STR, "maxLength": 20000},
                        # "10.1101/…", "doi:10.1101/…" or "https://doi.org/10.1101/…"
                        "doi": {**_NULLABLE_STR, "maxLength": 20000},
                    },
                }}},
            },
            "LookupResult": {
                "type": "object",
                "required": ["status", "paper_id", "title", "first_seen", "last_seen", "times_seen",
                             "read_at", "digests", "duplicate_of", "same_as_index"],
                "properties": {
                    "status": {"type": "string", "enum": ["new", "seen", "read", "duplicate"]},
                    "paper_id": {"type": "integer", "nullable": True},
                    "title": _NULLABLE_STR,
                    "first_seen": {**_NULLABLE_STR, "format": "date"},
                    "last_seen": {**_NULLABLE_STR, "format": "date"},
                    "times_seen": {"type": "integer"},
                    "read_at": {**_NULLABLE_STR, "format": "date-time"},
                    "digests": {"type": "array", "maxItems": 5, "items": {
                        "type": "object", "required": ["id", "name", "date"],
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                       "date": {"type": "string", "format": "date"}},
                    }},
                    "duplicate_of": {
                        "type": "object", "nullable": True,
                        "required": ["paper_id", "title", "similarity", "reason"],
                        "properties": {"paper_id": {"type": "integer"}, "title": {"type": "string"},
                                       "similarity": {"type": "number"}, "reason": {"type": "string"},
                                       "arxiv_id": _NULLABLE_STR},  # so a badge can link to its page
                    },
                    "same_as_index": {"type": "integer", "nullable": True},
                },
            },
            "Paper": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "status": {"type": "string", "enum": ["seen", "read"]},
                    "arxiv_id": _NULLABLE_STR,
                    "doi": _NULLABLE_STR,
                    "title": {"type": "string"},
                    "abstract": _NULLABLE_STR,
                    "authors": {"type": "array", "items": {"type": "string"}},
                    "authors_count": {"type": "integer", "nullable": True},
                    "published": {**_NULLABLE_STR, "format": "date"},
                    "url": _NULLABLE_STR,
                    "first_ingested_at": {"type": "string", "format": "date-time"},
                    "read_at": {**_NULLABLE_STR, "format": "date-time"},
                    "sightings": {"type": "array", "items": {"type": "object"}},
                    "duplicates": {"type": "array", "items": {"type": "object"}},
                },
            },
        },
    },
}
