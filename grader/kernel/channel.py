"""The private channel from a kernel back to the grader.

A probe cell publishes one display message of its own MIME type carrying a
per-probe random token; the grader accepts only that message, from that
cell's outputs, with that token. Values are JSON (arrays as `.npy`), so
nothing from the kernel is ever unpickled.
"""

from __future__ import annotations

import json
import secrets

MIME = "application/vnd.grader.v1+json"

_BOOTSTRAP = '''
import types as _types
_ip = __import__("IPython").get_ipython()
_runtime = _types.ModuleType("grader_runtime")
exec(compile(_payload["runtime"], "<grader-runtime>", "exec"), _runtime.__dict__)
_probes = _types.ModuleType("grader_probes")
exec(compile(_payload["probe_source"], "<grader-probes>", "exec"), _probes.__dict__)
_request = _payload["request"]
_name, _target = _runtime.find_target(_ip.user_ns, _request["names"]) if _request["names"] else ("", None)
if _name is None:  # nothing of that name: the item is missing
    _response = {"found": None}
else:
    _probe = getattr(_probes, _request["probe"].rsplit(".", 1)[-1])
    _response = _runtime.run_probe(_request, _probe, lambda ctx: _target, _ip.user_ns, _payload["reference_source"])
    _response["found"] = _name
_ip.display_pub.publish(data={MIME: {"token": _payload["token"], "response": _response}}, metadata={})
'''


def probe_cell_source(request: dict, runtime_source: str, probe_source: str, reference_source: str | None) -> tuple[str, str]:
    """The code of a probe cell and the token its answer must carry."""
    token = secrets.token_hex(16)
    payload = {
        "token": token,
        "request": request,
        "runtime": runtime_source,
        "probe_source": probe_source,
        "reference_source": reference_source,
    }
    boot = _BOOTSTRAP.replace("MIME", repr(MIME))
    source = (
        f"exec(compile({boot!r}, '<grader>', 'exec'), "
        f"{{'__builtins__': __builtins__, '_payload': __import__('json').loads({json.dumps(payload)!r})}})"
    )
    return source, token


def read_response(outputs: list, token: str) -> dict | None:
    """The probe's response among a cell's outputs, or None if there is none."""
    for output in outputs:
        if output.get("output_type") != "display_data":
            continue
        data = output.get("data", {}).get(MIME)
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                continue
        if isinstance(data, dict) and data.get("token") == token and isinstance(data.get("response"), dict):
            return data["response"]
    return None
