"""How long a run may take, as a user writes it: ``--budget 30m``, ``2h``, ``20epochs``, ``500kimg``.

Parsed here, without TensorFlow, so that the schema (``wgan.config``) can check a stored
budget and a command can refuse a misspelt one before anything starts. What a budget
becomes in iterations is ``wgan.train.budget``'s business.
"""

import re
from dataclasses import dataclass

# Unit -> (kind, multiplier to the kind's base unit: seconds, epochs or images).
_UNITS = {
    "s": ("seconds", 1.0), "sec": ("seconds", 1.0), "min": ("seconds", 60.0), "m": ("seconds", 60.0),
    "h": ("seconds", 3600.0), "ep": ("epochs", 1.0), "epoch": ("epochs", 1.0), "epochs": ("epochs", 1.0),
    "img": ("images", 1.0), "images": ("images", 1.0), "kimg": ("images", 1e3), "mimg": ("images", 1e6),
}
_FORM = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*$")
EXAMPLES = "30m, 1.5h, 90s, 20epochs, 500kimg"


@dataclass(frozen=True)
class Budget:
    """A run length: ``amount`` (> 0) of ``kind``: ``seconds`` of wall clock, ``epochs`` (passes
    of the critic over the training images) or ``images`` (real images the critic sees)."""

    kind: str
    amount: float

    def describe(self):
        """``"30 min"``, ``"1.5 h"``, ``"20 epochs"``, ``"500,000 images"``."""
        if self.kind == "seconds":
            if self.amount >= 3600:
                return f"{self.amount / 3600:g} h"
            return f"{self.amount / 60:g} min" if self.amount >= 60 else f"{self.amount:g} s"
        if self.kind == "epochs":
            return f"{self.amount:g} epochs"
        return f"{self.amount:,.0f} images"


def parse_budget(text):
    """``"30m"`` -> ``Budget("seconds", 1800.0)``; a ValueError saying the accepted forms otherwise."""
    match = _FORM.match(str(text).lower())
    unit = _UNITS.get(match.group(2)) if match else None
    if unit is None or float(match.group(1)) <= 0:
        raise ValueError(f"budget {text!r} is not a positive amount with a unit (for example {EXAMPLES}; "
                         "units: s, m/min, h, epochs, img, kimg, mimg)")
    kind, scale = unit
    return Budget(kind, float(match.group(1)) * scale)
