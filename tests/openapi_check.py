"""Checks real answers of the agent against its OpenAPI document.

Usage: openapi_check.py DOCUMENT ANSWERS

ANSWERS is a JSON list of {method, path, status, content_type, headers,
bodies}: `path` the document's path template, `bodies` the parsed JSON body
(one item) or each NDJSON line. Each answer's status must be listed for the
operation (exactly, or as its range such as 5XX), its content type must be
one the document gives, each header the document names must be present, and
every body must match the schema, with the document's $refs resolved and,
stricter than JSON Schema, no property the schema does not name (so a field
added to the code but not to the document fails). Prints every failure and
exits 1 if there is any.
"""

import copy
import json
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

BASE = "urn:docker-agent:openapi"


def closed(node):
    """Every object schema that names its properties admits no other."""
    if isinstance(node, dict):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            closed(value)
    elif isinstance(node, list):
        for value in node:
            closed(value)
    return node


def pointer(*parts):
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(doc, node):
    """The node a local $ref names, and its JSON pointer."""
    ref = node.get("$ref")
    if not ref:
        return node, None
    target = doc
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target, ref[1:]


def check(doc, answer):
    method, path, status = answer["method"].lower(), answer["path"], answer["status"]
    where = f"{method.upper()} {path} {status}"
    operation = doc["paths"].get(path, {}).get(method)
    if operation is None:
        return [f"{where}: the operation is not described"]
    responses = operation["responses"]
    key = next((k for k in (str(status), f"{status // 100}XX") if k in responses), None)
    if key is None:
        return [f"{where}: status not listed (listed: {', '.join(responses)})"]
    response, at = resolve(doc, responses[key])
    at = at or pointer("paths", path, method, "responses", key)
    failures = []
    for header in response.get("headers", {}):
        if header.lower() not in answer["headers"]:
            failures.append(f"{where}: header {header} missing")
    media = answer["content_type"].split(";")[0].strip()
    if media not in response.get("content", {}):
        return failures + [f"{where}: content type {media!r} not described"]
    schema = {"$ref": f"{BASE}#{at}{pointer('content', media, 'schema')}"}
    validator = Draft202012Validator(schema, registry=REGISTRY)
    for body in answer["bodies"]:
        for error in validator.iter_errors(body):
            failures.append(f"{where}: {error.message} at {list(error.absolute_path)}")
    return failures


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        document = json.load(f)
    with open(sys.argv[2]) as f:
        answers = json.load(f)
    strict = closed(copy.deepcopy(document))
    REGISTRY = Registry().with_resource(
        BASE, Resource.from_contents(strict, default_specification=DRAFT202012)
    )
    found = [failure for answer in answers for failure in check(document, answer)]
    for failure in found:
        print(failure)
    print(f"{len(answers)} answers checked, {len(found)} failures")
    sys.exit(1 if found else 0)
