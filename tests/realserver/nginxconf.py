"""A small nginx.conf reader and writer, enough to compare two configurations by structure.

nginx's grammar is directives (`name arg ...;`) and blocks (`name arg ... { ... }`), with
`#` comments and quoted strings. parse() turns a file into a tree of Directive, dump() turns
the tree back into text nginx reads, and as_mapping() gives every directive a key path such
as http / server / location = /.well-known/matrix/client / alias, so two configurations can
be diffed key by key (comments and layout do not count).
"""

from __future__ import annotations

import dataclasses
import re

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<quoted>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<punct>[{};])
  | (?P<word>(?!\#)(?:\$\{[^}]*\}|[^\s{};"'])+)
    """,
    re.VERBOSE,
)


@dataclasses.dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None


def _tokens(text: str):
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"nginx.conf: cannot read {text[pos : pos + 20]!r}")
        pos = match.end()
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        yield kind, match.group(kind)


def parse(text: str) -> list[Directive]:
    """The directives of an nginx configuration, blocks nested; quotes are kept as written."""
    stack: list[list[Directive]] = [[]]
    words: list[str] = []
    for kind, value in _tokens(text):
        if kind in ("word", "quoted"):
            words.append(value)
        elif value == ";":
            if not words:
                raise ValueError("nginx.conf: empty directive")
            stack[-1].append(Directive(words[0], words[1:]))
            words = []
        elif value == "{":
            if not words:
                raise ValueError("nginx.conf: block without a name")
            directive = Directive(words[0], words[1:], [])
            stack[-1].append(directive)
            stack.append(directive.block)
            words = []
        else:  # "}"
            if words or len(stack) == 1:
                raise ValueError("nginx.conf: unbalanced '}'")
            stack.pop()
    if words or len(stack) != 1:
        raise ValueError("nginx.conf: unterminated directive or block")
    return stack[0]


def dump(directives: list[Directive], indent: int = 0) -> str:
    """nginx.conf text for a tree from parse()."""
    pad = "    " * indent
    lines = []
    for directive in directives:
        head = " ".join([directive.name, *directive.args])
        if directive.block is None:
            lines.append(f"{pad}{head};")
        else:
            lines.append(f"{pad}{head} {{")
            inner = dump(directive.block, indent + 1)
            if inner:
                lines.append(inner.rstrip("\n"))
            lines.append(f"{pad}}}")
    return "\n".join(lines) + "\n"


def _key(directive: Directive) -> str:
    # A block is named with its arguments (`location = /x`, `if ($request_method = OPTIONS)`),
    # a simple directive by its name alone: its arguments are the value.
    return " ".join([directive.name, *directive.args]) if directive.block is not None else directive.name


def as_mapping(directives: list[Directive]) -> dict:
    """{key: arguments (one string) or nested mapping}; a repeated key gets #2, #3 ... in order.

    Keys: a simple directive by its name (`listen`), a block by its name and arguments
    (`location = /.well-known/matrix/client`), so the mapping can be diffed like YAML.
    """
    mapping: dict = {}
    seen: dict[str, int] = {}
    for directive in directives:
        key = _key(directive)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}#{seen[key]}"
        mapping[key] = " ".join(directive.args) if directive.block is None else as_mapping(directive.block)
    return mapping


def find(directives: list[Directive], *path: str) -> Directive:
    """The directive at an as_mapping() key path (the first one of a repeated key)."""
    *blocks, leaf = path
    level = directives
    for name in blocks:
        level = next(d.block for d in level if d.block is not None and _key(d) == name)
    return next(d for d in level if _key(d) == leaf)


def find_all(directives: list[Directive], name: str) -> list[Directive]:
    """Every directive called name, at any depth, in file order."""
    found = []
    for directive in directives:
        if directive.name == name:
            found.append(directive)
        if directive.block is not None:
            found.extend(find_all(directive.block, name))
    return found
