"""The stack manifest (stacks.yaml): stack order, names, templates and parameter wiring.

Everything that needs the list of stacks (deploy, destroy, verify, tests, docs) reads it here.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from concert_platform.errors import UsageError

MANIFEST_FILE = "stacks.yaml"
_SOURCE_KINDS = ("environment", "stack", "input", "artifact", "output")


#: the platform the wheel carries (stacks.yaml, templates/, handlers/), copied in by the build (setup.py)
BUNDLED_ROOT = Path(__file__).resolve().parent / "_platform"
#: the environment variable naming a platform directory (a checkout, or a copy with edits)
HOME_VARIABLE = "CONCERT_PLATFORM_HOME"

_explicit_root: Path | None = None


def use_project(directory: Path | None) -> None:
    """The platform every later `project_root()` answers (the `--project DIR` option); None forgets it."""
    global _explicit_root
    if directory is None:
        _explicit_root = None
        return
    _explicit_root = _require_platform(directory, f"--project {directory}")


def _is_platform(directory: Path) -> bool:
    return (directory / MANIFEST_FILE).is_file() and (directory / "templates").is_dir()


def _require_platform(directory: Path, origin: str) -> Path:
    resolved = directory.expanduser().resolve()
    if not _is_platform(resolved):
        raise UsageError(
            f"{origin}: {resolved} holds no {MANIFEST_FILE} and templates/; "
            "give the directory of a concert-platform checkout"
        )
    return resolved


def project_root() -> Path:
    """The platform the tool deploys and tests, first found of (docs/deploy.md, "Which platform"):

    1. `--project DIR` (`use_project`);
    2. $CONCERT_PLATFORM_HOME;
    3. a checkout containing the current directory (it or a parent holds stacks.yaml and templates/);
    4. the copy installed with the tool: the checkout of an editable install, else the wheel's
       bundled copy (BUNDLED_ROOT).
    """
    if _explicit_root is not None:
        return _explicit_root
    override = os.environ.get(HOME_VARIABLE)
    if override:
        return _require_platform(Path(override), HOME_VARIABLE)
    cwd = Path.cwd().resolve()
    for candidate in (cwd, *cwd.parents):
        if _is_platform(candidate):
            return candidate
    here = Path(__file__).resolve()
    for candidate in (BUNDLED_ROOT, *here.parents):
        if _is_platform(candidate):
            return candidate
    raise UsageError(
        f"cannot find {MANIFEST_FILE}: run from a concert-platform checkout, pass --project DIR "
        f"or set {HOME_VARIABLE}"
    )


def is_bundled(root: Path) -> bool:
    """Whether `root` is the copy inside the installed package (read-only: caches live elsewhere)."""
    return root.resolve() == BUNDLED_ROOT


@dataclass(frozen=True)
class ParameterSource:
    """Where one template parameter's value comes from."""

    kind: str  # one of _SOURCE_KINDS
    name: str = ""  # stack key, input name, artifact name, or KEY.OutputName (an earlier stack's output)

    @property
    def output_of(self) -> tuple[str, str]:
        """(stack key, output name) of an `output` source."""
        stack, _, output = self.name.partition(".")
        return stack, output


@dataclass(frozen=True)
class InputSpec:
    """A deploy input the guide's script asks for (password, email, Bedrock ids...)."""

    name: str
    env: str
    prompt: str = ""
    secret: bool = False
    required: bool = False
    default: str | None = None
    min_length: int = 0


@dataclass(frozen=True)
class ArtifactSpec:
    name: str
    kind: str
    key_prefix: str


@dataclass(frozen=True)
class StackSpec:
    key: str
    title: str
    template: str
    parameters: Mapping[str, ParameterSource]
    capabilities: tuple[str, ...] = ()
    needs_artifacts: bool = False

    def stack_name(self, environment: str, pattern: str) -> str:
        return pattern.format(key=self.key, environment=environment)

    def input_names(self) -> set[str]:
        return {src.name for src in self.parameters.values() if src.kind == "input"}

    def upstream_keys(self) -> tuple[str, ...]:
        keys = [src.name if src.kind == "stack" else src.output_of[0] for src in self.parameters.values()
                if src.kind in ("stack", "output")]  # fmt: skip
        return tuple(dict.fromkeys(keys))


@dataclass(frozen=True)
class Manifest:
    root: Path
    name_pattern: str
    stacks: tuple[StackSpec, ...]
    inputs: Mapping[str, InputSpec]
    artifacts: Mapping[str, ArtifactSpec]
    artifact_bucket: tuple[str, str]  # (stack key, output key) of the deployment bucket
    #: environments no test run (e2e, the pytest plugin) may deploy, adopt or destroy
    protected_environments: tuple[str, ...] = ("production",)
    _by_key: Mapping[str, StackSpec] = field(default_factory=dict, repr=False)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.stacks)

    def stack(self, key: str) -> StackSpec:
        try:
            return self._by_key[key]
        except KeyError:
            raise UsageError(f"unknown stack {key!r}; known stacks: {', '.join(self.keys)}") from None

    def stack_name(self, key: str, environment: str) -> str:
        return self.stack(key).stack_name(environment, self.name_pattern)

    def template_path(self, key: str) -> Path:
        return self.root / "templates" / self.stack(key).template

    def load_template(self, key: str) -> dict[str, Any]:
        """The stack's template as data: a fresh copy each call (callers may change it), parsed
        once per version of the file (a run reads each template several times: names, declared
        types, deploy, verify, alarms, teardown)."""
        path = self.template_path(key)
        stat = path.stat()
        return copy.deepcopy(_parsed_template(path, stat.st_mtime_ns, stat.st_size))

    def function_outputs(self) -> tuple[tuple[str, str], ...]:
        """(stack key, output key) of every stack output whose value is `!Ref` of an
        AWS::Lambda::Function (its name), in deploy order then template order: the functions the
        post-deploy tracing check and the smoke run's wiring, runtime and cold-start checks
        exercise. A function no output names is not reachable by name after deploy: the unit test
        tests/unit/test_smoke_functions.py fails naming it."""
        found = []
        for spec in self.stacks:
            template = self.load_template(spec.key)
            functions = {
                logical
                for logical, resource in (template.get("Resources") or {}).items()
                if isinstance(resource, dict) and resource.get("Type") == "AWS::Lambda::Function"
            }
            for output, declared in (template.get("Outputs") or {}).items():
                value = declared.get("Value") if isinstance(declared, dict) else None
                if isinstance(value, dict) and value.get("Ref") in functions:
                    found.append((spec.key, str(output)))
        return tuple(found)

    def select(self, only: list[str] | None) -> tuple[StackSpec, ...]:
        """The stacks to act on, in deploy order; `only` may name keys in any order."""
        if not only:
            return self.stacks
        wanted = {self.stack(k).key for k in only}
        return tuple(s for s in self.stacks if s.key in wanted)

    def inputs_for(self, stacks: tuple[StackSpec, ...]) -> list[InputSpec]:
        names: list[str] = []
        for spec in stacks:
            for src in spec.parameters.values():
                if src.kind == "input" and src.name not in names:
                    names.append(src.name)
        return [self.inputs[n] for n in names]

    def parameter_for_input(self, input_name: str) -> list[str]:
        """Template parameter keys wired to a deploy input (to read CLI-style parameter files)."""
        found: list[str] = []
        for spec in self.stacks:
            for key, src in spec.parameters.items():
                if src.kind == "input" and src.name == input_name and key not in found:
                    found.append(key)
        return found

    def resolve_parameters(
        self,
        key: str,
        environment: str,
        inputs: Mapping[str, str],
        artifact_keys: Mapping[str, str],
        outputs: Callable[[str], Mapping[str, str]] | None = None,
    ) -> list[dict[str, str]]:
        """CloudFormation Parameters for one stack, in template order. `outputs(stack_key)` answers
        the deployed outputs of an earlier stack (for `output` sources)."""
        spec = self.stack(key)
        resolved = []
        for param, src in spec.parameters.items():
            if src.kind == "environment":
                value = environment
            elif src.kind == "stack":
                value = self.stack_name(src.name, environment)
            elif src.kind == "input":
                value = inputs.get(src.name, "")
            elif src.kind == "output":
                upstream, output = src.output_of
                found = (outputs(upstream) if outputs is not None else {}).get(output)
                if not found:
                    raise UsageError(
                        f"stack {key}: parameter {param} takes output {output} of the {upstream} stack "
                        f"({self.stack_name(upstream, environment)}), which has no such output: deploy "
                        f"{upstream} first (remove --only or add it)"
                    )
                value = found
            else:
                if src.name not in artifact_keys:
                    raise UsageError(f"stack {key}: artifact {src.name!r} has not been built")
                value = artifact_keys[src.name]
            resolved.append({"ParameterKey": param, "ParameterValue": value})
        return resolved


def _parse_source(stack_key: str, param: str, raw: Any) -> ParameterSource:
    if not isinstance(raw, dict) or len(raw) != 1:
        raise UsageError(f"{MANIFEST_FILE}: {stack_key}.{param} must be a one-key mapping")
    ((kind, value),) = raw.items()
    if kind not in _SOURCE_KINDS:
        raise UsageError(f"{MANIFEST_FILE}: {stack_key}.{param}: unknown source {kind!r}")
    return ParameterSource(kind=kind, name="" if kind == "environment" else str(value))


def parse_manifest(data: Mapping[str, Any], root: Path) -> Manifest:
    inputs = {
        name: InputSpec(
            name=name,
            env=spec["env"],
            prompt=spec.get("prompt", ""),
            secret=bool(spec.get("secret", False)),
            required=bool(spec.get("required", False)),
            default=None if spec.get("default") is None else str(spec["default"]),
            min_length=int(spec.get("min_length", 0)),
        )
        for name, spec in data.get("inputs", {}).items()
    }
    raw_artifacts = dict(data.get("artifacts", {}))
    bucket = raw_artifacts.pop("artifact_bucket_output")
    artifacts = {
        name: ArtifactSpec(name=name, kind=spec["kind"], key_prefix=spec["key_prefix"])
        for name, spec in raw_artifacts.items()
    }
    stacks: list[StackSpec] = []
    seen: set[str] = set()
    for raw in data["stacks"]:
        key = raw["key"]
        params = {p: _parse_source(key, p, src) for p, src in raw.get("parameters", {}).items()}
        for param, src in params.items():
            if src.kind == "stack" and src.name not in seen:
                raise UsageError(f"{MANIFEST_FILE}: {key}.{param} imports {src.name!r}, not an earlier stack")
            if src.kind == "input" and src.name not in inputs:
                raise UsageError(f"{MANIFEST_FILE}: {key}.{param} uses undeclared input {src.name!r}")
            if src.kind == "artifact" and src.name not in artifacts:
                raise UsageError(f"{MANIFEST_FILE}: {key}.{param} uses undeclared artifact {src.name!r}")
            if src.kind == "output" and (src.output_of[0] not in seen or not src.output_of[1]):
                raise UsageError(
                    f"{MANIFEST_FILE}: {key}.{param} takes output {src.name!r}: write KEY.OutputName, "
                    "KEY an earlier stack"
                )
        if key in seen:
            raise UsageError(f"{MANIFEST_FILE}: duplicate stack key {key!r}")
        seen.add(key)
        stacks.append(
            StackSpec(
                key=key,
                title=raw.get("title", key),
                template=raw["template"],
                parameters=params,
                capabilities=tuple(raw.get("capabilities", ())),
                needs_artifacts=bool(raw.get("needs_artifacts", False)),
            )
        )
    if bucket["stack"] not in seen:
        raise UsageError(f"{MANIFEST_FILE}: artifact bucket stack {bucket['stack']!r} is not a stack")
    return Manifest(
        root=root,
        name_pattern=data["name_pattern"],
        stacks=tuple(stacks),
        inputs=inputs,
        artifacts=artifacts,
        artifact_bucket=(bucket["stack"], bucket["output"]),
        protected_environments=_protected(data),
        _by_key={s.key: s for s in stacks},
    )


def _protected(data: Mapping[str, Any]) -> tuple[str, ...]:
    raw = data.get("protected_environments", ["production"])
    if not isinstance(raw, list) or not all(isinstance(item, str) and item for item in raw):
        raise UsageError(f"{MANIFEST_FILE}: protected_environments must be a list of environment names")
    return tuple(raw)


@cache
def _load(root: Path) -> Manifest:
    path = root / MANIFEST_FILE
    return parse_manifest(yaml.safe_load(path.read_text()), root)


def load_manifest(root: Path | None = None) -> Manifest:
    return _load((root or project_root()).resolve())


@lru_cache(maxsize=64)
def _parsed_template(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """One parse per file version; the key's mtime and size make an edited file parse again."""
    del mtime_ns, size  # part of the cache key only
    return load_cfn_yaml(path.read_text())


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML loader that turns CloudFormation short-form tags (!Ref, !Sub...) into long form.
    libyaml's parser when PyYAML has it (about 8x faster on our templates, same data), the pure
    Python one otherwise."""


def _construct_cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def load_cfn_yaml(text: str) -> dict[str, Any]:
    """Parse a CloudFormation YAML (or JSON) template into plain long-form data."""
    data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(data, dict):
        raise UsageError("not a CloudFormation template: the document is not a mapping")
    return data
