"""Read ``template.yaml`` (SAM) once and answer what the local stack needs from it.

Routes, functions, the table, the stream consumers, schedules and the state machine all come from
the template: there is no second route table. Intrinsics (``Ref``, ``Fn::GetAtt``, ``Fn::Sub``,
``Fn::Join``, ``Fn::Select``, ``Fn::Split``) are resolved against a :class:`Resolver` that knows the
local physical names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode_str

_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


def load_yaml(path: Path) -> dict[str, Any]:
    """A CloudFormation-aware YAML load (short-form tags such as ``!Ref`` become ``{"Ref": ...}``)."""
    template, matches = decode_str(path.read_text(encoding="utf-8"))
    if template is None:
        raise ValueError(f"{path}: cannot parse: {[str(m) for m in matches]}")
    doc: dict[str, Any] = _plain(template)
    return doc


def _plain(value: Any) -> Any:
    """Strip cfn-lint's node classes to builtin containers (they pickle and compare like dicts)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


@dataclass(frozen=True)
class HttpRoute:
    method: str  # upper case, or "ANY"
    path: str  # "/payments/{id}"
    function: str  # logical id
    event_name: str
    iam_auth: bool

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class StreamSource:
    function: str
    event_name: str
    stream: Any  # the unresolved Stream property
    properties: dict[str, Any]


@dataclass(frozen=True)
class ScheduleSource:
    function: str
    event_name: str
    kind: str  # "Schedule" | "ScheduleV2"
    expression: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class FunctionDef:
    logical_id: str
    handler: str
    code_uri: str
    timeout: int
    memory: int
    environment: dict[str, Any]  # unresolved values
    events: dict[str, dict[str, Any]] = field(default_factory=dict)


class Template:
    """The parsed template plus typed views of the parts the local stack runs."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).resolve()
        self.root = self.path.parent
        self.doc = load_yaml(self.path)
        self.resources: dict[str, dict[str, Any]] = self.doc.get("Resources", {})
        self.parameters: dict[str, dict[str, Any]] = self.doc.get("Parameters", {})
        self.globals: dict[str, Any] = self.doc.get("Globals", {}).get("Function", {})

    # -- resources ---------------------------------------------------------------------------

    def of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") == type_name}

    def only(self, type_name: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(type_name)
        if len(found) != 1:
            raise ValueError(f"expected exactly one {type_name}, found {sorted(found)}")
        return next(iter(found.items()))

    def properties(self, logical_id: str) -> dict[str, Any]:
        props: dict[str, Any] = self.resources[logical_id].get("Properties", {})
        return props

    def functions(self) -> dict[str, FunctionDef]:
        out: dict[str, FunctionDef] = {}
        g = self.globals
        g_env = g.get("Environment", {}).get("Variables", {})
        for logical_id, res in self.of_type("AWS::Serverless::Function").items():
            p = res.get("Properties", {})
            env = {**g_env, **p.get("Environment", {}).get("Variables", {})}
            out[logical_id] = FunctionDef(
                logical_id=logical_id,
                handler=str(p.get("Handler", g.get("Handler", ""))),
                code_uri=str(p.get("CodeUri", g.get("CodeUri", "."))),
                timeout=int(p.get("Timeout", g.get("Timeout", 3))),
                memory=int(p.get("MemorySize", g.get("MemorySize", 128))),
                environment=env,
                events=dict(p.get("Events", {})),
            )
        return out

    def http_routes(self) -> list[HttpRoute]:
        routes: list[HttpRoute] = []
        for fn in self.functions().values():
            for name, ev in fn.events.items():
                if ev.get("Type") != "HttpApi":
                    continue
                props = ev.get("Properties", {})
                method = str(props.get("Method", "ANY")).upper()
                if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
                    method = "ANY"
                auth = props.get("Auth", {}).get("Authorizer")
                routes.append(HttpRoute(method, str(props.get("Path", "/")), fn.logical_id, name, auth == "AWS_IAM"))
        return routes

    def stream_sources(self) -> list[StreamSource]:
        out: list[StreamSource] = []
        for fn in self.functions().values():
            for name, ev in fn.events.items():
                if ev.get("Type") == "DynamoDB":
                    props = dict(ev.get("Properties", {}))
                    out.append(StreamSource(fn.logical_id, name, props.get("Stream"), props))
        return out

    def schedules(self) -> list[ScheduleSource]:
        """Schedule events of functions and of state machines (``function`` is then the machine's logical
        id: the stack starts an execution with the schedule's ``Input``)."""
        out: list[ScheduleSource] = []
        machines = {
            logical_id: dict(res.get("Properties", {}).get("Events") or {})
            for logical_id, res in self.of_type("AWS::Serverless::StateMachine").items()
        }
        targets = [(fn.logical_id, fn.events) for fn in self.functions().values()] + list(machines.items())
        for logical_id, events in targets:
            for name, ev in events.items():
                if ev.get("Type") in ("Schedule", "ScheduleV2"):
                    props = dict(ev.get("Properties", {}))
                    out.append(
                        ScheduleSource(
                            logical_id,
                            name,
                            str(ev["Type"]),
                            str(props.get("Schedule") or props.get("ScheduleExpression")),
                            props,
                        )
                    )
        return out

    def cors(self) -> dict[str, Any] | None:
        apis = self.of_type("AWS::Serverless::HttpApi")
        for res in apis.values():
            cors = res.get("Properties", {}).get("CorsConfiguration")
            if isinstance(cors, dict) and "Fn::If" in cors:
                cors = cors["Fn::If"][1]  # the template wraps it in an always-true Fn::If (SAM quirk)
            if isinstance(cors, dict):
                return cors
        return None

    def parameter_defaults(self) -> dict[str, str]:
        return {k: str(v["Default"]) for k, v in self.parameters.items() if "Default" in v}


class Resolver:
    """Resolves intrinsic functions with local values.

    ``refs`` maps a logical id or parameter name to what ``Ref`` returns; ``attrs`` maps
    ``"LogicalId.Attr"`` to what ``Fn::GetAtt`` returns. Pseudo parameters are in ``refs`` too.
    """

    def __init__(
        self,
        refs: dict[str, Any],
        attrs: dict[str, Any],
        parameter_types: dict[str, str] | None = None,
        conditions: dict[str, Any] | None = None,
    ) -> None:
        self.refs = refs
        self.attrs = attrs
        self.parameter_types = parameter_types or {}
        self.conditions = conditions or {}  # the template's Conditions, for Fn::If

    def condition(self, name: str) -> bool:
        """A template condition, evaluated against the local parameter values."""
        if name not in self.conditions:
            raise KeyError(f"cannot resolve Condition {name}")
        return self._truth(self.conditions[name])

    def _truth(self, expr: Any) -> bool:
        ((key, arg),) = dict(expr).items()
        if key == "Condition":
            return self.condition(str(arg))
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(a) for a in arg)
        if key == "Fn::Or":
            return any(self._truth(a) for a in arg)
        raise KeyError(f"cannot evaluate condition function {key}")

    def active(self, resource: dict[str, Any]) -> bool:
        """Whether a resource exists under the local parameter values (its ``Condition``, if any)."""
        name = resource.get("Condition")
        return name is None or self.condition(str(name))

    def ref(self, name: str) -> Any:
        if name not in self.refs:
            raise KeyError(f"cannot resolve Ref {name}")
        value = self.refs[name]
        if self.parameter_types.get(name) == "CommaDelimitedList" and isinstance(value, str):
            return [v.strip() for v in value.split(",")]
        return value

    def getatt(self, logical_id: str, attr: str) -> Any:
        key = f"{logical_id}.{attr}"
        if key not in self.attrs:
            raise KeyError(f"cannot resolve Fn::GetAtt {key}")
        return self.attrs[key]

    def sub(self, text: str, variables: dict[str, Any] | None = None) -> str:
        local = variables or {}

        def one(m: re.Match[str]) -> str:
            name = m.group(1).strip()
            if name in local:
                return str(self.resolve(local[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attr = name.split(".", 1)
                return str(self.getatt(logical_id, attr))
            value = self.ref(name)
            return ",".join(value) if isinstance(value, list) else str(value)

        return _SUB_VAR.sub(one, text).replace("${!", "${")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return self.getatt(str(parts[0]), str(parts[1]))
            if key == "Fn::Sub":
                if isinstance(arg, list):
                    return self.sub(str(arg[0]), dict(arg[1]))
                return self.sub(str(arg))
            if key == "Fn::Join":
                sep, items = arg
                return str(sep).join(str(self.resolve(i)) for i in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::If":
                name, yes, no = arg
                return self.resolve(yes if self.condition(str(name)) else no)
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(str(sep))
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value
