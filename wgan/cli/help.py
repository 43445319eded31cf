"""``--help`` for one command: its own flags, grouped, with defaults and meanings; exit status 0.

absl's ``--help`` lists only flags defined in ``__main__`` (none: ``bin/*.py`` and the
console scripts define no flags) and exits with status 1. Here a command's flags are those
defined by its module (``wgan.cli.<command>``, or ``__main__`` under ``python -m``) and by
``wgan.cli.flags``, plus absl's ``--verbosity``; ``--helpfull`` still lists every flag of
every library.
"""

import sys
import textwrap

from absl import flags
from absl import logging as _absl_logging  # noqa: F401  (defines --verbosity before the help reads it)

HELP_ARGS = ("-h", "-help", "--help", "-?", "--helpshort")
HELPFULL_ARGS = ("--helpfull", "-helpfull")
SHARED_MODULE = "wgan.cli.flags"
# absl's own help for --verbosity describes absl, not what the user sees here.
CONSOLE_FLAGS = {"verbosity": "-1: only warnings and errors are logged; 0: also the toolkit's info lines; 1: also "
                              "TensorFlow's own log lines (C++ start-up, Grappler), which are hidden otherwise (default: 0)."}
WIDTH = 100


def asked(argv):
    """``"short"``, ``"full"`` or None: which help ``argv`` asks for (arguments after ``--`` do not count)."""
    for arg in argv[1:]:
        if arg == "--":
            return None
        if arg in HELP_ARGS:
            return "short"
        if arg in HELPFULL_ARGS:
            return "full"
    return None


def _names(flag, flag_values):
    long = f"--[no]{flag.name}" if flag.boolean else f"--{flag.name}"
    # --verbosity keeps short_name "v" after the commands gave -v to the run version.
    short = flag.short_name if flag.short_name and flag_values[flag.short_name] is flag else None
    return f"-{short}, {long}" if short else long


def _default(flag):
    if flag.default is None:
        return None
    if flag.boolean:
        return "true" if flag.default else "false"
    if isinstance(flag.default, (list, tuple)):
        return ",".join(str(v) for v in flag.default) if flag.default else None
    return str(flag.default)


def describe_flag(flag, flag_values=None):
    """Two or more lines: ``  -m, --model`` and its help with the default."""
    flag_values = flag_values or flags.FLAGS
    default = None if flag.name in CONSOLE_FLAGS else _default(flag)  # absl's -1 becomes 0 once parsed
    text = CONSOLE_FLAGS.get(flag.name) or flag.help
    text = " ".join(text.replace("repeat this option to specify a list of values", "repeatable").split())
    text += f" (default: {default})" if default is not None else ""
    body = textwrap.fill(text, WIDTH, initial_indent=" " * 8, subsequent_indent=" " * 8)
    return f"  {_names(flag, flag_values)}\n{body}"


def command_groups(module, flag_values=None):
    """``[(title, [Flag])]`` of the flags a command defines, in definition order.

    ``module``: the command's module object; its optional ``HELP_GROUPS`` ``{title: [flag
    names]}`` splits its flags further (train's distribution flags).
    """
    flag_values = flag_values or flags.FLAGS
    by_module = flag_values.flags_by_module_dict()
    # absl files flags defined in ``__main__`` (``python -m wgan.cli.X``) under sys.argv[0].
    own = []
    for name in dict.fromkeys((module.__name__, "__main__", sys.argv[0])):
        own += [f for f in by_module.get(name, []) if f not in own]
    shared = list(by_module.get(SHARED_MODULE, []))
    extra = getattr(module, "HELP_GROUPS", {})
    grouped = {name for names in extra.values() for name in names}
    groups = [("Which run (shared by train, generate_img and evaluate)", shared),
              ("Options", [f for f in own if f.name not in grouped])]
    groups += [(title, [f for f in own if f.name in names]) for title, names in extra.items()]
    groups.append(("Console", [flag_values[name] for name in CONSOLE_FLAGS if name in flag_values]))
    return [(title, found) for title, found in groups if found]


def render(module, flag_values=None):
    """The help text of the command in ``module``."""
    lines = [(module.__doc__ or "").strip(), ""]
    for title, found in command_groups(module, flag_values):
        lines.append(f"{title}:")
        lines.extend(describe_flag(f, flag_values) for f in found)
        lines.append("")
    lines.append("--verbosity 1 (or TF_CPP_MIN_LOG_LEVEL=0) also shows TensorFlow's own log lines; "
                 "--helpfull lists the flags of every library.")
    return "\n".join(lines)


def show(module, kind, flag_values=None):
    """Print the help ``kind`` (``"short"`` or ``"full"``) of the command in ``module`` to stdout."""
    flag_values = flag_values or flags.FLAGS
    print(render(module, flag_values))
    if kind == "full":
        from absl import app

        app.define_help_flags()
        print("\nEvery flag, by defining module:\n")
        print(flag_values.get_help())
    sys.stdout.flush()
